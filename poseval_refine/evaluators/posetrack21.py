"""Task ``hota`` (PoseTrack21 keypoint HOTA) and ``--task pose --protocol posetrack21`` (the kit's mAP).

Reads a GT folder and a prediction folder of PoseTrack21 sequence files (same file names), pairs
each labeled GT image with the prediction file's image of the same id, applies the ignore regions
and evaluates every sequence into additive statistics, combined in file-name order as the official
kit combines them (so ``--workers N`` gives the same numbers bit for bit). See docs/posetrack21.md.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import ConfigError, InputError, MismatchError
from ..formats.posetrack21 import JOINTS, PT21Sequence, read_sequence
from ..metrics import hota
from ..metrics.ap import APStats, ap_item, pool
from ..metrics.posetrack21 import (
    MAP_GROUP_NAMES,
    NUM_JOINTS,
    LabeledFrames,
    finalize_map,
    frame_batch,
    map_stats,
    remove_ignored,
)
from . import GROUP_COLUMNS, Task, register_task

COLUMNS = (*JOINTS, "Total")
#: the kit's fields in the order it prints them
PRINT_ORDER = ("HOTA_TP(0)", "HOTA_FN(0)", "HOTA_FP(0)", "HOTA_TP", "HOTA_FN", "HOTA_FP", "AssRe", "AssPr", "AssA",
               "FragA", "LocA", "DetRe", "DetPr", "DetA", "HOTA", "RHOTA", "FA-HOTA", "FA-RHOTA", "HOTA(0)", "LocA(0)",
               "HOTALocA(0)")
MAIN = ("HOTA", "DetA", "AssA", "DetRe", "DetPr", "AssRe", "AssPr", "LocA")


# ----------------------------------------------------------------------------- files
def pair_files(gt: Path, pred: Path) -> list[tuple[Path, Path]]:
    """GT sequence files (sorted by name, the kit's order) and the prediction file of the same name."""
    gt, pred = Path(gt), Path(pred)
    if not gt.exists():
        raise InputError("not found", file=gt, fix="check the --gt path")
    if not pred.exists():
        raise InputError("not found", file=pred, fix="check the --pred path")
    gt_files = sorted(gt.glob("*.json"), key=lambda p: p.name) if gt.is_dir() else [gt]
    if not gt_files:
        raise InputError("holds no .json files", file=gt, fix="give a folder with one PoseTrack21 JSON per sequence")
    if not pred.is_dir():
        if len(gt_files) != 1:
            raise MismatchError(f"--gt has {len(gt_files)} sequences but --pred is a single file", file=pred,
                                fix="give a prediction folder with one file per GT sequence")
        return [(gt_files[0], pred)]
    pairs = []
    for g in gt_files:
        p = pred / g.name
        if not p.is_file():
            raise MismatchError(f"GT sequence {g.name} has no prediction file", file=p,
                                fix=f"write predictions for every GT sequence, named as the GT file, into {pred}")
        pairs.append((g, p))
    return pairs


def _frame_name(seq: PT21Sequence, image: int) -> str:
    return f"{image} (image id {int(seq.image_ids[image])})"


def labeled_frames(gt: PT21Sequence, pred: PT21Sequence) -> LabeledFrames:
    """The labeled frames of a sequence pair, ignore regions applied (raises on frames that do not pair)."""
    labeled = np.flatnonzero(gt.labeled)
    pred_pos = {int(v): i for i, v in enumerate(pred.image_ids)}
    pred_image = np.full(len(labeled), -1)
    for t, img in enumerate(labeled):
        i = pred_pos.get(int(gt.image_ids[img]))
        if i is None:
            raise MismatchError(f"lists no image with id {int(gt.image_ids[img])}, which the GT labels",
                                file=pred.source, field="images",
                                fix="keep the GT's images list in every prediction file (the official kit pairs "
                                    "frames by it)")
        pred_image[t] = i
    # the labeled index of each image of either file (-1: not labeled, not evaluated)
    gt_t = np.full(len(gt.image_ids), -1)
    gt_t[labeled] = np.arange(len(labeled))
    pr_t = np.full(len(pred.image_ids), -1)
    pr_t[pred_image] = np.arange(len(labeled))
    gsel = np.flatnonzero(gt_t[gt.person_image] >= 0)
    psel = np.flatnonzero(pr_t[pred.person_image] >= 0)
    g_frame, p_frame = gt_t[gt.person_image[gsel]], pr_t[pred.person_image[psel]]
    p_order = np.argsort(p_frame, kind="stable")
    psel, p_frame = psel[p_order], p_frame[p_order]
    fr = LabeledFrames(len(labeled), g_frame, gt.track_id[gsel], gt.keypoints[gsel], gt.head_size[gsel],
                       p_frame, pred.track_id[psel], pred.keypoints[psel], pred.scores[psel])
    with_regions = [t for t, img in enumerate(labeled) if gt.regions[img]]
    if with_regions:
        fr = _apply_regions(fr, {t: gt.regions[labeled[t]] for t in with_regions})
    return fr


def _apply_regions(fr: LabeledFrames, regions: dict) -> LabeledFrames:
    gt_xy, _, keep_g = remove_ignored(fr.gt_xy, fr.gt_frame, regions)
    pred_xy, gone, keep_p = remove_ignored(fr.pred_xy, fr.pred_frame, regions)
    score = np.where(gone, 0.0, fr.pred_score)
    return LabeledFrames(fr.num_frames, fr.gt_frame[keep_g], fr.gt_id[keep_g], gt_xy[keep_g], fr.gt_head[keep_g],
                         fr.pred_frame[keep_p], fr.pred_id[keep_p], pred_xy[keep_p], score[keep_p])


def _check_heads(gt: PT21Sequence, fr: LabeledFrames) -> None:
    bad = ~(fr.gt_head > 0) & fr.gt_present.any(axis=1)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise InputError(f"GT person has a head box of size {fr.gt_head[k]:g}, which cannot scale distances",
                         file=gt.source, frame=_frame_name(gt, int(np.flatnonzero(gt.labeled)[fr.gt_frame[k]])),
                         field="bbox_head", fix="give the person a head box of positive width and height")


# ----------------------------------------------------------------------------- one sequence
def evaluate_pair(gt_file: Path, pred_file: Path, protocol: hota.HotaProtocol, want: str):
    """Read, check and evaluate one sequence pair: HotaStats (``want="hota"``) or APStats (``"map"``)."""
    gt = read_sequence(gt_file, is_gt=True)
    pred = read_sequence(pred_file, is_gt=False)
    fr = labeled_frames(gt, pred)
    _check_heads(gt, fr)
    labeled = np.flatnonzero(gt.labeled)
    gb, pb = fr.gt_bounds(), fr.pred_bounds()
    try:
        if protocol.empty_labeled_frame_is_error:
            empty = np.flatnonzero(np.diff(gb) == 0)
            if len(empty):
                raise hota.EmptyLabeledFrame(int(empty[0]))
        batch = frame_batch(fr)
        if want == "map":
            return map_stats(fr, batch)
        return hota.sequence_stats(fr, batch, protocol)
    except hota.EmptyLabeledFrame as e:
        img = int(labeled[e.frame])
        n_pred = int(pb[e.frame + 1] - pb[e.frame])
        after = " left after its ignore regions" if np.any(gt.person_image == img) else ""
        fix = "label its people, or mark it is_labeled: false"
        if want == "hota":
            fix += ("; or evaluate with --protocol corrected, which counts such a frame's predicted joints as false "
                    "positives (and nothing when it has none)")
        crash = "IndexError" if after else "TypeError"
        raise InputError(f"is labeled (is_labeled: true) but has no GT people{after} ({n_pred} predicted there); the "
                         f"official PoseTrack21 kit fails on such a frame ({crash} in its _calculate_pckh)",
                         file=gt_file, frame=_frame_name(gt, img), field="annotations", fix=fix) from None
    except hota.RepeatedTrackId as e:
        seq = gt if e.who == "GT" else pred
        raise InputError(f"{e.who} track_id {e.track_id} is used twice in this frame (the official kit refuses it)",
                         file=seq.source, frame=_frame_name(gt, int(labeled[e.frame])), field="track_id",
                         fix="give each person of a frame its own track id") from None


def _evaluate_chunk(jobs: list) -> list:
    return [evaluate_pair(*job) for job in jobs]


def _run(jobs: list, workers: int) -> list:
    n = len(jobs)
    workers = max(1, min(workers, n, os.cpu_count() or 1))
    if workers == 1:
        return _evaluate_chunk(jobs)
    from concurrent.futures import ProcessPoolExecutor

    size = -(-n // (4 * workers))
    chunks = [jobs[i:i + size] for i in range(0, n, size)]
    out = []
    with ProcessPoolExecutor(max_workers=workers) as ex:
        for res in ex.map(_evaluate_chunk, chunks):
            out += res
    return out


# ----------------------------------------------------------------------------- HOTA task
def evaluate_hota(gt: Path, preds: list[Path], *, workers: int = 1, protocol: str = "official") -> dict:
    if len(preds) != 1:
        raise ConfigError("--task hota takes exactly one --pred (a folder or a file)")
    proto = hota_protocol(protocol)
    pairs = pair_files(Path(gt), Path(preds[0]))
    stats = _run([(g, p, proto, "hota") for g, p in pairs], workers)
    out = hota_result(hota.combine(stats), proto)
    out["per_sequence"] = [g.stem for g, _ in pairs]
    out["items"] = [{"sequence": g.stem, **_total_item(s)} for (g, _), s in zip(pairs, stats)]
    return out


def hota_protocol(name: str) -> hota.HotaProtocol:
    if name == "posetrack21":
        raise ConfigError("--protocol posetrack21 is the kit's mAP (--task pose); --task hota is the kit's by default",
                          fix="use --protocol official (the kit) or corrected")
    if name not in hota.PROTOCOLS:
        raise ConfigError(f"unknown protocol {name!r}", fix=f"use one of: {', '.join(hota.PROTOCOLS)}")
    return hota.PROTOCOLS[name]


def hota_result(stats: hota.HotaStats, proto: hota.HotaProtocol) -> dict:
    """The result dict from combined statistics: every field averaged over alpha as {joint: value} (percent;
    counts stay counts), the ``(0)`` fields at alpha 0.05, and ``per_alpha`` with every field unscaled."""
    res = hota.finalize(stats)
    out: dict = {"task": "hota", "protocol": {"name": proto.name, **{k: getattr(proto, k) for k in (
        "clip_similarity", "whole_sequence_empty_frames", "empty_labeled_frame_is_error")}},
        "joints": list(COLUMNS), "alphas": hota.ALPHAS.tolist()}
    for name in PRINT_ORDER:
        v = res[name]
        scale = 1 if name in hota.COUNT_FIELDS or name in hota.ZERO_COUNT_FIELDS else 100
        # averaged over alpha row by row of the transpose, as resample_hota averages (same digits)
        vals = np.ascontiguousarray(v.T).mean(axis=1) if v.ndim == 2 else v
        out[name] = {c: float(x) * scale for c, x in zip(COLUMNS, vals)}
    out["per_alpha"] = {name: res[name].tolist() for name in PRINT_ORDER}
    return out


def _total_item(s: hota.HotaStats) -> dict:
    """A sequence's additive statistics of the Total column (the leaderboard's bootstrap item)."""
    return {k: v[:, -1].tolist() for k, v in s.__dict__.items()}


def render_hota(result: dict) -> str:
    """The kit's summary table: every field per joint and Total, averaged over alpha (percent, 5 digits)."""
    def row(*cells, space=10):
        return f"{cells[0]:<25}" + "".join(f"{c!s:<{space}}" for c in cells[1:])

    lines = [row("HOTAeypoints->Summary:"), row("\t", *COLUMNS), row("\tMetric")]
    for name in PRINT_ORDER:
        vals = [result[name][c] for c in COLUMNS]
        if name in hota.COUNT_FIELDS or name in hota.ZERO_COUNT_FIELDS:
            cells = [str(int(v)) for v in vals]
        else:
            cells = [f"{v:1.5g}" for v in vals]
        lines.append(row(f"\t{name}", *cells))
    return "\n".join(lines)


# ----------------------------------------------------------------------------- the kit's mAP
def evaluate_map(gt: Path, preds: list[Path], *, workers: int = 1) -> dict:
    """``--task pose --protocol posetrack21``: the kit's PosemAP."""
    if len(preds) != 1:
        raise ConfigError("PoseTrack21 evaluation takes exactly one --pred (a folder or a file)")
    pairs = pair_files(Path(gt), Path(preds[0]))
    stats: list[APStats] = _run([(g, p, hota.OFFICIAL, "map") for g, p in pairs], workers)
    res = finalize_map(pool(stats, NUM_JOINTS))
    return {"task": "pose", "protocol": {"name": "posetrack21"}, "joint_names": list(JOINTS),
            "group_names": MAP_GROUP_NAMES, "ap_groups": res["ap"]["groups"], "ap_joint": res["ap"]["joint"],
            "precision_groups": res["precision"]["groups"], "recall_groups": res["recall"]["groups"],
            "precision_joint": res["precision"]["joint"], "recall_joint": res["recall"]["joint"],
            "per_sequence": [g.stem for g, _ in pairs],
            "items": [{"sequence": g.stem, **ap_item(s)} for (g, _), s in zip(pairs, stats)]}


def render_map(result: dict) -> str:
    """The kit's LaTeX-style rows, one decimal."""
    lines = []
    for title, key in (("map", "ap_groups"), ("precision", "precision_groups"), ("recall", "recall_groups")):
        lines.append(f"{title} & " + " & ".join(result["group_names"]))
        lines.append(" & " + " & ".join(f"{v:.1f}" for v in result[key]))
    return "\n".join(lines)


def resample_map(result: dict, weights: np.ndarray) -> dict[str, np.ndarray]:
    """The kit's mAP (Total and groups) of every resample of the sequences (weights R x n), from the items'
    ranked predictions (metrics.ap.weighted_ap); an all-ones row gives the evaluated numbers. A joint
    without GT in a resample has AP 0, as in the kit (its predictions are all false positives)."""
    from ..metrics.ap import _scores_array, weighted_ap
    from ..metrics.posetrack21 import kit_ranking, map_groups

    items = result["items"]
    w = np.asarray(weights)
    gt = np.array([it["gt"] for it in items], dtype=np.int64).reshape(len(items), NUM_JOINTS)
    num_gt = w.astype(np.int64) @ gt
    ap = np.empty((len(w), NUM_JOINTS))
    for k in range(NUM_JOINTS):
        per_item = [_scores_array(it["scores"][k]) for it in items]
        scores = np.concatenate(per_item) if per_item else np.zeros(0)
        labels = np.frombuffer("".join(it["labels"][k] for it in items).encode("ascii"), dtype=np.uint8) == ord("1")
        owner = np.repeat(np.arange(len(items)), [len(x) for x in per_item])
        order = kit_ranking(scores, labels)
        with np.errstate(invalid="ignore", divide="ignore"):
            ap[:, k] = weighted_ap(owner[order], labels[order], gt[:, k], w, no_prediction_ap=0.0)
        ap[num_gt[:, k] == 0, k] = 0.0
    groups = np.array([map_groups(row) for row in ap])
    return {"mAP": groups[:, -1], **{name: groups[:, i] for i, name in enumerate(GROUP_COLUMNS)}}


# ----------------------------------------------------------------------------- leaderboard hooks
HEADLINE = ("HOTA", "DetA", "AssA", "LocA")


def headline_hota(result: dict) -> dict[str, float]:
    return {name: float(result[name]["Total"]) for name in HEADLINE}


def resample_hota(result: dict, weights: np.ndarray) -> dict[str, np.ndarray]:
    """Total HOTA, DetA, AssA, LocA of every resample of the sequences (weights R x n), from the items'
    Total-column statistics, finalized as the kit does; an all-ones row gives the evaluated numbers."""
    w = np.asarray(weights, dtype=np.float64)
    items = result["items"]
    sums = {}
    for name in ("tp", "fn", "fp", *hota.WEIGHTED):
        x = np.array([it[name] for it in items], dtype=np.float64)  # (n, 19)
        acc = np.zeros((len(w), x.shape[1]))
        for i in range(len(items)):  # added in sequence order, as the evaluation combines them
            acc = acc + w[:, i, None] * x[i]
        sums[name] = acc
    res = hota.finalize(hota.HotaStats(**sums))
    return {name: 100 * res[name].mean(axis=1) for name in HEADLINE}


register_task(Task(
    name="hota", description="PoseTrack21 keypoint HOTA (the official PoseTrack21 kit)",
    run=evaluate_hota, render=render_hota, options=("workers", "protocol"),
    primary="HOTA", headline=headline_hota, unit="sequence", resample=resample_hota,
    per_joint=lambda r: {j: float(r["HOTA"][j]) for j in JOINTS},
))
