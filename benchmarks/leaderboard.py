"""Time `prt leaderboard` as a user runs it: whole processes, intervals computed afresh each time.

    PRT_DATA=../shared/data python benchmarks/leaderboard.py [--repeat 5] [--resamples 1000]

Wall time of whole `prt leaderboard` processes (import, reading the results, 1000 resamples of every
recomputed row, the shape notes, rendering), text and `--format html`, minimum over ``--repeat``
interleaved runs: on the shipped results alone (an empty store), then with a store holding the Bonn
test set's pose and tracking results (saved first with `prt evaluate --save`; needs PRT_DATA).
The bootstrap of one result alone: ``benchmarks/bootstrap.py``.

``--many N`` adds a store of N near-identical MPII validation results (the released PRM predictions with
0.5 px of Gaussian noise, every tenth with 3 px; saved in-process, needs PRT_DATA) and times, besides the
whole processes, the statistical ties of that board alone (every pair's paired interval: results.ties).

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


def many_results(store: Path, n: int, data: Path) -> None:
    """N near-identical MPII validation results in ``store`` (saved as `prt evaluate --save` does)."""
    import h5py

    from poseval_refine.evaluators import get_task
    from poseval_refine.results.store import make_result, save_result

    root = data / "mpii_val"
    task = get_task("single")
    with h5py.File(root / "pyranet-prm.h5") as f:
        preds = np.asarray(f["preds"], dtype=np.float64)
    (store / "preds").mkdir(parents=True)
    for s in range(n):
        pred = store / "preds" / f"jitter-{s:03d}.h5"
        with h5py.File(pred, "w") as f:
            f["preds"] = preds + np.random.default_rng(100 + s).normal(0, 3.0 if s % 10 == 0 else 0.5, preds.shape)
        save_result(make_result(f"prm-jitter-{s:03d}", "single", task.run(root / "valid.h5", [pred]),
                                benchmark="mpii-val", inputs={"gt": root / "valid.h5", "pred": pred},
                                options={"flavour": "matlab"}, source="user"), store)


def ties_alone(store: Path, repeat: int, resamples: int) -> None:
    """The board's ties (all pairwise paired intervals) timed alone, on the rows as the board resampled them."""
    from poseval_refine.results.board import build_boards
    from poseval_refine.results.store import load_all
    from poseval_refine.results.ties import board_ties

    board = build_boards(load_all(store), benchmark="mpii-val", resamples=resamples)[0]
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        board_ties(board.rows, board.metric)
        times.append(time.perf_counter() - t0)
    k = sum(r.tied_with is not None for r in board.rows)
    print(f"ties of the mpii-val board alone ({k} paired rows, {k * (k - 1) // 2} pairs, {resamples} resamples): "
          f"min {min(times):.3f} s  median {np.median(times):.3f} s  ({repeat} runs)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--resamples", type=int, default=1000)
    ap.add_argument("--many", type=int, default=0, help="also a store of this many near-identical MPII results")
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
        if args.many:
            if (data / "mpii_val").is_dir():
                many = Path(tmp) / "many"
                many_results(many, args.many, data)
                stores[f"shipped + {args.many} near-identical MPII"] = many
            else:
                print(f"{data / 'mpii_val'} not found: --many is left out (set PRT_DATA)")
        whole_process(stores, args.repeat, args.resamples)
        if args.many and (data / "mpii_val").is_dir():
            ties_alone(many, args.repeat, args.resamples)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
