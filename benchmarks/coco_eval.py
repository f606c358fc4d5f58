"""COCO keypoint evaluation at COCO-val2017 scale: whole processes of prt, pycocotools and its peers, and the bootstrap.

    python benchmarks/coco_eval.py [--images 5000] [--seed 2026] [--repeat 5] [--peers-python PY]
                                   [--cpu 0] [--resamples 1000] [--keep DIR]

Writes a synthetic COCO benchmark (tests/cocobuild.py: people of all sizes, crowds, people without
keypoints, noisy detections, false positives, images with more than 20 detections) as raw JSON,
then times, as separate processes pinned to one core (``taskset -c CPU``) and started from scratch
(interpreter start-up, imports and reading included):

- ``prt evaluate --task coco`` (``python -m poseval_refine.cli``; the default engine),
- pycocotools as its README runs it (COCO, loadRes, COCOeval evaluate/accumulate/summarize),
- with ``--peers-python PY`` (an interpreter that has them; they are not dependencies of prt):
  faster-coco-eval (``faster_coco_eval.COCO``/``COCOeval_faster``) and hotcoco
  (``hotcoco.COCO``/``COCOeval``), the same calls.

Runs are interleaved so that all see the same machine load; the minimum wall time of each is
reported with the CPU time (user + sys) of the fastest run, the ratios of the minimum CPU times
(steadier than wall time on a loaded machine) and the load average. Every tool's ten numbers are
compared with pycocotools' (largest |difference|; prt's must be 0). Then ``resample`` of the coco
task is timed for ``--resamples`` bootstrap draws over images (its all-ones row must equal the ten
numbers bit for bit).
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

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

NAMES = ["AP", "AP50", "AP75", "APm", "APl", "AR", "AR50", "AR75", "ARm", "ARl"]

#: one script per peer: print the ten numbers as JSON (their own printing goes to stderr)
PEER_SCRIPTS = {
    "pycocotools": """
import contextlib, json, sys
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval
with contextlib.redirect_stdout(sys.stderr):
    gt = COCO(sys.argv[1]); dt = gt.loadRes(sys.argv[2]); ev = COCOeval(gt, dt, "keypoints")
    ev.evaluate(); ev.accumulate(); ev.summarize()
print(json.dumps([float(v) for v in ev.stats]))
""",
    "faster-coco-eval": """
import contextlib, json, sys
from faster_coco_eval import COCO, COCOeval_faster
with contextlib.redirect_stdout(sys.stderr):
    gt = COCO(sys.argv[1]); dt = gt.loadRes(sys.argv[2]); ev = COCOeval_faster(gt, dt, "keypoints")
    ev.evaluate(); ev.accumulate(); ev.summarize()
print(json.dumps([float(v) for v in ev.stats[:10]]))
""",
    "hotcoco": """
import contextlib, json, sys
from hotcoco import COCO, COCOeval
with contextlib.redirect_stdout(sys.stderr):
    gt = COCO(sys.argv[1]); dt = gt.load_res(sys.argv[2]); ev = COCOeval(gt, dt, "keypoints")
    ev.evaluate(); ev.accumulate(); ev.summarize()
print(json.dumps([float(v) for v in ev.stats[:10]]))
""",
}


def timed(cmd: list[str]) -> tuple[float, float, subprocess.CompletedProcess]:
    """(wall seconds, CPU seconds of the child, result) of one process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode:
        sys.exit(f"{' '.join(cmd)} failed:\n{proc.stderr[-2000:]}")
    return wall, cpu, proc


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", type=int, default=5000)
    ap.add_argument("--max-people", type=int, default=4, help="most people per image (cocobuild)")
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--peers-python", default=None,
                    help="a Python with faster-coco-eval and hotcoco installed (e.g. a venv made for the benchmark)")
    ap.add_argument("--cpu", default="0", help="core to pin every run to (taskset -c); '' for no pinning")
    ap.add_argument("--resamples", type=int, default=1000)
    ap.add_argument("--keep", type=Path, help="write the benchmark here and keep it")
    args = ap.parse_args()

    from tests.cocobuild import make_benchmark, write_json

    tmp = None
    root = args.keep
    if root is None:
        tmp = tempfile.TemporaryDirectory()
        root = Path(tmp.name)
    root.mkdir(parents=True, exist_ok=True)
    gt, res = make_benchmark(args.seed, n_images=args.images, max_people=args.max_people)
    g, r = write_json(root / "gt.json", gt), write_json(root / "res.json", res)
    mb = (g.stat().st_size + r.stat().st_size) / 1e6
    print(f"benchmark: {len(gt['images'])} images, {len(gt['annotations'])} GT annotations, {len(res)} detections "
          f"({mb:.0f} MB of JSON), seed {args.seed}")
    del gt, res

    pin = ["taskset", "-c", args.cpu] if args.cpu and shutil.which("taskset") else []
    out_json = root / "prt.json"
    runs = {"prt": pin + [sys.executable, "-m", "poseval_refine.cli", "evaluate", "--gt", str(g), "--pred", str(r),
                          "--task", "coco", "--json", str(out_json), "-q"],
            "pycocotools": pin + [sys.executable, "-c", PEER_SCRIPTS["pycocotools"], str(g), str(r)]}
    if args.peers_python:
        for name in ("faster-coco-eval", "hotcoco"):
            runs[name] = pin + [args.peers_python, "-c", PEER_SCRIPTS[name], str(g), str(r)]
    env_note = f"load average before: {os.getloadavg()[0]:.2f}"
    best: dict[str, tuple[float, float]] = {}
    stats: dict[str, list[float]] = {}
    for _ in range(args.repeat):  # interleaved, so that a busy machine slows all alike
        for name, cmd in runs.items():
            wall, cpu, proc = timed(cmd)
            if name not in best or wall < best[name][0]:
                best[name] = (wall, cpu)
            best[name] = (min(best[name][0], wall), min(best[name][1], cpu))
            if name == "prt":
                out = json.loads(out_json.read_text())
                stats[name] = [out[k] for k in NAMES]
            else:
                stats[name] = json.loads(proc.stdout.strip().splitlines()[-1])
    print(f"{env_note}; after: {os.getloadavg()[0]:.2f}; pinned to core {args.cpu or '(none)'}; "
          f"best of {args.repeat}, interleaved")
    ref_wall, ref_cpu = best["pycocotools"]
    print(f"{'':18s} {'wall s':>7s} {'CPU s':>7s} {'wall ratio':>11s} {'CPU ratio':>10s}  max |diff| vs pycocotools")
    for name, (wall, cpu) in best.items():
        diff = max(abs(a - b) for a, b in zip(stats[name], stats["pycocotools"]))
        print(f"{name:18s} {wall:7.3f} {cpu:7.3f} {ref_wall / wall:10.1f}x {ref_cpu / cpu:9.1f}x  {diff:.1e}")
    if stats["prt"] != stats["pycocotools"]:
        sys.exit("prt's numbers differ from pycocotools'")

    from poseval_refine.evaluators import get_task

    task = get_task("coco")
    out = json.loads(out_json.read_text())
    n = len(out["items"])
    rng = np.random.default_rng(args.seed)
    weights = rng.multinomial(n, np.full(n, 1.0 / n), size=args.resamples)
    weights[0] = 1
    t = time.perf_counter()
    boot = task.resample(out, weights)
    t_boot = time.perf_counter() - t
    head = task.headline(out)
    ones_equal = all(boot[k][0] == head[k] for k in NAMES)
    print(f"resample, {args.resamples} bootstrap draws: {t_boot:6.2f} s (all-ones row == COCOeval.stats: {ones_equal})")
    lo, hi = np.percentile(boot["AP"][1:], [2.5, 97.5])
    print(f"AP = {100 * out['AP']:.2f}, 95% bootstrap interval over images [{lo:.2f}, {hi:.2f}] (percent)")
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
