"""Time `prt leaderboard` and `prt compare` as a user runs them, beside a store of N MPII validation results.

    PRT_DATA=../shared/data python benchmarks/leaderboard.py --many 1000 [--repeat 3] [--uncached]

1. Fills a fresh store with N MPII validation results, each evaluated with ``poseval_refine.Evaluator`` and
   saved with ``Result.save`` (what ``prt evaluate --save`` does): the released predictions of six models
   (Newell twice, bearpaw 1 and 2 stacks, PRM, IEF) with Gaussian noise of 0 to 4 px, so the board spreads
   over some 20 PCKh points with clusters of near-identical results (many ties). Prints the save time of the
   first results and of the last ones (the evaluation itself not included).
2. Whole ``prt leaderboard --task single`` processes, text and ``--format html``: the first render after
   the saves (its per-result entries computed at save time, read from prt's cache), then warm renders
   (minimum of ``--repeat``); each with the process's peak resident memory (ru_maxrss).
3. ``--uncached``: the same render with an empty cache (every entry computed: what a store filled by an
   older prt costs once).
4. Whole ``prt compare A B`` processes beside the N results (minimum of ``--repeat``).

The cache (``PRT_CACHE``) is a fresh temporary folder: the user's is never touched. The machine's load
average is printed: figures taken while other work runs are upper bounds.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

#: runs prt's CLI, then prints the process's peak resident memory (kB on Linux) on stderr's last line
RUN = ("import resource, sys\nfrom poseval_refine.cli import main\nrc = main(sys.argv[1:])\n"
       "print('maxrss', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\nsys.exit(rc)")


def run(args: list[str], env: dict) -> tuple[float, float]:
    """Wall seconds and peak memory (MB) of one whole prt process."""
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, "-c", RUN, *args], env=env, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit(f"prt {' '.join(args)} failed:\n{p.stderr[-2000:]}")
    rss = int(p.stderr.strip().splitlines()[-1].split()[1]) / 1024
    return wall, rss


MODELS = [("newell.h5", "preds"), ("newell-valid-ours.h5", "preds"), ("bearpaw-hg_s1_b1.mat", "preds"),
          ("bearpaw-hg_s2_b1.mat", "preds"), ("pyranet-prm.h5", "preds"), ("ief-val_pred.mat", "poses")]


def _predictions(data: Path) -> list[np.ndarray]:
    import h5py
    import scipy.io

    out = []
    for name, key in MODELS:
        path = data / "mpii_val" / name
        if path.suffix == ".h5":
            with h5py.File(path) as f:
                a = np.asarray(f[key], dtype=np.float64)
        else:
            a = np.asarray(scipy.io.loadmat(path)[key], dtype=np.float64)
        out.append(a[:, :16, :2])
    return out


def fill(store: Path, n: int, data: Path) -> list[float]:
    """N results saved with Result.save; the seconds each save took."""
    import poseval_refine as prt

    gt = data / "mpii_val" / "valid.h5"
    preds = _predictions(data)
    rng = np.random.default_rng(2026)
    evaluator = prt.Evaluator(gt, task="single")  # the GT read once
    saves = []
    for s in range(n):
        base = preds[s % len(preds)]
        noise = (s // len(preds)) % 9 * 0.5  # 0, 0.5, ..., 4 px
        pred = base + rng.normal(0, noise, base.shape) if noise else base + rng.normal(0, 1e-3, base.shape)
        result = evaluator.reset() or evaluator.update(pred).compute()
        t0 = time.perf_counter()
        result.save(f"net-{s:04d}", results=store, benchmark="mpii-val")
        saves.append(time.perf_counter() - t0)
        if (s + 1) % 100 == 0:
            print(f"  saved {s + 1} results", file=sys.stderr)
    return saves


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--many", type=int, default=1000, help="results in the store (default 1000)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--uncached", action="store_true", help="also render once with an empty cache")
    ap.add_argument("--store", type=Path, default=None,
                    help="a store filled before (by this script): its entries are computed as saving computes them "
                         "(results.cache.warm, timed), then the renders; the fill is skipped")
    args = ap.parse_args()
    data = Path(os.environ.get("PRT_DATA", "../shared/data"))
    if not (data / "mpii_val").is_dir():
        raise SystemExit(f"{data / 'mpii_val'} not found: set PRT_DATA")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp:
        store, cache = Path(tmp) / "store", Path(tmp) / "cache"
        os.environ["PRT_CACHE"] = str(cache)
        env = {**os.environ, "PRT_CACHE": str(cache)}
        t0 = time.perf_counter()
        if args.store is None:
            saves = fill(store, args.many, data)
            k = min(10, len(saves))
            print(f"filled a store of {args.many} MPII val results in {time.perf_counter() - t0:.0f} s; Result.save: "
                  f"first {saves[0]:.3f} s, median of the first {k} {np.median(saves[:k]):.3f} s, of the last {k} "
                  f"{np.median(saves[-k:]):.3f} s, the last {saves[-1]:.3f} s")
        else:
            from poseval_refine.results.cache import warm
            from poseval_refine.results.store import load_dir

            shutil.copytree(args.store, store)
            stored = load_dir(store)
            args.many = len(stored)
            for r in stored:
                warm(r)
            print(f"copied a store of {args.many} results; their entries computed as saving does in "
                  f"{time.perf_counter() - t0:.0f} s")
        board = ["leaderboard", "--task", "single", "--results", str(store)]
        for fmt in ("text", "html"):
            wall, rss = run([*board, "--format", fmt], env)
            print(f"prt leaderboard --task single --format {fmt:4s}: first render after saving {wall:5.2f} s, "
                  f"peak memory {rss:5.0f} MB")
        for fmt in ("text", "html"):
            runs = [run([*board, "--format", fmt], env) for _ in range(args.repeat)]
            print(f"prt leaderboard --task single --format {fmt:4s}: warm min {min(w for w, _ in runs):5.2f} s, "
                  f"median {np.median([w for w, _ in runs]):5.2f} s, peak memory {max(r for _, r in runs):5.0f} MB "
                  f"({args.repeat} runs)")
        if args.uncached:
            wall, rss = run(board, {**env, "PRT_CACHE": str(Path(tmp) / "empty-cache")})
            print(f"prt leaderboard --task single (text) with an empty cache: {wall:5.2f} s, peak memory {rss:5.0f} MB")
        runs = [run(["compare", "net-0001", "net-0004", "--results", str(store)], env)
                for _ in range(args.repeat)]
        print(f"prt compare net-0001 net-0004 beside {args.many} results: min {min(w for w, _ in runs):.2f} s, "
              f"median {np.median([w for w, _ in runs]):.2f} s, peak memory {max(r for _, r in runs):.0f} MB "
              f"({args.repeat} runs)")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
