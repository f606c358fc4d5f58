"""Joints that some formats lack, synthesized the way the paper's baselines did (recorded in meta)."""

from __future__ import annotations

import numpy as np

from ..poses import PoseSequence
from ..skeletons import POSETRACK15


def synthesize_neck_head_top(seq15: PoseSequence, neck: bool = True, head_top: bool = True) -> PoseSequence:
    """PoseTrack-15 poses with neck = shoulder midpoint and head top = the neck reflected about the
    nose (as far above the nose as the nose is above the neck), where those joints are missing;
    the synthesized joints take the mean score of the joints they come from."""
    kp = seq15.keypoints.copy()
    rs, ls = POSETRACK15.index("right_shoulder"), POSETRACK15.index("left_shoulder")
    nk, ns, ht = POSETRACK15.index("neck"), POSETRACK15.index("nose"), POSETRACK15.index("head_top")
    conv = []
    with np.errstate(over="ignore", invalid="ignore"):  # huge or infinite inputs: the result is not finite
        _fill(kp, neck, head_top, rs, ls, nk, ns, ht, conv)
    out = seq15.with_keypoints(kp)
    out.meta = dict(seq15.meta, conversions=list(seq15.meta.get("conversions", [])) + conv)
    return out


def _fill(kp, neck, head_top, rs, ls, nk, ns, ht, conv) -> None:
    """Synthesize in place where the joint is missing and the synthesized point is finite."""
    if neck:
        mid = (kp[:, rs] + kp[:, ls]) / 2
        fill = np.isnan(kp[:, nk, 0]) & np.isfinite(mid[:, :2]).all(1)
        kp[fill, nk] = mid[fill]
        conv.append("neck synthesized as the shoulder midpoint")
    if head_top:
        top = 2 * kp[:, ns, :2] - kp[:, nk, :2]
        fill = np.isnan(kp[:, ht, 0]) & np.isfinite(top).all(1)
        kp[fill, ht, :2] = top[fill]
        kp[fill, ht, 2] = (kp[fill, ns, 2] + kp[fill, nk, 2]) / 2
        conv.append("head_top synthesized as the neck reflected about the nose")
