"""PoseTrack21 evaluation shared by keypoint HOTA and the kit's mAP: labeled frames, ignore regions,
head-normalised keypoint distances, and the kit's per-joint mAP (docs/posetrack21.md).

Functions take arrays and return arrays; they never open files. A sequence is reduced to its
labeled frames (the GT's ``is_labeled``), in file order; inside an ignore region a joint is removed
from GT and predictions, and a person left without joints is removed (the kit's rules, including
that it tests the (0, 0) of an absent joint against the regions too).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .ap import APStats, voc_ap
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

    @property
    def gt_present(self) -> np.ndarray:
        return (self.gt_xy[..., 0] > 0) & (self.gt_xy[..., 1] > 0)

    @property
    def pred_present(self) -> np.ndarray:
        return (self.pred_xy[..., 0] > 0) & (self.pred_xy[..., 1] > 0)

    def gt_bounds(self) -> np.ndarray:
        return np.searchsorted(self.gt_frame, np.arange(self.num_frames + 1))

    def pred_bounds(self) -> np.ndarray:
        return np.searchsorted(self.pred_frame, np.arange(self.num_frames + 1))


def inside_polygon(points: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """(N,) bool: which of the (N, 2) points lie inside the (V, 2) polygon (crossing parity, the rule
    the kit's geometry library applies; the closing edge is implied)."""
    x1, y1 = polygon[:, 0], polygon[:, 1]
    x2, y2 = np.roll(x1, -1), np.roll(y1, -1)
    px, py = points[:, 0:1], points[:, 1:2]
    straddle = (y1 > py) != (y2 > py)
    with np.errstate(divide="ignore", invalid="ignore"):
        cross_x = x1 + (py - y1) * (x2 - x1) / (y2 - y1)
    crossings = straddle & (px < cross_x)
    return (crossings.sum(axis=1) % 2) == 1


def remove_ignored(xy: np.ndarray, polygons: list) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The kit's ignore-region rule for the (P, 15, 2) joints of one frame: returns (xy with the joints
    inside a region set to 0, (P, 15) bool joints removed, (P,) bool people kept). A person goes when
    every joint slot lies inside a region, or when no slot is left with x > 0 or y > 0."""
    P = len(xy)
    inside = np.zeros(P * NUM_JOINTS, dtype=bool)
    pts = xy.reshape(-1, 2)
    for poly in polygons:
        inside |= inside_polygon(pts, poly)
    inside = inside.reshape(P, NUM_JOINTS)
    out = np.where(inside[..., None], 0.0, xy)
    gone = inside.all(axis=1) | ((out[..., 0] <= 0) & (out[..., 1] <= 0)).all(axis=1)
    return out, inside, ~gone


def head_distances(gt_xy: np.ndarray, gt_head: np.ndarray, pred_xy: np.ndarray) -> np.ndarray:
    """(Ng, Np, 15) distance of every predicted joint to every GT joint in GT head sizes; ``inf`` where
    the joint is absent on either side (as the kit)."""
    gp = (gt_xy[..., 0] > 0) & (gt_xy[..., 1] > 0)
    pp = (pred_xy[..., 0] > 0) & (pred_xy[..., 1] > 0)
    diff = gt_xy[:, None] - pred_xy[None, :]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        d = np.sqrt(diff[..., 0] * diff[..., 0] + diff[..., 1] * diff[..., 1]) / gt_head[:, None, None]
    return np.where(gp[:, None, :] & pp[None, :, :], d, np.inf)


# ---------------------------------------------------------------------------------- the kit's mAP
def map_stats(frames: LabeledFrames, distances: list) -> APStats:
    """The kit's mAP statistics of one sequence (additive: concatenated in sequence order).

    ``distances[t]`` is :func:`head_distances` of labeled frame t. Each prediction keeps only its best
    GT by PCKh, each GT then takes its best remaining prediction (the same assignment as poseval's);
    a predicted joint is a true positive when it is within 0.5 head sizes of its GT's joint."""
    from .ap import assign_frame

    stats = APStats(NUM_JOINTS)
    gb, pb = frames.gt_bounds(), frames.pred_bounds()
    gt_present = frames.gt_present
    stats.add_gt(gt_present.sum(axis=0))
    pred_present = frames.pred_present
    labels = np.zeros(pred_present.shape, dtype=bool)
    for t in range(frames.num_frames):
        g0, g1, p0, p1 = gb[t], gb[t + 1], pb[t], pb[t + 1]
        if g1 == g0 or p1 == p0:
            continue  # no GT: every prediction of the frame is a false positive
        _, hit = assign_frame(distances[t].transpose(1, 0, 2), gt_present[g0:g1], MAP_THRESHOLD)
        labels[p0:p1] = hit
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
