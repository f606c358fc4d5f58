"""The contract every evaluation task keeps: a :class:`Task` opens a :class:`Session` on the ground truth;
the session takes predictions in parts and computes the result. One pipeline for files and objects.

Shaped like TrackEval's ``_BaseMetric`` and torchmetrics' ``Metric``:

- ``Task.open(gt, **options) -> Session`` checks the options (once: the only place they are checked)
  and reads and checks the ground truth;
- ``Session.update(part)`` evaluates some of the predictions into per-item additive statistics (an item
  is a sequence, an image or a person: ``Task.item``), kept by item key;
- ``Session.compute() -> dict`` combines the items' statistics in the ground truth's order (the official
  kits' order, ties included) into the result's JSON data; ``Result`` wraps it;
- ``Session.state()`` is a plain picklable value (the items' statistics, the task and its options) and
  ``Session.merge(states)`` adds other sessions' states: worker processes, DDP ranks. Because the result
  is a pure function of the statistics in GT order, any partition of the items, fed in any order and
  merged, gives the numbers of one session fed everything, bit for bit.
- One rule for repeats, in ``update`` and ``merge`` alike: an item given again with the same statistics
  counts once (a DDP sampler pads shards by repeating items); given again with other statistics it is an
  error naming the item.

``Task.run(gt, pred, **options)`` is written once, here: open, feed the prediction files part by part
(in worker processes when ``workers`` > 1, merging their states), compute. The command line and
``poseval_refine.evaluate`` both call it; ``poseval_refine.Evaluator`` is a session.
"""

from __future__ import annotations

import copy
import logging
import os
from collections.abc import Callable
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ..errors import ConfigError, MismatchError
from ..options import Option

log = logging.getLogger("prt")


# ----------------------------------------------------------------------------- options
def _protocols() -> tuple[str, ...]:
    """Every value of --protocol (each task takes its own: ``Task.protocols``)."""
    from ..protocols import protocol_names

    return tuple(dict.fromkeys(protocol_names("posetrack") + protocol_names("coco")))


def _pckh_protocols() -> tuple[str, ...]:
    from ..protocols import protocol_names

    return protocol_names("mpii-single")


def _motp_modes() -> tuple[str, ...]:
    from ..protocols import MOTP_MODES

    return MOTP_MODES


def _mot_backends() -> tuple[str, ...]:
    from ..metrics.posetrack import MOT_BACKENDS

    return MOT_BACKENDS


#: every option a task may take, defined once: its type, choices, default and help. A task names the
#: ones it takes (``Task.options``); the CLI offers them all and refuses one the chosen task does not take
OPTIONS: dict[str, Option] = {o.name: o for o in (
    Option("workers", "Evaluate sequences in parallel (identical results).", int, 1, minimum=1),
    Option("min_score", "Drop joints whose score IN THE PREDICTION FILE is <= T before evaluation. The paper's "
           "tau = 0.7 is applied to the refiner's own confidence during refinement: `prt refine --min-score`, or "
           "--refine-min-score with --refined.", float),
    Option("protocol", "official reproduces the kit's quirks; corrected fixes them (docs/protocol.md); "
           "posetrack21: the PoseTrack21 kit's mAP, as --task pose21 (docs/posetrack21.md); coco (pycocotools), "
           "crowdpose, crowdpose-corrected, aic, wholebody (xtcocotools as mmpose calls it, docs/crowdpose.md), of "
           "which official is the one the GT's layout implies.", str,
           "official", choices_from=_protocols, task_choices="protocols"),
    Option("motp", "MOTP definition (which motmetrics version poseval ran with). Default: poseval-mm1.2+ "
           "(official protocol), clear (corrected protocol).", str, None, choices_from=_motp_modes),
    Option("mot_backend", "Tracking: who accumulates the CLEAR-MOT counts: prt's vectorized accumulator or "
           "motmetrics' MOTAccumulator, as poseval (same numbers, several times slower).", str, "prt",
           choices_from=_mot_backends),
    Option("flavour", "MPII single: its protocol, the MATLAB kit's (matlab) or a Python port's PCKh conventions "
           "(docs/protocol.md §2.2).", str, "matlab", choices_from=_pckh_protocols),
    Option("plot", "MPII single: write PCKh curves (.png/.pdf).", Path),
    Option("engine", "COCO: prt's own COCOeval (pycocotools' numbers bit for bit, several times faster) or "
           "pycocotools' COCOeval itself.", str, "prt", choices_from=("prt", "pycocotools")),
    Option("sigmas", "COCO: the per-joint OKS sigmas: coco, crowdpose, aic, wholebody, or one per joint as a "
           "comma list (0.026,0.025,...); the GT's keypoints must have that many joints. Default: the "
           "protocol's table.", str, None),
)}


# ----------------------------------------------------------------------------- repeats
def same_value(a: Any, b: Any) -> bool:
    """Whether two items' statistics are the same (arrays element by element, NaN equal to NaN): the
    repeat rule's test."""
    if a is b:
        return True
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        if a.shape != b.shape or a.dtype.kind != b.dtype.kind:
            return False
        return bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))
    if is_dataclass(a) and not isinstance(a, type):
        return type(a) is type(b) and all(same_value(getattr(a, f.name), getattr(b, f.name)) for f in fields(a))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return isinstance(b, (list, tuple)) and len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float) and a != a and b != b:
        return True
    return bool(a == b)


# ----------------------------------------------------------------------------- session
class Session:
    """One evaluation in progress: the ground truth read and checked, the items evaluated so far.

    A task's session class implements ``read_gt(gt)`` (sets ``keys``: every GT item's key in the order the
    official kit combines them), ``evaluate(part) -> [(key, statistics, source)]`` and
    ``finalize(keys) -> dict`` (the result's JSON data from ``self.items[k]`` for ``keys``, in that order);
    ``describe(key)`` names an item in messages. The base keeps the items, applies the repeat rule, gives
    ``state``/``merge`` and checks that every GT item has statistics (``missing``)."""

    #: whether compute() needs statistics for every GT item (False: items without predictions count as such)
    needs_every_item: ClassVar[bool] = True

    def __init__(self, task: Task, gt: Any, options: dict[str, Any]):
        self.task = task
        self.options = dict(options)
        self.keys: list = []
        #: warnings gathered (``flush_notes`` logs them): the GT's, then each update's
        self.notes: list[str] = []
        self.read_gt(gt)
        self.reset()

    # -- what a task implements
    def read_gt(self, gt: Any) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def evaluate(self, part: Any) -> list[tuple[Any, Any, Any]]:  # pragma: no cover - abstract
        raise NotImplementedError

    def finalize(self, keys: list) -> dict:  # pragma: no cover - abstract
        raise NotImplementedError

    def describe(self, key: Any) -> str:
        return f"{self.task.item} {key!r}"

    def missing(self, keys: list) -> None:
        """Raise the error of GT items without predictions (``keys``, GT order)."""
        raise MismatchError(f"{self.describe(keys[0])} has no prediction"
                            + (f" (nor {len(keys) - 1} more)" if len(keys) > 1 else ""), file="pred",
                            fix=f"give predictions for every GT {self.task.item}")

    def subset_keys(self) -> list:
        """What ``Result.subset`` chooses from (``Result.items``), in GT order: the items (``keys``); a session
        whose subsets are finer than its items (pckh: people, fed by sequence) lists its own and takes them
        in ``compute(only=...)``."""
        return list(self.keys)

    def parts(self, pred: Any, size: int) -> list:
        """The prediction input of ``run`` (a path, or what the task takes) as parts of about ``size`` items,
        each a valid ``update`` argument. Default: one part."""
        return [pred]

    # -- the common machinery
    def reset(self) -> None:
        """Forget the predictions given so far; the ground truth stays read."""
        self.items: dict = {}
        self.given: dict = {}

    def update(self, part: Any) -> None:
        """Evaluate a part of the predictions (see the task's session for what a part is)."""
        for key, stats, source in self.evaluate(part):
            if self.take(key, stats) and source is not None:
                self.given[key] = source

    def take(self, key: Any, stats: Any) -> bool:
        """Keep an item's statistics (the repeat rule); False when it repeats statistics already kept."""
        if key in self.items:
            if same_value(self.items[key], stats):
                return False
            raise MismatchError(f"{self.describe(key)} is given twice, with different content", file="pred",
                                fix=f"give every {self.task.item} once (reset() to start over); a repeat counts "
                                    "once only when it is identical")
        self.items[key] = stats
        return True

    def state(self) -> dict:
        """A plain picklable value: the task, its options and every item's statistics so far."""
        return {"task": self.task.name, "options": dict(self.options), "items": dict(self.items)}

    def merge(self, states) -> None:
        """Add the items of other sessions' states (same task, same options, same GT), by the repeat rule."""
        for st in states:
            self.check_state(st)
            for key, stats in st["items"].items():
                if key not in self.index_of_key():
                    raise MismatchError(f"{self.describe(key)} is not in this GT", file="state",
                                        fix="merge states of sessions opened on the same GT")
                self.take(key, stats)

    def check_state(self, st: dict) -> None:
        """A state another session of the same task and options made (``workers`` aside)."""
        if not (isinstance(st, dict) and isinstance(st.get("items"), dict) and isinstance(st.get("options"), dict)):
            raise ConfigError(f"a state is {type(st).__name__}, not what Session.state() gives",
                              fix="merge the values of Evaluator.state() / Session.state()")
        mine = {k: v for k, v in self.options.items() if k != "workers"}
        theirs = {k: v for k, v in st["options"].items() if k != "workers"}
        if st.get("task") != self.task.name or theirs != mine:
            raise ConfigError(f"cannot merge a state of --task {st.get('task')} with options {theirs} into "
                              f"--task {self.task.name} with {mine}",
                              fix="merge the states of sessions opened with the same task and options")

    def flush_notes(self) -> None:
        """Send the notes (warnings) gathered so far to the log; a task that groups them overrides it."""
        for note in self.notes:
            log.warning(note)
        self.notes = []

    def index_of_key(self) -> dict:
        ix = getattr(self, "_key_index", None)
        if ix is None or len(ix) != len(self.keys):
            ix = self._key_index = {k: i for i, k in enumerate(self.keys)}
        return ix

    def ordered_keys(self, only=None) -> list:
        """The GT's keys (or those of ``only``, still in GT order); unknown keys are an error."""
        if only is None:
            return list(self.keys)
        ix = self.index_of_key()
        only = list(only)
        unknown = [k for k in only if k not in ix]
        if unknown:
            raise MismatchError(f"{self.describe(unknown[0])} is not in the GT", file="items",
                                fix=f"choose {self.task.item}s of the GT (Result.items lists them)")
        chosen = set(only)
        return [k for k in self.keys if k in chosen]

    def compute(self, only=None) -> dict:
        """The result's JSON data over every GT item (or the items ``only``), combined in GT order."""
        keys = self.ordered_keys(only)
        if self.needs_every_item:
            missing = [k for k in keys if k not in self.items]
            if missing:
                self.missing(missing)
        return self.finalize(keys)

    def snapshot(self) -> Session:
        """A copy that later updates do not change (the GT shared): what a ``Result`` keeps."""
        new = copy.copy(self)
        new.items, new.given = dict(self.items), dict(self.given)
        return new

    def predictions(self):
        """The predictions given (for provenance: ``Result.save`` records their hash)."""
        return {k: self.given[k] for k in self.keys if k in self.given}


# ----------------------------------------------------------------------------- task
class Task:
    """An evaluation task (``prt evaluate --task NAME``): a subclass declares its name, options, protocols and
    leaderboard facts, its ``Session`` class, ``render`` and the leaderboard hooks on result data.

    Leaderboard contract: a task that can be ranked names its ``primary`` metric, ``headline(result)`` (the
    numbers of a row), the bootstrap ``unit`` and ``resample(result, weights)`` (the headline recomputed from
    ``result["items"]`` for many weightings at once; an all-ones row gives ``headline`` bit for bit);
    optionally ``per_joint``, ``missing_joints``, ``protocol`` (the label of the conventions a result was
    computed under: a board of its own), ``curve`` and ``breakdown`` (rows of ``Result.to_frame``)."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    #: names of the :data:`OPTIONS` the task takes
    options: ClassVar[tuple[str, ...]] = ()
    #: the values of ``--protocol`` this task takes (None: the option's own choices)
    protocols: ClassVar[tuple[str, ...] | None] = None
    #: what one item of ``Session.state`` (and of ``Result.subset``, unless the session lists finer ones:
    #: ``Session.subset_keys``) is
    item: ClassVar[str] = "item"
    primary: ClassVar[str | None] = None
    unit: ClassVar[str | None] = None
    #: the formats whose files the session reads itself (None: every format prt reads); predictions in
    #: another format reach it as the poses its reader makes (``prt evaluate --method`` with a native format)
    reads: ClassVar[tuple[str, ...] | None] = None
    #: the task's session class
    session_class: ClassVar[type[Session]]
    #: whether ``run`` takes several prediction files (each evaluated on its own, ``combine`` joins them)
    several_preds: ClassVar[bool] = False
    #: the typed form of the task's results (``Result.payload``; ``evaluators.payloads``): None, the generic one
    payload_class: ClassVar[type | None] = None
    #: the sample benchmark ``prt evaluate`` without --gt/--pred evaluates (``poseval_refine.sample``)
    sample: ClassVar[str] = "posetrack"

    # leaderboard hooks (methods in a subclass; None: the task has none)
    headline: Callable[[dict], dict[str, float]] | None = None
    resample: Callable[[dict, np.ndarray], dict[str, np.ndarray]] | None = None
    per_joint: Callable[[dict], dict[str, float]] | None = None
    missing_joints: Callable[[dict, np.ndarray], dict[str, np.ndarray]] | None = None
    protocol: Callable[[dict], str] | None = None
    curve: Callable[[dict], dict | None] | None = None
    breakdown: Callable[[dict], list[dict]] | None = None

    def render(self, result: dict) -> str:  # pragma: no cover - abstract
        """The official kit's text table of a result."""
        raise NotImplementedError

    # -- options
    def take_options(self, given: dict[str, Any]) -> dict[str, Any]:
        """The options checked: an option the task does not take is an error when it is given a value other
        than its default, never silently dropped; a task may redirect itself (``alias``)."""
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
        return {k: self.check_option(OPTIONS[k], given[k]) if k in given else OPTIONS[k].default
                for k in self.options}

    def check_option(self, o: Option, value: Any) -> Any:
        """An option's value checked, against this task's own values where the task narrows them
        (``Option.task_choices``: ``--task tracking`` takes two of the protocols)."""
        mine = getattr(self, o.task_choices) if o.task_choices is not None else None
        if mine is not None and value not in mine and value in (o.choices or ()):
            raise ConfigError(f"{o.flag} {value} does not apply to --task {self.name}",
                              fix=f"--task {self.name} takes {o.flag} {', '.join(mine)}")
        return o.check(value, mine)

    def options_words(self) -> str:
        return ", ".join(OPTIONS[o].flag for o in self.options) or "no options"

    def alias(self, options: dict[str, Any]) -> tuple[Task, dict[str, Any]] | None:
        """(task, options) to run instead, when these options name another task (a protocol that became a task
        of its own: ``evaluators.ALIASES``); None: this task. The note saying so goes to the log."""
        for key, value in options.items():
            other = alias_task(self.name, key, value)
            if other is not None:
                log.info("--task %s %s %s is --task %s now (the same numbers)", self.name, OPTIONS[key].flag,
                         value, other.name)
                rest = {k: v for k, v in options.items() if k != key and v != OPTIONS[k].default}
                return other, other.take_options(rest)
        return None

    def resolve(self, options: dict[str, Any]) -> tuple[Task, dict[str, Any]]:
        """The task and checked options to run: options checked once, here."""
        kwargs = self.take_options(options)
        other = self.alias(kwargs)
        if other is not None:
            return other
        return self, kwargs

    def board_protocol(self, result: dict) -> str:
        return self.protocol(result) if self.protocol is not None else DEFAULT_PROTOCOL

    # -- the pipeline
    def open(self, gt: Any, **options: Any) -> Session:
        """A session on the ground truth ``gt`` (a path or the object in memory), options checked."""
        task, kwargs = self.resolve(options)
        return task.session_class(task, gt, kwargs)

    def open_checked(self, gt: Any, options: dict[str, Any]) -> Session:
        """``open`` with options ``resolve`` has checked already."""
        return self.session_class(self, gt, options)

    def run(self, gt: Any, pred: Any, **options: Any) -> dict:
        """Evaluate ``pred`` against ``gt``: open, feed the parts (in ``workers`` processes when the task
        takes the option and it is > 1, merging their states), compute. ``pred``: a path, a list of paths
        (several only when ``several_preds``), or the predictions in memory."""
        task, kwargs = self.resolve(options)
        return task.run_checked(gt, pred, kwargs)

    def run_checked(self, gt: Any, pred: Any, options: dict[str, Any]) -> dict:
        return self.evaluate(gt, pred, options)[0]

    def evaluate(self, gt: Any, pred: Any, options: dict[str, Any]) -> tuple[dict, Session | None]:
        """(result data, the session that computed it; None when several predictions were compared)."""
        preds = list(pred) if isinstance(pred, list) and pred and all(
            isinstance(p, (str, os.PathLike)) for p in pred) else None
        if preds is not None and len(preds) != 1 and not self.several_preds:
            raise ConfigError(f"--task {self.name} takes exactly one --pred (a folder or a file)")
        session = self.open_checked(gt, options)
        if self.several_preds and preds is not None:
            session.combining = True  # each prediction file on its own, joined by combine
            results = []
            for p in preds:
                session.reset()
                results.append(feed(session, p, options))
            combined = self.combine(results, options)
            return combined, session if len(preds) == 1 else None
        return feed(session, preds[0] if preds is not None else pred, options), session

    def combine(self, results: list[dict], options: dict[str, Any]) -> dict:  # pragma: no cover - abstract
        """One result of several prediction files' results (tasks with ``several_preds``)."""
        raise NotImplementedError


#: the protocol label of results computed under a task's official conventions
DEFAULT_PROTOCOL = "official"

#: old spellings of tasks: (task, option, value) -> the task it names now. ``--task pose --protocol
#: posetrack21`` (the PoseTrack21 kit's mAP) is task ``pose21``; results stored under the old spelling keep
#: their task ``pose``, whose hooks hand them to the new task (``posetrack.other_task``)
ALIASES: dict[tuple[str, str, Any], str] = {("pose", "protocol", "posetrack21"): "pose21"}

#: how ``alias_task`` finds a task by name: the registry's ``evaluators.get_task`` (set when it loads)
find_task: Callable[[str], Task] | None = None


def alias_task(task: str, option: str, value: Any) -> Task | None:
    """The task ``--task TASK --OPTION VALUE`` names when it is an old spelling (:data:`ALIASES`), else None."""
    try:
        name = ALIASES.get((task, option, value))
    except TypeError:  # an unhashable value names no task
        return None
    return None if name is None else find_task(name)


#: the session the worker processes of ``feed`` evaluate with (inherited when they are forked)
_WORKER_SESSION: Session | None = None


def _worker_state(part) -> tuple[dict, list[str]]:
    """A worker process's evaluation of one part: (its state, its notes)."""
    from ..io import no_gc

    session = _WORKER_SESSION
    session.reset()
    session.notes = []
    with no_gc():
        session.update(part)
    return session.state(), session.notes


def _worker_init(session: Session) -> None:
    global _WORKER_SESSION
    _WORKER_SESSION = session


def feed(session: Session, pred: Any, options: dict[str, Any]) -> dict:
    """Give ``pred`` to the session part by part (worker processes when ``options["workers"]`` > 1) and
    compute: the one file pipeline."""
    workers = options.get("workers") or 1
    n_items = max(1, len(session.keys))
    workers = max(1, min(workers, n_items, os.cpu_count() or 1))
    size = READ_WINDOW if workers == 1 else -(-n_items // (4 * workers))
    parts = session.parts(pred, size)
    bar = progress(sum(part_size(p) for p in parts), session.task.unit or "item")
    if workers == 1 or len(parts) == 1:
        for part in parts:
            session.update(part)
            bar(part_size(part))
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # forked workers inherit the session (its GT read once); elsewhere it is pickled to each worker
        methods = multiprocessing.get_all_start_methods()
        ctx = multiprocessing.get_context("fork" if "fork" in methods else None)
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_worker_init,
                                 initargs=(session,)) as ex:
            for part, (state, notes) in zip(parts, ex.map(_worker_state, parts)):
                session.merge([state])
                session.notes += notes
                bar(part_size(part))
    bar(None)
    session.flush_notes()
    return session.compute()


#: how many items (sequences) a part of a one-process run holds: their files are read together
READ_WINDOW = 32


def part_size(part) -> int:
    return len(part) if isinstance(part, dict) else 1


def progress(total: int, unit: str):
    """A progress bar on stderr when it is a terminal and the ``prt`` logger shows notes (the command line,
    not -q; a library call prints nothing); tqdm is imported only then."""
    import sys

    if total <= 1 or not sys.stderr.isatty() or not log.isEnabledFor(logging.INFO):
        return lambda n: None
    from tqdm import tqdm

    bar = tqdm(total=total, desc=f"{unit}s", unit=unit[:3], leave=False)
    return lambda n: bar.close() if n is None else bar.update(n)
