"""The error taxonomy for MPII single-person PCKh (task ``single``): the given correspondence (prediction i is
GT person i), the other people of the same image as swap candidates (docs/protocol.md §9.2).

``good`` is the kit's own hit at 0.5 (``metrics.pckh.hit_levels`` with the flavour's arithmetic), so it
equals the PCKh numerator; PCKh is then re-measured with each kind fixed cumulatively (a fixed joint
becomes a hit). Nothing here opens a file.
"""

from __future__ import annotations

import numpy as np

from ..metrics.pckh import finalize_pckh, hit_levels, normalized_distances, stats_from_levels
from ..poses import PoseSequence
from ..skeletons import MPII16
from . import headsize
from .headsize import INVERSION, JITTER, MISS, SWAP

FIX_STEPS = (("miss", MISS), ("swap", SWAP), ("inversion", INVERSION), ("jitter", JITTER))


def diagnose_single(g: PoseSequence, p: PoseSequence, protocol) -> dict:
    """Labels of every annotated GT joint, per joint, PCKh after each cumulative fix, per-image items."""
    N, K = g.num_persons, g.keypoints.shape[1]
    hs = g.head_sizes()
    dist = normalized_distances(p.keypoints[..., :2], g.keypoints[..., :2], hs, protocol.float32)
    levels = hit_levels(dist, protocol)
    T = len(protocol.thresholds)
    hit = (levels >= 0) & (levels <= T)  # the table threshold (0.5), as the kit counts it
    # people grouped by image: the other people of the image are the swap candidates
    names = np.array([g.image_names[f] for f in g.person_frame])
    _, img = np.unique(names, return_inverse=True)
    order = np.argsort(img, kind="stable")
    counts = np.bincount(img)
    B, G = len(counts), int(counts.max()) if N else 0
    slot = np.empty(N, np.int64)
    slot[order] = np.arange(N) - np.repeat(np.cumsum(counts) - counts, counts)
    g_xy = np.full((B, G, K, 2), np.nan)
    p_xy = np.full((B, G, K, 2), np.nan)
    H = np.full((B, G), np.nan)
    match = np.full((B, G), -1, np.int64)
    hits = np.zeros((B, G, K), bool)
    g_xy[img, slot] = g.keypoints[..., :2]
    p_xy[img, slot] = p.keypoints[..., :2]
    H[img, slot] = hs
    match[img, slot] = slot
    hits[img, slot] = hit
    labels_b = headsize.label_frames(p_xy, ~np.isnan(p_xy[..., 0]), g_xy, ~np.isnan(g_xy[..., 0]), H, match, hits,
                                     MPII16.flip_permutation())
    labels = labels_b[img, slot]  # (N, K) back in GT order
    pckh = {"baseline": finalize_pckh(stats_from_levels(levels, protocol), protocol)["pckh"]}
    fixed = levels.copy()
    for step, code in FIX_STEPS:
        fixed = np.where(labels == code, 0, fixed).astype(levels.dtype)
        pckh[step] = finalize_pckh(stats_from_levels(fixed, protocol), protocol)["pckh"]
    per_img = {k: np.bincount(img, weights=(labels == c).sum(1), minlength=B).astype(int)
               for k, c in zip(headsize.KINDS, (1, 2, 3, 4, 5))}
    uniq = np.unique(names)
    err = sum(per_img[k] for k in headsize.KINDS if k != "good")
    items = [{"image": str(uniq[b]), "keypoints": {k: int(per_img[k][b]) for k in headsize.KINDS},
              "false_pos": 0, "false_neg": 0, "errors": int(err[b])}
             for b in np.argsort(-err, kind="stable").tolist() if err[b] > 0]
    return {"keypoints": headsize.counts(labels), "per_joint": headsize.per_joint(labels, MPII16.joints),
            "pckh": pckh, "hits": int(hit.sum()), "items": items, "_labels": labels}
