"""What refinement did to each GT joint's error kind, before -> after (``prt analyze --compare``'s ``moved``), on
the synthetic and the Bonn benchmarks of docs/refiner.md.

    python benchmarks/refiner_moves.py --checkpoint c.pt [--shared ../shared] [--out runs/moves] [--seed 7]

Each benchmark's GT is corrupted as ``refiner_heldout.py`` corrupts it (heavy and near-perfect inputs, same
seed), then refined twice with `prt refine`: with no flags (the checkpoint's rules) and with `--calibrate-on`
the GT of the first half of the frames (Bonn: frames 1-20, as ``refiner_bonn.py``; synthetic: the first 30 of
the 60 scenes). Then `prt analyze --task pckh --gt HALF --pred INPUT --compare REFINED` (people paired by
order, the benchmark's own metric) on the second half, which calibration did not see, and on the first half,
which chose the rules (not held out). Prints the kinds before and after and every move.
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

KINDS = ("good", "jitter", "inversion", "swap", "miss")


def halves(gt: dict, first: set, out: Path) -> dict[str, Path]:
    """GT files labelling only the first / second half of the frames."""
    paths = {}
    for name, keep in (("first", lambda i: i in first), ("second", lambda i: i not in first)):
        paths[name] = out / f"gt_{name}.json"
        paths[name].write_text(json.dumps(dict(
            gt, images=[dict(im, is_labeled=keep(im["id"])) for im in gt["images"]],
            annotations=[a for a in gt["annotations"] if keep(a["image_id"])])))
    return paths


def analyze(gt: Path, pred: Path, refined: Path, out: Path) -> dict:
    heldout.run(["prt", "analyze", "--task", "pckh", "--gt", str(gt), "--pred", str(pred), "--compare", str(refined),
                 "--json", str(out), "-q"])
    return json.loads(out.read_text())


def moves(d: dict) -> str:
    pairs = sorted(((n, a, b) for a, row in d["moved"].items() for b, n in row.items() if a != b), reverse=True)
    return ", ".join(f"{a}->{b} {n}" for n, a, b in pairs) or "none"


def kinds(section: dict) -> str:
    return " ".join(f"{k} {section['keypoints'][k]}" for k in KINDS)


def bench(name: str, gt_path: Path, images: Path, first: set, first_label: str, args, out: Path) -> None:
    gt = json.loads(gt_path.read_text())
    half = halves(gt, first, out)
    print(f"\n== {name}: {len(gt['images'])} frames, {len(gt['annotations'])} people; calibration = {first_label}")
    for level in heldout.LEVELS:
        pred = heldout.corrupt(gt, level, args.seed)
        pred_path = out / f"pred_{level}.json"
        pred_path.write_text(json.dumps(pred))
        plain, cal = out / f"refined_{level}.json", out / f"refined_{level}_calibrated.json"
        heldout.run(["prt", "refine", "--pred", str(pred_path), "--images", str(images), "--checkpoint",
                     args.checkpoint, "--out", str(plain)])
        _, err = heldout.run(["prt", "refine", "--pred", str(pred_path), "--images", str(images), "--checkpoint",
                              args.checkpoint, "--out", str(cal), "--calibrate-on", str(half["first"])])
        chosen = re.findall(r"rules chosen \(([^)]*)\)", err)
        print(f"-- {level} input; --calibrate-on chose: {chosen[-1] if chosen else '?'}")
        for part, label in (("second", "held out (not seen by calibration)"),
                            ("first", "the frames that chose the rules (NOT held out)")):
            for which, ref in (("no flags", plain), ("--calibrate-on", cal)):
                d = analyze(half[part], pred_path, ref, out / f"moves_{level}_{part}_{which[:4]}.json")
                print(f"  {part} half, {label}, refined {which}:")
                before, after = d["pckh"]["baseline"]["Total"], d["compare"]["pckh"]["baseline"]["Total"]
                print(f"    PCKh@0.5 {before:.1f} -> {after:.1f}; input: {kinds(d)}; refined: {kinds(d['compare'])}")
                print(f"    moved: {moves(d)}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--shared", default=str(Path(__file__).resolve().parents[1].parent / "shared"),
                    help="the shared folder holding data/ (default: beside the checkout)")
    ap.add_argument("--out", default="runs/moves")
    ap.add_argument("--scenes", type=int, default=60)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    out = Path(args.out)
    if out.exists():
        shutil.rmtree(out)
    (out / "synthetic").mkdir(parents=True)
    (out / "bonn").mkdir()
    print(f"checkpoint {args.checkpoint}")
    heldout.run(["prt", "synth", "--out", str(out / "synthetic" / "scenes"), "--n", str(args.scenes), "--seed",
                 str(args.seed)])
    gt_path = out / "synthetic" / "scenes" / "annotations.json"
    gt = json.loads(gt_path.read_text())
    ids = [im["id"] for im in gt["images"]]
    bench(f"synthetic (prt synth --n {args.scenes} --seed {args.seed})", gt_path, out / "synthetic" / "scenes",
          set(ids[: len(ids) // 2]), f"the first {len(ids) // 2} scenes", args, out / "synthetic")
    data = Path(args.shared) / "data"
    bonn_gt = out / "bonn" / "gt.json"
    heldout.run(["prt", "convert", "--to", "posetrack2018",
                 str(data / "posetrack_cases" / "bonn_test" / "gt" / "060470979.json"), str(bonn_gt)])
    bgt = json.loads(bonn_gt.read_text())
    bench("Bonn (Iqbal et al. test sequence 060470979, real frames)", bonn_gt, data / "bonn_posetrack" / "videos",
          {im["id"] for im in bgt["images"] if im["frame_id"] < 20}, "frames 1-20", args, out / "bonn")


if __name__ == "__main__":
    main()
