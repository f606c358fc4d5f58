"""The torchmetrics classes under DDP against the official tools, on benchmarks no test uses.

    python benchmarks/torchmetrics_parity.py --poseval DIR --poseval-python PY [--sequences 12] [--frames 24]
                                             [--images 300] [--seed 2027] [--keep DIR]

Writes a PoseTrack benchmark (``poseval_refine.synthetic.make_benchmark``, PoseTrack 2017 files, with
``--dense``'s switches and ignore regions) and a COCO one (``tests/support/cocobuild.py``), both with a seed
no test uses; runs ``poseval_refine.integrations.torchmetrics`` (``PoseTrackMOTA``, ``KeypointAP``) under
``torchrun --standalone --nproc_per_node 2`` on CPU (gloo), each rank fed an uneven shard padded with repeats
(``tests/support/ddp_evaluate.py``); and prints, per rank, the largest |difference| of every number against

- pycocotools' COCOeval (keypoints) on the COCO files, and
- with ``--poseval DIR`` (a checkout of leonid-pishchulin/poseval) run by ``--poseval-python`` (a Python
  with its dependencies), poseval's ``evaluate --evalPoseTracking --evalPoseEstimation`` on the PoseTrack files.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]


def uneven(items: list) -> list[list]:
    k = max(1, len(items) // 3)
    return [[*items[:k], items[0]], [*items[k:], items[0], items[-1]]]


def largest_difference(a: dict, b: dict) -> float:
    worst = 0.0
    for k, v in b.items():
        xs, ys = (v if isinstance(v, list) else [v]), (a[k] if isinstance(a[k], list) else [a[k]])
        for x, y in zip(xs, ys):
            x, y = (math.nan if x is None else x), (math.nan if y is None else y)
            if math.isnan(x) != math.isnan(y):
                return math.inf
            if not math.isnan(x):
                worst = max(worst, abs(x - y))
    return worst


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--poseval", type=Path, help="checkout of the official poseval")
    ap.add_argument("--poseval-python", default=sys.executable, help="the Python poseval runs with")
    ap.add_argument("--sequences", type=int, default=12)
    ap.add_argument("--frames", type=int, default=24)
    ap.add_argument("--images", type=int, default=300)
    ap.add_argument("--seed", type=int, default=2027)
    ap.add_argument("--keep", type=Path, help="write the benchmarks and outputs here (default: a temporary folder)")
    args = ap.parse_args()

    from posetrack_eval import generate, poseval_numbers

    from tests.support import cocobuild

    tmp = tempfile.TemporaryDirectory()
    root = args.keep or Path(tmp.name)
    root.mkdir(parents=True, exist_ok=True)
    pt = root / f"posetrack_{args.sequences}x{args.frames}_seed{args.seed}"
    generate(pt, args.sequences, args.frames, args.seed, dense=True)
    cgt, results = cocobuild.make_benchmark(seed=args.seed, n_images=args.images)
    gt_file = cocobuild.write_json(root / "coco_gt.json", cgt)
    res_file = cocobuild.write_json(root / "coco_res.json", results)
    names = sorted(p.name for p in (pt / "gt").glob("*.json"))
    spec = {"tracking": {"task": "tracking", "kind": "sequences", "gt": str(pt / "gt"), "pred": str(pt / "pred"),
                         "shards": uneven(names)},
            "coco": {"task": "coco", "kind": "coco", "gt": str(gt_file), "pred": str(res_file),
                     "shards": uneven(sorted({r["image_id"] for r in results}))}}
    (root / "spec.json").write_text(json.dumps(spec))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(HERE.parent), os.environ.get("PYTHONPATH", "")]),
               OMP_NUM_THREADS="1")
    run = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                          str(HERE.parent / "tests" / "support" / "ddp_evaluate.py"), str(root / "spec.json"),
                          str(root), "torchmetrics"], capture_output=True, text=True, env=env)
    if run.returncode:
        print(run.stderr[-3000:], file=sys.stderr)
        return 1
    ranks = [json.loads((root / f"rank{r}.json").read_text()) for r in (0, 1)]
    print(f"PoseTrack: {args.sequences} sequences x {args.frames} frames (dense); COCO: {args.images} images, "
          f"{len(results)} detections; seed {args.seed}; 2 ranks (gloo), uneven shards padded with repeats")

    official = cocobuild.pycocotools_stats(gt_file, res_file)
    for r, got in enumerate(ranks):
        print(f"rank {r}: KeypointAP vs pycocotools: max |difference| = "
              f"{largest_difference(got['coco'], official):.1e} (AP {100 * got['coco']['AP']:.2f})")
    if args.poseval:
        out = root / "poseval_out"
        pv = subprocess.run([args.poseval_python, "-m", "poseval.evaluate", "--groundTruth", f"{pt / 'gt'}/",
                             "--predictions", f"{pt / 'pred'}/", "--evalPoseTracking", "--evalPoseEstimation",
                             "--outputDir", str(out)], cwd=args.poseval, capture_output=True, text=True)
        if pv.returncode:
            print(pv.stderr[-3000:], file=sys.stderr)
            return 1
        official = poseval_numbers(out)
        for r, got in enumerate(ranks):
            mine = dict(got["tracking"], ap_total=got["tracking"]["ap_groups"][-1])
            print(f"rank {r}: PoseTrackMOTA vs poseval: max |difference| = {largest_difference(mine, official):.1e} "
                  f"(MOTA {mine['mota_total']:.2f}, mAP {mine['ap_total']:.2f})")
    else:
        print("poseval not run (give --poseval DIR --poseval-python PY)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
