"""Task ``pckh``: single-person PCKh@0.5 on PoseTrack files, people paired by order (poseval's
``evaluatePCKh.py``, docs/protocol.md §1.11).

Reading, pairing and checking the files is the PoseTrack evaluator's; the arithmetic is
:mod:`poseval_refine.metrics.paired_pckh`. The session's item is a sequence (its labeled frames' counts).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import MismatchError
from ..metrics.paired_pckh import finalize_paired_pckh, frame_counts, resample_paired_pckh
from ..metrics.posetrack import GROUP_NAMES
from ..skeletons import POSETRACK15
from . import GROUP_COLUMNS, Task, breakdown_rows, joint_values, register_task
from .payloads import PairedPCKhPayload
from .posetrack import (
    POSETRACK_FORMATS,
    check_frames,
    check_head_boxes,
    fmt_cell,
    nan_of,
    read_sources,
    sequence_sources,
)
from .sequences import SequenceSession

#: a hit is a distance <= this many GT head sizes
THRESHOLD = 0.5


class PCKhSession(SequenceSession):
    """GT person r of a frame is paired with predicted person r, distances in GT head sizes, a hit is <= 0.5,
    Total pooled over joints. A GT joint without a prediction is a miss. Parts as for PoseTrack."""

    def read_gt(self, gt) -> None:
        sources = sequence_sources(gt, "gt")
        self.names = [name for name, _ in sources]
        self.name_keys()
        self.gt = dict(zip(self.keys, read_sources(sources, gt=True)))
        for seq in self.gt.values():
            check_head_boxes(seq)

    def evaluate(self, part) -> list:
        sources = sequence_sources(part, "pred")
        keys = self.match_part(sources)
        out = []
        for key, (name, src), p in zip(keys, sources, read_sources(sources, gt=False)):
            where = Path(src) if isinstance(src, (str, os.PathLike)) else Path(name)
            out.append((key, sequence_items(key, self.gt[key], p, where), src))
        return out

    def finalize(self, keys: list) -> dict:
        items = [it for k in keys for it in self.items[k]]
        hits, total = _item_counts(items)
        return {"task": "pckh", **finalize_paired_pckh(hits.sum(0), total.sum(0)), "group_names": GROUP_NAMES,
                "annotated_joints": int(total.sum()), "items": items}


def paired_frames(name: str, g, p, where: Path):
    """Each labeled image of a sequence as (key ``name/frame``, GT points, predicted points, head sizes),
    people paired by their order; a frame whose prediction has another number of people is an error.
    The PCKh items and ``prt analyze --task pckh`` pair people this one way."""
    check_frames(g, p)
    gb, pb = g.frame_bounds(), p.frame_bounds()
    with np.errstate(invalid="ignore", over="ignore"):
        hs = g.head_sizes()
    for f in range(g.num_frames):
        n = gb[f + 1] - gb[f]
        if n == 0:
            continue
        if pb[f + 1] - pb[f] != n:
            raise MismatchError(f"has {pb[f + 1] - pb[f]} people but the GT has {n}", file=where, frame=f,
                                fix="give one prediction per GT person, in the GT's order (single-person PCKh)")
        yield (f"{name}/{f}", g.keypoints[gb[f]:gb[f + 1], :, :2], p.keypoints[pb[f]:pb[f + 1], :, :2],
               hs[gb[f]:gb[f + 1]])


def sequence_items(name: str, g, p, where: Path) -> list[dict]:
    """One item per labeled image of a sequence (the bootstrap's unit): hits and annotated joints per joint."""
    items = []
    for key, gt_xy, pred_xy, heads in paired_frames(name, g, p, where):
        hits, annotated = frame_counts(pred_xy, gt_xy, heads, THRESHOLD)
        items.append({"image": key, "hits": hits.tolist(), "total": annotated.tolist()})
    return items


def evaluate_pckh(gt, preds, **options) -> dict:
    """``prt evaluate --task pckh`` (the task's ``run``)."""
    from . import get_task

    return get_task("pckh").run(gt, list(preds), **options)


def _item_counts(items: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    K = len(POSETRACK15)
    return (np.array([it["hits"] for it in items], dtype=np.float64).reshape(-1, K),
            np.array([it["total"] for it in items], dtype=np.float64).reshape(-1, K))


class PCKhTask(Task):
    name = "pckh"
    description = "PoseTrack-format single-person PCKh@0.5, people paired by order (poseval evaluatePCKh)"
    item = "sequence"
    primary, unit, reads = "PCKh@0.5", "image", POSETRACK_FORMATS
    session_class = PCKhSession
    payload_class = PairedPCKhPayload

    def render(self, result: dict) -> str:
        names = GROUP_NAMES[:-1] + ["Total"]
        vals = result["pckh_groups"][:-1] + [result["pckh_total"]]
        return ("PCKh@0.5 (people paired by order):\n& " + " & ".join(f"{n:<4}" for n in names) + " \\\\\n& "
                + " & ".join(fmt_cell(v) for v in vals) + " \\\\")

    def headline(self, result: dict) -> dict[str, float]:
        return {"PCKh@0.5": result["pckh_total"],
                **dict(zip(GROUP_COLUMNS, [nan_of(v) for v in result["pckh_groups"]]))}

    def resample(self, result: dict, weights: np.ndarray) -> dict[str, np.ndarray]:
        rows = resample_paired_pckh(*_item_counts(result["items"]), weights)
        return {"PCKh@0.5": np.array([r["pckh_total"] for r in rows]),
                **{name: np.array([r["pckh_groups"][i] for r in rows]) for i, name in enumerate(GROUP_COLUMNS)}}

    def per_joint(self, result: dict) -> dict[str, float]:
        return joint_values(POSETRACK15.joints, result["pckh_joint"])

    def breakdown(self, result: dict) -> list[dict]:
        return breakdown_rows(POSETRACK15.joints, {"PCKh@0.5": result["pckh_joint"]}, [*GROUP_COLUMNS, "Total"],
                              {"PCKh@0.5": [*result["pckh_groups"][:-1], result["pckh_total"]]})


register_task(PCKhTask)
