"""A joint the GT never annotates, predicted or not: what it does to each Total (docs/posetrack.md).

    python benchmarks/unannotated_joint.py [--shared ../shared] [--out runs/unannotated]

Builds two pairs of runs that differ only in a joint the GT never annotates, and prints every Total
for both, beside the Total over the joints the GT annotates:

- Bonn (``posetrack_cases/bonn_test``, 30 sequences, GT without a nose): the predictions as given, and the
  same with a nose on every person that has a neck and a head top (their midpoint, scored as the neck);
  ``prt evaluate --task tracking`` under ``--protocol official`` and ``corrected``.
- PoseTrack21 (``posetrack21_cases/basic``): the GT with its nose removed; the predictions as given (with
  their nose) and with the nose removed; ``prt evaluate --task hota`` (the kit's keypoint HOTA, whose Total
  pools TP, FN and FP over the joints) and ``--task pose --protocol posetrack21`` (the kit's mAP).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.ptbuild import NOSE, add_nose  # noqa: E402 - the test suite's own builder


def without_nose(src: Path, dst: Path) -> None:
    """PoseTrack21 layout: slot 0 (nose) emptied in every annotation."""
    dst.mkdir(parents=True)
    for f in sorted(src.glob("*.json")):
        d = json.loads(f.read_text())
        for a in d["annotations"]:
            a["keypoints"][0:3] = [0, 0, 0]
            if a.get("scores"):
                a["scores"][0] = 0
        (dst / f.name).write_text(json.dumps(d))


def evaluate(gt: Path, pred: Path, task: str, out: Path, *extra: str) -> dict:
    cmd = [sys.executable, "-m", "poseval_refine.cli", "evaluate", "--gt", str(gt), "--pred", str(pred),
           "--task", task, "--json", str(out), "-q", *extra]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return json.loads(out.read_text())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", default=str(Path(__file__).resolve().parents[1].parent / "shared"))
    ap.add_argument("--out", default="runs/unannotated")
    args = ap.parse_args()
    data, out = Path(args.shared) / "data", Path(args.out)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)

    bonn = data / "posetrack_cases" / "bonn_test"
    add_nose(bonn / "pred", out / "bonn_nose")
    print("Bonn test set (30 sequences; the GT has no nose), --task tracking")
    print(f"{'protocol':10s} {'predictions':12s} {'AP Total':>9s} {'AP (GT)':>8s} {'MOTA Total':>11s} "
          f"{'MOTA (GT)':>10s} {'nose MOTA':>10s} {'Prec':>6s}")
    for protocol in ("official", "corrected"):
        for name, pred in (("as given", bonn / "pred"), ("nose added", out / "bonn_nose")):
            r = evaluate(bonn / "gt", pred, "tracking", out / f"bonn_{protocol}_{name.split()[-1]}.json",
                         "--protocol", protocol)
            at = r["annotated_totals"]
            nose = r["mota_joint"][NOSE]
            print(f"{protocol:10s} {name:12s} {r['ap_groups'][-1]:9.2f} {at['ap_total']:8.2f} {r['mota_total']:11.2f} "
                  f"{at['mota_total']:10.2f} {'nan' if nose is None else f'{nose:.1f}':>10s} {r['pre_total']:6.2f}")

    pt21 = data / "posetrack21_cases" / "basic"
    without_nose(pt21 / "gt", out / "pt21_gt")
    without_nose(pt21 / "pred", out / "pt21_pred_no_nose")
    print("\nPoseTrack21 case 'basic', nose removed from the GT, --task hota")
    print(f"{'predictions':24s} {'HOTA Total':>10s} {'DetA Total':>10s} {'nose HOTA':>9s} {'nose FP':>8s} "
          f"{'kit mAP Total':>13s}")
    for name, pred in (("with their nose", pt21 / "pred"), ("nose removed", out / "pt21_pred_no_nose")):
        m = evaluate(out / "pt21_gt", pred, "pose", out / f"pt21_map_{name[:4]}.json", "--protocol", "posetrack21")
        r = evaluate(out / "pt21_gt", pred, "hota", out / f"pt21_{name[:4]}.json")
        fp = r["HOTA_FP"]["Nose"]  # mean over the kit's 19 thresholds
        print(f"{name:24s} {r['HOTA']['Total']:10.2f} {r['DetA']['Total']:10.2f} {r['HOTA']['Nose']:9.2f} "
              f"{fp:8.0f} {m['ap_groups'][-1]:13.2f}")


if __name__ == "__main__":
    main()
