"""Task ``pckh``: single-person PCKh@0.5 on PoseTrack files, people paired by order (poseval's
``evaluatePCKh.py``, docs/protocol.md §1.11).

Reading, pairing and checking the files is the PoseTrack evaluator's; the arithmetic is
:mod:`poseval_refine.metrics.paired_pckh`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import ConfigError, MismatchError
from ..formats.posetrack import read_sequence
from ..metrics.paired_pckh import finalize_paired_pckh, frame_counts, resample_paired_pckh
from ..metrics.posetrack import GROUP_NAMES
from ..skeletons import POSETRACK15
from . import GROUP_COLUMNS, Task, breakdown_rows, joint_values, register_task
from .posetrack import POSETRACK_FORMATS, _fmt, _nan, check_frames, check_head_boxes, pair_files


def evaluate_pckh(gt: Path, preds: list[Path], threshold: float = 0.5) -> dict:
    """GT person r of a frame is paired with predicted person r, distances in GT head sizes, a hit is
    <= 0.5, Total pooled over joints. A GT joint without a prediction is a miss."""
    if len(preds) != 1:
        raise ConfigError("--task pckh takes exactly one --pred (a folder or a file)")
    items = []
    for g_file, p_file in pair_files(Path(gt), Path(preds[0])):
        g = read_sequence(g_file, records=False).to_skeleton(POSETRACK15)
        p = read_sequence(p_file, records=False, regions=False).to_skeleton(POSETRACK15)
        check_frames(g, p)
        check_head_boxes(g)
        gb, pb = g.frame_bounds(), p.frame_bounds()
        with np.errstate(invalid="ignore", over="ignore"):
            hs = g.head_sizes()
        for f in range(g.num_frames):
            n = gb[f + 1] - gb[f]
            if n == 0:
                continue
            if pb[f + 1] - pb[f] != n:
                raise MismatchError(f"has {pb[f + 1] - pb[f]} people but the GT has {n}", file=p_file, frame=f,
                                    fix="give one prediction per GT person, in the GT's order (single-person PCKh)")
            hits, annotated = frame_counts(p.keypoints[pb[f]:pb[f + 1], :, :2], g.keypoints[gb[f]:gb[f + 1], :, :2],
                                           hs[gb[f]:gb[f + 1]], threshold)
            # one item per labeled image (the bootstrap's unit): hits and annotated joints per joint
            items.append({"image": f"{g_file.stem}/{f}", "hits": hits.tolist(), "total": annotated.tolist()})
    hits, total = _item_counts(items)
    return {"task": "pckh", **finalize_paired_pckh(hits.sum(0), total.sum(0)), "group_names": GROUP_NAMES,
            "annotated_joints": int(total.sum()), "items": items}


def _item_counts(items: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    K = len(POSETRACK15)
    return (np.array([it["hits"] for it in items], dtype=np.float64).reshape(-1, K),
            np.array([it["total"] for it in items], dtype=np.float64).reshape(-1, K))


def headline_pckh(result: dict) -> dict[str, float]:
    return {"PCKh@0.5": result["pckh_total"], **dict(zip(GROUP_COLUMNS, [_nan(v) for v in result["pckh_groups"]]))}


def resample_pckh(result: dict, weights: np.ndarray) -> dict[str, np.ndarray]:
    rows = resample_paired_pckh(*_item_counts(result["items"]), weights)
    return {"PCKh@0.5": np.array([r["pckh_total"] for r in rows]),
            **{name: np.array([r["pckh_groups"][i] for r in rows]) for i, name in enumerate(GROUP_COLUMNS)}}


def render_pckh(result: dict) -> str:
    names = GROUP_NAMES[:-1] + ["Total"]
    vals = result["pckh_groups"][:-1] + [result["pckh_total"]]
    return ("PCKh@0.5 (people paired by order):\n& " + " & ".join(f"{n:<4}" for n in names) + " \\\\\n& "
            + " & ".join(_fmt(v) for v in vals) + " \\\\")


register_task(Task(
    name="pckh", description="PoseTrack-format single-person PCKh@0.5, people paired by order (poseval evaluatePCKh)",
    run=evaluate_pckh, render=render_pckh, options=(),
    primary="PCKh@0.5", headline=headline_pckh, unit="image", resample=resample_pckh,
    per_joint=lambda r: joint_values(POSETRACK15.joints, r["pckh_joint"]),
    breakdown=lambda r: breakdown_rows(POSETRACK15.joints, {"PCKh@0.5": r["pckh_joint"]}, [*GROUP_COLUMNS, "Total"],
                                       {"PCKh@0.5": [*r["pckh_groups"][:-1], r["pckh_total"]]}),
    reads=POSETRACK_FORMATS,
))
