"""Time `prt leaderboard` as a user runs it: whole processes, intervals computed afresh each time.

    PRT_DATA=../shared/data python benchmarks/leaderboard.py [--repeat 5] [--resamples 1000]

Wall time of whole `prt leaderboard` processes (import, reading the results, 1000 resamples of every
recomputed row, the shape notes, rendering), text and `--format html`, minimum over ``--repeat``
interleaved runs: on the shipped results alone (an empty store), then with a store holding the Bonn
test set's pose and tracking results (saved first with `prt evaluate --save`; needs PRT_DATA).
The bootstrap of one result alone: ``benchmarks/bootstrap.py``.

The machine's load average is printed: figures taken while other work runs are upper bounds.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def _prt(*args: str) -> list[str]:
    return [sys.executable, "-c", "import sys; from poseval_refine.cli import main; sys.exit(main())", *args]


def wall(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def whole_process(stores: dict[str, Path], repeat: int, resamples: int) -> None:
    runs = {(label, fmt): [] for label in stores for fmt in ("text", "html")}
    for _ in range(repeat):  # interleaved, so a burst of load hits every configuration alike
        for (label, fmt), times in runs.items():
            times.append(wall(_prt("leaderboard", "--results", str(stores[label]), "--format", fmt,
                                   "--resamples", str(resamples))))
    for (label, fmt), times in runs.items():
        print(f"prt leaderboard --format {fmt:4s} {label:38s} min {min(times):5.2f} s  "
              f"median {np.median(times):5.2f} s  ({repeat} runs)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--resamples", type=int, default=1000)
    args = ap.parse_args()
    data = Path(os.environ.get("PRT_DATA", "../shared/data"))
    bonn = data / "posetrack_cases" / "bonn_test"
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp:
        empty, store = Path(tmp) / "empty", Path(tmp) / "bonn"
        stores = {"shipped results": empty}
        if bonn.is_dir():
            for task in ("pose", "tracking"):
                subprocess.run(_prt("evaluate", "--gt", str(bonn / "gt"), "--pred", str(bonn / "pred"), "--task",
                                    task, "--save", "net", "--results", str(store)),
                               check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            stores["shipped + Bonn pose and tracking"] = store
        else:
            print(f"{bonn} not found: the Bonn figures are left out (set PRT_DATA)")
        whole_process(stores, args.repeat, args.resamples)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
