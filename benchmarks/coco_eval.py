"""COCO keypoint evaluation at COCO-val2017 scale: prt vs pycocotools run directly, and the bootstrap.

    python benchmarks/coco_eval.py [--images 5000] [--resamples 1000] [--repeat 3] [--keep DIR]

Writes a synthetic COCO benchmark (tests/cocobuild.py: people of all sizes, crowds, people without
keypoints, noisy detections, false positives) as raw JSON, then times
- pycocotools on the raw files (COCO, loadRes, evaluate, accumulate, summarize), as its README runs it;
- ``prt evaluate --task coco`` end to end (checks, reading through the adapters, pycocotools, items);
- ``resample`` of the coco task for ``--resamples`` bootstrap draws over images,
and checks that the numbers agree (prt = pycocotools; an all-ones resample = pycocotools, bit for bit).
Times are the best of ``--repeat`` runs (pycocotools and prt interleaved).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def best_of(repeat, fn):
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", type=int, default=5000)
    ap.add_argument("--resamples", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--keep", type=Path, help="write the benchmark here and keep it")
    args = ap.parse_args()

    from poseval_refine.evaluators import get_task
    from poseval_refine.evaluators.coco import evaluate_coco
    from tests.cocobuild import make_benchmark, pycocotools_stats, write_json

    tmp = None
    root = args.keep
    if root is None:
        tmp = tempfile.TemporaryDirectory()
        root = Path(tmp.name)
    root.mkdir(parents=True, exist_ok=True)
    gt, res = make_benchmark(args.seed, n_images=args.images)
    g, r = write_json(root / "gt.json", gt), write_json(root / "res.json", res)
    print(f"benchmark: {len(gt['images'])} images, {len(gt['annotations'])} GT annotations, {len(res)} detections")

    t_ref = t_prt = float("inf")
    for _ in range(args.repeat):  # interleaved, so that a busy machine slows both alike
        t, ref = best_of(1, lambda: pycocotools_stats(g, r))
        t_ref = min(t_ref, t)
        t, out = best_of(1, lambda: evaluate_coco(g, [r]))
        t_prt = min(t_prt, t)
    print(f"pycocotools on the raw files:      {t_ref:6.2f} s")
    print(f"prt evaluate --task coco:          {t_prt:6.2f} s")
    diff = max(abs(out[k] - ref[k]) for k in ref)
    print(f"max |prt - pycocotools| over the ten numbers: {diff:.1e}")

    task = get_task("coco")
    n = len(out["items"])
    rng = np.random.default_rng(args.seed)
    weights = rng.multinomial(n, np.full(n, 1.0 / n), size=args.resamples)
    weights[0] = 1
    t_boot, boot = best_of(args.repeat, lambda: task.resample(out, weights))
    ones_equal = all(boot[k][0] == task.headline(out)[k] for k in ref)
    print(f"resample, {args.resamples} bootstrap draws:   {t_boot:6.2f} s  (all-ones row == COCOeval.stats: "
          f"{ones_equal})")
    lo, hi = np.percentile(boot["AP"][1:], [2.5, 97.5])
    print(f"AP = {100 * out['AP']:.2f}, 95% bootstrap interval over images [{lo:.2f}, {hi:.2f}] (percent)")
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
