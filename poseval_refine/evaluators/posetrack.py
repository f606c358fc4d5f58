"""Tasks ``pose`` (per-frame multi-person mAP) and ``tracking`` (MOTA, MOTP, precision, recall).

Reads a GT folder and a prediction folder (one PoseTrack JSON per sequence, 2017 or 2018
layout, detected per file), checks that they fit together the way poseval requires, and
evaluates the sequences in batches (optionally in worker processes). Every sequence's
statistics are the same whatever batch it is in, and sequences are combined in the protocol's
order, so ``--workers N`` gives bit-identical numbers.
"""

from __future__ import annotations

import logging
import math
import os
from pathlib import Path

import numpy as np

from ..errors import ConfigError, InputError, MismatchError
from ..formats.posetrack import prepare_reads, read_sequence, read_sequence_data, sequence_files
from ..metrics.annotated import annotated_joints, annotated_total, annotated_total_rows, counted_unannotated
from ..metrics.ap import MIN_SCORE, ap_item, resample_ap
from ..metrics.mota import MOT_FIELDS, RepeatedIdError, finalize_mot, resample_mot
from ..metrics.posetrack import (
    GROUP_NAMES,
    MOT_BACKENDS,
    CleanSequence,
    RegionError,
    SequenceStats,
    clean_sequence,
    combine,
    finalize,
    group_means_rows,
    sequences_stats,
)
from ..optional import missing_from
from ..poses import NO_TRACK, PoseSequence, PoseSet
from ..protocols import PoseTrackProtocol, posetrack_protocol, protocol_names
from ..skeletons import POSETRACK15
from . import DEFAULT_PROTOCOL, GROUP_COLUMNS, Task, breakdown_rows, joint_values, register_task
from .base import READ_WINDOW
from .payloads import PoseTrackPayload
from .sequences import SequenceSession

log = logging.getLogger("prt")


# ----------------------------------------------------------------------------- checks
def check_frames(gt: PoseSequence, pred: PoseSequence) -> None:
    if gt.num_frames != pred.num_frames:
        raise MismatchError(
            f"has {pred.num_frames} frames but the GT {gt.source} has {gt.num_frames}", file=pred.source,
            fix="write a prediction frame for every GT frame, labeled or not, in the GT's order "
                "(frames are paired by position, as in poseval)")


def check_track_ids(seq: PoseSequence, who: str, protocol: PoseTrackProtocol, unique: bool = False) -> None:
    """Every person has a track id poseval can take; ``unique``: no id twice in a frame (predictions)."""
    if seq.num_persons == 0:
        return
    missing = np.flatnonzero(seq.track_id == NO_TRACK)
    if len(missing):
        p = int(missing[0])
        raise InputError(f"{who} person has no track_id, which --task tracking needs", file=seq.source,
                         frame=int(seq.person_frame[p]), person=_person_in_frame(seq, p), field="track_id",
                         fix="give every person an integer track_id, or evaluate with --task pose")
    big = np.flatnonzero(seq.track_id >= protocol.max_track_id)
    if len(big):
        p = int(big[0])
        raise InputError(f"track id {seq.track_id[p]} is too large (poseval requires < {protocol.max_track_id})",
                         file=seq.source, frame=int(seq.person_frame[p]), person=_person_in_frame(seq, p),
                         field="track_id",
                         fix=f"renumber the tracks of the sequence from 0 (< {protocol.max_track_id})")
    # predicted ids must be unique within a frame (poseval raises since 604f93d)
    if unique:
        order = np.lexsort((seq.track_id, seq.person_frame))
        same = (np.diff(seq.person_frame[order]) == 0) & (np.diff(seq.track_id[order]) == 0)
        dup = np.flatnonzero(same)
        if len(dup):
            p = int(order[dup[0] + 1])
            raise InputError(f"track id {seq.track_id[p]} is used twice in this frame", file=seq.source,
                             frame=int(seq.person_frame[p]), person=_person_in_frame(seq, p), field="track_id",
                             fix="give each predicted person of a frame its own track id")


def check_head_boxes(gt: PoseSequence) -> None:
    missing = gt.has_pose & np.isnan(gt.head_box).any(axis=1) & ~np.isnan(gt.keypoints[..., 0]).all(axis=1)
    if missing.any():
        p = int(np.flatnonzero(missing)[0])
        raise InputError("GT person has no head box, which sets the distance scale", file=gt.source,
                         frame=int(gt.person_frame[p]), person=_person_in_frame(gt, p),
                         field="x1/y1/x2/y2 or bbox_head",
                         fix="give every annotated GT person its head rectangle")


def _person_in_frame(seq: PoseSequence, p: int) -> int:
    return int(p - np.searchsorted(seq.person_frame, seq.person_frame[p], side="left"))


# ----------------------------------------------------------------------------- one sequence
def prepare_scores(pred: PoseSequence, protocol: PoseTrackProtocol, min_score: float | None):
    """Predicted scores as poseval ranks them: a missing score is -9999, a null/NaN score stays NaN
    (poseval's sort puts it first; the corrected protocol makes it -inf, last); ``min_score`` then
    drops joints whose score is not above it. Returns (sequence, counts)."""
    kp = pred.keypoints.copy()
    present = ~np.isnan(kp[..., 0])
    missing = present & np.isnan(kp[..., 2]) & ~pred.score_null
    null = present & pred.score_null
    kp[..., 2][missing] = MIN_SCORE
    if not protocol.nan_scores_first:
        kp[..., 2][null] = -np.inf
    extra = pred.meta.get("extra_points")
    if extra is not None:
        extra = dict(extra, score=extra["score"].copy())
        extra["score"][np.isnan(extra["score"]) & ~extra["score_null"]] = MIN_SCORE
        if not protocol.nan_scores_first:
            extra["score"][extra["score_null"]] = -np.inf
    dropped = 0
    if min_score is not None:
        with np.errstate(invalid="ignore"):
            drop = present & ~(kp[..., 2] > min_score)
        dropped = int(drop.sum())
        kp[drop] = np.nan
        if extra is not None:  # repeats of a dropped joint go with it
            gone = ~(extra["score"] > min_score) | drop[extra["person"], np.maximum(extra["joint"], 0)]
            gone &= extra["joint"] >= 0
            extra = {k: v[~gone] for k, v in extra.items()}
    out = pred.with_keypoints(kp)
    if extra is not None:
        out.meta = dict(pred.meta, extra_points=extra)
    counts = dict(joints_without_score=int(missing.sum()), joints_with_null_score=int(null.sum()),
                  joints_dropped_by_min_score=dropped, predicted_joints=int(present.sum()))
    return out, counts


def check_gt(gt: PoseSequence, gt_file, protocol: PoseTrackProtocol, tracking: bool) -> None:
    """What a GT sequence must be, whatever the predictions (``clean_pair`` checks it unless told it is
    checked; an ``Evaluator`` checks its GT once)."""
    check_head_boxes(gt)
    if tracking:
        check_track_ids(gt, "GT", protocol)
        _check_labeled_frames(gt, gt_file, protocol)


def _check_labeled_frames(gt: PoseSequence, gt_file, protocol: PoseTrackProtocol) -> None:
    if protocol.drop_last_labeled_frame:
        labeled = int(np.count_nonzero(np.diff(gt.frame_bounds()) > 0))
        if labeled == 1:
            raise InputError(
                "has only one labeled frame; poseval's tracking evaluation drops the last labeled frame of every "
                "sequence and fails on such a sequence (IndexError)", file=gt_file,
                fix="label at least two frames, evaluate with --task pose, or use --protocol corrected")


def clean_pair(gt: PoseSequence, pred: PoseSequence, gt_file, pred_file, protocol: PoseTrackProtocol,
               tracking: bool, min_score: float | None, gt_checked: bool = False
               ) -> tuple[CleanSequence, dict, list[str]]:
    """Check a GT sequence and its predictions together and clean them as poseval does: (cleaned pair,
    counts, warnings). ``gt_checked``: the GT passed :func:`check_gt` already (its notes were told)."""
    check_frames(gt, pred)
    if not gt_checked:
        check_head_boxes(gt)
    if tracking:
        if not gt_checked:
            check_track_ids(gt, "GT", protocol)
        check_track_ids(pred, "prediction", protocol, unique=True)
    warnings = [f"{seq.source}: {note}" for seq in ((pred,) if gt_checked else (gt, pred))
                for note in seq.meta.get("notes", ())]
    pred, counts = prepare_scores(pred, protocol, min_score)
    if counts["joints_without_score"]:
        warnings.append(f"{pred_file}: {counts['joints_without_score']} predicted joints have no score; they get "
                        f"{MIN_SCORE:g} as in poseval, so they rank last in AP")
    if counts["joints_with_null_score"]:
        rank = "first in AP, as poseval's sort puts NaN" if protocol.nan_scores_first else "last in AP"
        warnings.append(f"{pred_file}: {counts['joints_with_null_score']} predicted joints have a null or NaN score; "
                        f"they rank {rank}")
    if tracking and not gt_checked:
        _check_labeled_frames(gt, gt_file, protocol)
    try:
        clean = clean_sequence(gt, pred)
    except RegionError as e:
        raise InputError(str(e), file=gt_file, frame=e.frame, field="ignore_regions",
                         fix="give every ignore region 3 or more distinct corners, or remove it") from None
    return clean, counts, warnings


def log_warnings(warnings: list[str], per_kind: int = 3) -> None:
    """Log each kind of note for at most ``per_kind`` files, then how many more files have it."""
    import re

    kinds: dict[str, list[str]] = {}
    for w in warnings:
        kind = re.sub(r"\(.*?\)|\d+", "#", w.split(": ", 1)[-1])
        kinds.setdefault(kind, []).append(w)
    for same in kinds.values():
        for w in same[:per_kind]:
            log.warning(w)
        if len(same) > per_kind:
            log.warning("... the same for %d more files", len(same) - per_kind)


# ----------------------------------------------------------------------------- the task
def evaluate_posetrack(gt, preds, *, tracking: bool, **options) -> dict:
    """``prt evaluate --task pose|tracking``: the tasks' ``run`` (kept for scripts that call it)."""
    from . import get_task

    return get_task("tracking" if tracking else "pose").run(gt, list(preds), **options)


def posetrack_result(names: list[str], stats: list[SequenceStats], proto: PoseTrackProtocol, tracking: bool,
                     min_score: float | None, backend: str | None) -> dict:
    """The result dict of the sequences' statistics (in the protocol's sequence order)."""
    total = combine(stats)
    out = finalize(total, proto)
    counts = total.counts
    if min_score is not None:
        log.info("--min-score %g dropped %d of %d predicted joints", min_score,
                 counts.get("joints_dropped_by_min_score", 0), counts.get("predicted_joints", 0))
    out["task"] = "tracking" if tracking else "pose"
    out["protocol"] = proto.as_dict()
    if backend is not None:
        out["mot_backend"] = backend
    out["min_score"] = min_score
    out["counts"] = counts
    out["per_sequence"] = list(names)
    out["items"] = [_sequence_item(name, st) for name, st in zip(names, stats)]
    out["annotated_totals"] = annotated_totals(out, total.ap.num_gt)
    return out


def annotated_totals(result: dict, num_gt) -> dict:
    """The Totals over the joints the GT annotates beside the official ones (metrics.annotated), with the
    joints the GT never annotates and those of them that count in each official Total."""
    names = list(result.get("joint_names", POSETRACK15.joints))
    out = {"joints_not_annotated": [n for n, a in zip(names, annotated_joints(num_gt)) if not a],
           "ap_total": annotated_total(result["ap_joint"], num_gt),
           "ap_total_counts": [n for n, c in zip(names, counted_unannotated(result["ap_joint"], num_gt)) if c]}
    if "mota_joint" in result:
        out["mota_total"] = annotated_total(result["mota_joint"], num_gt)
        out["mota_total_counts"] = [n for n, c in zip(names, counted_unannotated(result["mota_joint"], num_gt)) if c]
    return out


#: the headline names of the Totals over the joints the GT annotates (a board's columns where they apply)
AP_ANNOTATED, MOTA_ANNOTATED = "mAP (GT joints)", "MOTA (GT joints)"


def _gt_counts_if_unannotated(result: dict) -> np.ndarray | None:
    """GT joints per joint (the sum of the result's items') when the headline carries the GT-joint Totals:
    under poseval's official protocol (whose AP Total counts a joint without GT as 0 or leaves it out, as
    predictions decide) with a joint the GT never annotates; else None."""
    p = result.get("protocol") or {}
    items = result.get("items")
    if p.get("name", "official") != "official" or not items or "gt" not in items[0]:
        return None
    num_gt = np.asarray([it["gt"] for it in items], dtype=np.int64).sum(axis=0)
    return None if annotated_joints(num_gt).all() else num_gt


def mot_backend_name(backend: str) -> str:
    """Who computes the CLEAR-MOT counts, as the result records it ("prt" or "motmetrics X.Y.Z (scipy solver)")."""
    if backend not in MOT_BACKENDS:
        raise ConfigError(f"unknown MOT backend {backend!r}", fix=f"use one of: {', '.join(MOT_BACKENDS)}")
    if backend == "prt":
        return backend
    from ..metrics import mota_motmetrics

    try:
        version = mota_motmetrics.version()
    except ModuleNotFoundError as e:
        error = missing_from(e, "--mot-backend motmetrics")
        if error is None:
            raise
        raise ConfigError(error.problem, fix=f"{error.fix}, or use the default --mot-backend prt") from None
    return f"motmetrics {version} (scipy solver)"


def _sequence_item(name: str, stats) -> dict:
    """A sequence's additive statistics as JSON data: the bootstrap's item (see metrics.ap.ap_item)."""
    item = {"sequence": name, **ap_item(stats.ap)}
    if stats.mot is not None:
        item["mot"] = {f: getattr(stats.mot, f).tolist() for f in MOT_FIELDS}
    return item


def fmt_cell(v: float) -> str:
    """A number of poseval's tables: one decimal, ``nan`` for a missing value."""
    return " nan" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:4.1f}"


def render_posetrack(result: dict) -> str:
    """poseval's table layout (LaTeX-style rows), one decimal."""
    lines = ["Average Precision (AP) metric:",
             "& " + " & ".join(f"{n:<4}" for n in GROUP_NAMES) + " \\\\",
             "& " + " & ".join(fmt_cell(v) for v in result["ap_groups"]) + " \\\\"]
    if "mota_groups" in result:
        lines += ["", "Multiple Object Tracking (MOT) metrics:",
                  "& " + " & ".join(["MOTA"] * 8 + ["MOTP", "Prec", "Rec "]) + " \\\\",
                  "& " + " & ".join(f"{n:<4}" for n in GROUP_NAMES + ["Total"] * 3) + " \\\\",
                  "& " + " & ".join(fmt_cell(v) for v in result["mota_groups"] + [
                      result["motp_total"], result["pre_total"], result["rec_total"]]) + " \\\\"]
    return "\n".join(lines + annotated_lines(result))


def annotated_lines(result: dict) -> list[str]:
    """The lines under the official table when the GT never annotates some joint (official protocol): the
    Totals over the joints it annotates, and how each joint it does not annotate enters the official Totals."""
    at = result.get("annotated_totals")
    if not at or not at["joints_not_annotated"] or result.get("protocol", {}).get("name") != "official":
        return []
    missing = at["joints_not_annotated"]
    n = len(result["ap_joint"]) - len(missing)
    def pair(metric: str, annotated, official) -> str:
        return f"{metric} {fmt_cell(annotated).strip()} (official Total {fmt_cell(official).strip()})"

    totals = [pair("AP", at["ap_total"], result["ap_groups"][-1])]
    if "mota_total" in at:
        totals.append(pair("MOTA", at["mota_total"], result["mota_total"]))
    lines = ["", f"Total over the {n} joints the GT annotates: {'; '.join(totals)}"]
    for j in missing:
        if j in at["ap_total_counts"]:
            how = "nothing predicts it, so its AP 0 counts in the official AP Total"
        else:
            how = "it is predicted, so its AP is NaN and left out of the official AP Total (AP 0 if not predicted)"
        if j in at.get("mota_total_counts", ()):
            how += "; its MOTA counts in the official MOTA Total"
        lines.append(f"  {j}: never annotated by the GT; {how}")
    lines.append("  so predicting such a joint moves the official Totals with no joint better: compare runs by the "
                 "Totals over the GT's joints (--protocol corrected leaves it out of AP; docs/posetrack.md)")
    return lines


# ----------------------------------------------------------------------------- leaderboard hooks
def nan_of(v) -> float:
    """A JSON number of a result as a float (None, JSON's NaN, as NaN)."""
    return float("nan") if v is None else float(v)


def _protocol_of(result: dict) -> PoseTrackProtocol:
    p = result["protocol"]
    return posetrack_protocol(p["name"], p["motp"])


def other_task(result: dict):
    """The task whose result this is when it is not pose/tracking's own: a result of a task that was once a
    protocol of ``pose`` (``evaluators.ALIASES``), stored under ``pose`` or handed to these functions."""
    from . import alias_task

    if result.get("task") in ("pose", "tracking"):
        name = (result.get("protocol") or {}).get("name", "official")
        return alias_task("pose", "protocol", name)
    from . import get_task

    return get_task(result["task"])


def headline_pose(result: dict) -> dict[str, float]:
    owner = other_task(result)
    if owner is not None:
        return owner.headline(result)
    g = [nan_of(v) for v in result["ap_groups"]]
    out = {"mAP": g[-1], **dict(zip(GROUP_COLUMNS, g[:-1]))}
    num_gt = _gt_counts_if_unannotated(result)
    if num_gt is not None:
        out[AP_ANNOTATED] = annotated_total(result["ap_joint"], num_gt)
    return out


def _resample_ap_joints(result: dict, weights: np.ndarray) -> np.ndarray:
    proto = _protocol_of(result)
    ap = resample_ap(result["items"], weights, stable=not proto.numpy_tie_order,
                     no_prediction_ap=0.0 if proto.ap_zero_without_predictions else np.nan)
    return ap.reshape(len(weights), -1)


def _resampled_num_gt(result: dict, weights: np.ndarray) -> np.ndarray:
    return _counts(result["items"], weights, lambda it: it["gt"])


def resample_pose(result: dict, weights: np.ndarray) -> dict[str, np.ndarray]:
    owner = other_task(result)
    if owner is not None:
        return owner.resample(result, weights)
    ap = _resample_ap_joints(result, weights)
    g = group_means_rows(ap, weights)
    out = {"mAP": g[:, -1], **{name: g[:, i] for i, name in enumerate(GROUP_COLUMNS)}}
    if _gt_counts_if_unannotated(result) is not None:
        out[AP_ANNOTATED] = annotated_total_rows(ap, _resampled_num_gt(result, weights))
    return out


def headline_tracking(result: dict) -> dict[str, float]:
    out = {"MOTA": nan_of(result["mota_total"]), "MOTP": nan_of(result["motp_total"]),
           "Prec": nan_of(result["pre_total"]), "Rec": nan_of(result["rec_total"]),
           "mAP": nan_of(result["ap_groups"][-1])}
    num_gt = _gt_counts_if_unannotated(result)
    if num_gt is not None:
        out[MOTA_ANNOTATED] = annotated_total(result["mota_joint"], num_gt)
        out[AP_ANNOTATED] = annotated_total(result["ap_joint"], num_gt)
    return out


def breakdown_pose(result: dict) -> list[dict]:
    return breakdown_rows(result.get("joint_names", POSETRACK15.joints),
                          {"AP": result["ap_joint"], "precision": result["ap_pre"], "recall": result["ap_rec"]},
                          [*GROUP_COLUMNS, "Total"], {"AP": result["ap_groups"]})


def breakdown_tracking(result: dict) -> list[dict]:
    totals = [None] * len(GROUP_COLUMNS)
    return breakdown_rows(POSETRACK15.joints, {"MOTA": result["mota_joint"], "MOTP": result["motp_joint"],
                                               "Prec": result["pre_joint"], "Rec": result["rec_joint"],
                                               "AP": result["ap_joint"]},
                          [*GROUP_COLUMNS, "Total"], {"MOTA": result["mota_groups"],
                                                      "MOTP": [*totals, result["motp_total"]],
                                                      "Prec": [*totals, result["pre_total"]],
                                                      "Rec": [*totals, result["rec_total"]], "AP": result["ap_groups"]})


def board_protocol(result: dict) -> str:
    """The board of a pose/tracking result: its protocol, and the MOTP definition when not the protocol's."""
    p = result.get("protocol") or {}
    name = p.get("name", "official")
    label = DEFAULT_PROTOCOL if name == "official" else f"protocol {name}"
    default_motp = posetrack_protocol(name).motp  # --task pose takes no --motp: always its protocol's
    if p.get("motp", default_motp) != default_motp:
        label += f", MOTP {p['motp']}"
    return label


def resample_tracking(result: dict, weights: np.ndarray) -> dict[str, np.ndarray]:
    m = finalize_mot(resample_mot([it["mot"] for it in result["items"]], weights), _protocol_of(result).motp)
    totals = {name: group_means_rows(m[key], weights)[:, -1]
              for name, key in (("MOTA", "mota"), ("MOTP", "motp"), ("Prec", "precision"), ("Rec", "recall"))}
    ap = _resample_ap_joints(result, weights)
    out = {**totals, "mAP": group_means_rows(ap, weights)[:, -1]}
    if _gt_counts_if_unannotated(result) is not None:
        num_gt = _resampled_num_gt(result, weights)
        out[MOTA_ANNOTATED] = annotated_total_rows(m["mota"], num_gt)
        out[AP_ANNOTATED] = annotated_total_rows(ap, num_gt)
    return out


def _counts(items: list[dict], weights: np.ndarray, get) -> np.ndarray:
    """(R, K) weighted sums of a per-item count vector (integers: exact in float64)."""
    return np.asarray(weights, dtype=np.float64) @ np.array([get(it) for it in items], dtype=np.float64)


def missing_pose(result: dict, weights: np.ndarray) -> dict[str, np.ndarray]:
    """Resamples where a joint's AP is NaN (left out of the Total): no GT joint drawn, yet predictions drawn
    (recall 0/0), or neither under a protocol that gives such a joint NaN rather than 0."""
    owner = other_task(result)
    if owner is not None:
        return owner.missing_joints(result, weights)
    items = result["items"]
    gt = _counts(items, weights, lambda it: it["gt"])
    preds = _counts(items, weights, lambda it: [len(s) for s in it["scores"]])
    empty_is_nan = not _protocol_of(result).ap_zero_without_predictions
    nan = (gt == 0) & ((preds > 0) | empty_is_nan)
    return {name: nan[:, j] for j, name in enumerate(POSETRACK15.joints)}


def missing_tracking(result: dict, weights: np.ndarray) -> dict[str, np.ndarray]:
    """Resamples where a joint's MOTA is NaN (left out of the Total): no GT object of it drawn (poseval's
    dummy objects of empty frames included)."""
    objects = _counts(result["items"], weights, lambda it: it["mot"]["num_objects"])
    return {name: objects[:, j] == 0 for j, name in enumerate(POSETRACK15.joints)}


# ----------------------------------------------------------------------------- streaming (Evaluator)
#: the formats these tasks read from files
POSETRACK_FORMATS = ("posetrack2017", "posetrack2018")


def _read_memory(data, where: Path, gt: bool) -> PoseSequence:
    """A sequence held in memory as its parsed JSON, read as a file's content would be."""
    return read_sequence_data(data, where, records=False, regions=gt, scores=not gt)


def _is_sequence(obj) -> bool:
    return isinstance(obj, dict) and ("annolist" in obj or ("images" in obj and "annotations" in obj))


def sequence_sources(obj, what: str, order: str = "sorted") -> list[tuple[str, object]]:
    """(file name, path or parsed JSON) of every sequence of a GT or prediction part: a file or folder, one
    sequence's parsed JSON, or {sequence file name: parsed JSON or path}."""
    if isinstance(obj, (str, os.PathLike)):
        return [(f.name, f) for f in sequence_files(Path(obj), order)]
    if isinstance(obj, PoseSet):  # the canonical form (a format's reader made it)
        out = [(f"{name}.json", seq) for name, seq in obj.sequences.items()]
        return sorted(out) if order == "sorted" else out
    if _is_sequence(obj):
        return [("sequence.json", obj)]
    if isinstance(obj, dict) and (obj or what != "gt"):
        out = []
        for k, v in obj.items():
            if not isinstance(k, str) or not (_is_sequence(v) or isinstance(v, (str, os.PathLike, dict))):
                raise InputError(f"entry {k!r} is {type(v).__name__}, not a sequence's parsed JSON", file=what,
                                 fix="give {sequence file name: parsed PoseTrack JSON (2017 or 2018 layout)}")
            out.append((k, v))
        return sorted(out) if order == "sorted" else out
    raise InputError(f"is {type(obj).__name__}, not PoseTrack input", file=what,
                     fix="give a path, a sequence's parsed JSON, or {sequence file name: parsed JSON}")


def read_sources(sources: list[tuple[str, object]], gt: bool) -> list[PoseSequence]:
    kw = {"scores": False} if gt else {"regions": False}
    paths = [(i, Path(src)) for i, (_, src) in enumerate(sources) if isinstance(src, (str, os.PathLike))]
    out: list = [None] * len(sources)
    for w in range(0, len(paths), READ_WINDOW):
        window = paths[w:w + READ_WINDOW]
        for (i, path), pre in zip(window, prepare_reads([p for _, p in window])):
            out[i] = read_sequence(path, records=False, prepared=pre, **kw)
    for i, (name, src) in enumerate(sources):
        if isinstance(src, PoseSequence):
            out[i] = src
        elif out[i] is None:
            out[i] = _read_memory(src, Path(name), gt)
    return [seq.to_skeleton(POSETRACK15) for seq in out]


class PoseTrackSession(SequenceSession):
    """PoseTrack evaluation: the GT read and checked once; predictions given in parts (some sequences at a
    time: a folder, a file, {sequence file name: parsed JSON or path}, one sequence's parsed JSON or a
    PoseSet). Every sequence's statistics are computed when it is given, and combined in the GT's order (the
    protocol's: poseval's folder listing, or sorted by name), so the numbers do not depend on the parts. An
    in-memory GT mapping is in its own order (protocol "official") or sorted by name ("corrected")."""

    def read_gt(self, gt) -> None:
        o = self.options
        self.tracking = self.task.tracking
        self.proto = posetrack_protocol(o.get("protocol", "official"), o.get("motp"))
        self.min_score, self.mot_backend = o.get("min_score"), o.get("mot_backend", "prt")
        self.backend = mot_backend_name(self.mot_backend) if self.tracking else None
        sources = sequence_sources(gt, "gt", self.proto.sequence_order)
        self.names = [name for name, _ in sources]
        self.name_keys()
        self.where = {name: Path(src) if isinstance(src, (str, os.PathLike)) else Path(name)
                      for name, src in sources}
        self.gt = dict(zip(self.keys, read_sources(sources, gt=True)))
        for name, key in zip(self.names, self.keys):
            seq = self.gt[key]
            check_gt(seq, self.where[name], self.proto, self.tracking)
            self.notes += [f"{seq.source}: {note}" for note in seq.meta.get("notes", ())]

    def flush_notes(self) -> None:
        log_warnings(self.notes)
        self.notes = []

    def evaluate(self, part) -> list:
        sources = sequence_sources(part, "pred")
        keys = self.match_part(sources)
        preds = read_sources(sources, gt=False)
        read = []
        for key, (name, src), pred in zip(keys, sources, preds):
            pred_where = Path(src) if isinstance(src, (str, os.PathLike)) else Path(name)
            read.append(clean_pair(self.gt[key], pred, self.where[self.name_of[key]], pred_where, self.proto,
                                   self.tracking, self.min_score, gt_checked=True))
        ix = self.index_of_key()
        order = sorted(range(len(keys)), key=lambda k: ix[keys[k]])  # the GT's order: as one run batches them
        try:
            got = sequences_stats([read[k][0] for k in order], self.proto, tracking=self.tracking,
                                  mot_backend=self.mot_backend, position=[ix[keys[k]] for k in order])
        except RepeatedIdError as e:
            k = order[e.item] if e.item is not None else order[0]
            raise InputError(str(e), file=self.where[self.name_of[keys[k]]],
                             fix="give every GT person of a frame its own track_id") from None
        out = []
        for k, st in zip(order, got):
            st.counts.update(read[k][1])
            out.append((keys[k], st, sources[k][1]))
        self.notes += [w for r in read for w in r[2]]
        return out

    def finalize(self, keys: list) -> dict:
        return posetrack_result(keys, [self.items[k] for k in keys], self.proto, self.tracking, self.min_score,
                                self.backend)


class PoseTask(Task):
    name = "pose"
    description = "PoseTrack per-frame multi-person mAP (poseval evaluateAP)"
    options = ("workers", "min_score", "protocol")
    #: poseval's protocols, and posetrack21: the old spelling of --task pose21 (``evaluators.ALIASES``)
    protocols = protocol_names("posetrack")
    item = "sequence"
    primary, unit, reads = "mAP", "sequence", POSETRACK_FORMATS
    session_class = PoseTrackSession
    payload_class = PoseTrackPayload
    tracking = False

    def render(self, result: dict) -> str:
        return render_posetrack(result)

    def headline(self, result: dict) -> dict[str, float]:
        return headline_pose(result)

    def resample(self, result: dict, weights: np.ndarray) -> dict[str, np.ndarray]:
        return resample_pose(result, weights)

    def per_joint(self, result: dict) -> dict[str, float]:
        return joint_values(result.get("joint_names", POSETRACK15.joints), result["ap_joint"])

    def missing_joints(self, result: dict, weights: np.ndarray) -> dict[str, np.ndarray]:
        return missing_pose(result, weights)

    def protocol(self, result: dict) -> str:
        return board_protocol(result)

    def breakdown(self, result: dict) -> list[dict]:
        return breakdown_pose(result)


class TrackingTask(PoseTask):
    name = "tracking"
    description = "PoseTrack MOTA/MOTP/precision/recall plus mAP (poseval evaluateTracking)"
    options = ("workers", "min_score", "protocol", "motp", "mot_backend")
    primary = "MOTA"
    tracking = True
    #: the poseval protocols (the PoseTrack21 kit has no tracking mAP/MOTA of its own: --task hota)
    protocols = ("official", "corrected")

    def headline(self, result: dict) -> dict[str, float]:
        return headline_tracking(result)

    def resample(self, result: dict, weights: np.ndarray) -> dict[str, np.ndarray]:
        return resample_tracking(result, weights)

    def per_joint(self, result: dict) -> dict[str, float]:
        return joint_values(POSETRACK15.joints, result["mota_joint"])

    def missing_joints(self, result: dict, weights: np.ndarray) -> dict[str, np.ndarray]:
        return missing_tracking(result, weights)

    def breakdown(self, result: dict) -> list[dict]:
        return breakdown_tracking(result)


register_task(PoseTask)
register_task(TrackingTask)
