"""Time whole `prt compare A B` processes and `Result.save` beside 6 and beside 1,000 stored results.

    PRT_DATA=../shared/data python benchmarks/compare_save.py [--many 1000] [--repeat 15] [--saves 11]

1. Two stores: the 6 shipped MPII validation results alone (an empty user store), and a user store of N more
   (``--many``): copies of the shipped results under other names (their real per-item statistics of 2958
   people), written by ``results.store.save_result`` with the store's index as prt keeps it.
2. `prt compare` as a user runs it (a whole ``python -m poseval_refine.cli compare`` process, output to a pipe):
   *cold* (an empty ``PRT_CACHE`` per run: the two results' entries are computed, with numpy) and *warm* (the
   entries cached: the quick path, without numpy or click); median, min and max of ``--repeat`` runs, each run's
   wall time and CPU time (user + system, from the child's rusage). Beside it, in the same conditions:
   ``python -c pass``, ``python -c "import numpy"``, ``python -c "import click"`` (what a process pays before prt
   does anything). The output of a warm run is checked equal to the cold (full path) one.
3. `Result.save` of a fresh MPII evaluation (released predictions plus noise, the evaluation not timed) into an
   empty store (the first result) and into the store of N (the N+1th), interleaved, ``--saves`` of each; medians
   of wall and CPU time; then what of a save grows with the store (listing it, recording a file in its index).

The cache is a temporary folder (the user's is never touched). The machine's load average is printed with every
block: the machine is shared, so figures taken under load are upper bounds; CPU times are less affected.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def timed(cmd: list[str], env: dict) -> tuple[float, float, str]:
    """Wall and CPU seconds of one whole process, and its stdout."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} failed:\n{p.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, p.stdout


def summary(runs: list[tuple[float, float, str]]) -> str:
    walls, cpus = [w for w, _, _ in runs], [c for _, c, _ in runs]
    return (f"wall median {statistics.median(walls):.3f} s (min {min(walls):.3f}, max {max(walls):.3f}), "
            f"CPU median {statistics.median(cpus):.3f} s ({len(runs)} runs)")


def fill(store: Path, n: int) -> None:
    """N copies of the shipped MPII results under other names, saved as prt saves (index included)."""
    from poseval_refine.results.store import load_dir, save_result, shipped_dir

    shipped = [json.loads(p.read_text()) for p in sorted(shipped_dir().glob("*__mpii-val__single.json"))]
    listed = load_dir(shipped_dir(), "shipped")
    for i in range(n):
        d = json.loads(json.dumps(shipped[i % len(shipped)]))
        d["method"], d["source"] = f"net-{i:04d}", "user"
        save_result(d, store, shipped=listed, stored=[])  # (new names: no clash to look for)


def environment(**more: str) -> dict:
    """The processes' environment: PYTHONDONTWRITEBYTECODE left out, so that they run from compiled bytecode as
    an installed prt does (pip compiles on install; without it every process compiles prt's modules again)."""
    return {**{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}, **more}


def compare_block(label: str, args: list[str], store: Path, cache: Path, repeat: int) -> None:
    env = environment(PRT_CACHE=str(cache), PRT_RESULTS=str(store))
    cmd = [sys.executable, "-m", "poseval_refine.cli", "compare", *args]
    timed(cmd, env)  # bytecode written, if it was not
    cold = []
    for _ in range(repeat):
        shutil.rmtree(cache, ignore_errors=True)
        cold.append(timed(cmd, env))
    warm = [timed(cmd, env) for _ in range(repeat)]
    if any(out != cold[0][2] for _, _, out in cold + warm):
        raise SystemExit(f"prt compare {' '.join(args)}: the quick path's output differs from the full path's")
    print(f"prt compare {' '.join(args)} beside {label}, load {load()}")
    print(f"  cold cache (entries computed): {summary(cold)}")
    print(f"  warm cache (quick path):       {summary(warm)}")


def import_breakdown(args: list[str], store: Path, cache: Path, runs: int = 7) -> None:
    """Where a warm `prt compare` process's imports go: ``python -X importtime``, each module's smallest self time
    over ``runs`` processes (importtime's own overhead included)."""
    env = environment(PRT_CACHE=str(cache), PRT_RESULTS=str(store))
    cmd = [sys.executable, "-X", "importtime", "-m", "poseval_refine.cli", "compare", *args]
    subprocess.run(cmd, env=env, capture_output=True)  # the two entries cached, if they were not
    self_us: dict[str, list[int]] = {}
    site_us, order = [], []
    for _ in range(runs):
        lines = subprocess.run(cmd, env=env, capture_output=True, text=True).stderr.splitlines()
        after_site = False
        for line in lines:
            if not line.startswith("import time:") or "self [us]" in line:
                continue
            own, cumulative, name = (x.strip() for x in line[len("import time:"):].split("|"))
            if name == "site":
                site_us.append(int(cumulative))
                after_site = True
            elif after_site:
                if name not in self_us:
                    order.append(name)
                self_us.setdefault(name, []).append(int(own))
    best = {n: min(v) for n, v in self_us.items()}
    print(f"imports of a warm `prt compare {' '.join(args)}` (-X importtime, smallest of {runs}), load {load()}:")
    print(f"  Python's start (site: the interpreter's own modules, the editable install's finder): "
          f"{min(site_us) / 1000:.1f} ms")
    print(f"  everything imported after it: {sum(best.values()) / 1000:.1f} ms; of that, modules over 1 ms:")
    for name in order:
        if best[name] >= 1000:
            print(f"    {best[name] / 1000:5.1f} ms  {name}")
    loaded = set(best)
    print(f"  numpy imported: {'numpy' in loaded}; click imported: {'click' in loaded}")


def baselines(repeat: int) -> None:
    print(f"bare processes, load {load()}")
    for code in ("pass", "import click", "import numpy"):
        runs = [timed([sys.executable, "-c", code], environment()) for _ in range(repeat)]
        print(f"  python -c {code!r:16s} {summary(runs)}")


def save_block(store: Path, tmp: Path, data: Path, saves: int) -> None:
    import h5py

    import poseval_refine as prt

    with h5py.File(data / "mpii_val" / "newell.h5") as f:
        base = np.asarray(f["preds"], dtype=np.float64)[:, :16, :2]
    evaluator = prt.Evaluator(data / "mpii_val" / "valid.h5", task="single")
    rng = np.random.default_rng(7)
    times: dict[str, list[tuple[float, float]]] = {"first": [], "later": []}
    n0 = len(list(store.glob("*.json")))
    for k in range(saves):
        for which in ("first", "later"):
            result = evaluator.reset() or evaluator.update(base + rng.normal(0, 1.0, base.shape)).compute()
            target = tmp / f"empty-{k}" if which == "first" else store
            t0, c0 = time.perf_counter(), time.process_time()
            result.save(f"new-{k:02d}", results=target, benchmark="mpii-val")
            times[which].append((time.perf_counter() - t0, time.process_time() - c0))
    print(f"Result.save (MPII val, 2958 people; its 1000 resamples included), {saves} of each, interleaved, "
          f"load {load()}")
    for which, label in (("first", "into an empty store (the first result)"),
                         ("later", f"into the store of {n0} (results {n0 + 1} to {n0 + saves})")):
        walls, cpus = [w for w, _ in times[which]], [c for _, c in times[which]]
        print(f"  {label:48s} wall median {statistics.median(walls):.3f} s (min {min(walls):.3f}, max "
              f"{max(walls):.3f}), CPU median {statistics.median(cpus):.3f} s")
    listing(store, tmp / "empty-0")


def listing(store: Path, small: Path, runs: int = 20) -> None:
    """What of a save grows with the store: listing it (as a save does: trusted by names, objects only for its
    own name, the benchmarks from the index's entries; as a board does: every file stat-ed, an object each) and
    recording the new file in the index; the smallest of ``runs``."""
    from poseval_refine.results import index
    from poseval_refine.results.store import listed_benchmarks, load_all

    def best(f) -> float:
        out = []
        for _ in range(runs):
            t0 = time.perf_counter()
            f()
            out.append(time.perf_counter() - t0)
        return min(out) * 1000

    print(f"  what grows with the store (smallest of {runs}, ms), load {load()}:")
    for d in (small, store):
        n = len(list(d.glob("*.json")))
        path = next(d.glob("*.json"))
        raw = path.read_bytes()
        names = best(lambda d=d: (load_all(d, check="names", methods={"new-00"}), listed_benchmarks(d)))
        stat = best(lambda d=d: load_all(d, check="stat"))
        record = best(lambda d=d, path=path, raw=raw: index.record(d, path, raw))
        print(f"    {n:5d} results: listing as a save does {names:6.2f}, as a board does {stat:6.2f}, recording a "
              f"file in the index {record:6.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--many", type=int, default=1000, help="results in the large store (default 1000)")
    ap.add_argument("--repeat", type=int, default=15, help="processes per figure (default 15)")
    ap.add_argument("--saves", type=int, default=11, help="saves into each store (default 11)")
    ap.add_argument("--skip-saves", action="store_true", help="time `prt compare` only")
    args = ap.parse_args()
    data = Path(os.environ.get("PRT_DATA", "../shared/data"))
    if not (data / "mpii_val").is_dir():
        raise SystemExit(f"{data / 'mpii_val'} not found: set PRT_DATA")
    print(f"{os.cpu_count()} cores, load average {load()}")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        os.environ["PRT_CACHE"] = str(tmp / "fill-cache")
        empty, big = tmp / "empty", tmp / "store"
        empty.mkdir()
        t0 = time.perf_counter()
        fill(big, args.many)
        print(f"filled a store of {args.many} results in {time.perf_counter() - t0:.1f} s")
        baselines(args.repeat)
        compare_block("the 6 shipped results", ["newell", "bearpaw-hg-s2"], empty, tmp / "cache", args.repeat)
        compare_block(f"{args.many} stored results (+ 6 shipped)", ["net-0001", "net-0004"], big, tmp / "cache",
                      args.repeat)
        compare_block(f"{args.many} stored results, --format json", ["net-0002", "net-0003", "--format", "json"],
                      big, tmp / "cache", args.repeat)
        import_breakdown(["net-0001", "net-0004"], big, tmp / "cache")
        if not args.skip_saves:
            save_block(big, tmp, data, args.saves)
    print(f"load average after: {load()}")


if __name__ == "__main__":
    main()
