"""The Python API: every task of ``prt evaluate`` as a function, on files or on objects in memory.

``evaluate`` is ``prt evaluate``; ``Evaluator`` reads and checks the ground truth once and takes
predictions in parts (the training-loop path); ``Result`` is what both give: the numbers, the
official table, the ``--json`` content, a pandas frame, and ``save`` into the results store.
``load``, ``refine``, ``train`` and ``leaderboard`` mirror their commands. Options are the CLI's
(``poseval_refine.evaluators.OPTIONS``) as keyword arguments.

A library call never prints and never exits: problems are :class:`~poseval_refine.errors.PrtError`
exceptions (``InputError`` is a ``ValueError``) carrying the words ``prt`` prints, and notes go to
the ``prt`` logger (``Result.notes`` keeps those of the call). Nothing is written to disk except by
``Result.save``, ``train`` and an explicit ``plot=`` path. See docs/python.md.
"""

from __future__ import annotations

import inspect
import logging
import math
import os
from collections.abc import Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ConfigError
from .evaluators import Session, Task, get_task
from .io import no_gc

if TYPE_CHECKING:
    import pandas

    from .evaluators.payloads import Payload
    from .poses import PoseSet
    from .results.board import Board

__all__ = ["Result", "Evaluator", "evaluate", "load", "refine", "train", "leaderboard"]

PathLike = str | os.PathLike

log = logging.getLogger("prt")


def _is_path(x: Any) -> bool:
    return isinstance(x, (str, os.PathLike))


# the calls below run with the cyclic garbage collector paused (io.no_gc): they make millions of acyclic
# objects, and in a process that holds large parsed inputs every collection pass would walk them all

@contextmanager
def _notes():
    """The messages the ``prt`` logger receives meanwhile (they still reach its handlers)."""

    class Keep(logging.Handler):
        def emit(self, record):
            kept.append(record.getMessage())

    kept: list[str] = []
    handler = Keep(logging.INFO)
    log.addHandler(handler)
    try:
        yield kept
    finally:
        log.removeHandler(handler)


class Result:
    """The outcome of one evaluation: ``task``, ``headline`` numbers, the official table, the JSON content.

    ``to_dict()`` is exactly what ``prt evaluate --json`` writes (NaN as null), per-item statistics
    under ``"items"`` included; ``render()`` the table ``prt evaluate`` prints.
    """

    def __init__(self, task: str, data: dict, *, notes: Sequence[str] = (), inputs: Mapping[str, Any] | None = None,
                 options: Mapping[str, Any] | None = None, session: Session | None = None):
        self.task = task
        self._data = data
        #: the evaluation's session (GT and per-item statistics): what ``subset`` recomputes from
        self._session = session
        #: the notes (warnings, counts) the evaluation sent to the ``prt`` logger
        self.notes = list(notes)
        self._inputs = dict(inputs or {})
        self._options = dict(options or {})

    @property
    def options(self) -> dict[str, Any]:
        """The options the task ran with (every option it takes, defaults included)."""
        return dict(self._options)

    @property
    def _task(self) -> Task:
        return get_task(self.task)

    @property
    def headline(self) -> dict[str, float]:
        """The numbers of a leaderboard row: ``{metric: value}``, the task's primary metric first
        (percent, as papers report them; NaN where the metric is undefined)."""
        t = self._task
        if t.headline is None:
            return {}
        h = {k: float("nan") if v is None else float(v) for k, v in t.headline(self._data).items()}
        return {t.primary: h[t.primary], **h} if t.primary in h else h

    def __getitem__(self, metric: str) -> float:
        return self.headline[metric]

    @property
    def payload(self) -> Payload:
        """The result typed: its family's dataclass (``evaluators.payloads``), the numbers as fields (e.g.
        ``payload.ap_joint``, ``payload.stats["AP"]``), with the headline, the per-item statistics, ``render``,
        ``to_dict`` and ``resample``."""
        from .evaluators.payloads import payload_of

        return payload_of(self._task, self._data)

    @property
    def items(self) -> list:
        """The keys of the items ``subset`` chooses from, in the GT's order: sequence names (PoseTrack,
        PoseTrack21), image ids (COCO), image or person indices (MPII multi, single), people as
        ``sequence/frame/person`` (pckh)."""
        return self._evaluated().subset_keys()

    def subset(self, items) -> Result:
        """The result over the chosen items only (see ``items``), equal bit for bit to evaluating a GT and
        predictions that hold only them (in the GT's order: the official tie order included)."""
        session = self._evaluated()
        with _notes() as notes, no_gc():
            data = session.compute(only=list(items))
        return Result(self.task, data, notes=notes, options=self._options, session=session)

    def _evaluated(self) -> Session:
        if self._session is None:
            raise ConfigError("this result holds no evaluation session (a stored result, or several predictions "
                              "compared): subset needs the result of evaluate() or Evaluator.compute()")
        return self._session

    def to_dict(self) -> dict:
        """The content ``prt evaluate --json`` writes: plain JSON data (NaN as None)."""
        import orjson

        from .io import dumps_json

        return orjson.loads(dumps_json(self._data))

    def to_json(self, indent: bool = False) -> bytes:
        """:meth:`to_dict` as JSON bytes, what ``prt evaluate --json`` writes, serialized once (the dict of a
        large evaluation holds millions of numbers: no round trip through Python objects)."""
        from .io import dumps_json

        return dumps_json(self._data, indent=indent)

    def to_frame(self) -> pandas.DataFrame:
        """One row per joint, joint group and total (column ``kind``: joint, group, total), one column per
        metric the task reports per joint (``Task.breakdown``)."""
        import pandas as pd

        rows = breakdown(self._task, self._data)
        return pd.DataFrame(rows).set_index("name")

    def render(self, fmt: str = "text") -> str:
        """The result as text: ``text`` is the official kit's table (what ``prt evaluate`` prints); ``markdown``
        and ``latex`` (booktabs) are the per-joint and group table of :meth:`to_frame`, one decimal."""
        if fmt == "text":
            return self._task.render(self._data)
        if fmt not in ("markdown", "latex"):
            raise ConfigError(f"unknown format {fmt!r}", fix="use text, markdown or latex")
        from tabulate import tabulate

        rows = breakdown(self._task, self._data)
        metrics = [k for k in rows[0] if k not in ("name", "kind")] if rows else []
        body = [[r["name"], *(_cell(r.get(m)) for m in metrics)] for r in rows]
        if fmt == "markdown":
            return tabulate(body, headers=["", *metrics], tablefmt="pipe", disable_numparse=True,
                            colalign=("left", *("right",) * len(metrics)))  # numbers right-aligned
        from .render.latex import escape as latex_escape

        head = " & ".join(["", *(latex_escape(m) for m in metrics)]) + r" \\"
        lines = [r"\begin{tabular}{l" + "r" * len(metrics) + "}", r"\toprule", head, r"\midrule"]
        lines += [" & ".join([latex_escape(b[0]), *b[1:]]) + r" \\" for b in body]
        lines += [r"\bottomrule", r"\end{tabular}"]
        return "\n".join(lines)

    def save(self, name: str, *, results: PathLike | None = None, benchmark: str | None = None,
             base: str | None = None, overwrite: bool = False) -> Path:
        """Store the result under method ``name`` in the results store (``results``, else ``$PRT_RESULTS``,
        else ``./prt-results``) for ``prt leaderboard``, as ``prt evaluate --save NAME`` does; returns the
        file. Inputs given in memory are recorded by the SHA-256 of their JSON content."""
        from .results.store import store_evaluation

        if not self._inputs:
            raise ConfigError("--save stores one result: give exactly one prediction")
        return store_evaluation(name, self.task, self._data, self._inputs, self._options, results=results,
                                benchmark=benchmark, base=base, overwrite=overwrite)

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v:.2f}" for k, v in list(self.headline.items())[:4])
        return f"Result(task={self.task!r}, {shown})"


def _cell(v) -> str:
    return "" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.1f}"


def breakdown(task: Task, data: dict) -> list[dict]:
    """Rows of the per-joint table: the task's own (``Task.breakdown``), else the primary metric per joint
    (``per_joint``) and the headline's groups."""
    if task.breakdown is not None:
        return task.breakdown(data)
    rows: list[dict] = []
    metric = task.primary or "value"
    if task.per_joint is not None:
        rows += [{"name": j, "kind": "joint", metric: v} for j, v in task.per_joint(data).items()]
    if task.headline is not None:
        for k, v in task.headline(data).items():
            rows.append({"name": k, "kind": "total" if k == task.primary else "group", metric: v})
    return rows


# ----------------------------------------------------------------------------- evaluation
def _task_of(gt: Any, task: str | None) -> Task:
    if task is not None:
        return get_task(task)
    from .evaluators import task_for_gt, task_for_object

    name, what = task_for_gt(Path(gt)) if _is_path(gt) else task_for_object(gt)
    log.info("no task given: the GT is %s, so task=%r", what, name)
    return get_task(name)


def _preds(pred: Any) -> list | None:
    """The prediction paths when ``pred`` is one path or a list of paths (MPII single compares several);
    None when it is held in memory."""
    if _is_path(pred):
        return [Path(pred)]
    if isinstance(pred, (list, tuple)) and pred and all(_is_path(p) for p in pred):
        return [Path(p) for p in pred]
    return None


def evaluate(gt: Any, pred: Any, task: str | None = None, **options: Any) -> Result:
    """Evaluate predictions against ground truth, as ``prt evaluate --gt GT --pred PRED``.

    ``gt`` and ``pred`` are paths (what the CLI takes) or the same content in memory: a PoseTrack
    sequence as its parsed JSON (2017 or 2018 layout) or a benchmark as ``{sequence file name: parsed
    JSON}``; COCO GT as the parsed dict and results as the list of result dicts; MPII single-person
    predictions as an N x 16 x 2|3 array (GT a path or its arrays, e.g. ``{"part": ..., "normalize": ...}``).
    ``task``: as ``--task`` (default: from the GT). ``options``: the task's options (``min_score=0.7``,
    ``protocol="corrected"``, ``workers=2``, ...). Raises ``InputError`` (a ``ValueError``) naming the file
    or item and field of bad input, ``ConfigError`` for options that do not fit.
    """
    t, kwargs = _task_of(gt, task).resolve(options)
    return evaluate_checked(t, kwargs, gt, pred)


def evaluate_checked(t: Task, kwargs: dict[str, Any], gt: Any, pred: Any) -> Result:
    """:func:`evaluate` with the task and options ``Task.resolve`` gave (the command line checks them before it
    looks for any file, and not again)."""
    with _notes() as notes, no_gc():
        preds = _preds(pred)
        data, session = t.evaluate(Path(gt) if _is_path(gt) else gt, preds if preds is not None else pred, kwargs)
    if preds is not None:
        inputs: dict[str, Any] = {"gt": Path(gt), "pred": preds[0]} if len(preds) == 1 else {}
    else:
        inputs = {"gt": gt, "pred": pred}
    return Result(t.name, data, notes=notes, inputs=inputs, options=kwargs, session=session)


class Evaluator:
    """Streaming evaluation: the ground truth is read and checked once; predictions come in parts.

    ``update(part)`` takes some of the predictions: PoseTrack sequences (``{sequence file name: parsed
    JSON}``, or a path), a batch of COCO result dicts, or a slice of MPII people (``(indices, array)``,
    or the whole N x 16 x 2|3 array). ``compute()`` gives the :class:`Result` of everything given since
    the start or the last ``reset()``, equal bit for bit to :func:`evaluate` on the union. An item (a
    sequence, image or person) given again counts once when it is identical, and is an error otherwise.

    ``state()`` is a plain picklable value of what was given (per-item statistics); ``merge(states)`` adds
    other evaluators' states (other processes, DDP ranks): any partition of the items, merged, gives the
    numbers of one evaluator fed everything, bit for bit.

    >>> ev = Evaluator(gt, task="tracking")          # doctest: +SKIP
    >>> for batch in batches: ev.update(batch)       # doctest: +SKIP
    >>> ev.compute().headline["MOTA"]                # doctest: +SKIP
    """

    def __init__(self, gt: Any, task: str | None = None, **options: Any):
        t, self._options = _task_of(gt, task).resolve(options)
        self.task = t.name
        with _notes() as notes, no_gc():
            self._session = t.open_checked(gt, self._options)
            self._session.flush_notes()
        self._gt = gt
        self._gt_notes = notes
        self._notes: list[str] = []

    def update(self, part: Any) -> Evaluator:
        """Add predictions (see the class); returns the evaluator, so calls chain."""
        with _notes() as notes, no_gc():
            self._session.update(part)
            self._session.flush_notes()
        self._notes += notes
        return self

    def state(self) -> dict:
        """What was given so far as a plain picklable value (see ``merge``)."""
        return self._session.state()

    def merge(self, states) -> Evaluator:
        """Add other evaluators' states (same task, options and GT); returns the evaluator."""
        with no_gc():
            self._session.merge(states)
        return self

    def compute(self) -> Result:
        """The result of every part given so far (the evaluator keeps them: compute again after more)."""
        with _notes() as notes, no_gc():
            data = self._session.compute()
        return Result(self.task, data, notes=[*self._gt_notes, *self._notes, *notes],
                      inputs={"gt": self._gt, "pred": self._session.predictions()}, options=self._options,
                      session=self._session.snapshot())

    def reset(self) -> None:
        """Forget the predictions given so far; the ground truth stays loaded."""
        self._session.reset()
        self._notes = []


# ----------------------------------------------------------------------------- mirrors of the commands
def load(source: Any, format: str | None = None) -> PoseSet:
    """The canonical form (:class:`~poseval_refine.poses.PoseSet`) of a file, folder or in-memory object
    (parsed PoseTrack JSON, ``{sequence file name: parsed JSON}``, a list of COCO result dicts, an MPII
    N x 16 x 2|3 array), as prt's adapters read it. ``format``: a format name of ``prt convert`` (default:
    detected)."""
    from .formats import read_data, read_poses

    if _is_path(source):
        return read_poses(source, format)
    return read_data(source, format)


def refine(pred: Any, images: PathLike, checkpoint: PathLike, *, format: str | None = None,
           calibrate_on: Any = None, **options: Any) -> PoseSet:
    """Refine every person of ``pred`` (a path, an in-memory object or a PoseSet) with a trained PoseRefiner,
    as ``prt refine``; returns the refined PoseSet (write it with ``poseval_refine.formats.write_poses``).
    The keyword arguments are ``prt refine``'s options (declared once, in ``refine_options.py``: the
    signature lists them); an unknown one or a bad value is a ConfigError naming it. ``calibrate_on`` (GT of
    some of the frames: a path, an in-memory object or a PoseSet) chooses the keep rules on the people it
    labels, and the refined set's ``meta["prt_refine"]`` records the checkpoint, the rules and that choice."""
    from .poses import PoseSet as _PoseSet
    from .refine_options import refine_arguments
    from .refiner.run import refine_poses

    refine_options, run = refine_arguments(options)
    poses = pred if isinstance(pred, _PoseSet) else load(pred, format)
    gt = None
    if calibrate_on is not None:
        gt = calibrate_on if isinstance(calibrate_on, _PoseSet) else load(calibrate_on)
    return refine_poses(poses, Path(images), Path(checkpoint), refine_options, calibrate_on=gt,
                        calibrate_name=str(calibrate_on) if isinstance(calibrate_on, (str, Path)) else "GT", **run)


def _refine_signature() -> inspect.Signature:
    """``refine``'s signature with every declared option as a keyword (``help(prt.refine)``, IDEs)."""
    from .refine_options import REFINE_OPTIONS, RUN_OPTIONS

    sig = inspect.signature(refine)
    params = [p for p in sig.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
    params += [inspect.Parameter(o.name, inspect.Parameter.KEYWORD_ONLY, default=o.default,
                                 annotation=o.type.__name__ if o.default is not None else f"{o.type.__name__} | None")
               for o in (*RUN_OPTIONS.values(), *REFINE_OPTIONS.values())]
    return sig.replace(parameters=params)


refine.__signature__ = _refine_signature()


def train(out: PathLike, *, steps: int | None = None, minutes: float | None = None, dataset: str = "synthetic",
          profile: str = "auto", transforms: str = "t1,t2,t3,t4", device: str | None = None, **config: Any) -> dict:
    """Train a PoseRefiner into the checkpoint ``out``, as ``prt train`` (give ``steps`` or ``minutes``):
    training, then the calibration step that stores the keep rules in the checkpoint. ``config``:
    ``prt train``'s other options as keywords (``arch``, ``width``, ``annotations``, ``images``, ``holdout``,
    ``init_from``, ``calibration_scenes``, ``seed``, ...). Returns the training summary (steps, seconds,
    calibration, checkpoint)."""
    from .refiner.calibrate import calibrate_checkpoint
    from .refiner.device import pick_device
    from .refiner.train import TrainConfig, choose_profile
    from .refiner.train import train as _train

    if steps is None and minutes is None:
        raise ConfigError("give a budget: steps=N or minutes=M")
    cfg = TrainConfig.from_profile(choose_profile(profile, pick_device(device)), Path(out), transforms,
                                   dataset=dataset, steps=steps, minutes=minutes, device=device, **config)
    result = _train(cfg)
    result["calibration"] = None
    if result["rank"] == 0 and cfg.calibration_scenes > 0:
        result["calibration"] = calibrate_checkpoint(out, scenes=cfg.calibration_scenes,
                                                     seconds=result["calibration_seconds"], device=device)
    return result


def leaderboard(task: str | None = None, benchmark: str | None = None, *, results: PathLike | None = None,
                resamples: int = 1000, seed: int = 0, quoted: bool = True, fmt: str | None = None
                ) -> list[Board] | str:
    """The boards of ``prt leaderboard``: every stored, shipped and quoted result ranked per benchmark and
    task, with bootstrap intervals. ``fmt`` (text, markdown, latex, csv, json, html): the rendered page
    instead of the boards."""
    from .results.board import build_boards
    from .results.store import load_all

    if task is not None:
        get_task(task)
    boards = build_boards(load_all(results), task=task, benchmark=benchmark, resamples=resamples, seed=seed,
                          quoted=quoted)
    if fmt is None:
        return boards
    if fmt == "html":
        from .render.html import render_page

        return render_page(boards)
    from .render.leaderboard import RENDERERS

    if fmt not in RENDERERS:
        raise ConfigError(f"unknown format {fmt!r}", fix=f"use one of: {', '.join([*RENDERERS, 'html'])}")
    return RENDERERS[fmt](boards)

