"""Evaluation tasks (``prt evaluate --task NAME``): a registry filled by the modules of this package.

A task turns files into a JSON-able result dict (``run``) and renders that dict as the
official text table (``render``). Tasks declare which ``prt evaluate`` options they accept,
so the CLI can reject options that would be silently ignored.

Leaderboard contract (results store, ranking, bootstrap): a task that can be ranked names its
``primary`` metric, the ``headline`` numbers a leaderboard row shows, and the bootstrap ``unit``
(what one independent item is: a person, an image, a sequence). Its ``run`` result then carries
``result["items"]``: the per-item additive statistics (JSON-able), from which ``resample`` recomputes
the headline numbers for many weightings at once, without reading any file again.
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ConfigError

if TYPE_CHECKING:
    import numpy as np


@dataclass(frozen=True)
class Task:
    name: str
    description: str
    #: run(gt: Path, preds: list[Path], **options) -> dict (numbers as data, NaN allowed)
    run: Callable[..., dict]
    #: render(result: dict) -> str, the official text table
    render: Callable[[dict], str]
    #: names of the ``prt evaluate`` options the task accepts (besides gt and preds)
    options: tuple[str, ...] = ()
    #: name of the headline metric that ranks a leaderboard board (e.g. "PCKh@0.5", "mAP", "MOTA", "AP")
    primary: str | None = None
    #: headline(result) -> {metric name: float}: the numbers of one leaderboard row (primary included)
    headline: Callable[[dict], dict[str, float]] | None = None
    #: what one bootstrap item is ("person", "image", "sequence"); items are result["items"]
    unit: str | None = None
    #: resample(result, weights) -> {metric name: ndarray (R,)}: the headline metrics recomputed from
    #: result["items"] with weights[r, i] = how many times item i is drawn in resample r (R x n ints);
    #: an all-ones row must give headline(result) exactly
    resample: Callable[[dict, np.ndarray], dict[str, np.ndarray]] | None = None
    #: per_joint(result) -> {joint name: value}: the per-joint breakdown of the primary metric (optional)
    per_joint: Callable[[dict], dict[str, float]] | None = None
    #: missing_joints(result, weights) -> {joint name: (R,) bool}: the resamples in which a joint has no value
    #: of the primary metric and so is left out of its Total (PoseTrack's Total averages the joints that have
    #: one); tells the leaderboard why a resampled distribution splits (results.uncertainty.shape_note)
    missing_joints: Callable[[dict, np.ndarray], dict[str, np.ndarray]] | None = None


#: the joint-group columns of every leaderboard board, whatever names the task's own table uses (poseval
#: prints Shou/Elb/Wri/Ankl): one name per concept across boards and in the CSV
GROUP_COLUMNS = ("Head", "Shoulder", "Elbow", "Wrist", "Hip", "Knee", "Ankle")


def joint_values(names, values) -> dict[str, float]:
    """{joint: value} from a per-joint list, leaving out joints without a value (None/NaN: not evaluated)."""
    return {n: float(v) for n, v in zip(names, values) if v is not None and v == v}


TASKS: dict[str, Task] = {}
_loaded = False

#: which module of this package registers each task: ``prt evaluate --task NAME`` imports only that
#: one (an evaluation should not pay for the others' imports); tests check it lists every task
TASK_MODULES = {
    "pose": "posetrack", "tracking": "posetrack", "pckh": "posetrack",
    "single": "mpii", "multi": "mpii",
    "coco": "coco",
    "hota": "posetrack21",
}


def task_names() -> list[str]:
    """Names of every task, without importing the evaluators."""
    return sorted(TASK_MODULES)


def register_task(task: Task) -> Task:
    if task.resample is not None:  # see poseval_refine.blas
        from ..blas import one_blas_thread

        task = dataclasses.replace(task, resample=one_blas_thread(task.resample))
    TASKS[task.name] = task
    return task


def all_tasks() -> dict[str, Task]:
    global _loaded
    if not _loaded:
        for info in pkgutil.iter_modules(__path__):
            if not info.name.startswith("_"):
                importlib.import_module(f"{__name__}.{info.name}")
        _loaded = True
    return TASKS


def task_for_gt(gt: Path) -> tuple[str, str]:
    """The task ``prt evaluate`` runs when ``--task`` is not given, from what the GT is, and what it was
    taken for: COCO keypoint annotations -> coco, MPII arrays (.h5/.mat) -> single, an MPII annolist
    .mat or JSON -> multi, PoseTrack files or folders -> tracking."""
    from ..errors import InputError
    from ..formats import detect_format
    from ..io import load_json

    gt = Path(gt)
    if gt.is_dir():
        return "tracking", "a folder of PoseTrack sequence files"
    suffix = gt.suffix.lower()
    if suffix in (".h5", ".hdf5", ".mat"):
        if detect_format(gt).name == "mpii-annolist":
            return "multi", "an MPII multi-person annolist"
        return "single", "MPII single-person arrays"
    if suffix == ".json":
        data = load_json(gt)
        annolist = data.get("annolist") if isinstance(data, dict) else data
        if isinstance(annolist, list) and all(isinstance(e, dict) for e in annolist) and \
                (isinstance(data, dict) or any("annorect" in e for e in annolist)):
            if _is_posetrack17(annolist):
                return "tracking", "a PoseTrack 2017 annolist file"
            return "multi", "an MPII multi-person annolist (no frame numbers, labeled flags or track ids)"
        if isinstance(data, dict) and "images" in data and "annotations" in data:
            return ("coco", "COCO keypoint annotations") if _is_coco_gt(data) else \
                ("tracking", "a PoseTrack 2018 file")
    raise InputError("is not a GT prt can tell the task of (COCO annotations, MPII .h5/.mat, PoseTrack "
                     "JSON files or folders)", file=gt,
                     fix=f"give --task (one of: {', '.join(sorted(all_tasks()))})")


def _is_posetrack17(annolist: list) -> bool:
    """A PoseTrack 2017 sequence, not an MPII multi-person annolist: frames numbered or flagged as labeled,
    or people with track ids."""
    if any("imgnum" in e or "is_labeled" in e for e in annolist):
        return True
    rects = (r for e in annolist for r in (e.get("annorect") if isinstance(e.get("annorect"), list) else []))
    return any(isinstance(r, dict) and "track_id" in r for r in rects)


def _is_coco_gt(data: dict) -> bool:
    """COCO keypoint annotations, not a PoseTrack 2018 file: no video frames, COCO's joint names."""
    images = data.get("images")
    if isinstance(images, list) and any(isinstance(i, dict) and ("frame_id" in i or "vid_id" in i) for i in images):
        return False
    cats = data.get("categories")
    names = next((c.get("keypoints") for c in cats if isinstance(c, dict) and c.get("name") == "person"), None) \
        if isinstance(cats, list) else None
    return isinstance(names, list) and "left_eye" in names and "head_bottom" not in names


def get_task(name: str) -> Task:
    if name not in TASKS and name in TASK_MODULES:
        importlib.import_module(f"{__name__}.{TASK_MODULES[name]}")
    tasks = TASKS if name in TASKS else all_tasks()
    if name not in tasks:
        raise ConfigError(f"unknown task {name!r}", fix=f"use --task with one of: {', '.join(sorted(tasks))}")
    return tasks[name]
