"""``analyze()``: read GT and predictions with prt's own readers and checks, run the diagnosis of the task.

Tasks: ``coco`` (coco-analyze's diagnosis, ``analysis.coco``), ``pose`` (the head-size taxonomy,
``analysis.posetrack``; the default for a PoseTrack GT), ``tracking`` (MOTA decomposed per joint and
sequence), ``single``/``multi`` (MPII: ``analysis.mpii``, ``analysis.multi``), ``pckh``, ``pose21`` (the
PoseTrack21 kit's mAP matching, ``analysis.pose21``), ``hota``. The same readers as ``prt evaluate`` give
the same clear errors on bad input.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError, InputError
from .result import Analysis

TASKS = ("coco", "pose", "tracking", "single", "hota", "pckh", "multi", "pose21")


def progress_bar(total: int, desc: str):
    """A progress bar on stderr when it is a terminal and the ``prt`` logger shows notes (the command line,
    not -q; a library call prints nothing): ``tick(n)`` advances it, ``tick(None)`` closes it."""
    import logging
    import sys

    if not sys.stderr.isatty() or not logging.getLogger("prt").isEnabledFor(logging.INFO):
        return lambda n: None
    from tqdm import tqdm

    bar = tqdm(total=total, desc=desc, leave=False)
    return lambda n: bar.close() if n is None else bar.update(n)
#: options of each task (keyword arguments of :func:`analyze`, ``--fix`` names on the command line)
COCO_FIXES = ("fix_rescore_keypoints", "fix_false_neg_order")


def _task(gt, task: str | None) -> str:
    if task is not None:
        if task not in TASKS:
            raise ConfigError(f"prt analyze has no diagnosis for task {task!r}",
                              fix=f"use --task with one of: {', '.join(TASKS)}")
        return task
    from ..evaluators import task_for_gt

    if not isinstance(gt, (str, os.PathLike)):
        return "coco"
    name, _ = task_for_gt(Path(gt))
    if name == "tracking":
        return "pose"  # a PoseTrack GT: the taxonomy (tracking has its own decomposition, with --task tracking)
    if name not in TASKS:
        raise ConfigError(f"prt analyze has no diagnosis for this GT's task ({name}) yet",
                          fix=f"analyze COCO or PoseTrack files (--task one of: {', '.join(TASKS)})")
    return name


def analyze(gt: Any, pred: Any, task: str | None = None, *, compare: Any = None, **options: Any) -> Analysis:
    """Ronchi & Perona's error diagnosis of ``pred`` against ``gt`` (``prt analyze``): see docs/analyze.md.

    ``gt``/``pred`` are paths (COCO annotations + results; PoseTrack folders or files; MPII arrays or annolists).
    ``task``: ``coco``, ``pose``, ``tracking``, ``single``, ``pckh``, ``multi``, ``pose21`` or ``hota`` (default:
    from the GT; ``pose`` for PoseTrack). ``compare``: a second prediction
    (e.g. the refined one) analysed the same way, with how each GT joint's label moved. COCO options:
    ``fix_rescore_keypoints``, ``fix_false_neg_order`` (coco-analyze's quirks, reproduced by default).
    PoseTrack options: ``protocol`` (as ``prt evaluate``)."""
    name = _task(gt, task)
    if name != "coco" and any(k in COCO_FIXES for k in options):
        raise ConfigError("--fix names coco-analyze's quirks: it applies to COCO only", fix="drop --fix")
    if name == "pose" and options.get("protocol") == "posetrack21":  # the old name of task pose21
        name = "pose21"
        options = {k: v for k, v in options.items() if k != "protocol"}
    allowed = {"coco": set(COCO_FIXES), "single": {"flavour"}, "pckh": set(), "multi": set(),
               "pose21": set()}.get(name, {"protocol"})
    unknown = set(options) - allowed
    if unknown:
        raise ConfigError(f"unknown option(s) for task {name}: {', '.join(sorted(unknown))}",
                          fix=f"options of {name}: {', '.join(sorted(allowed))}")
    if name == "coco":
        return _coco(gt, pred, compare, options)
    if name == "single":
        return _single(gt, pred, compare, options.get("flavour", "matlab"))
    if name == "hota":
        return _hota(gt, pred, compare, options)
    if name == "pckh":
        return _pckh(gt, pred, compare)
    if name == "multi":
        return _multi(gt, pred, compare)
    if name == "pose21":
        return _pose21(gt, pred, compare)
    return _posetrack(gt, pred, compare, name, options.get("protocol", "official"))


# ----------------------------------------------------------------------------- COCO
def _coco_read(gt, pred):
    from ..evaluators.coco import read_predictions
    from ..formats.coco import read_coco_annotations
    from .coco import coco_inputs

    ann = read_coco_annotations(gt if isinstance(gt, dict) else Path(gt), keep_dataset=False)
    res, _, _ = read_predictions(pred if isinstance(pred, list) else Path(pred), ann, 17)
    return ann, coco_inputs(ann, res)


def _coco_section(inp, areas) -> dict:
    from .coco import AREA_LABELS

    doc = areas["all"].as_dict()
    doc["by_area"] = {k: areas[k].as_dict() for k in AREA_LABELS[1:]}
    doc["per_joint"] = _coco_per_joint(areas["all"].labels)
    doc["items"] = _coco_items(inp, areas["all"])
    return doc


def _coco_per_joint(labels: np.ndarray) -> dict:
    from ..skeletons import COCO17
    from .coco import GOOD, INVERSION, JITTER, KINDS, MISS, SWAP

    codes = (GOOD, JITTER, INVERSION, SWAP, MISS)
    return {j: {k: int((labels[:, i] == c).sum()) for k, c in zip(KINDS, codes)} for i, j in enumerate(COCO17.joints)}


def _coco_items(inp, area) -> list[dict]:
    from .coco import GOOD, INVERSION, JITTER, KINDS, MISS, SWAP

    codes = (GOOD, JITTER, INVERSION, SWAP, MISS)
    n = inp.n_images
    d_img = np.repeat(np.arange(n), np.diff(inp.d.start))
    g_img = np.repeat(np.arange(n), np.diff(inp.g.start))
    per = {k: np.bincount(d_img, weights=(area.labels == c).sum(1), minlength=n).astype(int)
           for k, c in zip(KINDS, codes)}
    fp = np.bincount(d_img, weights=area.fp_at_50, minlength=n).astype(int)
    fn = np.bincount(g_img, weights=area.fn_at_50, minlength=n).astype(int)  # as coco-analyze: every annotation
    err = per["jitter"] + per["inversion"] + per["swap"] + per["miss"] + fp + fn
    order = np.argsort(-err, kind="stable")
    return [{"image_id": inp.image_ids[i], "keypoints": {k: int(per[k][i]) for k in KINDS},
             "false_pos": int(fp[i]), "false_neg": int(fn[i]), "errors": int(err[i])}
            for i in order.tolist() if err[i] > 0]


def _coco(gt, pred, compare, options) -> Analysis:
    from .coco import QUIRKS, diagnose

    ann, inp = _coco_read(gt, pred)
    tick = progress_bar(3 * 6 + 2, "analyze")
    areas = diagnose(inp, progress=tick, **options)
    tick(None)
    data = {"task": "coco", "tool": "coco-analyze (matteorr/coco-analyze @ 9eb8a0a) default parameters",
            **_coco_section(inp, areas),
            "quirks": {q: ("fixed" if options.get(f"fix_{q}") else "reproduced") for q in QUIRKS
                       if f"fix_{q}" in COCO_FIXES}}
    extra = {"inputs": inp, "areas": areas,
             "files": {img.get("id"): img.get("file_name") for img in ann.dataset.get("images", [])
                       if isinstance(img, dict)}}
    if compare is not None:
        _, inp2 = _coco_read(gt, compare)
        areas2 = diagnose(inp2, **options)
        data["compare"] = _coco_section(inp2, areas2)
        data["moved"] = _coco_moved(inp, areas["all"], inp2, areas2["all"])
        extra.update(inputs2=inp2, areas2=areas2)
    return Analysis("coco", data, extra)


def _coco_joint_labels(inp, area) -> np.ndarray:
    """(n_gt, 17) the label of each GT joint: from the highest-scored detection localized on the person."""
    n_gt = len(inp.g.area)
    out = np.zeros((n_gt, 17), dtype=np.int8)
    dets = np.flatnonzero((area.matched_gt >= 0) & (area.labels != 0).any(1))
    dets = dets[np.argsort(inp.d.score[dets], kind="stable")]  # the best last: it wins the assignment
    out[area.matched_gt[dets]] = area.labels[dets]
    return out


def _moved(before: np.ndarray, after: np.ndarray, kinds, unlabeled: str) -> dict:
    names = (unlabeled, *kinds)
    out: dict = {}
    for a in range(len(names)):
        for b in range(len(names)):
            if a == b == 0:
                continue
            n = int(((before == a) & (after == b)).sum())
            if n:
                out.setdefault(names[a], {})[names[b]] = n
    return out


def _coco_moved(inp, area, inp2, area2) -> dict:
    from .coco import KINDS

    if len(inp.g.area) != len(inp2.g.area):  # pragma: no cover - same GT file
        raise InputError("the two predictions were read against different GT", fix="give both for the same GT")
    return _moved(_coco_joint_labels(inp, area), _coco_joint_labels(inp2, area2), KINDS, "unmatched")


# ----------------------------------------------------------------------------- PoseTrack21 HOTA
def _hota(gt, pred, compare, options) -> Analysis:
    from ..api import evaluate
    from .posetrack import decompose_hota

    def one(p):
        return decompose_hota(evaluate(gt, p, task="hota", **options).to_dict())

    data = {"task": "hota", **one(pred)}
    if compare is not None:
        data["compare"] = one(compare)
    return Analysis("hota", data, {})


# ----------------------------------------------------------------------------- pckh (paired by order)
def _paired_frames(gt, pred) -> list:
    from ..evaluators.pckh import paired_frames
    from ..evaluators.posetrack import check_head_boxes

    frames = []
    for g_file, p_file, g, p in posetrack_pairs(gt, pred):
        check_head_boxes(g)
        frames += paired_frames(g_file.stem, g, p, p_file)
    return frames


def _pckh(gt, pred, compare) -> Analysis:
    from .headsize import KINDS
    from .posetrack import diagnose_paired

    if not isinstance(gt, (str, os.PathLike)) or not isinstance(pred, (str, os.PathLike)):
        raise ConfigError("prt analyze reads PoseTrack GT and predictions from files or folders",
                          fix="give gt and pred as paths")
    frames = _paired_frames(gt, pred)
    diag = diagnose_paired(frames)
    data = {"task": "pckh", **_pose_section(diag)}
    if compare is not None:
        diag2 = diagnose_paired(_paired_frames(gt, compare))
        data["compare"] = _pose_section(diag2)
        data["moved"] = _moved(diag["_labels"], diag2["_labels"], KINDS, "unmatched")
    return Analysis("pckh", data, {})


# ----------------------------------------------------------------------------- MPII single
def _single_read(gt, pred):
    from ..errors import MismatchError
    from ..evaluators.mpii import single_gt
    from ..formats.mpii import read_mpii_arrays
    from ..skeletons import MPII16

    g = single_gt(gt)
    if not isinstance(pred, (str, os.PathLike)):
        raise ConfigError("prt analyze reads MPII predictions from .h5/.mat files", fix="give pred as a path")
    p = next(iter(read_mpii_arrays(Path(pred)))).to_skeleton(MPII16)
    if p.num_persons != g.num_persons:
        raise MismatchError(f"has {p.num_persons} people but the GT has {g.num_persons}", file=pred,
                            fix="predict every GT person, in the GT's order")
    return g, p


def _single(gt, pred, compare, flavour: str) -> Analysis:
    from ..protocols import pckh_protocol
    from .headsize import KINDS
    from .mpii import diagnose_single

    fl = pckh_protocol(flavour)
    g, p = _single_read(gt, pred)
    diag = diagnose_single(g, p, fl)
    data = {"task": "single", "flavour": flavour, **_pose_section(diag)}
    if compare is not None:
        _, p2 = _single_read(gt, compare)
        diag2 = diagnose_single(g, p2, fl)
        data["compare"] = _pose_section(diag2)
        annotated = ~np.isnan(g.keypoints[..., 0])
        data["moved"] = _moved(np.where(annotated, diag["_labels"], -1), np.where(annotated, diag2["_labels"], -1),
                               KINDS, "unmatched")
    return Analysis("single", data, {"labels": diag["_labels"], "gt": g, "pred": p})


# ----------------------------------------------------------------------------- MPII multi
def _multi_read(gt, pred):
    from ..errors import MismatchError
    from ..evaluators import get_task

    if not isinstance(gt, (str, os.PathLike)) or not isinstance(pred, (str, os.PathLike)):
        raise ConfigError("prt analyze reads MPII annolists from files", fix="give gt and pred as paths")
    from ..formats.mpii import read_annolist

    task = get_task("multi")
    g = task.session_class(task, gt, {}).g  # read with the evaluation's checks (people, head boxes)
    p = next(iter(read_annolist(Path(pred), require_scores=True)))
    if g.num_frames != p.num_frames:
        raise MismatchError(f"has {p.num_frames} entries but the GT {Path(gt).name} has {g.num_frames}",
                            file=pred, fix="give one prediction entry per GT entry (group), in the GT's order")
    return g, p


def _multi(gt, pred, compare) -> Analysis:
    from .headsize import KINDS
    from .multi import diagnose_multi

    g, p = _multi_read(gt, pred)
    diag = diagnose_multi(g, p)
    data = {"task": "multi", **_pose_section(diag)}
    extra = {"gt": g, "pred": p, "labels": diag["_labels"], "arrays": diag["_arrays"]}
    if compare is not None:
        _, p2 = _multi_read(gt, compare)
        diag2 = diagnose_multi(g, p2)
        data["compare"] = _pose_section(diag2)
        annotated = ~np.isnan(diag["_arrays"][0][..., 0])
        data["moved"] = _moved(np.where(annotated, diag["_labels"], -1), np.where(annotated, diag2["_labels"], -1),
                               KINDS, "unmatched")
    return Analysis("multi", data, extra)


# ----------------------------------------------------------------------------- PoseTrack21 kit's mAP
def _pose21_read(gt, pred):
    """The names, labeled frames and evaluation statistics of every sequence, read and checked as
    ``prt evaluate --task pose21`` reads them."""
    from ..errors import MismatchError
    from ..evaluators.posetrack21 import evaluate_sequence, labeled_frames, labeled_ids, load, sequence_sources
    from ..metrics import hota

    gsrc = sequence_sources(gt, "gt")
    psrc = dict(sequence_sources(pred, "pred"))
    if isinstance(pred, (str, os.PathLike)) and not Path(pred).is_dir() and len(gsrc) == 1:
        psrc = {gsrc[0][0]: next(iter(psrc.values()))}
    names, frames, stats, sources, labeled = [], [], [], [], []
    tick = progress_bar(len(gsrc), "sequences")
    for name, src in gsrc:
        if name not in psrc:
            raise MismatchError(f"GT sequence {name} has no prediction file", file=Path(str(pred)) / name,
                                fix="write predictions for every GT sequence, named as the GT file")
        g = load(src, name, True)
        p = load(psrc[name], name, False, labeled_ids(g))
        stats.append(evaluate_sequence(g, p, hota.OFFICIAL, "map"))  # every check of the evaluation
        frames.append(labeled_frames(g, p))
        names.append(name)
        sources.append(src)
        labeled.append(np.flatnonzero(g.labeled).tolist())
        tick(1)
    tick(None)
    return names, frames, stats, {"gt_files": sources, "labeled": labeled}


def _pose21(gt, pred, compare) -> Analysis:
    from ..evaluators.posetrack21 import map_result
    from .headsize import KINDS
    from .pose21 import diagnose_pose21

    names, frames, stats, where = _pose21_read(gt, pred)
    diag = diagnose_pose21(frames, stats, names, map_result)
    data = {"task": "pose21", **_pose_section(diag)}
    if compare is not None:
        names2, frames2, stats2, _ = _pose21_read(gt, compare)
        diag2 = diagnose_pose21(frames2, stats2, names2, map_result)
        data["compare"] = _pose_section(diag2)

        def flat(d):
            return np.concatenate([np.where(arr[0][..., 0] == arr[0][..., 0], lab, -1).ravel()
                                   for lab, _, _, arr in d["_labels"]]) if d["_labels"] else np.zeros(0)
        data["moved"] = _moved(flat(diag), flat(diag2), KINDS, "unmatched")
    return Analysis("pose21", data, {"frames": frames, "labels": diag["_labels"], "names": names, **where})


# ----------------------------------------------------------------------------- PoseTrack
def posetrack_pairs(gt, pred, order: str = "sorted"):
    """(GT file, prediction file, GT sequence, predicted sequence) of every GT sequence file, the prediction the
    file of the same name in a folder (or the one file given for a one-sequence GT), read with the PoseTrack
    task's readers (PoseTrack-15 joints)."""
    from ..errors import MismatchError
    from ..evaluators.posetrack import read_sources, sequence_sources

    gsrc = sequence_sources(gt, "gt", order)
    pred = Path(pred)
    if pred.is_dir():
        psrc = []
        for name, _ in gsrc:
            if not (pred / name).is_file():
                raise MismatchError(f"GT sequence {name} has no prediction file", file=pred / name,
                                    fix=f"write predictions for every GT sequence, named as the GT file, into {pred}")
            psrc.append((name, pred / name))
    elif len(gsrc) == 1:
        psrc = [(gsrc[0][0], pred)]
    else:
        raise MismatchError(f"is one file but the GT has {len(gsrc)} sequences", file=pred,
                            fix="give a folder with one prediction file per GT sequence, named as the GT files")
    g_seqs = read_sources(gsrc, gt=True)
    p_seqs = read_sources(psrc, gt=False)
    return [(Path(gs), Path(ps), g, p) for (_, gs), (_, ps), g, p in zip(gsrc, psrc, g_seqs, p_seqs)]


def _pose_read(gt, pred, protocol: str, tracking: bool):
    from ..evaluators.posetrack import clean_pair
    from ..protocols import posetrack_protocol

    proto = posetrack_protocol(protocol)
    if not isinstance(gt, (str, os.PathLike)) or not isinstance(pred, (str, os.PathLike)):
        raise ConfigError("prt analyze reads PoseTrack GT and predictions from files or folders",
                          fix="give gt and pred as paths")
    pairs = posetrack_pairs(gt, pred, proto.sequence_order)
    tick = progress_bar(len(pairs), "sequences")
    cleaned = []
    for g_file, p_file, g, p in pairs:
        cleaned.append(clean_pair(g, p, g_file, p_file, proto, tracking, None)[0])
        tick(1)
    tick(None)
    return proto, [g for g, _, _, _ in pairs], cleaned


def _pose_section(diag: dict) -> dict:
    return {k: v for k, v in diag.items() if not k.startswith("_")}


def _posetrack(gt, pred, compare, task: str, protocol: str) -> Analysis:
    from .posetrack import decompose_tracking, diagnose_pose

    if task == "tracking":
        from ..metrics.posetrack import sequences_stats

        proto, files, cleaned = _pose_read(gt, pred, protocol, True)
        names = [f.stem for f in files]
        stats = sequences_stats(cleaned, proto, tracking=True)
        data = {"task": "tracking", **decompose_tracking(names, stats)}
        if compare is not None:
            _, files2, cleaned2 = _pose_read(gt, compare, protocol, True)
            stats2 = sequences_stats(cleaned2, proto, tracking=True)
            data["compare"] = decompose_tracking([f.stem for f in files2], stats2)
        return Analysis("tracking", data, {})
    proto, files, cleaned = _pose_read(gt, pred, protocol, False)
    names = [f.stem for f in files]
    diag = diagnose_pose(cleaned, names, proto)
    data = {"task": "pose", "protocol": protocol, **_pose_section(diag)}
    extra = {"cleaned": cleaned, "labels": diag["_labels"], "names": names, "gt_files": files}
    if compare is not None:
        from .headsize import KINDS

        _, files2, cleaned2 = _pose_read(gt, compare, protocol, False)
        names2 = [f.stem for f in files2]
        diag2 = diagnose_pose(cleaned2, names2, proto)
        data["compare"] = _pose_section(diag2)
        before = np.concatenate([lab.ravel() for lab, _, _ in diag["_labels"]]) if names else np.zeros(0)
        after = np.concatenate([lab.ravel() for lab, _, _ in diag2["_labels"]]) if names2 else np.zeros(0)
        gt_annotated = (np.concatenate([arr[5].ravel() for _, _, arr in diag["_labels"]]) if names
                        else np.zeros(0, bool))
        data["moved"] = _moved(np.where(gt_annotated, before, -1), np.where(gt_annotated, after, -1), KINDS,
                               "unmatched")
        extra.update(cleaned2=cleaned2, labels2=diag2["_labels"])
    return Analysis("pose", data, extra)
