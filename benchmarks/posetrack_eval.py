"""Whole-process time of a PoseTrack evaluation (mAP + tracking), prt against the official poseval.

    python benchmarks/posetrack_eval.py --sizes 60,170 --poseval DIR [--dense | --drift] [--frames 40] [--repeat 5]
                                        [--poseval-repeat 2] [--cpu 0] [--keep DIR] [--motmetrics-repeat N]
                                        [--seeds 0,1,2] [--poseval-python PY] [--phases N]

For every size N, generates an N-sequence x 40-frame benchmark (PoseTrack-2017 GT and
predictions, ``poseval_refine.synthetic.make_benchmark``, seed 0; 60 sequences are 12 MB of
JSON, 170 are 33 MB; with ``--dense`` 5-8 tracks a sequence, many identity switches and ignore
regions: 60 sequences are about 19 MB, 170 about 53 MB; with ``--drift`` the full-precision shape of
issue 29 (``benchmarks/posetrack_drift.py``: 20-40 frames a sequence, 3-7 drifting people, every
number as ``json.dump`` writes numpy's floats; 60 sequences are 17 MB, 170 are 49 MB; ``--frames``
does not apply), then times, as separate processes
pinned to one core (``taskset -c CPU``) and started from scratch (interpreter start-up, imports and reading included):

- ``prt evaluate --task tracking`` (run as ``python -m poseval_refine.cli``), and
- with ``--poseval DIR`` (a checkout of leonid-pishchulin/poseval), ``python -m poseval.evaluate
  --groundTruth gt/ --predictions pred/ --evalPoseTracking --evalPoseEstimation`` run from DIR;
- with ``--motmetrics-repeat N``, ``prt evaluate --task tracking --mot-backend motmetrics`` (the
  CLEAR-MOT counts from motmetrics itself), N times; its numbers are compared with the default's.

prt runs in the benchmark's folder with ``PYTHONPATH`` set to the checkout this script imported (and
``--baseline``'s runs to that one), so the code under test is the one named, not whatever checkout
the current folder holds. Both packages are byte-compiled first (``compileall``), as an installed package is. Runs are
interleaved (prt, poseval, prt, ...) so both see the same machine load; the minimum wall time of
each is reported, with the CPU time (user + sys) of that run, the ratio of the minimum CPU times
(steadier than wall time on a loaded machine) and the load average.
Every number poseval writes is compared with prt's JSON (largest |difference| printed).
``--keep DIR`` keeps (and reuses) the generated benchmarks. ``--seeds`` runs every size for each
seed. ``--poseval-python`` is the interpreter of poseval's own environment (motmetrics 1.4.0,
shapely, ...; default: this one). ``--phases N`` also runs ``benchmarks/phases.py`` N times per
benchmark (interleaved with the rest) and prints the minimum CPU time of each phase of prt's run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GROUPS = [(14, 12, 13), (8, 9), (7, 10), (6, 11), (2, 3), (1, 4), (0, 5)]


#: ``--dense``: more people per frame (5 to 8 tracks a sequence), an identity switch in 1 of 20
#: predicted people, an ignore region in 3 of 10 labeled frames
DENSE = {"people": (5, 8), "switch_rate": 0.05, "region_rate": 0.3}


def generate(root: Path, sequences: int, frames: int, seed: int, dense: bool = False, drift: bool = False) -> None:
    if (root / "gt").is_dir() and (root / "pred").is_dir() and len(list((root / "gt").glob("*.json"))) == sequences:
        return
    root.mkdir(parents=True, exist_ok=True)  # prt's writers make the output folder, never its parents
    if drift:
        sys.path.insert(0, str(Path(__file__).parent))
        from posetrack_drift import write_benchmark

        write_benchmark(root, sequences, seed)
        return
    from poseval_refine.formats.posetrack import write_posetrack
    from poseval_refine.synthetic import make_benchmark

    gt, pred = make_benchmark(sequences, frames, seed=seed, **(DENSE if dense else {}))
    write_posetrack(gt, root / "gt", "posetrack2017", overwrite=True)
    write_posetrack(pred, root / "pred", "posetrack2017", overwrite=True)


def timed(cmd: list[str], cwd: Path | None = None, env: dict | None = None
          ) -> tuple[float, float, subprocess.CompletedProcess]:
    """(wall seconds, CPU seconds of the child, result) of one process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stderr[-3000:]}")
    return wall, cpu, proc


def poseval_numbers(out: Path) -> dict:
    ap = json.loads((out / "total_AP_metrics.json").read_text())
    mot = json.loads((out / "total_MOT_metrics.json").read_text())
    res = {"ap_joint": ap["ap"][:15], "ap_pre": ap["pre"][:15], "ap_rec": ap["rec"][:15]}
    for k in ("mota", "motp", "pre", "rec"):
        res[f"{k}_joint"] = mot[k][:15]
        res[f"{k}_total"] = mot[k][15]
    res["ap_total"] = ap["ap"][15]
    return res


def poseval_numbers_of_prt(result: dict) -> dict:
    """The numbers of a prt result that poseval writes, keyed as :func:`poseval_numbers` keys them."""
    out = {k: result[k] for k in ("ap_joint", "ap_pre", "ap_rec")}
    for k in ("mota", "motp", "pre", "rec"):
        out[f"{k}_joint"], out[f"{k}_total"] = result[f"{k}_joint"], result[f"{k}_total"]
    out["ap_total"] = result["ap_groups"][-1]
    return out


def max_difference(prt: dict, official: dict) -> float:
    import math

    prt = dict(prt, ap_total=prt["ap_groups"][-1])
    worst = 0.0
    for k, v in official.items():
        a, b = (v if isinstance(v, list) else [v]), (prt[k] if isinstance(prt[k], list) else [prt[k]])
        for x, y in zip(a, b):
            x = math.nan if x is None else x
            y = math.nan if y is None else y
            if math.isnan(x) != math.isnan(y):
                return math.inf
            if not math.isnan(x):
                worst = max(worst, abs(x - y))
    return worst


def phase_minima(cmd: list[str], runs: list[dict], env: dict) -> None:
    """Run ``benchmarks/phases.py`` once more (``cmd``) and add its phase times to ``runs``."""
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stderr[-3000:]}")
    runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))


def format_phases(runs: list[dict]) -> str:
    """Each phase's minimum CPU time over the runs, and the sum of the minima."""
    keys = list(runs[0])
    mins = {k: min(r.get(k, 0.0) for r in runs) for k in keys}
    total = sum(mins.values())
    return "; ".join(f"{k} {v * 1000:.0f} ms ({100 * v / total:.0f}%)" for k, v in mins.items()) + \
        f"; sum of minima {total * 1000:.0f} ms (min of {len(runs)} runs, CPU time)"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="60,170", help="numbers of sequences, comma-separated")
    ap.add_argument("--frames", type=int, default=40)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--seeds", default=None, help="several seeds, comma-separated (overrides --seed)")
    ap.add_argument("--repeat", type=int, default=5, help="prt runs per size (the fastest is reported)")
    ap.add_argument("--poseval-repeat", type=int, default=2, help="poseval runs per size (the fastest is reported)")
    ap.add_argument("--poseval", type=Path, help="checkout of the official poseval to time as well")
    ap.add_argument("--poseval-python", default=sys.executable,
                    help="the Python of poseval's environment (default: this one)")
    ap.add_argument("--motmetrics-repeat", type=int, default=0,
                    help="also time prt --mot-backend motmetrics this many times per size")
    ap.add_argument("--cpu", default="0", help="core to pin every run to (taskset -c); '' for no pinning")
    ap.add_argument("--workers", type=int, default=1, help="prt --workers (1: the one-core comparison)")
    ap.add_argument("--keep", type=Path, help="keep (and reuse) the benchmarks here")
    shape = ap.add_mutually_exclusive_group()
    shape.add_argument("--dense", action="store_true",
                       help="dense benchmarks: 5-8 tracks a sequence (about 4 labeled GT people and 5 predicted "
                            "people a frame), identity switches in 1 of 20 predicted people, ignore regions in 3 of "
                            "10 frames")
    shape.add_argument("--drift", action="store_true",
                       help="issue 29's full-precision shape (benchmarks/posetrack_drift.py)")
    ap.add_argument("--baseline", type=Path, default=None, metavar="DIR",
                    help="another checkout of prt (e.g. before a change) to time the same way, interleaved")
    ap.add_argument("--phases", type=int, default=0, metavar="N",
                    help="also run benchmarks/phases.py N times per benchmark and print prt's time per phase")
    args = ap.parse_args()

    pin = ["taskset", "-c", args.cpu] if args.cpu and shutil.which("taskset") else []
    # both tools start from compiled bytecode, as an installed package does (PYTHONDONTWRITEBYTECODE
    # would otherwise make every run recompile whatever has no up-to-date .pyc)
    import poseval_refine

    compile_dirs = [(sys.executable, Path(poseval_refine.__file__).parent)]
    if args.baseline:
        compile_dirs.append((sys.executable, args.baseline / "poseval_refine"))
    if args.poseval:
        compile_dirs.append((args.poseval_python, args.poseval / "poseval"))
    for python, d in compile_dirs:
        subprocess.run([python, "-m", "compileall", "-q", str(d)], check=True)
    tmp = tempfile.TemporaryDirectory()
    base = args.keep or Path(tmp.name)
    rows = []
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, pinned to: {args.cpu or 'none'}; "
          f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    seeds = [int(x) for x in args.seeds.split(",")] if args.seeds else [args.seed]
    kind = "drift_" if args.drift else "dense_" if args.dense else ""
    for seed in seeds:
        for n in [int(x) for x in args.sizes.split(",")]:
            frames = "20-40" if args.drift else args.frames
            root = base / f"posetrack_{kind}{n}x{frames}_seed{seed}"
            generate(root, n, args.frames, seed, args.dense, args.drift)
            rows.append(run_one(args, root, n, frames, seed, pin))
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(json.dumps(rows))
    tmp.cleanup()


def run_one(args, root: Path, n: int, frames, seed: int, pin: list[str]) -> dict:
    """Time prt (and poseval, motmetrics, the phases) on one generated benchmark; print its line."""
    size_mb = sum(p.stat().st_size for d in ("gt", "pred") for p in (root / d).glob("*.json")) / 1e6
    out_json = root / "prt_result.json"
    evaluate_args = ["--gt", str(root / "gt"), "--pred", str(root / "pred"), "--task", "tracking",
                     "--workers", str(args.workers), "-q"]
    prt_cmd = pin + [sys.executable, "-m", "poseval_refine.cli", "evaluate"] + evaluate_args
    phases_cmd = pin + [sys.executable, str(Path(__file__).parent / "phases.py")] + evaluate_args + [
        "--json", str(root / "prt_phases_result.json")]
    pv_out = root / "poseval_out"
    pv_cmd = pin + [args.poseval_python, "-m", "poseval.evaluate", "--groundTruth", f"{root / 'gt'}/",
                    "--predictions", f"{root / 'pred'}/", "--evalPoseTracking", "--evalPoseEstimation",
                    "--outputDir", str(pv_out)]
    mm_json = root / "prt_motmetrics_result.json"
    mm_cmd = prt_cmd + ["--json", str(mm_json), "--mot-backend", "motmetrics"]
    prt_cmd = prt_cmd + ["--json", str(out_json)]
    base_json = root / "prt_baseline_result.json"
    base_cmd = pin + [sys.executable, "-m", "poseval_refine.cli", "evaluate", *evaluate_args, "--json", str(base_json)]
    # every prt process runs in the benchmark's folder with PYTHONPATH naming the code under test: run from
    # a checkout, ``python -m`` would import the checkout in the current folder before PYTHONPATH's
    import poseval_refine

    prt_env = dict(os.environ, PYTHONPATH=str(Path(poseval_refine.__file__).resolve().parent.parent))
    base_env = dict(os.environ, PYTHONPATH=str(args.baseline.resolve())) if args.baseline else None
    prt_runs, pv_runs, mm_runs, phase_runs, base_runs = [], [], [], [], []
    for r in range(max(args.repeat, args.poseval_repeat if args.poseval else 0, args.motmetrics_repeat,
                       args.phases)):
        if r < args.repeat:
            prt_runs.append(timed(prt_cmd, cwd=root, env=prt_env)[:2])
            if args.baseline:
                base_runs.append(timed(base_cmd, cwd=root, env=base_env)[:2])
        if args.poseval and r < args.poseval_repeat:
            pv_runs.append(timed(pv_cmd, cwd=args.poseval)[:2])
        if r < args.motmetrics_repeat:
            mm_runs.append(timed(mm_cmd, cwd=root, env=prt_env)[:2])
        if r < args.phases:
            phase_minima(phases_cmd, phase_runs, prt_env)
    prt_wall, prt_cpu = min(prt_runs)
    row = {"sequences": n, "frames": frames, "seed": seed, "json_mb": round(size_mb, 1), "prt_s": prt_wall,
           "prt_cpu_s": prt_cpu, "prt_runs": [round(w, 3) for w, _ in prt_runs]}
    if pv_runs:
        pv_wall, pv_cpu = min(pv_runs)
        diff = max_difference(json.loads(out_json.read_text()), poseval_numbers(pv_out))
        cpu_ratio = min(c for _, c in pv_runs) / min(c for _, c in prt_runs)
        row.update(poseval_s=pv_wall, poseval_cpu_s=pv_cpu, ratio=pv_wall / prt_wall, cpu_ratio=cpu_ratio,
                   max_abs_diff=diff, poseval_runs=[round(w, 2) for w, _ in pv_runs])
    if base_runs:
        b_wall, b_cpu = min(base_runs)
        row.update(baseline_s=b_wall, baseline_cpu_s=b_cpu, baseline_runs=[round(w, 3) for w, _ in base_runs],
                   baseline_max_abs_diff=max_difference(json.loads(out_json.read_text()),
                                                        poseval_numbers_of_prt(json.loads(base_json.read_text()))))
        if pv_runs:
            row.update(baseline_ratio=pv_wall / b_wall, baseline_cpu_ratio=min(c for _, c in pv_runs) / b_cpu)
    if mm_runs:
        mm_wall, mm_cpu = min(mm_runs)
        mm_res = json.loads(mm_json.read_text())
        mot = {k: v for k, v in mm_res.items() if k.startswith(("mota_", "motp_", "pre_", "rec_"))}
        row.update(motmetrics_s=mm_wall, motmetrics_cpu_s=mm_cpu, motmetrics_cpu_ratio=mm_cpu / prt_cpu,
                   motmetrics_max_abs_diff=max_difference(json.loads(out_json.read_text()), mot),
                   motmetrics_backend=mm_res["mot_backend"], motmetrics_runs=[round(w, 2) for w, _ in mm_runs])
    line = (f"{n:4d} sequences x {frames} frames, seed {seed} ({size_mb:.0f} MB): prt {prt_wall:.3f} s "
            f"(cpu {prt_cpu:.3f} s)")
    if pv_runs:
        line += (f", poseval {row['poseval_s']:.2f} s (cpu {row['poseval_cpu_s']:.2f} s) -> "
                 f"{row['ratio']:.1f}x faster (cpu: {row['cpu_ratio']:.1f}x); "
                 f"max |prt - poseval| = {row['max_abs_diff']:.1e}")
    if mm_runs:
        line += (f"; --mot-backend motmetrics {mm_wall:.2f} s (cpu {mm_cpu:.2f} s, "
                 f"{row['motmetrics_cpu_ratio']:.1f}x prt's), max |difference| of the MOT numbers = "
                 f"{row['motmetrics_max_abs_diff']:.1e}")
    print(line, flush=True)
    if base_runs:
        line = f"    baseline prt {row['baseline_s']:.3f} s (cpu {row['baseline_cpu_s']:.3f} s)"
        if pv_runs:
            line += f" -> {row['baseline_ratio']:.1f}x (cpu: {row['baseline_cpu_ratio']:.1f}x)"
        print(line + f"; max |prt - baseline| = {row['baseline_max_abs_diff']:.1e}", flush=True)
    if phase_runs:
        row["phases"] = {k: min(r.get(k, 0.0) for r in phase_runs) for k in phase_runs[0]}
        print("    phases: " + format_phases(phase_runs), flush=True)
    return row


if __name__ == "__main__":
    main()
