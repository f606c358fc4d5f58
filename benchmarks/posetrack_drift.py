"""Dense PoseTrack-2017 benchmarks of the "drift" shape, written at full precision (issue 29 item 5).

    python benchmarks/posetrack_drift.py OUT --sequences 60 [--seed 0]

writes ``OUT/gt/*.json`` and ``OUT/pred/*.json``: ``--sequences`` sequences of 20-40 frames, each
with 3-7 people who drift across the image (a velocity, a random walk on top, a slowly changing
scale), 80 % of frames labeled (``is_labeled``; GT people only there), 85 % of a labeled person's
joints annotated, an ignore region (axis-parallel rectangles and other polygons) on 20 % of
labeled frames; predictions for 90 % of the people in every frame with 90 % of their joints,
jittered (and now and then far off), left/right swapped in 3 % of people, an identity switch in
2 % of predicted people, 0-2 false-positive people per frame, a score per joint and per person.

Every number is written by ``json.dump`` as it comes out of numpy arithmetic, i.e. as Python's
shortest round-trip repr (15-17 significant digits): the layout of a numpy pipeline's output, not
the rounded coordinates of ``poseval_refine.synthetic``. 60 sequences are about 17 MB of JSON,
170 sequences about 49 MB. This is the benchmark's own code (it does not use prt's generator),
so it stands for a workload prt was not tuned on.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

#: PoseTrack-15 joints relative to the person's anchor (x right, y down): r/l ankle, knee, hip,
#: r/l wrist, elbow, shoulder, neck, nose, head top
TEMPLATE = np.array([
    (-12, 190), (-10, 140), (-9, 95), (11, 95), (12, 140), (14, 190), (-38, 85), (-33, 55),
    (-20, 25), (22, 25), (35, 55), (40, 85), (1, 18), (2, 0), (3, -25)], dtype=np.float64)
#: the joint each joint becomes when left and right are swapped
FLIP = np.array([5, 4, 3, 2, 1, 0, 11, 10, 9, 8, 7, 6, 12, 13, 14])
K = len(TEMPLATE)


def _people(rng: np.random.Generator, n_frames: int) -> list[dict]:
    """3-7 people, each over a stretch of the sequence, with a drifting anchor, scale and pose."""
    people = []
    for t in range(int(rng.integers(3, 8))):
        start = int(rng.integers(0, n_frames // 4))
        end = int(rng.integers(max(start + 3, 3 * n_frames // 4), n_frames + 1))
        vel = rng.normal(0, 3.5, 2)
        walk = np.cumsum(vel + rng.normal(0, 2.0, (n_frames, 2)), axis=0)
        anchor = np.array([rng.uniform(80, 1200), rng.uniform(60, 420)]) + walk
        scale = rng.uniform(0.6, 1.6) * np.exp(np.cumsum(rng.normal(0, 0.01, n_frames)))
        wobble = np.cumsum(rng.normal(0, 1.2, (n_frames, K, 2)), axis=0)
        pose = TEMPLATE + rng.normal(0, 5, (K, 2))
        people.append(dict(id=t, start=start, end=end, anchor=anchor, scale=scale, wobble=wobble, pose=pose))
    return people


def _points(xy: np.ndarray, keep: np.ndarray, scores: np.ndarray | None) -> list[dict]:
    pts = []
    for j in np.flatnonzero(keep):
        p = {"id": [int(j)], "x": [float(xy[j, 0])], "y": [float(xy[j, 1])]}
        if scores is not None:
            p["score"] = [float(scores[j])]
        pts.append(p)
    return pts


def _region(rng: np.random.Generator) -> list[dict]:
    """An ignore region: an axis-parallel rectangle or another polygon of 4-7 corners."""
    cx, cy = rng.uniform(50, 1250), rng.uniform(40, 680)
    if rng.random() < 0.5:
        w, h = rng.uniform(40, 260), rng.uniform(40, 260)
        corners = [(cx, cy), (cx + w, cy), (cx + w, cy + h), (cx, cy + h)]
    else:
        n = int(rng.integers(4, 8))
        angles = np.sort(rng.uniform(0, 2 * np.pi, n))
        radii = rng.uniform(30, 150, n)
        corners = list(zip(cx + radii * np.cos(angles), cy + radii * np.sin(angles)))
    return [{"point": [{"x": [float(x)], "y": [float(y)]} for x, y in corners]}]


def make_sequence(rng: np.random.Generator, index: int) -> tuple[dict, dict]:
    """The GT and prediction documents of one sequence."""
    n_frames = int(rng.integers(20, 41))
    people = _people(rng, n_frames)
    labeled = rng.random(n_frames) < 0.8
    labeled[0] = True
    ids = {p["id"]: 10 + p["id"] for p in people}
    next_id = 100
    gt_frames, pred_frames = [], []
    for f in range(n_frames):
        name = f"images/drift/{index:06d}/{f + 1:08d}.jpg"
        gt_rects, pred_rects = [], []
        for p in people:
            if not p["start"] <= f < p["end"]:
                continue
            s = p["scale"][f]
            xy = p["anchor"][f] + p["pose"] * s + p["wobble"][f]
            if labeled[f]:
                keep = rng.random(K) < 0.85
                if keep.any():
                    head = np.tile(xy[14], 2) + np.array([-28.0, -12.0, 28.0, 40.0]) * s
                    gt_rects.append({"x1": [float(head[0])], "y1": [float(head[1])], "x2": [float(head[2])],
                                     "y2": [float(head[3])], "track_id": [p["id"]],
                                     "annopoints": [{"point": _points(xy, keep, None)}]})
            if rng.random() < 0.9:
                if rng.random() < 0.02:
                    ids[p["id"]] = next_id
                    next_id += 1
                guess = xy + rng.normal(0, 4.5 * s, (K, 2))
                far = rng.random(K) < 0.04
                guess[far] += rng.normal(0, 60 * s, (int(far.sum()), 2))
                if rng.random() < 0.03:
                    guess = guess[FLIP]
                scores = rng.beta(5, 2, K)
                keep = rng.random(K) < 0.9
                if keep.any():
                    pred_rects.append({"score": [float(scores[keep].mean())], "track_id": [ids[p["id"]]],
                                       "annopoints": [{"point": _points(guess, keep, scores)}]})
        for _ in range(int(rng.integers(0, 3))):  # false positives
            at = np.array([rng.uniform(50, 1250), rng.uniform(40, 500)])
            xy = at + TEMPLATE * rng.uniform(0.5, 1.5) + rng.normal(0, 8, (K, 2))
            scores = rng.beta(2, 5, K)
            keep = rng.random(K) < 0.8
            if keep.any():
                pred_rects.append({"score": [float(scores[keep].mean())], "track_id": [next_id],
                                   "annopoints": [{"point": _points(xy, keep, scores)}]})
                next_id += 1
        gt_frame = {"image": [{"name": name}], "imgnum": [f + 1], "is_labeled": [int(labeled[f])],
                    "annorect": gt_rects}
        if labeled[f] and rng.random() < 0.2:
            gt_frame["ignore_regions"] = _region(rng)
        gt_frames.append(gt_frame)
        pred_frames.append({"image": [{"name": name}], "imgnum": [f + 1], "annorect": pred_rects})
    return {"annolist": gt_frames}, {"annolist": pred_frames}


def write_benchmark(root: Path, sequences: int, seed: int = 0) -> None:
    """``root/gt`` and ``root/pred``, one file per sequence, written with ``json.dump``."""
    rng = np.random.default_rng(seed)
    for d in ("gt", "pred"):
        (root / d).mkdir(parents=True, exist_ok=True)
    for s in range(sequences):
        gt, pred = make_sequence(rng, s + 1)
        name = f"{s + 1:06d}_drift.json"
        for d, doc in (("gt", gt), ("pred", pred)):
            with open(root / d / name, "w") as f:
                json.dump(doc, f)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", type=Path)
    ap.add_argument("--sequences", type=int, default=60)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    write_benchmark(args.out, args.sequences, args.seed)
    size = sum(p.stat().st_size for p in args.out.rglob("*.json")) / 1e6
    print(f"{args.out}: {args.sequences} sequences, {size:.1f} MB of JSON")


if __name__ == "__main__":
    main()
