"""Where the time of one ``prt evaluate`` process goes: time per phase, printed as JSON.

    python benchmarks/phases.py [prt evaluate arguments ...]

runs ``prt evaluate ARGS`` in this process with timers around its phases and prints one JSON
object of CPU seconds (``time.process_time``: steadier than wall time on a shared machine) per
phase (exclusive: a phase inside another is not counted twice):

- ``startup``: the interpreter's start, up to the first line of this script;
- ``imports``: importing prt's command line and the ``evaluate`` command (numpy, orjson, ...);
- ``read: bytes + point lists``: reading the files and parsing the point lists (``formats._pointbytes``);
- ``read: documents``: the rest of each document (orjson) and the 2017/2018 readers;
- ``clean``: checks and poseval's cleaning (ignore regions);
- ``distances``, ``AP assignment``, ``MOTA accumulation``, ``statistics (rest)``: the per-sequence
  arithmetic (``metrics.posetrack``, ``metrics.ap``, ``metrics.mota``);
- ``finalize``: pooling the sequences and the AP/MOTA numbers;
- ``other``: everything else (option handling, rendering, writing the JSON).

(``imports`` includes importing the modules these phases live in, which the command would
otherwise import on demand.) Used by ``posetrack_eval.py --phases N``, which repeats it and reports
each phase's minimum; the PoseTrack21 phases are ``posetrack21_eval.py --phases DIR``.
"""

from __future__ import annotations

import time

#: CPU seconds the interpreter spent before this line (process_time counts from the process start)
STARTUP = time.process_time()
clock = time.process_time

import importlib  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402

_totals: dict[str, float] = {}
_stack: list[list] = []  # [phase, start, time spent in inner phases]


def _timed(phase: str, fn):
    def wrapper(*a, **k):
        frame = [phase, clock(), 0.0]
        _stack.append(frame)
        try:
            return fn(*a, **k)
        finally:
            _stack.pop()
            spent = clock() - frame[1]
            _totals[phase] = _totals.get(phase, 0.0) + spent - frame[2]
            if _stack:
                _stack[-1][2] += spent
    wrapper.__wrapped__ = fn
    return wrapper


#: (defining module, function, phase): the function is replaced wherever a loaded prt module holds it
HOOKS = [
    ("poseval_refine.formats.posetrack.reader", "prepare_reads", "read: bytes + point lists"),
    ("poseval_refine.formats._pointbytes", "split_many", "read: bytes + point lists"),
    ("poseval_refine.formats.posetrack.reader", "read_sequence", "read: documents"),
    ("poseval_refine.evaluators.posetrack", "clean_pair", "clean"),
    ("poseval_refine.metrics.posetrack", "sequences_stats", "statistics (rest)"),
    ("poseval_refine.metrics.posetrack", "_frame_distances", "distances"),
    ("poseval_refine.metrics.ap", "assign_poses", "AP assignment"),
    ("poseval_refine.metrics.mota", "accumulate_frames", "MOTA accumulation"),
    ("poseval_refine.evaluators.posetrack", "posetrack_result", "finalize"),
]


def _install_hooks() -> None:
    targets = {}
    for module, attr, phase in HOOKS:
        try:
            fn = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError):
            continue
        targets[id(fn)] = (fn, _timed(phase, fn))
    for name, mod in list(sys.modules.items()):
        if not name.startswith("poseval_refine"):
            continue
        for attr, value in list(vars(mod).items()):
            if id(value) in targets and value is targets[id(value)][0]:
                setattr(mod, attr, targets[id(value)][1])


def main(argv: list[str]) -> None:
    t = clock()
    from poseval_refine import cli

    importlib.import_module("poseval_refine.commands.evaluate")
    _install_hooks()
    imports = clock() - t
    t = clock()
    code = cli.main(["evaluate", *argv])
    total = clock() - t
    if code:
        sys.exit(code)
    out = {"startup": STARTUP, "imports": imports}
    out.update(_totals)
    out["other"] = total - sum(_totals.values())
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1:])
