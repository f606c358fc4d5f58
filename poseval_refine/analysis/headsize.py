"""The Ronchi–Perona error taxonomy on head-size distances (PoseTrack pose, PoseTrack21, MPII); docs/protocol.md §7.

For each GT person matched to a predicted person (poseval's per-frame matching for ``pose``, the
given correspondence for MPII single and ``pckh``), each GT-annotated joint is

- ``good`` when it is a hit of the metric (the predicted joint within the PCKh threshold, 0.5 head
  sizes, of the GT joint), so that ``good`` equals the metric's hits;
- otherwise its candidates are tried nearest first and the first within its threshold decides: the
  person's own joint (1.0 head sizes → ``jitter``), the person's symmetric joint (0.5 →
  ``inversion``), the same or symmetric joint of every other GT person of the frame (0.5, over that
  person's head size → ``swap``);
- ``miss`` when no candidate is within its threshold, or the joint is not predicted.

"Nearest first, the first within its threshold" is the qualifying candidate at the smallest
distance (ties: own, symmetric, other people, in that order). Nothing here opens a file.
"""

from __future__ import annotations

import numpy as np

from ..metrics.distance import normalized_distance

KINDS = ("good", "jitter", "inversion", "swap", "miss")
#: label codes; 0: no label (the GT joint is not annotated, or its person is not matched)
NONE, GOOD, JITTER, INVERSION, SWAP, MISS = 0, 1, 2, 3, 4, 5
JITTER_RADIUS = 1.0
CONFUSION_RADIUS = 0.5


def label_frames(p_xy: np.ndarray, p_present: np.ndarray, g_xy: np.ndarray, g_present: np.ndarray,
                 hs: np.ndarray, match: np.ndarray, hit: np.ndarray, flip: np.ndarray,
                 jitter_radius: float = JITTER_RADIUS, confusion_radius: float = CONFUSION_RADIUS) -> np.ndarray:
    """Labels (B, G, K) of the GT joints of a batch of frames.

    ``p_xy`` (B, H, K, 2), ``p_present`` (B, H, K); ``g_xy`` (B, G, K, 2), ``g_present`` (B, G, K) (padding
    rows all False); ``hs`` (B, G) head sizes; ``match`` (B, H) the GT person each prediction is matched to
    (-1 none); ``hit`` (B, H, K) the metric's hit of each predicted joint with its matched GT joint;
    ``flip`` (K,) each joint's symmetric partner (itself for a centre joint)."""
    B, H, K = p_present.shape
    G = g_present.shape[1]
    labels = np.zeros((B, G, K), dtype=np.int8)
    bb, pp = np.nonzero(match >= 0)
    if not len(bb):
        return labels
    gg = match[bb, pp]
    # distances of each matched prediction's joints to every GT person's same and symmetric joints, over
    # that person's head size (inf where a joint is absent on either side)
    px = p_xy[bb, pp][:, None]  # (M, 1, K, 2)
    same = normalized_distance(px, g_xy[bb], hs[bb][:, :, None])  # (M, G, K)
    sym = normalized_distance(px, g_xy[bb][:, :, flip], hs[bb][:, :, None])
    same = np.where(g_present[bb] & p_present[bb, pp][:, None], same, np.inf)
    sym = np.where(g_present[bb][:, :, flip] & p_present[bb, pp][:, None], sym, np.inf)
    same = np.where(np.isnan(same), np.inf, same)
    sym = np.where(np.isnan(sym), np.inf, sym)
    M = len(bb)
    m_idx = np.arange(M)
    own = same[m_idx, gg]  # (M, K)
    centre = flip == np.arange(K)
    inv = np.where(centre, np.inf, sym[m_idx, gg])
    others = np.ones((M, G), dtype=bool)
    others[m_idx, gg] = False
    other = np.minimum(np.where(others[:, :, None], same, np.inf), np.where(others[:, :, None], sym, np.inf)).min(1)
    q = np.stack([np.where(own <= jitter_radius, own, np.inf), np.where(inv <= confusion_radius, inv, np.inf),
                  np.where(other <= confusion_radius, other, np.inf)])  # (3, M, K)
    kind = np.array([JITTER, INVERSION, SWAP], dtype=np.int8)[np.argmin(q, axis=0)]
    kind = np.where(np.isinf(q.min(0)), MISS, kind)
    kind = np.where(hit[bb, pp], GOOD, kind)
    annotated = g_present[bb, gg]
    labels[bb, gg] = np.where(annotated, kind, NONE)
    return labels


def counts(labels: np.ndarray) -> dict[str, int]:
    """``{kind: count}`` over labels of any shape."""
    return {k: int((labels == code).sum()) for k, code in zip(KINDS, (GOOD, JITTER, INVERSION, SWAP, MISS))}


def per_joint(labels: np.ndarray, names) -> dict[str, dict[str, int]]:
    """``{joint: {kind: count}}`` of labels (..., K)."""
    flat = labels.reshape(-1, labels.shape[-1])
    return {name: counts(flat[:, k]) for k, name in enumerate(names)}


def fixed_predictions(p_xy: np.ndarray, p_score: np.ndarray, g_xy: np.ndarray, match: np.ndarray,
                      labels: np.ndarray, kinds) -> tuple[np.ndarray, np.ndarray]:
    """Padded predictions (B, H, K, 2) xy (NaN: absent) and (B, H, K) scores with the GT joints labelled one of
    ``kinds`` fixed: a fixed joint moves onto its GT joint keeping its score; one that was not predicted is
    created there with the mean score of its person's predicted joints (0 for a person without any)."""
    xy, score = p_xy.copy(), p_score.copy()
    bb, pp = np.nonzero(match >= 0)
    gg = match[bb, pp]
    fix = np.isin(labels[bb, gg], kinds)  # (M, K)
    if not fix.any():
        return xy, score
    present = ~np.isnan(p_xy[bb, pp, :, 0])
    with np.errstate(invalid="ignore"):
        mean = np.nan_to_num(np.nanmean(np.where(present, p_score[bb, pp], np.nan), axis=1)) \
            if present.shape[1] else np.zeros(len(bb))
    mm, jj = np.nonzero(fix)
    xy[bb[mm], pp[mm], jj] = g_xy[bb[mm], gg[mm], jj]
    absent = ~present[mm, jj]
    score[bb[mm][absent], pp[mm][absent], jj[absent]] = mean[mm[absent]]
    return xy, score


def unmatched_people(match: np.ndarray, g_valid: np.ndarray, p_valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(B,) false positives (predicted people matched to no GT person) and (B,) false negatives (GT people
    matched by none) per frame; ``match`` (B, H), ``g_valid`` (B, G), ``p_valid`` (B, H) (padding False)."""
    matched = np.zeros(g_valid.shape, dtype=bool)
    bb, pp = np.nonzero(match >= 0)
    matched[bb, match[bb, pp]] = True
    return (p_valid & (match < 0)).sum(1), (g_valid & ~matched).sum(1)


def frame_items(labels: np.ndarray, fp: np.ndarray, fn: np.ndarray, key: str, names) -> list[dict]:
    """The per-frame table, worst first (errors = every label but good, plus false positives and negatives);
    frames without an error are left out."""
    items = []
    for b, name in enumerate(names):
        cnt = counts(labels[b])
        err = sum(v for k, v in cnt.items() if k != "good") + int(fp[b]) + int(fn[b])
        if err:
            items.append({key: name, "keypoints": cnt, "false_pos": int(fp[b]), "false_neg": int(fn[b]),
                          "errors": err})
    items.sort(key=lambda it: -it["errors"])
    return items


def padded(flat: np.ndarray, frame: np.ndarray, num_frames: int, fill=np.nan) -> tuple[np.ndarray, np.ndarray]:
    """People rows (frame order) of ``flat`` (P, ...) laid out as (F, max people per frame, ...), and each row's
    (frame, slot) as (P, 2) for scattering back; ``frame`` (P,) nondecreasing."""
    n = np.bincount(frame, minlength=num_frames) if len(frame) else np.zeros(num_frames, np.int64)
    slot = np.arange(len(frame)) - (np.cumsum(n) - n)[frame]
    out = np.full((num_frames, int(n.max(initial=0)), *flat.shape[1:]), fill, dtype=np.result_type(flat, type(fill)))
    out[frame, slot] = flat
    return out, np.stack([frame, slot], axis=1) if len(frame) else np.zeros((0, 2), np.int64)
