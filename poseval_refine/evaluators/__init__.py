"""Evaluation tasks (``prt evaluate --task NAME``, ``poseval_refine.evaluate(task=NAME)``): the registry.

Adding a task is one module of this package and one line of :data:`TASK_MODULES` (docs/contributing.md).
The module registers a :class:`Task`: how it turns inputs into a JSON-able result dict (``run``), how
it renders that dict as the official text table (``render``), which options it takes (names of
:data:`OPTIONS`, the one definition of every option, from which both the ``prt evaluate`` flags and
the Python keyword arguments come), and what the leaderboard needs to rank its results.

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
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError

if TYPE_CHECKING:
    import numpy as np


@dataclass(frozen=True)
class Option:
    """An option of ``prt evaluate`` (``--min-score``) and of ``poseval_refine.evaluate`` (``min_score=``)."""

    name: str
    help: str
    #: int, float, str or Path: what the value is (the CLI converts to it, the API checks it)
    type: type = str
    #: the value when the option is not given; a task that does not take the option sees no other value
    default: Any = None
    #: the values allowed (None: any value of ``type``)
    choices: tuple[str, ...] | None = None
    #: the smallest value allowed (numbers)
    minimum: float | None = None

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def check(self, value: Any) -> Any:
        """The value as the task takes it, or a ConfigError naming the option (for keyword arguments)."""
        if value is None and self.default is None:
            return None
        ok = isinstance(value, self.type) and not isinstance(value, bool)
        if self.type is float and isinstance(value, int) and not isinstance(value, bool):
            value, ok = float(value), True
        if self.type is Path and isinstance(value, str):
            value, ok = Path(value), True
        if not ok:
            raise ConfigError(f"option {self.name}={value!r} is not {_TYPE_WORDS.get(self.type, self.type.__name__)}",
                              fix=f"{self.name}: {self.help}")
        if self.choices is not None and value not in self.choices:
            raise ConfigError(f"option {self.name}={value!r} is not one of: {', '.join(self.choices)}",
                              fix=f"{self.name}: {self.help}")
        if self.minimum is not None and value < self.minimum:
            raise ConfigError(f"option {self.name}={value!r} is below {self.minimum:g}",
                              fix=f"{self.name}: {self.help}")
        return value


_TYPE_WORDS = {int: "an integer", float: "a number", str: "a string", Path: "a path"}


def _protocol_names(family: str) -> tuple[str, ...]:
    from ..protocols import protocol_names

    return protocol_names(family)


def _motp_modes() -> tuple[str, ...]:
    from ..protocols import MOTP_MODES

    return MOTP_MODES


#: every option a task may take, defined once: its type, choices, default and help. A task names the
#: ones it takes (``Task.options``); the CLI offers them all and refuses one the chosen task does not take
OPTIONS: dict[str, Option] = {o.name: o for o in (
    Option("workers", "Evaluate sequences in parallel (identical results).", int, 1, minimum=1),
    Option("min_score", "Drop joints whose score IN THE PREDICTION FILE is <= T before evaluation. The paper's "
           "tau = 0.7 is applied to the refiner's own confidence during refinement: `prt refine --min-score`, or "
           "--refine-min-score with --refined.", float),
    Option("protocol", "official reproduces the kit's quirks; corrected fixes them (docs/protocol.md); "
           "posetrack21 (--task pose): the PoseTrack21 kit's mAP (docs/posetrack21.md).", str,
           "official", choices=_protocol_names("posetrack")),
    Option("motp", "MOTP definition (which motmetrics version poseval ran with). Default: poseval-mm1.2+ "
           "(official protocol), clear (corrected protocol).", str, None, choices=_motp_modes()),
    Option("mot_backend", "Tracking: who accumulates the CLEAR-MOT counts: prt's vectorized accumulator or "
           "motmetrics' MOTAccumulator, as poseval (same numbers, several times slower).", str, "prt",
           choices=("prt", "motmetrics")),
    Option("flavour", "MPII single: its protocol, the MATLAB kit's (matlab) or a Python port's PCKh conventions "
           "(docs/protocol.md §2.2).", str, "matlab", choices=_protocol_names("mpii-single")),
    Option("plot", "MPII single: write PCKh curves (.png/.pdf).", Path),
    Option("engine", "COCO: prt's own COCOeval (pycocotools' numbers bit for bit, several times faster) or "
           "pycocotools' COCOeval itself.", str, "prt", choices=("prt", "pycocotools")),
    Option("sigmas", "COCO: the per-joint OKS sigmas: coco, crowdpose, or one per joint as a comma list "
           "(0.026,0.025,...); the GT's keypoints must have that many joints.", str, "coco"),
)}


@dataclass(frozen=True)
class Task:
    name: str
    description: str
    #: run(gt, preds: list, **options) -> dict (numbers as data, NaN allowed); gt and preds are paths or
    #: in-memory objects (see ``poseval_refine.evaluate``)
    run: Callable[..., dict]
    #: render(result: dict) -> str, the official text table
    render: Callable[[dict], str]
    #: names of the :data:`OPTIONS` the task takes (besides gt and preds)
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
    #: protocol(result) -> the conventions the result was computed under, as a board names them ("official",
    #: "protocol corrected", "protocol hrnet"): results under other conventions are ranked on a board of their
    #: own. None: every result of the task is "official"
    protocol: Callable[[dict], str] | None = None
    #: curve(result) -> {"thresholds": [...], "total": [...]} or None: a curve the leaderboard page draws
    curve: Callable[[dict], dict | None] | None = None
    #: session(gt, **options) -> an object with update(part), result() -> dict (what ``run`` gives on the
    #: union of the parts), predictions() (the union, for provenance) and reset(): the GT read and checked
    #: once, predictions given in parts, paths or in memory (``poseval_refine.Evaluator``). None: files only
    session: Callable[..., Any] | None = None
    #: the formats whose files ``run`` reads itself (None: every format prt reads); predictions in another
    #: format reach the task as the poses its reader makes (``prt evaluate --method`` with a native format)
    reads: tuple[str, ...] | None = None
    #: breakdown(result) -> [{"name": ..., "kind": "joint"|"group"|"total", metric: value, ...}]: the per-joint
    #: table of ``Result.to_frame`` (default: ``per_joint`` and ``headline``)
    breakdown: Callable[[dict], list[dict]] | None = None

    def take_options(self, given: dict[str, Any]) -> dict[str, Any]:
        """The keyword arguments of ``run``, checked: an option the task does not take is an error when it
        is given a value other than its default, never silently dropped."""
        unknown = sorted(set(given) - set(OPTIONS))
        if unknown:
            raise ConfigError(f"unknown option {', '.join(unknown)}",
                              fix=f"options: {', '.join(sorted(OPTIONS))} (which ones --task {self.name} takes: "
                                  f"{self.options_words()})")
        unsupported = sorted(k for k, v in given.items() if k not in self.options and v != OPTIONS[k].default)
        if unsupported:
            names = ", ".join(OPTIONS[u].flag for u in unsupported)
            raise ConfigError(f"option {names} does not apply to --task {self.name}",
                              fix=f"--task {self.name} accepts: {self.options_words()}")
        return {k: OPTIONS[k].check(given[k]) if k in given else OPTIONS[k].default for k in self.options}

    def options_words(self) -> str:
        return ", ".join(OPTIONS[o].flag for o in self.options) or "no options"

    def board_protocol(self, result: dict) -> str:
        return self.protocol(result) if self.protocol is not None else DEFAULT_PROTOCOL


#: the protocol label of results computed under a task's official conventions
DEFAULT_PROTOCOL = "official"

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
    "hota": "posetrack21",
}


def task_names() -> list[str]:
    """Names of every task, without importing the evaluators."""
    return sorted(TASK_MODULES)


def register_task(task: Task) -> Task:
    if task.name not in TASK_MODULES:
        raise ValueError(f"task {task.name!r} is not in TASK_MODULES (poseval_refine/evaluators/__init__.py)")
    unknown = set(task.options) - set(OPTIONS)
    if unknown:
        raise ValueError(f"task {task.name!r} takes options that OPTIONS does not define: {sorted(unknown)}")
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
    """The task ``prt evaluate`` runs when ``--task`` is not given, and what the GT was taken for: the format
    sniffers say what the file is (``formats.detect_format``) and its format which task such a GT goes to
    (``Format.gt_task``): COCO keypoint annotations -> coco, MPII arrays (.h5/.mat) -> single, an MPII
    annolist -> multi, PoseTrack files or folders -> tracking."""
    from ..errors import InputError
    from ..formats import detect_format

    gt = Path(gt)
    if not gt.exists():
        raise InputError("not found", file=gt, fix="check the --gt path")
    if gt.is_dir() and not any(gt.iterdir()):
        raise InputError("is an empty folder", file=gt,
                         fix="give the GT file, or a folder holding the GT (e.g. one PoseTrack JSON per sequence)")
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
