"""MPII multi-person mAP (``evaluateAP.m``, ``assignGTmulti.m``, ``getRPC.m``, ``VOCap.m``).

The same pose assignment and VOC AP as poseval (of which it is the origin), on 14 joints
(pelvis and thorax excluded) with the MATLAB kit's differences: a stable descending sort, a
mandatory point score, and predictions of an entry without GT people ignored (the prediction
loop sits inside the GT loop). Table: Head = mean of upper neck and head top, other groups the
mean of left and right, Total = mean of the 14 APs.
"""

from __future__ import annotations

import numpy as np

from ..poses import PoseSequence
from ..skeletons import MPII16
from .ap import DIST_THRESHOLD, APStats, assign_poses, finalize_ap, normalized_distances, pool
from .pckh import EVAL_JOINTS

TABLE = (
    ("Head", (12, 13)),  # positions in EVAL_JOINTS: upper neck, head top
    ("Shoulder", (8, 9)),
    ("Elbow", (7, 10)),
    ("Wrist", (6, 11)),
    ("Hip", (2, 3)),
    ("Knee", (1, 4)),
    ("Ankle", (0, 5)),
)


def multi_person_stats(gt: PoseSequence, pred: PoseSequence, threshold: float = DIST_THRESHOLD) -> APStats:
    """Additive AP statistics over the entries (frames) of an MPII GT / prediction pair."""
    return pool(image_stats(gt, pred, threshold), len(EVAL_JOINTS))


def image_stats(gt: PoseSequence, pred: PoseSequence, threshold: float = DIST_THRESHOLD) -> list[APStats]:
    """The AP statistics of each entry (image): the bootstrap's items."""
    ev = list(EVAL_JOINTS)
    g_kp = gt.to_skeleton(MPII16).keypoints[:, ev]
    p_kp = pred.to_skeleton(MPII16).keypoints[:, ev]
    hs = gt.head_sizes()
    gb, pb = gt.frame_bounds(), pred.frame_bounds()
    out = []
    for f in range(gt.num_frames):
        stats = APStats(len(ev))
        out.append(stats)
        g = slice(gb[f], gb[f + 1])
        p = slice(pb[f], pb[f + 1])
        g_xy = g_kp[g, :, :2]
        present = ~np.isnan(g_xy[..., 0])
        stats.add_gt(present.sum(axis=0))
        if gb[f + 1] == gb[f] or pb[f + 1] == pb[f]:
            continue  # no GT: the MATLAB kit never looks at the predictions of this entry
        pk = p_kp[p]
        d = normalized_distances(pk[None, :, :, :2], g_xy[None], hs[g][None])
        _, hit = assign_poses(d, present[None], None, threshold)
        stats.add(pk[:, :, 2], hit[0], ~np.isnan(pk[..., 0]))
    return out


def multi_table(ap: np.ndarray) -> dict[str, np.ndarray]:
    """Table columns from per-joint AP with any leading batch shape (..., 14)."""
    table = {name: np.mean(ap[..., list(ids)], axis=-1) for name, ids in TABLE}
    table["Total"] = np.mean(ap, axis=-1)
    return table


def finalize_multi(stats: APStats) -> dict:
    res = finalize_ap(stats, stable=True)
    ap = res.ap
    table = {k: float(v) for k, v in multi_table(ap).items()}
    joint = np.full(len(MPII16), np.nan)
    joint[list(EVAL_JOINTS)] = ap
    return {
        "ap": table,
        "ap_joint": [None if np.isnan(v) else float(v) for v in joint],
        "precision_joint": res.precision.tolist(),
        "recall_joint": res.recall.tolist(),
    }
