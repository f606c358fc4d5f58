"""COCO error diagnosis at val2017 scale: ``prt analyze`` against coco-analyze, whole process against whole process.

    python benchmarks/analyze_coco.py --coco-analyze-python /work/venvs/coco-analyze/bin/python \\
        --coco-analyze-driver /work/venvs/coco-analyze/run_coco_analyze.py [--images 5000] [--seed 100] [--repeat 1]

Writes a random COCO benchmark (tests/support/analyzebuild.py: people of every size, crowds, people
without keypoints, detections with planted jitter/inversions/swaps/misses, duplicates, score ties,
images with more than 20 detections) as raw JSON, then runs, as separate processes started from
scratch (interpreter start-up, imports and reading included):

- ``prt analyze --task coco --json OUT`` (``python -m poseval_refine.cli``),
- coco-analyze (matteorr/coco-analyze @ 9eb8a0a) through a driver script kept outside this repository
  (docs/analyze.md says what it does): ``COCOanalyze(gt, dt, 'keypoints')``, ``analyze()``,
  ``summarize()``, the numbers written in prt's JSON layout.

Runs alternate so that both see the same machine load; the minimum wall and CPU (user + sys) time of
each is printed, their ratios, the peak memory, and the largest difference between the two JSON
outputs (every number: label counts, AP and recall per correction and OKS, false positive and negative
counts, for the areas all, medium and large).
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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def timed(cmd: list[str]) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds, peak resident MB) of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-f", "%M", *cmd], capture_output=True, text=True)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode:
        sys.exit(f"{' '.join(cmd)} failed:\n{proc.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    peak_mb = int(proc.stderr.strip().splitlines()[-1]) / 1024
    return wall, cpu, peak_mb


def largest_difference(a, b, path="") -> tuple[float, str]:
    if isinstance(b, dict):
        worst = (0.0, "")
        for k in b:
            if k not in a:
                return float("inf"), f"{path}/{k} missing"
            worst = max(worst, largest_difference(a[k], b[k], f"{path}/{k}"))
        return worst
    return abs(float(a) - float(b)), path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--coco-analyze-python", required=True)
    ap.add_argument("--coco-analyze-driver", required=True)
    ap.add_argument("--keep", type=Path, help="write the benchmark and outputs here and keep them")
    args = ap.parse_args()

    from tests.support.analyzebuild import make_analyze_benchmark

    tmp = args.keep or Path(tempfile.mkdtemp(prefix="prt-analyze-bench-"))
    tmp.mkdir(parents=True, exist_ok=True)
    gt, dt = make_analyze_benchmark(args.seed, args.images)
    gt_file, dt_file = tmp / "gt.json", tmp / "dt.json"
    gt_file.write_text(json.dumps(gt))
    dt_file.write_text(json.dumps(dt))
    print(f"benchmark: {len(gt['images'])} images, {len(gt['annotations'])} GT people, {len(dt)} detections "
          f"(seed {args.seed})")
    prt_out, ca_out = tmp / "prt.json", tmp / "coco_analyze.json"
    env_cmd = [sys.executable, "-m", "poseval_refine.cli", "analyze", "--gt", str(gt_file), "--pred", str(dt_file),
               "--task", "coco", "--json", str(prt_out)]
    ca_cmd = [args.coco_analyze_python, args.coco_analyze_driver, str(gt_file), str(dt_file), str(ca_out)]
    runs: dict[str, list] = {"prt analyze": [], "coco-analyze": []}
    os.environ.setdefault("PYTHONPATH", str(ROOT))
    for _ in range(args.repeat):
        runs["coco-analyze"].append(timed(ca_cmd))
        runs["prt analyze"].append(timed(env_cmd))
    best = {k: (min(r[0] for r in v), min(r[1] for r in v), max(r[2] for r in v)) for k, v in runs.items()}
    for k, (wall, cpu, mb) in best.items():
        print(f"{k:<14} wall {wall:7.2f} s   cpu {cpu:7.2f} s   peak {mb:6.0f} MB")
    (cw, cc, _), (pw, pc, _) = best["coco-analyze"], best["prt analyze"]
    print(f"prt is {cw / pw:.1f}x faster (wall), {cc / pc:.1f}x (cpu); load average {os.getloadavg()[0]:.1f}")
    got = json.loads(prt_out.read_text())
    want = json.loads(ca_out.read_text())
    diff, where = largest_difference(got, want)
    print(f"largest |prt - coco-analyze| over every number: {diff:.3g}" + (f" ({where})" if diff else ""))


if __name__ == "__main__":
    main()
