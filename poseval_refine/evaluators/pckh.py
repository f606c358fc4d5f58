"""Task ``pckh``: single-person PCKh@0.5 on PoseTrack files, people paired by order (poseval's
``evaluatePCKh.py``, docs/protocol.md §1.11).

Reading, pairing and checking the files is the PoseTrack evaluator's; the arithmetic is
:mod:`poseval_refine.metrics.paired_pckh`. The session is fed and merged by sequence (a prediction file is
one sequence) and keeps each GT person's hits per joint, so ``Result.subset`` chooses **people** (keys
``sequence/frame/person``, the person's place in its frame), as the MPII single task does: the result over
some people is evaluating GT and prediction files that hold only them. The bootstrap's unit stays the image
(a frame's people's counts summed).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import MismatchError
from ..metrics.paired_pckh import finalize_paired_pckh, person_hits, resample_paired_pckh
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


@dataclass(frozen=True)
class SequenceHits:
    """The statistics of one sequence: per GT person (GT order) its frame, and per joint whether the GT joint
    is annotated and whether its paired prediction hits it."""

    frame: np.ndarray
    hits: np.ndarray
    annotated: np.ndarray


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
        self._people = None

    def evaluate(self, part) -> list:
        sources = sequence_sources(part, "pred")
        keys = self.match_part(sources)
        out = []
        for key, (name, src), p in zip(keys, sources, read_sources(sources, gt=False)):
            where = Path(src) if isinstance(src, (str, os.PathLike)) else Path(name)
            out.append((key, sequence_hits(key, self.gt[key], p, where), src))
        return out

    def finalize(self, keys: list, people: dict | None = None) -> dict:
        """The result over the sequences ``keys``; ``people``: {sequence: boolean mask of its GT people} to take
        some people only."""
        items = []
        for k in keys:
            st = self.items[k]
            if people is None:
                items += image_items(k, st.frame, st.hits, st.annotated)
            else:
                m = people[k]
                items += image_items(k, st.frame[m], st.hits[m], st.annotated[m])
        hits, total = _item_counts(items)
        return {"task": "pckh", **finalize_paired_pckh(hits.sum(0), total.sum(0)), "group_names": GROUP_NAMES,
                "annotated_joints": int(total.sum()), "items": items}

    # -- subsets of people
    def subset_keys(self) -> list[str]:
        """Every GT person as ``sequence/frame/person`` (the person's place in its frame), in GT order."""
        return list(self.person_index())

    def person_index(self) -> dict[str, tuple[str, int]]:
        """{person key: (sequence key, the person's row in the sequence)}, built once when first asked."""
        if self._people is None:
            index = {}
            for k in self.keys:
                g = self.gt[k]
                f = g.person_frame
                r = np.arange(len(f)) - g.frame_bounds()[f]
                index.update((f"{k}/{a}/{b}", (k, p)) for p, (a, b) in enumerate(zip(f.tolist(), r.tolist())))
            self._people = index
        return self._people

    def compute(self, only=None) -> dict:
        """Over every GT person, or the people ``only`` (person keys; a sequence's name stands for all its
        people), combined in the GT's order."""
        if only is None:
            return super().compute()
        index, seqs = self.person_index(), self.index_of_key()
        chosen: dict = {}
        for item in only:
            if item in seqs:
                chosen[item] = np.ones(self.gt[item].num_persons, bool)
                continue
            where = index.get(item) if isinstance(item, str) else None
            if where is None:
                raise MismatchError(f"person {item!r} is not in the GT", file="items",
                                    fix="choose people of the GT as 'sequence/frame/person' (Result.items lists "
                                        "them), or whole sequences by name")
            k, p = where
            chosen.setdefault(k, np.zeros(self.gt[k].num_persons, bool))[p] = True
        keys = [k for k in self.keys if k in chosen]
        missing = [k for k in keys if k not in self.items]
        if missing:
            self.missing(missing)
        return self.finalize(keys, chosen)


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


def sequence_hits(name: str, g, p, where: Path) -> SequenceHits:
    """Every GT person's hits per joint (people paired by order in each image of a sequence; the images'
    pairs together are the GT's people in their order, so one elementwise computation takes them all)."""
    K = len(POSETRACK15)
    gt_xy, pred_xy, heads = [np.zeros((0, K, 2))], [np.zeros((0, K, 2))], [np.zeros(0)]
    for _, g_xy, p_xy, hs in paired_frames(name, g, p, where):
        gt_xy.append(g_xy)
        pred_xy.append(p_xy)
        heads.append(hs)
    hits, annotated = person_hits(np.concatenate(pred_xy), np.concatenate(gt_xy), np.concatenate(heads), THRESHOLD)
    return SequenceHits(np.asarray(g.person_frame, np.int64), hits, annotated)


def image_items(name: str, frame: np.ndarray, hits: np.ndarray, annotated: np.ndarray) -> list[dict]:
    """One item per image with people (the bootstrap's unit): the hits and annotated joints of its people
    (rows in frame order), summed per joint."""
    if not len(frame):
        return []
    starts = np.flatnonzero(np.r_[True, frame[1:] != frame[:-1]])
    h = np.add.reduceat(hits.astype(np.int64), starts, axis=0)
    a = np.add.reduceat(annotated.astype(np.int64), starts, axis=0)
    return [{"image": f"{name}/{f}", "hits": hh, "total": aa}
            for f, hh, aa in zip(frame[starts].tolist(), h.tolist(), a.tolist())]


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
