"""Held-out check of a refiner checkpoint, end to end through the command line, as a user runs it.

    python benchmarks/refiner_heldout.py --checkpoint c.pt [--out DIR] [--scenes 60] [--seed 7]

1. `prt synth` draws held-out scenes (a seed prt's training never uses) and their GT.
2. This script corrupts the GT itself, with its own code (not prt's T1-T4 synthesis, not `prt synth
   --predictions`), into what a method would output: keypoints, per-joint scores and track ids, no
   head boxes. ``heavy``: Gaussian jitter of 0.1 head sizes per coordinate, 20 % of joints displaced
   by 1-3 head sizes, each left/right pair swapped with probability 0.15, 10 % of joints dropped.
   ``near-perfect``: jitter of 0.03 head sizes.
3. `prt refine` runs with no tuning flags (its wall time, start-up included, gives poses/s), then
   `prt evaluate --task pckh` scores input and output against the GT.
4. It checks that every score and track id is kept, and that adding the GT head boxes to the
   prediction file does not change the output (the refiner must not use them by default).

Prints one line per input kind: PCKh@0.5 before and after, poses, seconds and poses/s; then, per
error kind, the share of joints it hit and how many of them input and refined output place within
half a head size.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

LEVELS = {  # jitter sd (head sizes), P(displaced), displacement range (head sizes), P(swap per pair), P(drop)
    "heavy": (0.10, 0.20, (1.0, 3.0), 0.15, 0.10),
    "near-perfect": (0.03, 0.0, (0.0, 0.0), 0.0, 0.0),
}


KINDS = ("jitter only", "displaced", "swapped", "dropped")


def corrupt(gt: dict, level: str, seed: int, kinds: list | None = None) -> dict:
    """The predictions; ``kinds`` (if given) receives per person which error each joint got (an index
    into KINDS; a later error wins: dropped over swapped over displaced)."""
    jitter, p_far, far, p_swap, p_drop = LEVELS[level]
    rng = np.random.default_rng([seed, 4242, len(level)])
    names = gt["categories"][0]["keypoints"]
    pairs = [(names.index(n), names.index("right_" + n[5:])) for n in names
             if n.startswith("left_") and "right_" + n[5:] in names]
    anns = []
    for a in gt["annotations"]:
        kp = np.array(a["keypoints"], float).reshape(-1, 3)
        present = ~((kp[:, 0] == 0) & (kp[:, 1] == 0) & (kp[:, 2] == 0))
        x, y, w, h = a["bbox_head"]
        hs = 0.6 * np.hypot(w, h)
        xy = kp[:, :2] + rng.normal(0, jitter * hs, (len(kp), 2))
        moved = rng.random(len(kp)) < p_far
        ang = rng.uniform(0, 2 * np.pi, len(kp))
        dist = rng.uniform(*far, len(kp)) * hs
        xy[moved] += np.column_stack([np.cos(ang), np.sin(ang)])[moved] * dist[moved, None]
        kind = np.where(moved, 1, 0)
        for i, j in pairs:
            if rng.random() < p_swap:
                xy[[i, j]] = xy[[j, i]]
                present[[i, j]] = present[[j, i]]
                kind[[i, j]] = 2
        dropped = rng.random(len(kp)) < p_drop
        kind[dropped & present] = 3
        present &= ~dropped
        if kinds is not None:
            kinds.append(kind)
        scores = np.where(present, np.round(rng.uniform(0.2, 1.0, len(kp)), 4), 0.0)
        out_kp = np.zeros_like(kp)
        out_kp[present, :2] = xy[present]
        out_kp[present, 2] = 1
        anns.append({"id": a.get("id", len(anns)), "image_id": a["image_id"], "category_id": 1,
                     "track_id": a["track_id"], "keypoints": [float(v) for v in out_kp.ravel()],
                     "scores": [float(v) for v in scores]})
    return {"images": gt["images"], "annotations": anns, "categories": gt["categories"]}


def run(args: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(args, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"failed: {' '.join(args)}\n{proc.stderr}")
    return time.perf_counter() - start, proc.stderr


def pckh(gt: Path, pred: Path) -> float:
    out = pred.with_suffix(".pckh.json")
    run(["prt", "evaluate", "--gt", str(gt), "--pred", str(pred), "--task", "pckh", "--json", str(out), "-q"])
    return json.loads(out.read_text())["pckh_total"]


def hits(gt: dict, pred: dict) -> np.ndarray:
    """(people, joints) bool: the predicted joint lies within half a head size (0.6 x the head box's
    diagonal, as PCKh) of an annotated GT joint; people paired by order."""
    out = []
    for g, p in zip(gt["annotations"], pred["annotations"], strict=True):
        a, b = (np.array(x["keypoints"], float).reshape(-1, 3) for x in (g, p))
        ann = ~((a[:, 0] == 0) & (a[:, 1] == 0) & (a[:, 2] == 0))
        has = ~((b[:, 0] == 0) & (b[:, 1] == 0) & (b[:, 2] == 0))
        hs = 0.6 * np.hypot(*g["bbox_head"][2:])
        out.append(ann & has & (np.hypot(*(a[:, :2] - b[:, :2]).T) <= 0.5 * hs))
    return np.array(out)


def by_kind(gt: dict, pred: dict, refined: dict, kinds: list) -> str:
    """Per error kind: its share of the annotated joints, and how many of them input and output hit."""
    ann = np.array([[not (k[0] == k[1] == k[2] == 0) for k in np.reshape(a["keypoints"], (-1, 3))]
                    for a in gt["annotations"]])
    kind, hin, hout = np.array(kinds), hits(gt, pred), hits(gt, refined)
    parts = []
    for k, name in enumerate(KINDS):
        sel = ann & (kind == k)
        if sel.any():
            parts.append(f"{name} {100 * sel.sum() / ann.sum():.1f} % of joints, hit {100 * hin[sel].mean():.0f} % "
                         f"-> {100 * hout[sel].mean():.0f} %")

    return "; ".join(parts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--out", default="runs/heldout")
    ap.add_argument("--scenes", type=int, default=60)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--no-box-check", action="store_true", help="skip the with/without head boxes comparison")
    args = ap.parse_args()
    out = Path(args.out)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    run(["prt", "synth", "--out", str(out / "scenes"), "--n", str(args.scenes), "--seed", str(args.seed)])
    gt_path = out / "scenes" / "annotations.json"
    gt = json.loads(gt_path.read_text())
    print(f"{args.scenes} held-out scenes (prt synth --seed {args.seed}), {len(gt['annotations'])} people; "
          f"checkpoint {args.checkpoint}")
    print(f"{'input':13s} {'PCKh in':>8s} {'refined':>8s} {'gain':>6s} {'poses':>6s} {'seconds':>8s} {'poses/s':>8s}")
    for level in LEVELS:
        kinds: list = []
        pred = corrupt(gt, level, args.seed, kinds)
        pred_path = out / f"pred_{level}.json"
        pred_path.write_text(json.dumps(pred))
        ref_path = out / f"refined_{level}.json"
        seconds, err = run(["prt", "refine", "--pred", str(pred_path), "--images", str(out / "scenes"),
                            "--checkpoint", args.checkpoint, "--out", str(ref_path)])
        refined = json.loads(ref_path.read_text())
        for a, b in zip(pred["annotations"], refined["annotations"], strict=True):
            assert a["scores"] == b["scores"] and a["track_id"] == b["track_id"], "a score or track id changed"
        before, after = pckh(gt_path, pred_path), pckh(gt_path, ref_path)
        n = len(pred["annotations"])
        print(f"{level:13s} {before:8.1f} {after:8.1f} {after - before:+6.1f} {n:6d} {seconds:8.1f} {n / seconds:8.1f}")
        print("    by error kind (joints within half a head size):", by_kind(gt, pred, refined, kinds))
        summary = [line for line in err.splitlines() if "refined" in line]
        if summary:
            print("   ", summary[-1].removeprefix("prt: "))
        if not args.no_box_check:
            boxed = dict(pred, annotations=[dict(a, bbox_head=g["bbox_head"])
                                            for a, g in zip(pred["annotations"], gt["annotations"])])
            boxed_path = out / f"pred_{level}_with_gt_boxes.json"
            boxed_path.write_text(json.dumps(boxed))
            run(["prt", "refine", "--pred", str(boxed_path), "--images", str(out / "scenes"), "--checkpoint",
                 args.checkpoint, "--out", str(out / f"refined_{level}_with_gt_boxes.json")])
            other = json.loads((out / f"refined_{level}_with_gt_boxes.json").read_text())
            same = all(a["keypoints"] == b["keypoints"] for a, b in zip(refined["annotations"], other["annotations"]))
            print(f"    output with GT head boxes in the prediction file: {'identical' if same else 'DIFFERENT'}")


if __name__ == "__main__":
    main()
