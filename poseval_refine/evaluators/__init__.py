"""Evaluation tasks (``prt evaluate --task NAME``, ``poseval_refine.evaluate(task=NAME)``): the registry.

Adding a task is one module of this package and one line of :data:`TASK_MODULES` (docs/contributing.md).
The module registers a :class:`~poseval_refine.evaluators.base.Task` subclass: its ``Session`` (the GT
read once, predictions evaluated in parts into per-item statistics, the result computed from them), how it
renders the result as the official text table (``render``), which options it takes (names of
:data:`OPTIONS`, the one definition of every option, from which both the ``prt evaluate`` flags and
the Python keyword arguments come), its protocols, and what the leaderboard needs to rank its results.

Leaderboard contract (results store, ranking, bootstrap): a task that can be ranked names its
``primary`` metric, the ``headline`` numbers a leaderboard row shows, and the bootstrap ``unit``
(what one independent item is: a person, an image, a sequence). Its ``run`` result then carries
``result["items"]``: the per-item additive statistics (JSON-able), from which ``resample`` recomputes
the headline numbers for many weightings at once, without reading any file again.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from . import base
from .base import ALIASES, DEFAULT_PROTOCOL, OPTIONS, Option, Session, Task, alias_task, same_value

__all__ = ["ALIASES", "DEFAULT_PROTOCOL", "GROUP_COLUMNS", "OPTIONS", "Option", "Session", "TASKS", "TASK_MODULES",
           "Task", "alias_task", "all_tasks", "breakdown_rows", "get_task", "joint_values", "named_task",
           "register_task", "same_value", "task_for_gt", "task_for_object", "task_names"]

#: the joint-group columns of every leaderboard board, whatever names the task's own table uses (poseval
#: prints Shou/Elb/Wri/Ankl): one name per concept across boards and in the CSV
GROUP_COLUMNS = ("Head", "Shoulder", "Elbow", "Wrist", "Hip", "Knee", "Ankle")


def joint_values(names, values) -> dict[str, float]:
    """{joint: value} from a per-joint list, leaving out joints without a value (None/NaN: not evaluated)."""
    return {n: float(v) for n, v in zip(names, values) if v is not None and v == v}


def breakdown_rows(joints, per_joint: dict[str, list], groups, per_group: dict[str, list],
                   total: str = "Total") -> list[dict]:
    """Rows of ``Result.to_frame``: one per joint (``per_joint``: metric -> per-joint values) and one per
    group (``per_group``: metric -> per-group values; the group named ``total`` is the total); a row without
    any value (a joint the benchmark does not evaluate) is left out."""
    def num(v):
        return float("nan") if v is None else float(v)

    rows = [{"name": j, "kind": "joint", **{m: num(v[i]) for m, v in per_joint.items()}} for i, j in enumerate(joints)]
    rows += [{"name": g, "kind": "total" if g == total else "group", **{m: num(v[i]) for m, v in per_group.items()}}
             for i, g in enumerate(groups)]
    return [r for r in rows if any(v == v for k, v in r.items() if k not in ("name", "kind"))]


TASKS: dict[str, Task] = {}
_loaded = False

#: THE task registry: which module of this package registers each task. ``prt evaluate --task NAME``
#: imports only that one (an evaluation should not pay for the others' imports); tests check it lists
#: every task
TASK_MODULES = {
    "pose": "posetrack", "tracking": "posetrack", "pckh": "pckh",
    "single": "mpii", "multi": "mpii",
    "coco": "coco",
    "hota": "posetrack21", "pose21": "posetrack21",
}


def named_task(name: str, options: dict[str, Any]) -> Task:
    """The task ``--task NAME`` with these options runs (an old spelling's new task), options not checked."""
    for key, value in options.items():
        try:
            other = alias_task(name, key, value)
        except TypeError:  # an unhashable value names no task
            other = None
        if other is not None:
            return other
    return get_task(name)


def task_names() -> list[str]:
    """Names of every task, without importing the evaluators."""
    return sorted(TASK_MODULES)


def register_task(task: Task | type[Task]) -> Task:
    """Register a task (a :class:`Task` subclass or instance) under its ``name``."""
    if isinstance(task, type):
        task = task()
    if task.name not in TASK_MODULES:
        raise ValueError(f"task {task.name!r} is not in TASK_MODULES (poseval_refine/evaluators/__init__.py)")
    unknown = set(task.options) - set(OPTIONS)
    if unknown:
        raise ValueError(f"task {task.name!r} takes options that OPTIONS does not define: {sorted(unknown)}")
    if task.resample is not None:  # see poseval_refine.blas
        from ..blas import one_blas_thread

        task.resample = one_blas_thread(task.resample)
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
    """The task ``prt evaluate`` runs when ``--task`` is not given, and what the GT was taken for: the format
    sniffers say what the file is (``formats.detect_format``) and its format which task such a GT goes to
    (``Format.gt_task``): COCO keypoint annotations -> coco, MPII arrays (.h5/.mat) -> single, an MPII
    annolist -> multi, PoseTrack files or folders -> tracking."""
    from ..errors import InputError
    from ..formats import detect_format

    gt = Path(gt)
    if not gt.exists():
        raise InputError("not found", file=gt, fix="check the --gt path")
    try:
        fmt = detect_format(gt)
    except InputError:
        fmt = None
    found = fmt.gt_task(gt) if fmt is not None and fmt.gt_task is not None else None
    if found is None:
        raise InputError("is not a GT prt can tell the task of (COCO annotations, MPII .h5/.mat, PoseTrack "
                         "JSON files or folders)", file=gt,
                         fix=f"give --task (one of: {', '.join(task_names())})")
    return found


def task_for_object(gt: Any) -> tuple[str, str]:
    """``task_for_gt`` for ground truth held in memory (the Python API): a mapping of sequence files or a
    PoseTrack sequence -> tracking, COCO keypoint annotations -> coco, MPII arrays -> single."""
    from ..errors import InputError

    if isinstance(gt, dict):
        if gt and all(isinstance(k, str) for k in gt) and all(isinstance(v, (dict, list, str, Path))
                                                              for v in gt.values()) \
                and not any(k in gt for k in ("annolist", "images", "annotations", "part", "pos_gt_src")):
            return "tracking", "a mapping of PoseTrack sequence files"
        if "annolist" in gt:
            return "tracking", "a PoseTrack 2017 sequence"
        if "images" in gt and "annotations" in gt:
            from ..formats.coco import is_coco_keypoints_gt

            return ("coco", "COCO keypoint annotations") if is_coco_keypoints_gt(gt) else \
                ("tracking", "a PoseTrack 2018 sequence")
        if "part" in gt or "pos_gt_src" in gt:
            return "single", "MPII single-person arrays"
    raise InputError(f"is {type(gt).__name__}, not a GT prt can tell the task of (a PoseTrack sequence or "
                     "{file name: sequence}, COCO annotations, MPII arrays)", file="gt",
                     fix=f"give task= (one of: {', '.join(task_names())})")


def get_task(name: str) -> Task:
    if name not in TASKS and name in TASK_MODULES:
        importlib.import_module(f"{__name__}.{TASK_MODULES[name]}")
    tasks = TASKS if name in TASKS else all_tasks()
    if name not in tasks:
        raise ConfigError(f"unknown task {name!r}", fix=f"use --task with one of: {', '.join(sorted(tasks))}")
    return tasks[name]


base.find_task = get_task  # how base.alias_task finds a task by name (base does not import this module)
