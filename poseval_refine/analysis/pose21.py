"""The error taxonomy for the PoseTrack21 kit's mAP (task ``pose21``): the kit's matching per labeled frame
(each prediction keeps its best GT person by PCKh, each GT person the prediction with the highest PCKh, after
the ignore regions; ``metrics.posetrack21.map_stats``), on the kit's 15 joints.

``good`` is the kit's true positive (within 0.5 head sizes of the matched GT joint), so it equals the metric's
hits; the kit's mAP is re-measured with each kind fixed cumulatively (docs/protocol.md §9.2). The
evaluation's own statistics (``evaluators.posetrack21.evaluate_sequence``) are the baseline. Nothing here
opens a file.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..formats.posetrack21 import JOINTS
from ..metrics.ap import APStats, assign_poses
from ..metrics.posetrack21 import MAP_GROUP_NAMES, MAP_THRESHOLD, LabeledFrames, frame_batch, map_stats
from . import headsize
from .headsize import INVERSION, JITTER, MISS, SWAP

FIX_STEPS = (("miss", MISS), ("swap", SWAP), ("inversion", INVERSION), ("jitter", JITTER))
#: the kit's joints (formats.posetrack21.JOINTS) and each one's left/right partner
FLIP = np.array([0, 1, 2, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13])


def _absent_nan(xy: np.ndarray) -> np.ndarray:
    """The kit's joints are present when x > 0 and y > 0; NaN elsewhere, as the taxonomy reads them."""
    return np.where(((xy[..., 0] > 0) & (xy[..., 1] > 0))[..., None], xy, np.nan)


def label_frames21(fr: LabeledFrames):
    """(labels (T, G, K), match (T, H), hit (T, H, K), padded arrays) of one sequence's labeled frames."""
    T = fr.num_frames
    g_xy, g_at = headsize.padded(_absent_nan(fr.gt_xy), fr.gt_frame, T)
    hs, _ = headsize.padded(fr.gt_head.astype(np.float64), fr.gt_frame, T)
    p_xy, p_at = headsize.padded(_absent_nan(fr.pred_xy), fr.pred_frame, T)
    p_score, _ = headsize.padded(fr.pred_score.astype(np.float64), fr.pred_frame, T)
    G, H = g_xy.shape[1], p_xy.shape[1]
    g_valid = np.zeros((T, G), bool)
    g_valid[g_at[:, 0], g_at[:, 1]] = True
    p_valid = np.zeros((T, H), bool)
    p_valid[p_at[:, 0], p_at[:, 1]] = True
    g_present = ~np.isnan(g_xy[..., 0])
    batch = frame_batch(fr)  # the kit's distances, (T, G, P, K); rows and columns in the same frame order
    match, hit = assign_poses(batch.distances.transpose(0, 2, 1, 3), g_present, p_valid, MAP_THRESHOLD)
    labels = headsize.label_frames(p_xy, ~np.isnan(p_xy[..., 0]), g_xy, g_present, hs, match, hit, FLIP,
                                   confusion_radius=MAP_THRESHOLD)
    return labels, match, hit, (g_xy, p_xy, p_score, g_valid, p_valid, p_at)


def fixed_frames(fr: LabeledFrames, labels, match, arrays, kinds) -> LabeledFrames:
    g_xy, p_xy, p_score, _, _, p_at = arrays
    xy, score = headsize.fixed_predictions(p_xy, p_score, g_xy, match, labels, kinds)
    new_xy = xy[p_at[:, 0], p_at[:, 1]]
    new_xy = np.where(np.isnan(new_xy), fr.pred_xy, new_xy)  # absent joints keep their raw values
    return replace(fr, pred_xy=new_xy, pred_score=score[p_at[:, 0], p_at[:, 1]])


def diagnose_pose21(frames: list[LabeledFrames], baseline: list[APStats], names: list[str], finish) -> dict:
    """The taxonomy over the sequences' labeled frames (``frames``, ignore regions applied) with the
    evaluation's statistics ``baseline``; ``finish(names, stats)`` gives the task's result (``map_result``)."""
    per_seq = [label_frames21(fr) for fr in frames]
    K = len(FLIP)

    def groups(stats):
        return dict(zip(MAP_GROUP_NAMES, finish(names, stats)["ap_groups"]))

    ap = {"baseline": groups(baseline)}
    kinds: list[int] = []
    for step, code in FIX_STEPS:
        kinds.append(code)
        fixed = [fixed_frames(fr, lab, m, arr, kinds) for fr, (lab, m, _, arr) in zip(frames, per_seq)]
        ap[step] = groups([map_stats(f, frame_batch(f)) for f in fixed])
    items = []
    fp_total = fn_total = hits = 0
    for name, (lab, match, hit, arr) in zip(names, per_seq):
        fp, fn = headsize.unmatched_people(match, arr[3], arr[4])
        fp_total += int(fp.sum())
        fn_total += int(fn.sum())
        hits += int(hit.sum())
        cnt = headsize.counts(lab)
        errors = sum(v for k, v in cnt.items() if k != "good") + int(fp.sum()) + int(fn.sum())
        items.append({"sequence": name, "keypoints": cnt, "false_pos": int(fp.sum()), "false_neg": int(fn.sum()),
                      "errors": errors})
    items.sort(key=lambda it: -it["errors"])
    all_labels = np.concatenate([lab.reshape(-1, K) for lab, *_ in per_seq]) if per_seq else np.zeros((0, K))
    return {"keypoints": headsize.counts(all_labels), "per_joint": headsize.per_joint(all_labels, JOINTS),
            "ap": ap, "false_pos": fp_total, "false_neg": fn_total, "hits": hits, "items": items,
            "_labels": per_seq}
