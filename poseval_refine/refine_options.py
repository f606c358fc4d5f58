"""The refinement options, declared once (issue 26): ``prt refine``'s flags, ``prt evaluate --refined``'s
flags (``--refine-min-score`` for the refiner's tau, since evaluation has a ``--min-score`` of its own), the
keyword arguments of ``poseval_refine.refine`` and the fields of :class:`RefineOptions` all come from
:data:`REFINE_OPTIONS` and :data:`RUN_OPTIONS`; their values are checked in one place (:meth:`Option.check`).

Official semantics by default (human-pose-refiner); prt's departures are named options. This module imports
no torch, and it is not in the ``refiner`` package (whose import sets OpenMP's wait policy for torch):
``prt evaluate`` builds its flags from it and ``poseval_refine.refine``'s signature lists them, without
loading or configuring anything of the network.
"""

from __future__ import annotations

from dataclasses import field, fields, make_dataclass
from typing import Any

from .options import Option, check_names

#: the scores a recovered joint can get
RECOVERED_SCORES = ("input", "refiner")
#: where a person's scale comes from
SCALE_SOURCES = ("pose", "head-box")

#: how refined joints are written back (the fields of :class:`RefineOptions`, in this order); the defaults are
#: the official code's semantics
REFINE_OPTIONS: dict[str, Option] = {o.name: o for o in (
    Option("min_score", "Drop joints whose REFINER confidence is <= T (official: 0 for mAP, tau = 0.7 for "
           "tracking). Default: keep every joint.", float),
    Option("recover_missing", "Official: predict every joint, also those the input lacks. --input-joints-only "
           "(prt's departure) refines only the joints the input has.", bool, True,
           cli="--recover-missing/--input-joints-only"),
    Option("recovered_score", "Score of a recovered joint. input (official): the input's score for that slot, "
           "else 0; refiner (prt's departure): the refiner's confidence.", str, "input",
           choices_from=RECOVERED_SCORES),
    # a joint whose refiner confidence is below this keeps its input position; None: the checkpoint's value
    Option("keep_below", "prt's departure: a joint whose refiner confidence is below C keeps its input position. "
           "Default: the value calibrated into the checkpoint on held-out scenes (`prt train` prints it); 0 moves "
           "every joint, as the official code.", float, None, minimum=0, maximum=1),
    # a joint moved by less than this many head sizes keeps its input position; None: the checkpoint's value
    Option("min_move", "prt's departure: a joint the refiner moves by less than R head sizes (estimated from the "
           "input pose) keeps its input position. Default: the value calibrated into the checkpoint; 0 moves "
           "every joint, as the official code.", float, None, minimum=0),
    Option("scale_from", "Person scale: pose = from the input pose alone (robust to displaced joints); head-box = "
           "from the prediction file's head boxes where present (a method's output normally has none; GT boxes "
           "would leak GT).", str, "pose", choices_from=SCALE_SOURCES),
)}

#: how a refinement runs (``prt refine`` and ``poseval_refine.refine``; ``prt evaluate --refined`` uses the
#: defaults): the same numbers whatever they are, flip aside
RUN_OPTIONS: dict[str, Option] = {o.name: o for o in (
    Option("batch_size", "People per network batch.", int, 16, minimum=1),
    Option("workers", "DataLoader workers.", int, 0, minimum=0),
    Option("flip", "Skip flip averaging (faster).", bool, True, cli="--no-flip"),
    Option("device", "cpu, cuda, cuda:N or mps (default: the first available of cuda, mps, cpu).", str, None),
)}


def _check_fields(self) -> None:
    """Every field checked against its declaration: one ConfigError naming the option."""
    for f in fields(self):
        setattr(self, f.name, REFINE_OPTIONS[f.name].check(getattr(self, f.name)))


#: how refined joints are written back: a dataclass whose fields are :data:`REFINE_OPTIONS` (made from it, so
#: the two cannot differ), checked when made
RefineOptions = make_dataclass(
    "RefineOptions", [(o.name, Any, field(default=o.default)) for o in REFINE_OPTIONS.values()],
    namespace={"__post_init__": _check_fields,
               "__doc__": "How refined joints are written back (``REFINE_OPTIONS``); the defaults are the "
                          "official code's semantics. Values are checked when it is made."})
RefineOptions.__module__ = __name__


def refine_arguments(given: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """(RefineOptions, the run options checked) of ``poseval_refine.refine``'s keyword arguments: an unknown
    name or a bad value is one ConfigError naming it."""
    check_names(given, {**REFINE_OPTIONS, **RUN_OPTIONS}, "refine()")
    options = RefineOptions(**{k: v for k, v in given.items() if k in REFINE_OPTIONS})
    run = {k: o.check(given.get(k, o.default)) for k, o in RUN_OPTIONS.items()}
    return options, run
