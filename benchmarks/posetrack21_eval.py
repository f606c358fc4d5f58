"""PoseTrack21 keypoint HOTA and mAP: prt against the official PoseTrack21 kit, whole process against whole process.

    python benchmarks/posetrack21_eval.py --kit DIR --kit-python PY [--sizes 60,170] [--seeds 21,7] [--tasks hota,map]
                                          [--repeat 3] [--keep DIR] [--baseline SRC]
    python benchmarks/posetrack21_eval.py --kit DIR --kit-python PY --record tests/data/posetrack21_kit_cases.json
    python benchmarks/posetrack21_eval.py --phases DIR [--sizes 60,170] [--seeds 21]

``--kit DIR`` is the ``eval/posetrack21`` folder of anDoer/PoseTrack21 (its package is not installable:
it runs with ``PYTHONPATH=DIR``), ``--kit-python`` a Python with the kit's dependencies (numpy 1.23.5,
scipy 1.10.1, shapely 1.8.5). Neither is part of prt.

For every size N and seed, writes an N-sequence PoseTrack21-layout benchmark
(``tests.support.pt21build.benchmark_spec``: 60-110 frames, about a third labeled, 3-9 people, ignore
regions, switches, false positives), then times, as separate processes started from scratch (interpreter
start-up, imports and reading included):

- ``prt evaluate --task hota`` and ``prt evaluate --task pose21`` (printing the table; a further untimed
  run writes ``--json`` for the comparison), and
- the kit through its API as its ``api_example.py`` does (``eval_type='tracking'``: keypoint HOTA, and
  ``'pose_estim'``: its mAP, each its own process, single core), writing every number it computes;

runs interleaved (prt, prt on the shipped 3-sequence sample, [baseline prt,] kit, prt, ...); per task it
prints the fastest wall time of each with the CPU time of that run, and the least CPU time of any run of
each (the steadier figure on a shared machine) with the load average before and after. prt's run on the
shipped sample is its start-up floor (interpreter, imports, almost nothing to read): the kit's time over
it is the most any prt could reach on that machine at that load. ``--baseline SRC`` also times the prt of another
source tree (``PYTHONPATH=SRC``, e.g. an export of main) against the same kit runs. Every number of the
kit (per alpha, per joint, and its mAP groups) is compared with prt's JSON; the largest difference is
printed and must be below 1e-9.

``--phases DIR`` instead prints where prt's CPU time goes on the benchmarks kept in DIR (by ``--keep``
DIR), step by step in one process: reading the GT, reading the predictions (only the people of labeled
frames), labeled frames and ignore regions, distances, then HOTA's or the mAP's statistics.

``--record FILE`` instead runs the kit on the test cases of ``tests.support.pt21build.CASES`` and writes its
numbers to FILE (the JSON the tests compare against).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.pt21build import CASES, benchmark_spec, write_case  # noqa: E402

#: the 3-sequence PoseTrack21 sample shipped with prt: what prt costs with (almost) nothing to read
SAMPLE = ROOT / "poseval_refine" / "data" / "sample_posetrack21"
MAIN = ("HOTA", "DetA", "AssA", "DetRe", "DetPr", "AssRe", "AssPr", "LocA")
COLUMNS = ("Nose", "Neck", "Head", "LS", "RS", "LE", "RE", "LW", "RW", "LH", "RH", "LK", "RK", "LA", "RA", "Total")

#: run inside the kit's Python: its API, single process, one evaluation (``tracking``: keypoint HOTA,
#: ``pose_estim``: its mAP), every field it returns dumped to JSON
KIT_SCRIPT = r"""
import contextlib, io, json, sys, warnings
warnings.filterwarnings("ignore")
import numpy as np
import posetrack21.api as api
gt, pred, out, eval_type = sys.argv[1:5]
with contextlib.redirect_stdout(io.StringIO()):
    ev = api.get_api(trackers_folder=pred, gt_folder=gt, eval_type=eval_type, num_parallel_cores=1,
                     use_parallel=False)
    r = ev.eval()
if eval_type == "tracking":
    res = {"per_alpha": {k: np.asarray(v).tolist() for k, v in r.items()},
           "avg": {k: np.asarray(v).tolist() for k, v in ev.get_avg_results(r).items()}}
else:
    res = {"map": {k: {g: float(x) for g, x in v.items()} for k, v in r.items()}}
with open(out, "w") as f:
    json.dump(res, f)
"""


#: the tasks timed: prt's arguments and the kit's eval_type
TASKS = {"hota": (["--task", "hota"], "tracking"), "map": (["--task", "pose21"], "pose_estim")}


def run_kit(kit: Path, python: str, gt: Path, pred: Path, out: Path, tasks=tuple(TASKS)) -> tuple[list, dict]:
    """The kit on one benchmark, each task its own process: ([(wall, CPU seconds)] per task, its numbers)."""
    env = dict(os.environ, PYTHONPATH=str(kit))
    times, raw = [], {}
    for task in tasks:
        times.append(_timed([python, "-c", KIT_SCRIPT, f"{gt}/", f"{pred}/", str(out), TASKS[task][1]], env))
        raw.update(json.loads(out.read_text()))
    return times, kit_numbers(raw)


def kit_numbers(raw: dict) -> dict:
    """The kit's numbers as prt names them: averages {field: {joint: percent}}, per_alpha, AP groups."""
    out = {}
    if "avg" in raw:
        out = {name: {c: 100 * v for c, v in zip(COLUMNS, raw["avg"][name])} for name in MAIN}
        out["per_alpha"] = raw["per_alpha"]
    if "map" in raw:
        out["AP"], out["AP_precision"], out["AP_recall"] = (raw["map"][k] for k in ("map", "precision", "recall"))
    return out


def run_prt(gt: Path, pred: Path, outs: dict | None = None, tasks=tuple(TASKS), checkout: Path | None = None) -> list:
    """prt on one benchmark, each task its own process printing its table: [(wall, CPU seconds)] per task.
    With ``outs`` ({task: path}) the runs also write the JSON (untimed use: the numbers to compare);
    ``checkout``: run the prt of that source tree (``PYTHONPATH``) instead of this one."""
    env = dict(os.environ, PYTHONPATH=str(checkout or ROOT))
    times = []
    for task in tasks:
        json_args = ["--json", str(outs[task])] if outs else []
        times.append(_timed([sys.executable, "-m", "poseval_refine.cli", "evaluate", "--gt", str(gt), "--pred",
                             str(pred), *TASKS[task][0], *json_args, "-q"], env))
    return times


def _timed(cmd: list, env: dict) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    # (from a neutral folder: ``python -m`` puts the working folder first on sys.path, which would shadow
    # PYTHONPATH's prt when run from a checkout)
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL, cwd=tempfile.gettempdir())
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _size(folder: Path) -> str:
    return f"{sum(p.stat().st_size for p in folder.rglob('*.json')) / 1e6:.0f}"


def compare(kit: dict, hota: dict | None, pmap: dict | None) -> float:
    """Largest |prt - kit| over every per-alpha field, every averaged field and the mAP groups."""
    import numpy as np

    worst = 0.0
    if hota is not None:
        for name, v in kit["per_alpha"].items():
            worst = max(worst, float(np.abs(np.asarray(hota["per_alpha"][name]) - np.asarray(v)).max()))
        for name in MAIN:
            worst = max(worst, max(abs(hota[name][c] - kit[name][c]) for c in COLUMNS))
    if pmap is not None:
        for key, kk in (("ap_groups", "AP"), ("precision_groups", "AP_precision"), ("recall_groups", "AP_recall")):
            worst = max(worst, max(abs(x - kit[kk][g]) for x, g in zip(pmap[key], pmap["group_names"])))
    return worst


def record(args, tmp: Path) -> None:
    out = {"_source": "python benchmarks/posetrack21_eval.py --record: the official PoseTrack21 kit "
                      "(anDoer/PoseTrack21 @ 3e61960, eval/posetrack21, numpy 1.23.5, scipy 1.10.1, shapely "
                      "1.8.5, one process) on the cases of tests/support/pt21build.py",
           "cases": {}}
    for name, spec in CASES.items():
        d = write_case(spec, tmp / name)
        _, nums = run_kit(args.kit, args.kit_python, d / "gt", d / "pred", tmp / f"{name}.json")
        out["cases"][name] = nums
        print(name, "HOTA Total", round(nums["HOTA"]["Total"], 4), "mAP Total", round(nums["AP"]["Total"], 4))
    Path(args.record).write_text(json.dumps(out, separators=(",", ":")) + "\n")
    print("wrote", args.record)


def phases(folder: Path, want: str) -> dict:
    """CPU seconds of each step of prt's evaluation of the benchmark in ``folder`` (one process, in order)."""
    import gc

    from poseval_refine.evaluators import posetrack21 as pt21
    from poseval_refine.formats.posetrack21 import read_sequence
    from poseval_refine.metrics import hota
    from poseval_refine.metrics.posetrack21 import frame_batch, map_stats

    steps = dict.fromkeys(("read GT", "read predictions", "labeled frames, regions", "distances",
                           want + " statistics"), 0.0)
    gc.disable()
    for f in sorted((folder / "gt").glob("*.json")):
        t = [time.process_time()]
        gt = read_sequence(f, True)
        t.append(time.process_time())
        pred = read_sequence(folder / "pred" / f.name, False, pt21.labeled_ids(gt))
        t.append(time.process_time())
        fr = pt21.labeled_frames(gt, pred)
        t.append(time.process_time())
        batch = frame_batch(fr)
        t.append(time.process_time())
        hota.sequence_stats(fr, batch) if want == "HOTA" else map_stats(fr, batch)
        t.append(time.process_time())
        for name, (a, b) in zip(steps, zip(t, t[1:])):
            steps[name] += b - a
    gc.enable()
    return steps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kit", type=Path, help="anDoer/PoseTrack21's eval/posetrack21 folder")
    ap.add_argument("--kit-python", help="a Python with the kit's dependencies")
    ap.add_argument("--phases", type=Path, default=None, help="print prt's time per step on the kept benchmarks")
    ap.add_argument("--sizes", default="60,170")
    ap.add_argument("--seeds", default="21", help="benchmark seeds (tests.support.pt21build.benchmark_spec)")
    ap.add_argument("--tasks", default="hota,map", help="the tasks timed: hota, map (the kit's mAP) or both")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--keep", type=Path, default=None)
    ap.add_argument("--baseline", type=Path, default=None,
                    help="also time the prt of this source tree (e.g. a worktree of main), interleaved")
    ap.add_argument("--record", default=None)
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    seeds = [int(s) for s in args.seeds.split(",")]
    tasks = [t for t in args.tasks.split(",") if t]
    if not tasks or set(tasks) - set(TASKS):
        ap.error(f"--tasks takes {', '.join(TASKS)}")
    if args.phases:
        for n in sizes:
            for seed in seeds:
                for want in ("HOTA", "mAP"):
                    steps = phases(args.phases / _case_name(n, seed), want)
                    print(f"{n} sequences (seed {seed}), {want}: " + ", ".join(f"{k} {v:.3f}" for k, v in steps.items())
                          + " s CPU")
        return
    if args.kit is None or args.kit_python is None:
        ap.error("--kit and --kit-python are required (except with --phases)")
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        if args.record:
            return record(args, tmp)
        import compileall

        compileall.compile_dir(str(ROOT / "poseval_refine"), quiet=1)
        compileall.compile_dir(str(args.kit), quiet=1)
        if args.baseline:
            compileall.compile_dir(str(args.baseline / "poseval_refine"), quiet=1)
        for n in sizes:
            for seed in seeds:
                d = (args.keep or tmp) / _case_name(n, seed)
                if not (d / "gt").is_dir():
                    write_case(benchmark_spec(n, seed), d)
                prt_runs, kit_runs, base_runs, floor_runs, kit = [], [], [], [], None
                load_before = os.getloadavg()[0]
                for _ in range(args.repeat):
                    prt_runs.append(run_prt(d / "gt", d / "pred", tasks=tasks))
                    floor_runs.append(run_prt(SAMPLE / "gt", SAMPLE / "pred", tasks=tasks))
                    if args.baseline:
                        base_runs.append(run_prt(d / "gt", d / "pred", tasks=tasks, checkout=args.baseline))
                    times, kit = run_kit(args.kit, args.kit_python, d / "gt", d / "pred", tmp / "kit.json", tasks)
                    kit_runs.append(times)
                outs = {t: tmp / f"{t}.json" for t in tasks}
                run_prt(d / "gt", d / "pred", outs, tasks)
                got = {t: json.loads(outs[t].read_text()) for t in tasks}
                worst = compare(kit, got.get("hota"), got.get("map"))
                heads = [f"HOTA {got['hota']['HOTA']['Total']:.3f}" if "hota" in got else "",
                         f"mAP {got['map']['ap_groups'][-1]:.3f}" if "map" in got else ""]
                print(f"{n} sequences, seed {seed} ({_size(d)} MB of JSON), load {load_before:.2f} -> "
                      f"{os.getloadavg()[0]:.2f}; largest |prt - kit| {worst:.3g}; {', '.join(h for h in heads if h)}")
                for i, task in enumerate(tasks):
                    label = {"hota": "HOTA (prt --task hota / kit tracking)",
                             "map": "mAP (prt --task pose21 / kit pose_estim)"}[task]
                    pw, pc = min(r[i] for r in prt_runs)
                    kw, kc = min(r[i] for r in kit_runs)
                    pcm = min(r[i][1] for r in prt_runs)
                    kcm = min(r[i][1] for r in kit_runs)
                    print(f"  {label}: prt {pw:.2f} s wall ({pc:.2f} s CPU), kit {kw:.2f} s wall ({kc:.2f} s CPU): "
                          f"{kw / pw:.1f}x wall, {kc / pc:.1f}x CPU; least CPU of any run: prt {pcm:.3f} s, "
                          f"kit {kcm:.2f} s: {kcm / pcm:.1f}x")
                    fcm = min(r[i][1] for r in floor_runs)
                    print(f"    start-up floor: prt on the shipped 3-sequence sample, least CPU {fcm:.3f} s "
                          f"(kit / floor {kcm / fcm:.1f}x: no prt could be faster than that here)")
                    if base_runs:
                        bw = min(r[i][0] for r in base_runs)
                        bcm = min(r[i][1] for r in base_runs)
                        print(f"    baseline {args.baseline}: {bw:.2f} s wall, least CPU {bcm:.3f} s: "
                              f"{kw / bw:.1f}x wall, {kcm / bcm:.1f}x CPU")
                assert worst < 1e-9, f"prt and the kit differ by {worst}"


def _case_name(n: int, seed: int) -> str:
    return f"pt21_{n}" if seed == 21 else f"pt21_{n}_s{seed}"


if __name__ == "__main__":
    main()
