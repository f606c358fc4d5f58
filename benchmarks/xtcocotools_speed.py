"""CrowdPose, AI Challenger and COCO-WholeBody: whole processes of prt and of xtcocotools as mmpose calls it.

    python benchmarks/xtcocotools_speed.py --xtcocotools-python PY [--layouts crowdpose,aic,wholebody]
                                           [--images 2000] [--wholebody-images 1000] [--seed 2026]
                                           [--repeat 3] [--cpu 0] [--keep DIR]

PY is the interpreter of a virtual environment with xtcocotools (its wheels need numpy < 2):
``python -m venv /work/venvs/xtcocotools && /work/venvs/xtcocotools/bin/pip install 'numpy<2' xtcocotools``.

For each layout, writes a synthetic benchmark (tests/support/xtcocobuild.py: crowded people, crowd regions,
people without keypoints, score ties, images with more than 20 detections, detections without a visible
keypoint) as raw JSON, then times, as separate processes pinned to one core and started from scratch
(interpreter start-up, imports and reading included):

- ``prt evaluate --task coco`` (the protocol picked from the GT; ``--protocol aic`` for AI Challenger);
- xtcocotools as mmpose's CocoMetric / CocoWholeBodyMetric call it (COCO, loadRes, COCOeval with the
  benchmark's iouType, use_area and float32 sigma table; evaluate, accumulate, summarize; one COCOeval per
  part for COCO-WholeBody).

Runs are interleaved so both see the same load; the minimum wall time and the CPU time (user + sys) of the
fastest run are reported with their ratios, and the largest |difference| between the two tools' numbers
(CrowdPose's nine, COCO's ten, every part's ten for COCO-WholeBody).
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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

#: xtcocotools as mmpose calls it; prints {part: stats} as JSON (its own printing goes to stderr)
XTCOCOTOOLS = """
import contextlib, json, sys, warnings
import numpy as np
from xtcocotools.coco import COCO
from xtcocotools.cocoeval import COCOeval
gt_file, res_file, layout, sigmas = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
sigmas = np.array(sigmas, dtype=np.float32)  # mmpose's parse_pose_metainfo
out = {}
with contextlib.redirect_stdout(sys.stderr), warnings.catch_warnings():
    warnings.simplefilter("ignore")
    coco = COCO(gt_file)
    det = coco.loadRes(res_file)
    if layout == "wholebody":
        cuts = np.cumsum([0, 17, 6, 68, 21, 21])
        for part, a, b in [("body", 0, 1), ("foot", 1, 2), ("face", 2, 3), ("lefthand", 3, 4),
                           ("righthand", 4, 5), ("wholebody", 0, 5)]:
            ev = COCOeval(coco, det, "keypoints_" + part, sigmas[cuts[a]:cuts[b]], use_area=True)
            ev.params.useSegm = None
            ev.evaluate(); ev.accumulate(); ev.summarize()
            out[part] = [float(v) for v in ev.stats]
    else:
        ev = COCOeval(coco, det, "keypoints_crowd" if layout == "crowdpose" else "keypoints", sigmas, use_area=False)
        ev.params.useSegm = None
        ev.evaluate(); ev.accumulate(); ev.summarize()
        out["all"] = [float(v) for v in ev.stats]
print(json.dumps(out))
"""


def timed(cmd: list[str]) -> tuple[float, float, subprocess.CompletedProcess]:
    """(wall seconds, CPU seconds of the child, result) of one process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd[:4])} ... failed:\n{proc.stderr[-3000:]}")
    return wall, cpu, proc


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--xtcocotools-python", required=True, help="python of a venv with xtcocotools (numpy<2)")
    ap.add_argument("--layouts", default="crowdpose,aic,wholebody")
    ap.add_argument("--images", type=int, default=2000, help="images of the CrowdPose and AIC benchmarks")
    ap.add_argument("--wholebody-images", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--cpu", default="0", help="core to pin every run to (taskset -c); '' for no pinning")
    ap.add_argument("--keep", type=Path, default=None, help="write the benchmarks here (default: a temp dir)")
    args = ap.parse_args()

    from poseval_refine.metrics import sigma_tables
    from poseval_refine.metrics.coco import STAT_NAMES
    from tests.support.xtcocobuild import benchmark

    tables = {"crowdpose": sigma_tables.CROWDPOSE, "aic": sigma_tables.AIC, "wholebody": sigma_tables.WHOLEBODY}
    crowd_names = ("AP", "AP50", "AP75", "AR", "AR50", "AR75", "AP_easy", "AP_medium", "AP_hard")
    pin = ["taskset", "-c", args.cpu] if args.cpu and shutil.which("taskset") else []
    tmp = args.keep or Path(tempfile.mkdtemp(prefix="prt-xtcoco-"))
    tmp.mkdir(parents=True, exist_ok=True)
    print(f"load average before: {os.getloadavg()[0]:.2f}; pinned to core {args.cpu or '(none)'}; "
          f"repeat {args.repeat}")
    print(f"{'layout':<10} {'images':>6} {'dets':>6} | {'prt wall':>8} {'CPU':>6} | {'xtcoco wall':>11} {'CPU':>6} | "
          f"{'wall x':>6} {'CPU x':>6} | max |diff|")
    for layout in args.layouts.split(","):
        n = args.wholebody_images if layout == "wholebody" else args.images
        gt, res = benchmark(layout, args.seed, n, noise=0.3)
        g, r = tmp / f"{layout}-gt.json", tmp / f"{layout}-res.json"
        g.write_text(json.dumps(gt))
        r.write_text(json.dumps(res))
        out = tmp / f"{layout}-prt.json"
        prt = [*pin, sys.executable, "-m", "poseval_refine.cli", "evaluate", "--gt", str(g), "--pred", str(r),
               "--task", "coco", "--json", str(out), "-q"] + (["--protocol", "aic"] if layout == "aic" else [])
        ref = [*pin, args.xtcocotools_python, "-c", XTCOCOTOOLS, str(g), str(r), layout,
               json.dumps(tables[layout].tolist())]
        runs: dict[str, list[tuple[float, float]]] = {"prt": [], "xtcocotools": []}
        for _ in range(args.repeat):
            for name, cmd in (("prt", prt), ("xtcocotools", ref)):
                wall, cpu, proc = timed(cmd)
                runs[name].append((wall, cpu))
                if name == "xtcocotools":
                    theirs = json.loads(proc.stdout.strip().splitlines()[-1])
        ours = json.loads(out.read_text())
        diff = 0.0
        for part, stats in theirs.items():
            numbers = ours if part == "all" else ours[part]
            names = crowd_names if layout == "crowdpose" else STAT_NAMES
            diff = max(diff, max(abs(numbers[k] - v) for k, v in zip(names, stats)))
        (pw, pc), (xw, xc) = min(runs["prt"]), min(runs["xtcocotools"])
        print(f"{layout:<10} {n:>6} {len(res):>6} | {pw:8.3f} {pc:6.3f} | {xw:11.3f} {xc:6.3f} | "
              f"{xw / pw:5.1f}x {xc / pc:5.1f}x | {diff:.1e}")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
