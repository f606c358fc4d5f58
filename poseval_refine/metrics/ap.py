"""Multi-person pose AP: the PCKh-based pose assignment and VOC all-point AP.

Shared by the PoseTrack evaluator (poseval) and MPII multi-person mAP (the MATLAB kit, of
which poseval is a port). Functions take arrays only; they never open files.

Assignment (poseval ``assignGTmulti``, MATLAB ``assignGTmulti.m``): every prediction keeps
only its best GT by PCKh, then every GT takes the prediction with the highest remaining
PCKh; a best value of 0 leaves the GT unassigned. This is *not* a sequential greedy
assignment (docs/protocol.md §1.5; case PT-4 of §6.2).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .distance import normalized_distance

#: score given to a predicted joint that has none (poseval's MIN_SCORE)
MIN_SCORE = -9999.0
DIST_THRESHOLD = 0.5


def normalized_distances(pred_xy: np.ndarray, gt_xy: np.ndarray, head_size: np.ndarray) -> np.ndarray:
    """``(..., Np, Ng, K)`` distance between predicted and GT joints divided by the GT head size.

    ``pred_xy`` is ``(..., Np, K, 2)``, ``gt_xy`` ``(..., Ng, K, 2)``, ``head_size`` ``(..., Ng)``;
    absent joints (NaN) give ``+inf``.
    """
    d = normalized_distance(pred_xy[..., :, None, :, :], gt_xy[..., None, :, :, :], head_size[..., None, :, None])
    return np.where(np.isnan(d), np.inf, d)  # inf - inf, 0 / 0: never a hit


def pair_distances(pred_xy: np.ndarray, gt_xy: np.ndarray, head_size: np.ndarray) -> np.ndarray:
    """:func:`normalized_distances` of given (prediction, GT) pairs only: ``pred_xy`` and ``gt_xy``
    are ``(N, K, 2)``, ``head_size`` ``(N,)``; the same arithmetic, so the same values bit for bit."""
    d = normalized_distance(pred_xy, gt_xy, head_size[:, None])
    return np.where(np.isnan(d), np.inf, d)


def assign_poses(
    dist: np.ndarray,
    gt_present: np.ndarray,
    pred_valid: np.ndarray | None = None,
    threshold: float = DIST_THRESHOLD,
) -> tuple[np.ndarray, np.ndarray]:
    """Assign predicted poses to GT poses in a batch of frames.

    Parameters
    ----------
    dist : ``(B, Np, Ng, K)`` normalized distances (``inf`` where a joint is absent on either
        side, or for padding).
    gt_present : ``(B, Ng, K)`` bool, GT joint annotated (padding rows all False).
    pred_valid : ``(B, Np)`` bool, False for padding rows (padding must come after real rows).

    Returns
    -------
    match : ``(B, Np)`` index of the GT each prediction is assigned to, -1 if none.
    hit : ``(B, Np, K)`` bool, predicted joint within ``threshold`` of its assigned GT joint
        (False for unassigned predictions): the AP label of each predicted joint.
    """
    B, Np, Ng, K = dist.shape
    match = np.full((B, Np), -1, dtype=np.intp)
    hit = np.zeros((B, Np, K), dtype=bool)
    if Np == 0 or Ng == 0:
        return match, hit
    within = dist <= threshold
    n_hit = within.sum(-1)
    n_gt = gt_present.sum(-1)  # (B, Ng)
    # PCKh of each pair; a GT with no annotated joints keeps the raw count (0), as poseval
    pck = np.where(n_gt[:, None, :] > 0, n_hit / np.maximum(n_gt, 1)[:, None, :], n_hit).astype(np.float64)
    if pred_valid is not None:
        pck = np.where(pred_valid[:, :, None], pck, -1.0)
    # each prediction keeps only its best GT (first index on ties)
    best_gt = np.argmax(pck, axis=2)  # (B, Np)
    kept = np.zeros_like(pck)
    b_idx, p_idx = np.meshgrid(np.arange(B), np.arange(Np), indexing="ij")
    kept[b_idx, p_idx, best_gt] = pck[b_idx, p_idx, best_gt]
    if pred_valid is not None:
        kept = np.where(pred_valid[:, :, None], kept, -1.0)
    # each GT takes the prediction with the highest remaining PCKh (first index on ties)
    pr_for_gt = np.argmax(kept, axis=1)  # (B, Ng)
    best_val = np.take_along_axis(kept, pr_for_gt[:, None, :], axis=1)[:, 0, :]
    assigned = best_val > 0
    bb, gg = np.nonzero(assigned)
    pp = pr_for_gt[bb, gg]
    match[bb, pp] = gg
    hit[bb, pp] = within[bb, pp, gg]
    return match, hit


def assign_frame(dist: np.ndarray, gt_present: np.ndarray, threshold: float = DIST_THRESHOLD):
    """Single-frame form of :func:`assign_poses`: ``dist`` is ``(Np, Ng, K)``."""
    match, hit = assign_poses(dist[None], gt_present[None], None, threshold)
    return match[0], hit[0]


# ---------------------------------------------------------------------------- AP statistics
@dataclass
class APStats:
    """Additive per-sequence AP statistics for K joints: (score, label) lists and GT counts.

    Combining is concatenation in sequence order, so pooled results (and the tie order of
    the official sort) do not depend on how sequences were distributed over workers.
    """

    num_joints: int
    scores: list = field(default_factory=list)  # per joint: list of 1-D arrays
    labels: list = field(default_factory=list)
    num_gt: np.ndarray = None  # type: ignore[assignment]

    def __post_init__(self):
        if not self.scores:
            self.scores = [[] for _ in range(self.num_joints)]
            self.labels = [[] for _ in range(self.num_joints)]
        if self.num_gt is None:
            self.num_gt = np.zeros(self.num_joints, dtype=np.int64)

    def add(self, joint_scores: np.ndarray, joint_labels: np.ndarray, present: np.ndarray) -> None:
        """Append a frame batch: ``(N, K)`` scores, labels and mask of predicted joints.

        Order within a joint is row-major over ``N`` (frames, then predictions), as poseval.
        """
        for k in range(self.num_joints):
            m = present[:, k]
            self.scores[k].append(joint_scores[m, k])
            self.labels[k].append(joint_labels[m, k])

    def add_gt(self, counts: np.ndarray) -> None:
        self.num_gt += counts.astype(np.int64)

    def merge(self, other: APStats) -> APStats:
        out = APStats(self.num_joints)
        out.scores = [a + b for a, b in zip(self.scores, other.scores)]
        out.labels = [a + b for a, b in zip(self.labels, other.labels)]
        out.num_gt = self.num_gt + other.num_gt
        return out

    def joint_arrays(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        s = np.concatenate(self.scores[k]) if self.scores[k] else np.zeros(0)
        lab = np.concatenate(self.labels[k]) if self.labels[k] else np.zeros(0, bool)
        return s.astype(np.float64), lab.astype(bool)


def ranking_order(scores: np.ndarray, stable: bool = False) -> np.ndarray:
    """Indices of the predictions by descending score, ties ordered as the official kit orders them."""
    if stable:
        return np.argsort(-scores, kind="stable")
    return np.argsort(scores)[::-1]


def precision_recall(scores: np.ndarray, labels: np.ndarray, num_gt: int, stable: bool = False):
    """Precision and recall at every rank, predictions sorted by descending score.

    ``stable=False`` reproduces poseval: numpy's default ascending argsort, reversed, so ties
    fall where numpy puts them. ``stable=True`` is the MATLAB kit's stable descending sort.
    """
    order = ranking_order(scores, stable)
    tp = np.cumsum(labels[order].astype(np.int64))
    ranks = np.arange(1, len(scores) + 1)
    precision = tp / ranks
    with np.errstate(divide="ignore", invalid="ignore"):
        recall = tp / np.float64(num_gt)
    return precision, recall


def voc_ap(precision: np.ndarray, recall: np.ndarray) -> float:
    """VOC all-point AP (poseval ``VOCap``, MATLAB ``VOCap.m``), in [0, 1]; NaN recall gives NaN."""
    mrec = np.concatenate(([0.0], recall, [1.0]))
    mpre = np.concatenate(([0.0], precision, [0.0]))
    mpre = np.maximum.accumulate(mpre[::-1])[::-1]
    i = np.flatnonzero(mrec[1:] != mrec[:-1]) + 1
    return float(np.sum((mrec[i] - mrec[i - 1]) * mpre[i]))


@dataclass
class APResult:
    ap: np.ndarray  # (K,) percent
    precision: np.ndarray  # (K,) percent, at the last rank
    recall: np.ndarray  # (K,) percent, at the last rank


def finalize_ap(stats: APStats, *, no_prediction_ap: float = 0.0, stable: bool = False) -> APResult:
    """Per-joint AP, precision and recall in percent.

    A joint with no predictions at all gets ``no_prediction_ap`` (poseval: 0, counted in the
    Total; the corrected protocol passes NaN when the joint has no GT either).
    """
    K = stats.num_joints
    ap = np.zeros(K)
    pre = np.zeros(K)
    rec = np.zeros(K)
    for k in range(K):
        s, lab = stats.joint_arrays(k)
        if len(s) == 0:
            ap[k] = no_prediction_ap if stats.num_gt[k] == 0 else 0.0
            continue
        p, r = precision_recall(s, lab, int(stats.num_gt[k]), stable=stable)
        ap[k] = voc_ap(p, r) * 100.0
        pre[k] = p[-1] * 100.0
        rec[k] = r[-1] * 100.0
    return APResult(ap=ap, precision=pre, recall=rec)


def weighted_ap(item: np.ndarray, labels: np.ndarray, item_gt: np.ndarray, weights: np.ndarray, *,
                no_prediction_ap: float = 0.0, chunk_elements: int = 1 << 17) -> np.ndarray:
    """AP (percent) of every bootstrap resample of the items (images, sequences) behind one joint's pooled
    predictions, without re-sorting: ``item`` and ``labels`` (D,) list the pooled predictions in the
    evaluation's ranking order, ``item_gt`` (N,) counts each item's GT joints, ``weights`` (R, N) says how
    often resample r draws item n. Returns (R,).

    A prediction drawn w times appears w times in a row of the resample's ranking; only the last copy
    can raise the interpolated precision (a true positive's precision grows with each copy, a false
    positive's is dominated by the rank before it), so each prediction is one point with cumulative
    counts, and a prediction drawn 0 times repeats the point before it, which changes nothing. Along a run
    of consecutive true positives precision only grows, so every true positive of a run has the
    interpolated precision of the run's last one: AP is a sum over runs (recall gained in the run times
    the interpolated precision at its end), and only the cumulative counts at run ends are needed (about
    a fifth of the true positives on PoseTrack). Rows are computed together; a row that draws every item
    once is the evaluation itself and goes through :func:`precision_recall` and :func:`voc_ap`'s exact
    operations, so it reproduces the evaluated AP bit for bit (the vectorised sum may differ from it in
    the last digit).
    """
    item = np.asarray(item, dtype=np.intp)
    labels = np.asarray(labels, dtype=bool)
    weights = np.asarray(weights, dtype=np.int64)
    R, N = weights.shape
    D = len(item)
    num_gt = weights @ np.asarray(item_gt, dtype=np.int64)
    out = np.empty(R)
    exact = (weights == 1).all(axis=1) | (num_gt == 0)
    for r in np.flatnonzero(exact):
        out[r] = _weighted_ap_row(weights[r, item], labels, num_gt[r], no_prediction_ap)
    rows = np.flatnonzero(~exact)
    if len(rows) == 0:
        return out
    ends = np.flatnonzero(labels & ~np.append(labels[1:], False))  # last true positive of each run
    if len(ends) == 0:
        out[rows] = 0.0
        return out
    E = len(ends)
    # arrays are (run end, resample), run ends last first, so that the interpolated precision is one running
    # maximum down axis 0; resamples go in chunks that stay in cache
    ends = ends[::-1]
    by_matrix = N * E <= 16 * D  # few items (sequences): counts at run ends = per-item counts @ W.T
    if by_matrix:
        at_cnt = _item_counts_at(item, np.arange(D), ends, N)  # (E, N): predictions of item n up to end e
        at_tp = _item_counts_at(item[labels], np.flatnonzero(labels), ends, N)
    step = max(1, chunk_elements // (E if by_matrix else D))
    for c0 in range(0, len(rows), step):
        rr = rows[c0:c0 + step]
        if by_matrix:
            wt = weights[rr].T.astype(np.float64)  # integer sums: exact in float64
            cnt, tp = at_cnt @ wt, at_tp @ wt
        else:
            w = weights[rr][:, item]
            cnt = np.ascontiguousarray(np.cumsum(w, axis=1)[:, ends].T, dtype=np.float64)
            tp = np.ascontiguousarray(np.cumsum(np.where(labels, w, 0), axis=1)[:, ends].T, dtype=np.float64)
        # precision at each run end (0 before the first drawn prediction, where tp is 0 too), then its
        # running maximum from the last run end back: the interpolated precision
        envelope = np.divide(tp, np.maximum(cnt, 1.0, out=cnt), out=cnt)
        np.maximum.accumulate(envelope, axis=0, out=envelope)
        # recall gained in each run: tp at its end minus tp at the previous (next row here) end
        tp[:-1] -= tp[1:]
        out[rr] = np.einsum("er,er->r", tp, envelope) / num_gt[rr] * 100.0
    return out


def _item_counts_at(owner: np.ndarray, position: np.ndarray, ends: np.ndarray, n_items: int) -> np.ndarray:
    """(E, N) float: how many of the positions (ascending, each of item ``owner``) are <= ends[e], per item."""
    span = int(position[-1]) + 1 if len(position) else 1
    key = np.sort(owner.astype(np.int64) * span + position)
    first = np.searchsorted(key, np.arange(n_items, dtype=np.int64) * span)
    q = np.arange(n_items, dtype=np.int64)[:, None] * span + np.minimum(ends, span - 1)[None, :]
    return (np.searchsorted(key, q, side="right") - first[:, None]).T.astype(np.float64, order="C")


def _weighted_ap_row(w: np.ndarray, labels: np.ndarray, num_gt: int, no_prediction_ap: float) -> float:
    keep = w > 0
    if not keep.any():
        return no_prediction_ap if num_gt == 0 else 0.0
    t = np.cumsum(np.where(labels, w, 0))[keep]
    c = np.cumsum(w)[keep]
    precision = t / c
    with np.errstate(divide="ignore", invalid="ignore"):
        recall = t / np.float64(num_gt)
    return voc_ap(precision, recall) * 100.0


def pool(items: list[APStats], num_joints: int) -> APStats:
    """The statistics of several items (images, sequences) in their order: concatenation, done once."""
    out = APStats(num_joints)
    for k in range(num_joints):
        out.scores[k] = [a for it in items for a in it.scores[k]]
        out.labels[k] = [a for it in items for a in it.labels[k]]
    for it in items:
        out.num_gt = out.num_gt + it.num_gt
    return out


def _score_list(a: np.ndarray) -> list:
    # JSON has no inf/NaN: such scores travel as strings that float() reads back
    out = a.tolist()
    bad = np.flatnonzero(~np.isfinite(a))
    for i in bad.tolist():
        out[i] = repr(out[i])
    return out


def _label_string(lab: np.ndarray) -> str:
    """Labels as a string of 0/1, built in one numpy step (an evaluation has a million of them)."""
    return (np.asarray(lab, dtype=np.uint8) + ord("0")).tobytes().decode("ascii")


def ap_item(stats: APStats) -> dict:
    """One item's AP statistics as JSON data: GT joints per joint, and per joint the scores of its
    predicted joints in evaluation order with their labels as a string of 0/1 (1 = true positive)."""
    K = stats.num_joints
    # every joint at once (one conversion per item, not per joint), then cut per joint
    scores = [a for k in range(K) for a in stats.scores[k]]
    labels = [a for k in range(K) for a in stats.labels[k]]
    s = np.concatenate(scores).astype(np.float64) if scores else np.zeros(0)
    lab = np.concatenate(labels).astype(bool) if labels else np.zeros(0, bool)
    bounds = np.cumsum([0] + [sum(len(a) for a in stats.scores[k]) for k in range(K)]).tolist()
    all_scores, all_labels = _score_list(s), _label_string(lab)
    return {"gt": stats.num_gt.tolist(),
            "scores": [all_scores[bounds[k]:bounds[k + 1]] for k in range(K)],
            "labels": [all_labels[bounds[k]:bounds[k + 1]] for k in range(K)]}


def scores_array(scores: list) -> np.ndarray:
    """Scores as :func:`_score_list` wrote them (numbers; non-finite ones as strings) in one numpy step."""
    try:
        out = np.asarray(scores, dtype=np.float64)
    except (TypeError, ValueError):  # not what _score_list writes: float() says which value
        return np.array([float(x) for x in scores], dtype=np.float64)
    if out.ndim != 1 or (np.isnan(out).any() and None in scores):  # numpy reads null as NaN; float() refuses it
        return np.array([float(x) for x in scores], dtype=np.float64)
    return out


def resample_ap(items: list[dict], weights: np.ndarray, *, stable: bool = False,
                no_prediction_ap: float = 0.0) -> np.ndarray:
    """(R, K) per-joint AP of every resample of the items (see :func:`weighted_ap`), from :func:`ap_item` data.

    The pooled ranking is rebuilt exactly as the evaluation built it (items concatenated in order, the
    official sort), so ties keep the evaluated order and an all-ones row gives the evaluated AP."""
    K = len(items[0]["gt"]) if items else 0
    gt = np.array([it["gt"] for it in items], dtype=np.int64).reshape(len(items), K)
    out = np.empty((len(weights), K))
    for k in range(K):
        per_item = [scores_array(it["scores"][k]) for it in items]
        scores = np.concatenate(per_item) if per_item else np.zeros(0)
        labels = np.frombuffer("".join(it["labels"][k] for it in items).encode("ascii"), dtype=np.uint8) == ord("1")
        if len(labels) != len(scores):
            raise ValueError(f"joint {k}: {len(scores)} scores but {len(labels)} labels")
        owner = np.repeat(np.arange(len(items)), [len(s) for s in per_item])
        order = ranking_order(scores, stable)
        out[:, k] = weighted_ap(owner[order], labels[order], gt[:, k], weights, no_prediction_ap=no_prediction_ap)
    return out
