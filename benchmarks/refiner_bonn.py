"""Real-image check of a refiner checkpoint: the 41 frames of Iqbal et al.'s test sequence 060470979.

    python benchmarks/refiner_bonn.py --checkpoint c.pt [--shared ../shared] [--out DIR] [--seed 7]

Its GT (4 tracks, 164 people, real images; ``shared/data/posetrack_cases/bonn_test/gt``) is converted
to the PoseTrack-2018 layout with `prt convert`, corrupted with the same code and levels as
``refiner_heldout.py`` (a fixed seed; no head boxes in the predictions), refined with `prt refine`
and no tuning flags, and scored with `prt evaluate --task pckh`. The refiner has only ever seen
synthetic scenes, so this measures how far that carries to real people, whatever the answer.
Then, per input kind, `prt refine --calibrate-on` the GT of frames 1-20, and frames 21-41 (which
calibration did not see) scored as given, refined with no flags, and refined with the rules chosen.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import shutil
from pathlib import Path

_spec = importlib.util.spec_from_file_location("refiner_heldout", Path(__file__).with_name("refiner_heldout.py"))
heldout = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(heldout)

SEQUENCE = "060470979"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--shared", default=str(Path(__file__).resolve().parents[1].parent / "shared"),
                    help="the shared folder holding data/ (default: beside the checkout)")
    ap.add_argument("--out", default="runs/bonn")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    data = Path(args.shared) / "data"
    gt17 = data / "posetrack_cases" / "bonn_test" / "gt" / f"{SEQUENCE}.json"
    images = data / "bonn_posetrack" / "videos"
    out = Path(args.out)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    gt_path = out / "gt.json"
    heldout.run(["prt", "convert", "--to", "posetrack2018", str(gt17), str(gt_path)])
    gt = json.loads(gt_path.read_text())
    first = {im["id"] for im in gt["images"] if im["frame_id"] < 20}
    halves = {}
    for name, keep in (("first", lambda i: i in first), ("second", lambda i: i not in first)):
        halves[name] = out / f"gt_{name}.json"
        halves[name].write_text(json.dumps(dict(
            gt, images=[dict(im, is_labeled=keep(im["id"])) for im in gt["images"]],
            annotations=[a for a in gt["annotations"] if keep(a["image_id"])])))
    print(f"Iqbal et al. test sequence {SEQUENCE}: {len(gt['images'])} real frames, {len(gt['annotations'])} people; "
          f"checkpoint {args.checkpoint}")
    print(f"{'input':13s} {'PCKh in':>8s} {'refined':>8s} {'gain':>6s} {'poses':>6s} {'seconds':>8s} {'poses/s':>8s}")
    for level in heldout.LEVELS:
        pred = heldout.corrupt(gt, level, args.seed)
        pred_path = out / f"pred_{level}.json"
        pred_path.write_text(json.dumps(pred))
        ref_path = out / f"refined_{level}.json"
        seconds, err = heldout.run(["prt", "refine", "--pred", str(pred_path), "--images", str(images),
                                    "--checkpoint", args.checkpoint, "--out", str(ref_path)])
        before, after = heldout.pckh(gt_path, pred_path), heldout.pckh(gt_path, ref_path)
        n = len(pred["annotations"])
        print(f"{level:13s} {before:8.1f} {after:8.1f} {after - before:+6.1f} {n:6d} {seconds:8.1f} {n / seconds:8.1f}")
        summary = [line for line in err.splitlines() if "refined" in line]
        if summary:
            print("   ", summary[-1].removeprefix("prt: "))
        cal_path = out / f"refined_{level}_calibrated.json"
        _, err = heldout.run(["prt", "refine", "--pred", str(pred_path), "--images", str(images), "--checkpoint",
                              args.checkpoint, "--out", str(cal_path), "--calibrate-on", str(halves["first"])])
        chosen = re.findall(r"rules chosen \(([^)]*)\)", err)
        second = [heldout.pckh(halves["second"], p) for p in (pred_path, ref_path, cal_path)]
        print(f"    frames 21-41 after --calibrate-on frames 1-20: as given {second[0]:.1f}, no flags {second[1]:.1f}, "
              f"calibrated {second[2]:.1f} ({chosen[-1] if chosen else '?'})")


if __name__ == "__main__":
    main()
