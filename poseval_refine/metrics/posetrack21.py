"""PoseTrack21 evaluation shared by keypoint HOTA and the kit's mAP: labeled frames, ignore regions,
head-normalised keypoint distances, and the kit's per-joint mAP (docs/posetrack21.md).

Functions take arrays and return arrays; they never open files. A sequence is reduced to its
labeled frames (the GT's ``is_labeled``), in file order; inside an ignore region a joint is removed
from GT and predictions, and a person left without joints is removed (the kit's rules, including
that it tests the (0, 0) of an absent joint against the regions too).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .ap import APStats, voc_ap
from .distance import normalized_distance
from .introsort import introsort_argsort

NUM_JOINTS = 15
#: a predicted joint is a hit for the mAP when it is within this many head sizes of its GT joint
MAP_THRESHOLD = 0.5
#: the kit's reporting groups over its 15 joints (Head: head top, neck, nose)
MAP_GROUPS: tuple[tuple[str, tuple[int, ...]], ...] = (
    ("Head", (2, 1, 0)), ("Shou", (3, 4)), ("Elb", (5, 6)), ("Wri", (7, 8)), ("Hip", (9, 10)),
    ("Knee", (11, 12)), ("Ankl", (14, 13)),
)
MAP_GROUP_NAMES = [g for g, _ in MAP_GROUPS] + ["Total"]


@dataclass
class LabeledFrames:
    """The labeled frames of one sequence after the ignore regions, people in frame order.

    ``*_frame`` is the labeled-frame index (0..num_frames-1) of each person; ``*_xy`` the raw x, y of
    the 15 joints (a joint is present when x > 0 and y > 0); ``gt_head`` the GT head sizes,
    ``pred_score`` the predicted joint scores.
    """

    num_frames: int
    gt_frame: np.ndarray
    gt_id: np.ndarray
    gt_xy: np.ndarray
    gt_head: np.ndarray
    pred_frame: np.ndarray
    pred_id: np.ndarray
    pred_xy: np.ndarray
    pred_score: np.ndarray

    # (computed once: the checks, the distances and the statistics all ask)
    @cached_property
    def gt_present(self) -> np.ndarray:
        return (self.gt_xy[..., 0] > 0) & (self.gt_xy[..., 1] > 0)

    @cached_property
    def pred_present(self) -> np.ndarray:
        return (self.pred_xy[..., 0] > 0) & (self.pred_xy[..., 1] > 0)

    def gt_bounds(self) -> np.ndarray:
        return np.searchsorted(self.gt_frame, np.arange(self.num_frames + 1))

    def pred_bounds(self) -> np.ndarray:
        return np.searchsorted(self.pred_frame, np.arange(self.num_frames + 1))


def inside_regions(points: np.ndarray, point_frame: np.ndarray, regions: dict) -> np.ndarray:
    """(N,) bool: which of the (N, 2) points lie inside one of the ignore polygons of their frame
    (``regions``: {frame: [(V, 2) polygon, ...]}); crossing parity per polygon, the rule the kit's geometry
    library applies, each polygon's closing edge implied. Every frame is done in one numpy pass: only the
    points within a polygon's bounding box are tested against its edges."""
    polys = [(t, q) for t, qs in regions.items() for q in qs]
    inside = np.zeros(len(points), dtype=bool)
    if not polys or not len(points):
        return inside
    sizes = np.array([len(q) for _, q in polys])
    starts = np.cumsum(sizes) - sizes
    corners = np.concatenate([q for _, q in polys])
    nxt = np.arange(1, len(corners) + 1)
    nxt[starts + sizes - 1] = starts  # the closing edge of each polygon
    lo = np.minimum.reduceat(corners, starts)
    hi = np.maximum.reduceat(corners, starts)
    poly_frame = np.array([t for t, _ in polys])
    # (point, polygon of its frame) pairs whose point is in the polygon's bounding box
    order = np.argsort(poly_frame, kind="stable")
    frames, first, count = np.unique(poly_frame[order], return_index=True, return_counts=True)
    slot = np.minimum(np.searchsorted(frames, point_frame), len(frames) - 1)
    pt = np.flatnonzero(frames[slot] == point_frame)
    n = count[slot[pt]]
    pair_pt = np.repeat(pt, n)
    pair_poly = order[np.repeat(first[slot[pt]], n) + np.arange(len(pair_pt)) - np.repeat(np.cumsum(n) - n, n)]
    x, y = points[pair_pt, 0], points[pair_pt, 1]
    box = (x >= lo[pair_poly, 0]) & (x <= hi[pair_poly, 0]) & (y >= lo[pair_poly, 1]) & (y <= hi[pair_poly, 1])
    pair_pt, pair_poly = pair_pt[box], pair_poly[box]
    if not len(pair_pt):
        return inside
    # every edge of each remaining pair's polygon
    m = sizes[pair_poly]
    pe_pt = np.repeat(pair_pt, m)
    pe_pair = np.repeat(np.arange(len(pair_pt)), m)
    edge = np.repeat(starts[pair_poly], m) + np.arange(len(pe_pt)) - np.repeat(np.cumsum(m) - m, m)
    x1, y1 = corners[edge, 0], corners[edge, 1]
    x2, y2 = corners[nxt[edge], 0], corners[nxt[edge], 1]
    px, py = points[pe_pt, 0], points[pe_pt, 1]
    straddle = (y1 > py) != (y2 > py)
    with np.errstate(divide="ignore", invalid="ignore"):
        cross_x = x1 + (py - y1) * (x2 - x1) / (y2 - y1)
    crossings = np.bincount(pe_pair[straddle & (px < cross_x)], minlength=len(pair_pt))
    inside[pair_pt[crossings % 2 == 1]] = True
    return inside


def remove_ignored(xy: np.ndarray, frame: np.ndarray, regions: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The kit's ignore-region rule for (P, 15, 2) joints of people in the given frames: returns (xy with the
    joints inside a region of their frame set to 0, (P, 15) bool joints removed, (P,) bool people kept). In a
    frame with regions a person goes when every joint slot lies inside one, or when no slot is left with
    x > 0 or y > 0."""
    P = len(xy)
    inside = inside_regions(xy.reshape(-1, 2), np.repeat(frame, NUM_JOINTS), regions).reshape(P, NUM_JOINTS)
    out = np.where(inside[..., None], 0.0, xy)
    with_regions = np.fromiter(regions, dtype=np.int64, count=len(regions))
    is_region_frame = np.zeros(max(int(frame.max(initial=-1)), int(with_regions.max(initial=-1))) + 1, dtype=bool)
    is_region_frame[with_regions] = True  # (not np.isin: it imports numpy.ma, 7 ms)
    in_region_frame = is_region_frame[frame]
    gone = inside.all(axis=1) | ((out[..., 0] <= 0) & (out[..., 1] <= 0)).all(axis=1)
    return out, inside, ~(gone & in_region_frame)


@dataclass
class FrameBatch:
    """A sequence's labeled frames side by side, padded to the most people of a frame: ``distances``
    (T, G, P, 15) in GT head sizes, ``inf`` where a joint is absent on either side or for padding;
    ``gt_index`` / ``pred_index`` (T, G) / (T, P) the person behind each row / column, -1 for padding."""

    distances: np.ndarray
    gt_index: np.ndarray
    pred_index: np.ndarray
    n_gt: np.ndarray
    n_pred: np.ndarray
    #: (T, G, 15) bool: the GT joints present (False for padding)
    gt_joint_present: np.ndarray | None = None


def frame_batch(fr: LabeledFrames) -> FrameBatch:
    """Every frame's distances at once (the kit's arithmetic: Euclidean distance over the head size)."""
    T = fr.num_frames
    n_gt = np.bincount(fr.gt_frame, minlength=T)
    n_pr = np.bincount(fr.pred_frame, minlength=T)
    G, P = int(n_gt.max(initial=0)), int(n_pr.max(initial=0))
    g_slot = np.arange(len(fr.gt_frame)) - fr.gt_bounds()[fr.gt_frame]
    p_slot = np.arange(len(fr.pred_frame)) - fr.pred_bounds()[fr.pred_frame]
    gt_index = np.full((T, G), -1)
    gt_index[fr.gt_frame, g_slot] = np.arange(len(fr.gt_frame))
    pred_index = np.full((T, P), -1)
    pred_index[fr.pred_frame, p_slot] = np.arange(len(fr.pred_frame))
    gxy = np.zeros((T, G, NUM_JOINTS, 2))
    gxy[fr.gt_frame, g_slot] = fr.gt_xy
    head = np.ones((T, G))
    head[fr.gt_frame, g_slot] = fr.gt_head
    pxy = np.zeros((T, P, NUM_JOINTS, 2))
    pxy[fr.pred_frame, p_slot] = fr.pred_xy
    gp = (gxy[..., 0] > 0) & (gxy[..., 1] > 0)
    pp = (pxy[..., 0] > 0) & (pxy[..., 1] > 0)
    d = normalized_distance(pxy[:, None], gxy[:, :, None], head[:, :, None, None])
    d = np.where(gp[:, :, None, :] & pp[:, None, :, :], d, np.inf)
    return FrameBatch(d, gt_index, pred_index, n_gt, n_pr, gp)


# ---------------------------------------------------------------------------------- the kit's mAP
def map_stats(frames: LabeledFrames, batch: FrameBatch) -> APStats:
    """The kit's mAP statistics of one sequence (additive: concatenated in sequence order).

    Each prediction keeps only its best GT by PCKh, each GT then takes its best remaining prediction
    (the same assignment as poseval's); a predicted joint is a true positive when it is within 0.5 head
    sizes of its GT's joint. A frame without GT makes every prediction in it a false positive."""
    from .ap import assign_poses

    stats = APStats(NUM_JOINTS)
    stats.add_gt(frames.gt_present.sum(axis=0))
    pred_present = frames.pred_present
    labels = np.zeros(pred_present.shape, dtype=bool)
    gi, pi = batch.gt_index, batch.pred_index
    if gi.size and pi.size:
        _, hit = assign_poses(batch.distances.transpose(0, 2, 1, 3), batch.gt_joint_present, pi >= 0, MAP_THRESHOLD)
        labels[pi[pi >= 0]] = hit[pi >= 0]
    stats.add(frames.pred_score, labels, pred_present)
    return stats


def finalize_map(stats: APStats) -> dict:
    """Per-joint AP, precision and recall (percent) as the kit computes them, and its groups.

    Unlike poseval, recall divides by max(GT joints, 1), and a joint without predictions gets 0."""
    K = stats.num_joints
    ap, pre, rec = np.zeros(K), np.zeros(K), np.zeros(K)
    for k in range(K):
        s, lab = stats.joint_arrays(k)
        if len(s) == 0:
            continue
        order = kit_ranking(s, lab)
        tp = np.cumsum(lab[order].astype(np.int64))
        p = tp / np.arange(1, len(s) + 1)
        r = tp / np.float64(max(int(stats.num_gt[k]), 1))
        ap[k] = voc_ap(p, r) * 100.0
        pre[k] = p[-1] * 100.0
        rec[k] = r[-1] * 100.0
    return {name: {"joint": values.tolist(), "groups": map_groups(values)}
            for name, values in (("ap", ap), ("precision", pre), ("recall", rec))}


def kit_ranking(scores: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Predicted joints by descending score as the kit ranks them (``np.argsort(scores)[::-1]`` under
    the numpy it runs with, 1.23). Equal scores change AP only when some of them are true positives and
    some not; only then is that numpy's order rebuilt (metrics.introsort), otherwise any sort will do."""
    order = np.argsort(scores, kind="stable")
    s = scores[order]
    tie = s[1:] == s[:-1]
    if tie.any():
        lab = labels[order].astype(np.int64)
        start = np.flatnonzero(np.r_[True, ~tie])
        if (np.minimum.reduceat(lab, start) != np.maximum.reduceat(lab, start)).any():
            return introsort_argsort(scores)[::-1]
    return order[::-1]


def map_groups(values: np.ndarray) -> list[float]:
    """The kit's group means (Head, Shou, Elb, Wri, Hip, Knee, Ankl) and the mean of all 15 joints."""
    v = np.asarray(values, dtype=np.float64)
    return [float(v[list(ids)].mean()) for _, ids in MAP_GROUPS] + [float(v.mean())]
