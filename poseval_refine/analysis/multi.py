"""The error taxonomy for MPII multi-person mAP (task ``multi``): the MATLAB kit's matching per image
(``assignGTmulti.m``, prt's ``metrics.mpii_multi``), on its 14 evaluated joints (pelvis and thorax left out).

Each entry (image) of the annolist is one frame: every prediction keeps its best GT person by PCKh, every GT
person the prediction with the highest PCKh; ``good`` is the kit's true positive at 0.5 head sizes, so it
equals the metric's hits. As in the kit, the predictions of an entry without GT people are never looked at
(counted as ``ignored``, neither false positives nor labelled). mAP is re-measured with each kind fixed
cumulatively (docs/protocol.md §9.2). Nothing here opens a file.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..metrics.ap import assign_poses, normalized_distances, pool
from ..metrics.mpii_multi import finalize_multi, image_stats
from ..metrics.pckh import EVAL_JOINTS
from ..poses import PoseSequence
from ..skeletons import MPII16
from . import headsize
from .headsize import INVERSION, JITTER, MISS, SWAP

FIX_STEPS = (("miss", MISS), ("swap", SWAP), ("inversion", INVERSION), ("jitter", JITTER))
EV = list(EVAL_JOINTS)
JOINTS = tuple(MPII16.joints[k] for k in EV)
#: each evaluated joint's left/right partner, as a position in EVAL_JOINTS
FLIP = np.array([EV.index(int(MPII16.flip_permutation()[k])) for k in EV])


def _map(g: PoseSequence, p: PoseSequence) -> dict:
    res = finalize_multi(pool(image_stats(g, p), len(EV)))
    return res["ap"]


def diagnose_multi(g: PoseSequence, p: PoseSequence) -> dict:
    """Labels of the GT joints of every entry, per joint, mAP after each cumulative fix, false positives and
    negatives, per-image items (worst first). ``g``, ``p``: the GT and predicted annolists (MPII16, one frame
    per entry, the same number of entries)."""
    g16, p16 = g.to_skeleton(MPII16), p.to_skeleton(MPII16)
    F = g16.num_frames
    g_xy, g_at = headsize.padded(g16.keypoints[:, EV, :2], g16.person_frame, F)
    hs, _ = headsize.padded(g16.head_sizes(), g16.person_frame, F)
    p_kp, p_at = headsize.padded(p16.keypoints[:, EV], p16.person_frame, F)
    G, H = g_xy.shape[1], p_kp.shape[1]
    g_valid = np.zeros((F, G), bool)
    g_valid[g_at[:, 0], g_at[:, 1]] = True
    p_valid = np.zeros((F, H), bool)
    p_valid[p_at[:, 0], p_at[:, 1]] = True
    # the kit looks at an entry's predictions only when it has GT people
    seen = p_valid & g_valid.any(1)[:, None]
    g_present = ~np.isnan(g_xy[..., 0])
    dist = normalized_distances(p_kp[..., :2], g_xy, hs) if G and H else np.zeros((F, H, G, len(EV)))
    match, hit = assign_poses(dist, g_present, seen, 0.5)
    labels = headsize.label_frames(p_kp[..., :2], ~np.isnan(p_kp[..., 0]), g_xy, g_present, hs, match, hit, FLIP)
    ap = {"baseline": _map(g16, p16)}
    kinds: list[int] = []
    for step, code in FIX_STEPS:
        kinds.append(code)
        xy, score = headsize.fixed_predictions(p_kp[..., :2], p_kp[..., 2], g_xy, match, labels, kinds)
        kp = p16.keypoints.copy()
        kp[:, EV, :2] = xy[p_at[:, 0], p_at[:, 1]]
        kp[:, EV, 2] = score[p_at[:, 0], p_at[:, 1]]
        ap[step] = _map(g16, replace(p16, keypoints=kp))
    fp, fn = headsize.unmatched_people(match, g_valid, seen)
    names = [f"{i} ({g16.image_names[i]})" if g16.image_names[i] else str(i) for i in range(F)]
    return {"keypoints": headsize.counts(labels), "per_joint": headsize.per_joint(labels, JOINTS), "ap": ap,
            "false_pos": int(fp.sum()), "false_neg": int(fn.sum()), "hits": int(hit.sum()),
            "ignored": int((p_valid & ~seen).sum()),
            "items": headsize.frame_items(labels, fp, fn, "image", names),
            "_labels": labels, "_arrays": (g_xy, p_kp, match, g_at)}
