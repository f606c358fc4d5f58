"""Long fuzzing campaign over every readable format: how many cases ran, how many went wrong.

    python benchmarks/fuzz_readers.py [--cases 2000] [--seed 0] [--readers mpii,openpose] [--show 3]

Each case mutates one file of a valid case of one reader (``tests/support/fuzzing.py``: drop, retype,
duplicate, truncate, wrap/unwrap, NaN/inf/huge values, reshaped or retyped arrays, damaged bytes)
and runs the ``prt`` command that reads it; 30% of the cases also give it an output path drawn from
``OUTPUT_KINDS`` (``--json``/``--plot``/``OUT``: a new file, an existing folder, a trailing separator, a
missing folder, a file used as a folder; ``--save --results`` naming a file). A case is *unexpected* when it
raises anything but prt's own error, prints a Python warning, exits with another code than 0 or 2, prints
other than one ``prt: error:`` message, changes an input, leaves output behind after an error, accepts an
output path it must refuse, or makes a folder it was not asked to.
Cases are drawn by hypothesis (or, with ``--engine random``, numpy's generator) from ``--seed``
(reproducible); ``--cases`` is per reader.
Prints one row per reader (cases, results, clear errors and how many of them lack a ``fix:`` line,
unexpected) and the first ``--show`` unexpected cases of each kind. Exit status 1 if any case was unexpected.
"""

from __future__ import annotations

import argparse
import collections
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", type=int, default=2000, help="cases per reader")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--readers", default="", help="comma-separated reader names (default: all)")
    ap.add_argument("--show", type=int, default=3, help="unexpected cases shown per kind")
    ap.add_argument("--engine", choices=["hypothesis", "random"], default="hypothesis",
                    help="who draws the mutations: hypothesis (as the test suite) or numpy's uniform generator")
    args = ap.parse_args()

    from tests.support.fuzzing import READERS

    names = [n for n in args.readers.split(",") if n] or sorted(READERS)
    unknown = set(names) - set(READERS)
    if unknown:
        ap.error(f"unknown readers {sorted(unknown)}; known: {', '.join(sorted(READERS))}")
    rows, reports = [], []
    t0 = time.perf_counter()
    for name in names:
        t = time.perf_counter()
        counts, report = campaign(READERS[name], args.cases, args.seed, args.show, args.engine)
        reports.append(report)
        rows.append((name, counts["cases"], counts["result"], counts["error"], counts["nofix"], counts["unexpected"],
                     counts["output"]))
        print(f"{name:20s} {counts['cases']:7d} cases ({counts['output']} with an output path)  {counts['result']:6d} "
              f"results  {counts['error']:6d} clear errors ({counts['nofix']} without fix)  "
              f"{counts['unexpected']:5d} unexpected  ({time.perf_counter() - t:.0f} s)", flush=True)
    total = [sum(r[i] for r in rows) for i in range(1, 7)]
    print(f"{'total':20s} {total[0]:7d} cases ({total[5]} with an output path)  {total[1]:6d} results  {total[2]:6d} "
          f"clear errors ({total[3]} without fix)  {total[4]:5d} unexpected  ({time.perf_counter() - t0:.0f} s, "
          f"{args.engine}, seed {args.seed})")
    for report in reports:
        if report:
            print("\n" + report)
    return 1 if total[4] else 0


def campaign(reader, cases: int, seed_value: int, show: int, engine: str) -> tuple[collections.Counter, str]:
    """Run ``cases`` drawn cases of one reader; count the outcomes and describe a few."""
    from hypothesis import HealthCheck, given, seed, settings
    from hypothesis import strategies as st

    from tests.support.fuzzing import Draw, describe, exception_class, run_case

    counts = collections.Counter()
    kinds: dict[str, list[str]] = collections.defaultdict(list)
    nofix: list[str] = []

    def one(draw):
        o = run_case(reader, draw)
        counts["cases"] += 1
        counts["output"] += any(m.startswith("output: ") for m in o.mutations)
        if o.unexpected:
            counts["unexpected"] += 1
            kinds[exception_class(o)].append(describe(o))
        elif o.code == 0:
            counts["result"] += 1
        else:
            counts["error"] += 1
            if "\n  fix: " not in o.stderr:
                counts["nofix"] += 1
                nofix.append(o.stderr.strip())

    if engine == "random":
        import numpy as np

        rng = np.random.default_rng([seed_value, sum(map(ord, reader.name))])
        for _ in range(cases):
            one(Draw(rng=rng))
    else:
        @seed(seed_value)
        @settings(max_examples=cases, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        @given(st.data())
        def drawn(data):
            one(Draw(data=data))

        drawn()
    lines = []
    for kind, texts in sorted(kinds.items(), key=lambda kv: -len(kv[1])):
        lines.append(f"{len(texts)} x {reader.name}: {kind}")
        lines += ["  " + t.replace("\n", "\n  ") for t in texts[:show]]
    if nofix:
        lines.append(f"{len(nofix)} x {reader.name}: an error without a fix line, e.g.")
        lines += ["  " + t.replace("\n", "\n  ") for t in nofix[:show]]
    return counts, "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
