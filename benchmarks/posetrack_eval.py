"""Wall time of a full PoseTrack evaluation (AP + tracking) on a generated benchmark.

    python benchmarks/posetrack_eval.py [--sequences 170] [--frames 40] [--workers 1] [--keep DIR]
                                        [--mot-backend prt|motmetrics|both]

Generates PoseTrack-2017 GT and prediction folders (about 15k GT poses at the default size),
then times ``prt``'s evaluation end to end (reading the JSON files included) on one core.
``--mot-backend both`` times ``--mot-backend prt`` and ``--mot-backend motmetrics`` in interleaved
runs, checks that they give the same numbers, and prints the cost of the reference path.
With ``--poseval DIR`` (a checkout of the official leonid-pishchulin/poseval) it also times the
official code on the same files, run as its README says, and prints both totals.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sequences", type=int, default=170)
    ap.add_argument("--frames", type=int, default=40)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3, help="timed runs; the best is reported")
    ap.add_argument("--keep", type=Path, help="write the benchmark here and keep it")
    ap.add_argument("--poseval", type=Path, help="checkout of the official poseval to time as well")
    ap.add_argument("--mot-backend", choices=["prt", "motmetrics", "both"], default="prt",
                    help="who accumulates the CLEAR-MOT counts (both: time each, interleaved)")
    args = ap.parse_args()

    from poseval_refine.evaluators.posetrack import evaluate_posetrack, render_posetrack
    from poseval_refine.formats.posetrack import write_posetrack
    from poseval_refine.synthetic import make_benchmark

    tmp = None
    root = args.keep
    if root is None:
        tmp = tempfile.TemporaryDirectory()
        root = Path(tmp.name)
    t0 = time.perf_counter()
    gt, pred = make_benchmark(args.sequences, args.frames, seed=args.seed)
    write_posetrack(gt, root / "gt", "posetrack2017", overwrite=True)
    write_posetrack(pred, root / "pred", "posetrack2017", overwrite=True)
    print(f"benchmark: {len(gt)} sequences x {args.frames} frames, {gt.num_persons} GT poses, "
          f"{pred.num_persons} predicted poses (generated in {time.perf_counter() - t0:.1f} s)")

    backends = ["prt", "motmetrics"] if args.mot_backend == "both" else [args.mot_backend]
    times = {b: float("inf") for b in backends}
    cpu = {b: float("inf") for b in backends}  # this process's CPU time: less noisy on a loaded machine
    results = {}
    for _ in range(args.repeat):
        for b in backends:
            t, c = time.perf_counter(), time.process_time()
            results[b] = evaluate_posetrack(root / "gt", [root / "pred"], tracking=True, workers=args.workers,
                                            mot_backend=b)
            times[b] = min(times[b], time.perf_counter() - t)
            cpu[b] = min(cpu[b], time.process_time() - c)
    res = results[backends[0]]
    best = times[backends[0]]
    print(render_posetrack(res))
    for b in backends:
        used = f", CPU {cpu[b]:.2f} s" if args.workers == 1 else ""
        print(f"prt evaluate --task tracking --mot-backend {b} (AP + MOTA), workers={args.workers}: "
              f"{times[b]:.2f} s{used} (best of {args.repeat})")
    if len(backends) == 2:
        keys = [k for k in res if k.startswith(("mota", "motp", "pre_", "rec_"))]
        diff = max(float(np.nanmax(np.abs(np.array(results["prt"][k], float) - np.array(results["motmetrics"][k],
                                                                                          float))))
                   for k in keys)
        ratio = cpu if args.workers == 1 else times
        print(f"--mot-backend motmetrics ({results['motmetrics']['mot_backend']}) takes "
              f"{ratio['motmetrics'] / ratio['prt']:.0f}x as long; largest difference of the MOT numbers: {diff:.1e}")

    if args.poseval:
        cmd = [sys.executable, "-m", "poseval.evaluate", "--groundTruth", f"{root / 'gt'}/",
               "--predictions", f"{root / 'pred'}/", "--evalPoseTracking", "--evalPoseEstimation"]
        t = time.perf_counter()
        proc = subprocess.run(cmd, cwd=args.poseval, capture_output=True, text=True)
        official = time.perf_counter() - t
        print(proc.stdout[-1500:])
        if proc.returncode:
            print(proc.stderr[-3000:], file=sys.stderr)
        print(f"official poseval: {official:.1f} s  ->  prt is {official / best:.0f}x faster")
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
