"""The error taxonomy for PoseTrack ``pose`` (poseval's per-frame matching), and the tracking decompositions.

``diagnose_pose`` labels every GT joint of every cleaned sequence pair (``analysis.headsize``), then
measures mAP (poseval's, prt's engine) after fixing each error kind cumulatively in coco-analyze's
order (miss, swap, inversion, jitter): a fixed joint is moved onto its GT joint keeping its score; a
missed joint that was not predicted is created there with the mean score of its person's predicted
joints. ``decompose_tracking`` splits MOTA per joint and per sequence into misses, false positives and
identity switches. Nothing here opens a file: ``analysis.run`` reads and cleans.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..metrics.ap import assign_poses
from ..metrics.distance import normalized_distance
from ..metrics.posetrack import CleanSequence, combine, finalize, sequences_stats
from ..protocols import POSETRACK_GROUPS, PoseTrackProtocol
from ..skeletons import POSETRACK15, head_size
from . import headsize
from .headsize import INVERSION, JITTER, MISS, SWAP

K = 15
JOINTS = tuple(POSETRACK15.joints)
FLIP = POSETRACK15.flip_permutation()
FIX_STEPS = (("miss", MISS), ("swap", SWAP), ("inversion", INVERSION), ("jitter", JITTER))


def _frames(c: CleanSequence):
    """Padded per-frame arrays of one cleaned pair: GT (F, G, K, 2) + presence + head sizes + person rows,
    predictions (F, H, K, 3) + presence + person rows."""
    F = c.num_frames
    gf, pf = c.gt_frame, c.pred_frame
    g_slot = np.arange(len(gf)) - np.searchsorted(gf, gf, side="left")
    p_slot = np.arange(len(pf)) - np.searchsorted(pf, pf, side="left")
    G = int(g_slot.max()) + 1 if len(g_slot) else 0
    H = int(p_slot.max()) + 1 if len(p_slot) else 0
    g_xy = np.full((F, G, K, 2), np.nan)
    g_xy[gf, g_slot] = c.gt_kp[c.gt_person, :, :2]
    p_kp = np.full((F, H, K, 3), np.nan)
    p_kp[pf, p_slot] = c.pred_kp[c.pred_person]
    hs = np.full((F, G), np.nan)
    with np.errstate(invalid="ignore", over="ignore"):
        hs[gf, g_slot] = head_size(c.gt.head_box[c.gt_person])
    g_row = np.full((F, G), -1, np.int64)
    g_row[gf, g_slot] = c.gt_person
    p_row = np.full((F, H), -1, np.int64)
    p_row[pf, p_slot] = c.pred_person
    return g_xy, p_kp, hs, g_row, p_row


def label_sequence(c: CleanSequence, threshold: float):
    """(labels (F, G, K), match (F, H), arrays of :func:`_frames`) of one cleaned sequence pair."""
    g_xy, p_kp, hs, g_row, p_row = _frames(c)
    g_present = ~np.isnan(g_xy[..., 0])
    p_present = ~np.isnan(p_kp[..., 0])
    pv = p_row >= 0
    with np.errstate(invalid="ignore"):
        dist = normalized_distance(p_kp[:, :, None, :, :2], g_xy[:, None], hs[:, None, :, None])
    dist = np.where(np.isnan(dist), np.inf, dist)
    match, hit = assign_poses(dist, g_present, pv, threshold)
    labels = headsize.label_frames(p_kp[..., :2], p_present, g_xy, g_present, hs, match, hit, FLIP,
                                   confusion_radius=threshold)
    return labels, match, (g_xy, p_kp, hs, g_row, p_row, g_present, hit)


def fixed_keypoints(c: CleanSequence, labels, match, arrays, kinds) -> np.ndarray:
    """The prediction's keypoints (``c.pred_kp``) with the GT joints labelled one of ``kinds`` fixed."""
    g_xy, p_kp, _, _, p_row, _, _ = arrays
    kp = c.pred_kp.copy()
    ff, pp = np.nonzero(match >= 0)
    gg = match[ff, pp]
    lab = labels[ff, gg]  # (M, K)
    fix = np.isin(lab, kinds)
    if not fix.any():
        return kp
    with np.errstate(invalid="ignore"):
        mean_score = np.nanmean(np.where(np.isnan(p_kp[ff, pp, :, 0]), np.nan, p_kp[ff, pp, :, 2]), axis=1)
    mm, jj = np.nonzero(fix)
    rows = p_row[ff[mm], pp[mm]]
    kp[rows, jj, 0] = g_xy[ff[mm], gg[mm], jj, 0]
    kp[rows, jj, 1] = g_xy[ff[mm], gg[mm], jj, 1]
    absent = np.isnan(p_kp[ff[mm], pp[mm], jj, 2])
    kp[rows[absent], jj[absent], 2] = mean_score[mm[absent]]
    return kp


def _ap(cleaned: list[CleanSequence], protocol: PoseTrackProtocol) -> dict:
    res = finalize(combine(sequences_stats(cleaned, protocol, tracking=False)), protocol)
    names = [n for n, _ in POSETRACK_GROUPS] + ["Total"]
    return dict(zip(names, res["ap_groups"]))


def diagnose_pose(cleaned: list[CleanSequence], names: list[str], protocol: PoseTrackProtocol) -> dict:
    """The taxonomy of ``pose`` over all sequences: counts, per joint, mAP per cumulative fix, false positives
    and negatives, and per-sequence items (worst first)."""
    per_seq = [label_sequence(c, protocol.threshold) for c in cleaned]
    all_labels = np.concatenate([lab.reshape(-1, K) for lab, _, _ in per_seq]) if per_seq else np.zeros((0, K))
    ap = {"baseline": _ap(cleaned, protocol)}
    kinds: list[int] = []
    for step, code in FIX_STEPS:
        kinds.append(code)
        fixed = [replace(c, pred_kp=fixed_keypoints(c, lab, m, arr, kinds))
                 for c, (lab, m, arr) in zip(cleaned, per_seq)]
        ap[step] = _ap(fixed, protocol)
    items = []
    fp_total = fn_total = 0
    hits = 0
    for name, (lab, match, arr) in zip(names, per_seq):
        g_row, p_row = arr[3], arr[4]
        matched_gt = np.zeros(g_row.shape, dtype=bool)
        ff, pp = np.nonzero(match >= 0)
        matched_gt[ff, match[ff, pp]] = True
        fp = int(((p_row >= 0) & (match < 0)).sum())
        fn = int(((g_row >= 0) & ~matched_gt).sum())
        fp_total += fp
        fn_total += fn
        hits += int(arr[6].sum())
        cnt = headsize.counts(lab)
        errors = sum(v for k, v in cnt.items() if k != "good") + fp + fn
        items.append({"sequence": name, "keypoints": cnt, "false_pos": fp, "false_neg": fn, "errors": errors})
    items.sort(key=lambda it: -it["errors"])
    return {"keypoints": headsize.counts(all_labels), "per_joint": headsize.per_joint(all_labels, JOINTS),
            "ap": ap, "false_pos": fp_total, "false_neg": fn_total, "hits": hits, "items": items,
            "_labels": per_seq}


MOT_PARTS = ("num_misses", "num_false_positives", "num_switches")


def decompose_tracking(names: list[str], stats: list) -> dict:
    """MOTA = 1 - (misses + false positives + identity switches) / GT joints, per joint and per sequence:
    each part as its share of the GT joints (percent), so that MOTA = 100 - the three parts."""
    def parts(mot):
        n = np.asarray(mot.num_objects, dtype=np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = {p.removeprefix("num_"): (100 * np.asarray(getattr(mot, p)) / n) for p in MOT_PARTS}
        out["mota"] = 100 - out["misses"] - out["false_positives"] - out["switches"]
        counts = {p.removeprefix("num_"): np.asarray(getattr(mot, p)).tolist() for p in (*MOT_PARTS, "num_objects")}
        return out, counts

    def clean(v):
        return [None if not np.isfinite(x) else float(x) for x in np.asarray(v).tolist()]

    total = stats[0].mot
    for st in stats[1:]:
        total = total.merge(st.mot)
    tot_parts, tot_counts = parts(total)
    out = {"per_joint": {j: {k: clean(v)[i] for k, v in tot_parts.items()} for i, j in enumerate(JOINTS)},
           "counts": tot_counts, "items": []}
    for name, st in zip(names, stats):
        p, cnt = parts(st.mot)
        objects = max(int(np.sum(cnt["objects"])), 1)
        errors = int(np.sum(cnt["misses"]) + np.sum(cnt["false_positives"]) + np.sum(cnt["switches"]))
        out["items"].append({"sequence": name, "misses": int(np.sum(cnt["misses"])),
                             "false_positives": int(np.sum(cnt["false_positives"])),
                             "switches": int(np.sum(cnt["switches"])), "gt_joints": int(np.sum(cnt["objects"])),
                             "error_rate": 100 * errors / objects})
    out["items"].sort(key=lambda it: -it["error_rate"])
    return out


HOTA_PARTS = ("HOTA", "DetA", "AssA", "DetRe", "DetPr", "AssRe", "AssPr", "LocA")


def decompose_hota(result: dict) -> dict:
    """HOTA = sqrt(DetA · AssA) at each threshold, averaged over the 19: per joint (the evaluation's own
    numbers) and per sequence (each sequence's additive Total-column statistics, ``items`` of the ``hota``
    task, finalized alone as the kit finalizes the whole). Sequences worst HOTA first; the detection and
    association errors in counts (FN, FP at alpha 0.5)."""
    from ..metrics import hota

    per_joint = {j: {p: float(result[p][j]) for p in HOTA_PARTS} for j in result["joints"]}
    items = []
    for it in result["items"]:
        fields = {k: np.asarray(it[k], dtype=np.float64)[:, None] for k in ("tp", "fn", "fp", *hota.WEIGHTED)}
        res = hota.finalize(hota.HotaStats(**fields))
        row = {"sequence": it["sequence"], **{p: float(100 * res[p][:, 0].mean()) for p in HOTA_PARTS}}
        mid = int(np.argmin(np.abs(hota.ALPHAS - 0.5)))
        row.update(tp=int(fields["tp"][mid, 0]), fn=int(fields["fn"][mid, 0]), fp=int(fields["fp"][mid, 0]))
        items.append(row)
    items.sort(key=lambda r: (r["HOTA"], r["sequence"]))
    return {"per_joint": per_joint, "items": items}


def diagnose_paired(frames: list[tuple[str, np.ndarray, np.ndarray, np.ndarray]], threshold: float = 0.5) -> dict:
    """The taxonomy for ``pckh`` (people paired by order): ``frames`` are (name, GT xy (n, K, 2), predicted xy
    (n, K, 2), head sizes (n,)) of the labeled frames; ``good`` is the task's hit (``metrics.paired_pckh``),
    the other GT people of the frame are the swap candidates. PCKh after each cumulative fix; items per frame."""
    from ..metrics.ap import pair_distances
    from ..metrics.paired_pckh import finalize_paired_pckh

    if not frames:
        return {"keypoints": headsize.counts(np.zeros(0)), "per_joint": {}, "pckh": {}, "hits": 0, "items": []}
    B, G = len(frames), max(len(f[1]) for f in frames)
    g_xy = np.full((B, G, K, 2), np.nan)
    p_xy = np.full((B, G, K, 2), np.nan)
    hs = np.full((B, G), np.nan)
    match = np.full((B, G), -1, np.int64)
    hit = np.zeros((B, G, K), bool)
    for b, (_, gx, px, h) in enumerate(frames):
        n = len(gx)
        g_xy[b, :n], p_xy[b, :n], hs[b, :n], match[b, :n] = gx, px, h, np.arange(n)
        with np.errstate(invalid="ignore"):
            hit[b, :n] = ~np.isnan(gx[..., 0]) & (pair_distances(px, gx, h) <= threshold)
    labels = headsize.label_frames(p_xy, ~np.isnan(p_xy[..., 0]), g_xy, ~np.isnan(g_xy[..., 0]), hs, match, hit,
                                   FLIP, confusion_radius=threshold)
    annotated = (~np.isnan(g_xy[..., 0])).sum((0, 1))
    pckh = {"baseline": finalize_paired_pckh(hit.sum((0, 1)), annotated)}
    ok = hit.copy()
    for step, code in FIX_STEPS:
        ok |= labels == code
        pckh[step] = finalize_paired_pckh(ok.sum((0, 1)), annotated)
    pckh = {k: {**dict(zip([n for n, _ in POSETRACK_GROUPS] + ["Mean"], v["pckh_groups"])), "Total": v["pckh_total"]}
            for k, v in pckh.items()}
    items = []
    for b, (name, *_rest) in enumerate(frames):
        cnt = headsize.counts(labels[b])
        err = sum(v for k, v in cnt.items() if k != "good")
        if err:
            items.append({"image": name, "keypoints": cnt, "false_pos": 0, "false_neg": 0, "errors": err})
    items.sort(key=lambda it: -it["errors"])
    return {"keypoints": headsize.counts(labels), "per_joint": headsize.per_joint(labels, JOINTS), "pckh": pckh,
            "hits": int(hit.sum()), "items": items, "_labels": labels}
