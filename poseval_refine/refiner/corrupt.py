"""Corrupted copies of GT poses, standing in for a method's output in the demo and the tests.

Like a method's output they carry keypoints, scores and track ids, and no head boxes (those are GT)."""

from __future__ import annotations

import numpy as np

from ..poses import PoseSequence
from ..skeletons import POSETRACK15, joint_mapping

#: fields of the GT records a method's output does not copy: head boxes (2018 and 2017 layouts) and the
#: GT's score list (the corrupted scores are written afresh; absent slots get 0)
GT_ONLY_FIELDS = ("bbox_head", "x1", "y1", "x2", "y2", "scores")
LEVELS = {
    # jitter (head sizes), P(large displacement), its size (head sizes), P(swap per pair), P(drop)
    "heavy": (0.12, 0.15, (0.7, 2.0), 0.15, 0.1),
    "light": (0.03, 0.0, (0.0, 0.0), 0.0, 0.0),
}


def corrupt_sequence(gt: PoseSequence, level: str, seed: int) -> PoseSequence:
    jitter, p_far, far, p_swap, p_drop = LEVELS[level]
    rng = np.random.default_rng([seed, 99])
    s15 = gt.to_skeleton(POSETRACK15)
    kp = s15.keypoints.copy()
    hs = gt.head_sizes()
    P, K = kp.shape[:2]
    kp[..., :2] += rng.normal(0, 1, (P, K, 2)) * (jitter * hs)[:, None, None]
    far_mask = rng.random((P, K)) < p_far
    angle = rng.uniform(0, 2 * np.pi, (P, K))
    length = rng.uniform(*far, (P, K)) * hs[:, None]
    kp[..., 0] += np.where(far_mask, np.cos(angle) * length, 0)
    kp[..., 1] += np.where(far_mask, np.sin(angle) * length, 0)
    for a, b in POSETRACK15.symmetric_pairs:
        swap = rng.random(P) < p_swap
        kp[swap, a, :2], kp[swap, b, :2] = kp[swap, b, :2].copy(), kp[swap, a, :2].copy()
    kp[rng.random((P, K)) < p_drop] = np.nan
    present = np.isfinite(kp[..., 0])
    kp[..., 2] = np.where(present, np.round(rng.uniform(0.3, 1.0, (P, K)), 6), np.nan)
    out = gt.with_keypoints(np.full_like(gt.keypoints, np.nan))
    m = joint_mapping(POSETRACK15, gt.skeleton)
    okp = out.keypoints
    okp[:, m >= 0] = kp[:, m[m >= 0]]
    out.keypoints = okp
    out.head_box = np.full_like(gt.head_box, np.nan)
    out.head_size = np.full_like(gt.head_size, np.nan)
    out.person_extras = [{k: v for k, v in rec.items() if k not in GT_ONLY_FIELDS} for rec in gt.person_extras]
    return out
