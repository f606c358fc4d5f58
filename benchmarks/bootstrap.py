"""Time the bootstrap: R resamples of a stored result's per-item statistics (no file is read again).

    PRT_DATA=../shared/data python benchmarks/bootstrap.py [--resamples 1000] [--repeat 5]

Prints, per benchmark, the minimum over repeats of the time to draw the weights and recompute the
headline metrics (MPII val: 2958 people; PoseTrack cases: sequences) and the resulting 95% interval.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

from poseval_refine.evaluators import get_task
from poseval_refine.io import dumps_json, load_json
from poseval_refine.results.uncertainty import draw_weights, interval


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--resamples", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    data = Path(os.environ.get("PRT_DATA", "../shared/data"))
    bonn = data / "posetrack_cases" / "bonn_test"
    cases = [("mpii-val (single, newell)", "single", data / "mpii_val" / "valid.h5", data / "mpii_val" / "newell.h5"),
             ("bonn test (pose)", "pose", bonn / "gt", bonn / "pred"),
             ("bonn test (tracking)", "tracking", bonn / "gt", bonn / "pred")]
    for label, task_name, gt, pred in cases:
        task = get_task(task_name)
        result = load_json_roundtrip(task.run(gt, [pred]))
        n = len(result["items"])
        best, masks = float("inf"), float("inf")
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            w = draw_weights(n, args.resamples, 0, label)
            res = task.resample(result, w)
            t1 = time.perf_counter()
            if task.missing_joints:  # what the leaderboard's interval note adds
                task.missing_joints(result, w)
            best, masks = min(best, t1 - t0), min(masks, time.perf_counter() - t1)
        lo, hi = interval(res[task.primary])
        units = "people" if task.unit == "person" else task.unit + "s"
        note = f"  + missing joints {masks:.3f} s" if task.missing_joints else ""
        print(f"{label:28s} {n:5d} {units:9s} {args.resamples} resamples: {best:6.3f} s{note}  "
              f"{task.primary} {task.headline(result)[task.primary]:.2f} [{lo:.2f}, {hi:.2f}]")


def load_json_roundtrip(result: dict) -> dict:
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".json") as f:
        f.write(dumps_json(result))
        f.flush()
        return load_json(f.name)


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
