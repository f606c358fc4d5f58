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

from ..errors import InputError, MismatchError
from ..formats.posetrack21 import JOINTS, PT21Sequence, parse_sequence, read_sequence
from ..io import no_gc
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
from ..protocols import HotaProtocol, get_protocol
from ..skeletons import POSETRACK15
from . import DEFAULT_PROTOCOL, GROUP_COLUMNS, Task, breakdown_rows, joint_values, register_task
from .sequences import SequenceSession

COLUMNS = (*JOINTS, "Total")
#: the kit's fields in the order it prints them
PRINT_ORDER = ("HOTA_TP(0)", "HOTA_FN(0)", "HOTA_FP(0)", "HOTA_TP", "HOTA_FN", "HOTA_FP", "AssRe", "AssPr", "AssA",
               "FragA", "LocA", "DetRe", "DetPr", "DetA", "HOTA", "RHOTA", "FA-HOTA", "FA-RHOTA", "HOTA(0)", "LocA(0)",
               "HOTALocA(0)")
MAIN = ("HOTA", "DetA", "AssA", "DetRe", "DetPr", "AssRe", "AssPr", "LocA")


# ----------------------------------------------------------------------------- files
def sequence_sources(obj, what: str) -> list[tuple[str, object]]:
    """(file name, path or parsed JSON) of every sequence of a GT or prediction input, sorted by name (the
    kit's order): a file or folder, one sequence's parsed JSON, or {sequence file name: parsed JSON or path}."""
    if isinstance(obj, (str, os.PathLike)):
        path = Path(obj)
        if not path.exists():
            raise InputError("not found", file=path, fix=f"check the --{what} path")
        files = sorted(path.glob("*.json"), key=lambda p: p.name) if path.is_dir() else [path]
        if not files:
            raise InputError("holds no .json files", file=path,
                             fix="give a folder with one PoseTrack21 JSON per sequence")
        return [(f.name, f) for f in files]
    if isinstance(obj, dict) and "images" in obj and "annotations" in obj:
        return [("sequence.json", obj)]
    if isinstance(obj, dict) and obj and all(isinstance(k, str) and isinstance(v, (dict, str, os.PathLike))
                                             for k, v in obj.items()):
        return sorted(obj.items())
    raise InputError(f"is {type(obj).__name__}, not PoseTrack21 input", file=what,
                     fix="give a path, a sequence's parsed JSON, or {sequence file name: parsed JSON or path}")


def load(src, name: str, is_gt: bool, images: set | None = None) -> PT21Sequence:
    """A sequence from a path or its parsed JSON; ``images``: only the people of these image ids."""
    if isinstance(src, (str, os.PathLike)):
        return read_sequence(src, is_gt, images)
    return parse_sequence(src, Path(name), is_gt, images)


def labeled_ids(gt: PT21Sequence) -> set:
    """The image ids of the GT's labeled frames: the only predictions read."""
    return set(gt.image_ids[gt.labeled].tolist())


def _frame_name(seq: PT21Sequence, image: int) -> str:
    return f"{image} (image id {int(seq.image_ids[image])})"


def labeled_frames(gt: PT21Sequence, pred: PT21Sequence) -> LabeledFrames:
    """The labeled frames of a sequence pair, ignore regions applied (raises on frames that do not pair)."""
    labeled = np.flatnonzero(gt.labeled)
    # each labeled GT image's position in the prediction file (its image of the same id)
    by_id = np.argsort(pred.image_ids)
    wanted = gt.image_ids[labeled]
    slot = np.searchsorted(pred.image_ids, wanted, sorter=by_id)
    known = slot < len(by_id)
    pred_image = np.full(len(labeled), -1)
    pred_image[known] = by_id[slot[known]]
    paired = np.zeros(len(labeled), dtype=bool)
    paired[known] = pred.image_ids[pred_image[known]] == wanted[known]
    if not paired.all():
        img = labeled[np.flatnonzero(~paired)[0]]
        raise MismatchError(f"lists no image with id {int(gt.image_ids[img])}, which the GT labels",
                            file=pred.source, field="images",
                            fix="keep the GT's images list in every prediction file (the official kit pairs "
                                "frames by it)")
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
    n = len(fr.gt_xy)  # GT and predictions in one pass
    xy, gone, keep = remove_ignored(np.concatenate([fr.gt_xy, fr.pred_xy]),
                                    np.concatenate([fr.gt_frame, fr.pred_frame]), regions)
    gt_xy, keep_g, pred_xy, keep_p = xy[:n], keep[:n], xy[n:], keep[n:]
    score = np.where(gone[n:], 0.0, fr.pred_score)
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
def evaluate_sequence(gt: PT21Sequence, pred: PT21Sequence, protocol: HotaProtocol, want: str):
    """Check and evaluate one read sequence pair: HotaStats (``want="hota"``) or APStats (``"map"``)."""
    gt_file = gt.source
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


# ----------------------------------------------------------------------------- HOTA task
def evaluate_hota(gt, preds, **options) -> dict:
    """``prt evaluate --task hota`` (the task's ``run``)."""
    from . import get_task

    return get_task("hota").run(gt, list(preds), **options)


def hota_protocol(name: str) -> HotaProtocol:
    return get_protocol("hota", name)


def hota_result(names: list[str], stats: list[hota.HotaStats], proto: HotaProtocol) -> dict:
    """The result dict of the sequences' statistics (in name order): every field averaged over alpha as
    {joint: value} (percent; counts stay counts), the ``(0)`` fields at alpha 0.05, ``per_alpha`` with every
    field unscaled, and the sequences' additive statistics (Total column) as ``items``."""
    res = hota.finalize(hota.combine(stats))
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
    out["per_sequence"] = list(names)
    out["items"] = [{"sequence": name, **_total_item(s)} for name, s in zip(names, stats)]
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
def evaluate_map(gt, preds, **options) -> dict:
    """``prt evaluate --task pose21``: the kit's PosemAP (the task's ``run``)."""
    from . import get_task

    return get_task("pose21").run(gt, list(preds), **options)


def map_result(names: list[str], stats: list[APStats]) -> dict:
    """The result dict of the kit's mAP from the sequences' statistics (in name order); the layout of
    ``--task pose`` (``ap_joint``, ``ap_pre``, ``ap_rec``, ``ap_groups``), with the kit's joint names."""
    from ..protocols import posetrack_protocol

    res = finalize_map(pool(stats, NUM_JOINTS))
    return {"task": "pose21", "protocol": posetrack_protocol("posetrack21").as_dict(), "joint_names": list(JOINTS),
            "group_names": MAP_GROUP_NAMES, "ap_groups": res["ap"]["groups"], "ap_joint": res["ap"]["joint"],
            "ap_pre": res["precision"]["joint"], "ap_rec": res["recall"]["joint"],
            "precision_groups": res["precision"]["groups"], "recall_groups": res["recall"]["groups"],
            "per_sequence": list(names), "items": [{"sequence": n, **ap_item(s)} for n, s in zip(names, stats)]}


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
    from ..metrics.ap import scores_array, weighted_ap
    from ..metrics.posetrack21 import kit_ranking, map_groups

    items = result["items"]
    w = np.asarray(weights)
    gt = np.array([it["gt"] for it in items], dtype=np.int64).reshape(len(items), NUM_JOINTS)
    num_gt = w.astype(np.int64) @ gt
    ap = np.empty((len(w), NUM_JOINTS))
    for k in range(NUM_JOINTS):
        per_item = [scores_array(it["scores"][k]) for it in items]
        scores = np.concatenate(per_item) if per_item else np.zeros(0)
        labels = np.frombuffer("".join(it["labels"][k] for it in items).encode("ascii"), dtype=np.uint8) == ord("1")
        owner = np.repeat(np.arange(len(items)), [len(x) for x in per_item])
        order = kit_ranking(scores, labels)
        with np.errstate(invalid="ignore", divide="ignore"):
            ap[:, k] = weighted_ap(owner[order], labels[order], gt[:, k], w, no_prediction_ap=0.0)
        ap[num_gt[:, k] == 0, k] = 0.0
    groups = np.array([map_groups(row) for row in ap])
    return {"mAP": groups[:, -1], **{name: groups[:, i] for i, name in enumerate(GROUP_COLUMNS)}}


# ----------------------------------------------------------------------------- sessions
class PT21Session(SequenceSession):
    """PoseTrack21 evaluation: the GT read and checked once; predictions given in parts (some sequences at a
    time: a folder, a file, {sequence file name: parsed JSON or path}, one sequence's parsed JSON). Every
    sequence's statistics are computed when it is given and combined in the GT's name order, as the kit does,
    so the numbers do not depend on the parts."""

    def read_gt(self, gt) -> None:
        self.want = self.task.want
        self.proto = hota_protocol(self.options.get("protocol", "official")) if self.want == "hota" \
            else hota.OFFICIAL
        sources = sequence_sources(gt, "gt")
        self.names = [name for name, _ in sources]
        self.name_keys()
        self.gt = {key: load(src, name, True) for key, (name, src) in zip(self.keys, sources)}

    def evaluate(self, part) -> list:
        sources = sequence_sources(part, "pred")
        keys = self.match_part(sources)
        out = []
        for key, (name, src) in zip(keys, sources):
            with no_gc():
                gt = self.gt[key]
                stats = evaluate_sequence(gt, load(src, name, False, labeled_ids(gt)), self.proto, self.want)
            out.append((key, stats, src))
        return out

    def finalize(self, keys: list) -> dict:
        stats = [self.items[k] for k in keys]
        return hota_result(keys, stats, self.proto) if self.want == "hota" else map_result(keys, stats)


# ----------------------------------------------------------------------------- leaderboard hooks
HEADLINE = ("HOTA", "DetA", "AssA", "LocA")


def board_protocol(result: dict) -> str:
    """Official and corrected results rank on boards of their own."""
    name = (result.get("protocol") or {}).get("name", "official")
    return DEFAULT_PROTOCOL if name == "official" else f"protocol {name}"


def breakdown_hota(result: dict) -> list[dict]:
    rows = [{"name": j, "kind": "joint", **{m: float(result[m][j]) for m in MAIN}} for j in JOINTS]
    return rows + [{"name": "Total", "kind": "total", **{m: float(result[m]["Total"]) for m in MAIN}}]


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


class HotaTask(Task):
    name = "hota"
    description = "PoseTrack21 keypoint HOTA (the official PoseTrack21 kit)"
    options = ("workers", "protocol")
    protocols = ("official", "corrected")
    item = "sequence"
    primary, unit, reads = "HOTA", "sequence", ()
    session_class = PT21Session
    want = "hota"
    #: ``prt evaluate`` without --gt/--pred evaluates the PoseTrack21 sample
    sample = "posetrack21"

    def render(self, result: dict) -> str:
        return render_hota(result)

    def headline(self, result: dict) -> dict[str, float]:
        return headline_hota(result)

    def resample(self, result: dict, weights: np.ndarray) -> dict[str, np.ndarray]:
        return resample_hota(result, weights)

    def per_joint(self, result: dict) -> dict[str, float]:
        return {j: float(result["HOTA"][j]) for j in JOINTS}

    def protocol(self, result: dict) -> str:
        return board_protocol(result)

    def breakdown(self, result: dict) -> list[dict]:
        return breakdown_hota(result)


class Pose21Task(Task):
    """The PoseTrack21 kit's PosemAP (formerly ``--task pose --protocol posetrack21``, which still names it:
    ``evaluators.ALIASES``)."""

    name = "pose21"
    description = "PoseTrack21 per-frame multi-person mAP (the official PoseTrack21 kit's PosemAP)"
    options = ("workers",)
    item = "sequence"
    primary, unit, reads = "mAP", "sequence", ()
    session_class = PT21Session
    want = "map"
    sample = "posetrack21"

    def render(self, result: dict) -> str:
        return render_map(result)

    def headline(self, result: dict) -> dict[str, float]:
        g = [float("nan") if v is None else float(v) for v in result["ap_groups"]]
        return {"mAP": g[-1], **dict(zip(GROUP_COLUMNS, g[:-1]))}

    def resample(self, result: dict, weights: np.ndarray) -> dict[str, np.ndarray]:
        return resample_map(result, weights)

    def per_joint(self, result: dict) -> dict[str, float]:
        return joint_values(result["joint_names"], result["ap_joint"])

    def missing_joints(self, result: dict, weights: np.ndarray) -> dict[str, np.ndarray]:
        """The kit's AP is never missing (0 without GT)."""
        return {name: np.zeros(len(weights), dtype=bool) for name in POSETRACK15.joints}

    def breakdown(self, result: dict) -> list[dict]:
        return breakdown_rows(result["joint_names"], {"AP": result["ap_joint"], "precision": result["ap_pre"],
                                                      "recall": result["ap_rec"]},
                              [*GROUP_COLUMNS, "Total"], {"AP": result["ap_groups"]})


register_task(HotaTask)
register_task(Pose21Task)
