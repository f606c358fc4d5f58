"""Random PoseTrack21-layout benchmarks (GT and predictions), deterministic from a seed.

Used by tests (cases whose official-kit numbers are in tests/data/posetrack21_kit_cases.json) and by
benchmarks/posetrack21_eval.py. People drift across frames; GT has missing joints, unlabeled frames
and ignore regions (rectangles, quadrilaterals, one around the image origin where absent joints sit);
predictions have jitter, left/right swaps, dropped joints, persons without points, duplicates (tied
similarities), false positives, identity switches, quantised (tied) scores, persons without
``scores``, labeled frames without predictions and predictions on unlabeled frames.

``python -m tests.pt21build OUT`` writes the test cases to ``OUT/<case>/{gt,pred}``;
``python -m tests.pt21build --sample poseval_refine/data/sample_posetrack21`` the sample shipped in the package.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

# joint offsets of a standing person (17 slots, ears 3 and 4 unused), in units of the person's size
TEMPLATE = np.array([
    [0.0, -0.80], [0.0, -0.62], [0.0, -0.95], [0, 0], [0, 0], [-0.18, -0.55], [0.18, -0.55], [-0.25, -0.30],
    [0.25, -0.30], [-0.28, -0.05], [0.28, -0.05], [-0.12, 0.0], [0.12, 0.0], [-0.13, 0.45], [0.13, 0.45],
    [-0.13, 0.90], [0.13, 0.90]])
EARS = (3, 4)
LEFT = (5, 7, 9, 11, 13, 15)
RIGHT = (6, 8, 10, 12, 14, 16)


@dataclass(frozen=True)
class Spec:
    seed: int
    sequences: int = 5
    frames: tuple[int, int] = (8, 16)
    people: tuple[int, int] = (2, 5)
    labeled_every: int = 1  # 1: every frame labeled (but see unlabeled); k: every k-th
    unlabeled: float = 0.15  # chance a frame is not labeled
    regions: float = 0.3  # chance a labeled frame has ignore regions
    origin_region: float = 0.1  # chance a region-frame also gets a region around (0, 0)
    miss_gt: float = 0.1  # chance a GT joint is absent
    detect: float = 0.85  # chance a GT person is predicted in a frame
    jitter: tuple[float, float] = (0.03, 0.45)  # prediction noise, in head sizes
    drop: float = 0.1  # chance a predicted joint is absent
    swap: float = 0.05  # chance a prediction swaps left and right
    false_pos: float = 0.3  # expected false-positive persons per frame
    duplicate: float = 0.05  # chance a prediction is emitted twice (second with its own track id)
    empty_person: float = 0.03  # chance of an extra predicted person without points
    switch: float = 0.3  # chance per sequence of an identity switch between two tracks
    empty_pred_frame: float = 0.08  # chance a labeled frame has no predictions at all
    no_pred_sequence: bool = False  # the last sequence has no predictions
    tied_scores: bool = False  # scores from {0.3, 0.5, 0.8}
    no_scores: float = 0.05  # chance a predicted person has no "scores"
    float_scores: bool = False  # scores at full precision, as a network gives them (else 6 decimals)
    size: tuple[float, float] = (120.0, 320.0)


#: the test cases (their kit numbers: tests/data/posetrack21_kit_cases.json)
CASES = {
    "mixed": Spec(seed=1),
    "ties": Spec(seed=2, tied_scores=True, duplicate=0.2, people=(3, 6), jitter=(0.02, 0.3)),
    "regions": Spec(seed=3, regions=0.8, origin_region=0.4, people=(3, 6)),
    "switches": Spec(seed=4, switch=1.0, detect=0.95, frames=(12, 24), false_pos=0.1),
    "sparse": Spec(seed=5, labeled_every=4, unlabeled=0.0, empty_pred_frame=0.2, no_pred_sequence=True,
                   miss_gt=0.3, drop=0.3),
    "crowded": Spec(seed=6, people=(6, 10), size=(60.0, 140.0), jitter=(0.1, 0.7), false_pos=1.0),
}


def _rect(x0, y0, x1, y1):
    return [x0, x1, x1, x0], [y0, y0, y1, y1]


def _keeps_people(people: list, rx: list, ry: list) -> bool:
    """Whether some GT person surely keeps a joint outside the regions (tested against their bounding boxes)."""
    boxes = [(min(x), min(y), max(x), max(y)) for x, y in zip(rx, ry)]
    for pts in people:
        if len(pts) == 0:
            continue
        inside = np.zeros(len(pts), dtype=bool)
        for x0, y0, x1, y1 in boxes:
            inside |= (pts[:, 0] >= x0) & (pts[:, 0] <= x1) & (pts[:, 1] >= y0) & (pts[:, 1] <= y1)
        if not inside.all():
            return True
    return False


def make_sequence(rng: np.random.Generator, spec: Spec, index: int, no_preds: bool = False):
    """One sequence: (GT dict, prediction dict) in the PoseTrack21 layout."""
    n_frames = int(rng.integers(spec.frames[0], spec.frames[1] + 1))
    n_people = int(rng.integers(spec.people[0], spec.people[1] + 1))
    vid = f"{index:06d}"
    base_id = 10000000000 + index * 10000
    start = rng.uniform([100, 250], [1800, 900], size=(n_people, 2))
    vel = rng.normal(0, 6, size=(n_people, 2))
    size = rng.uniform(*spec.size, size=n_people)
    appear = rng.integers(0, max(1, n_frames // 3), size=n_people)
    leave = n_frames - rng.integers(0, max(1, n_frames // 3), size=n_people)
    pred_track = np.arange(n_people) + 100
    switch_at = int(rng.integers(1, n_frames)) if (n_people >= 2 and rng.random() < spec.switch) else None
    switch_pair = rng.choice(n_people, 2, replace=False) if switch_at is not None else None
    images, gt_anns, pred_anns = [], [], []
    pred_images = []
    ann_id = 0
    for f in range(n_frames):
        image_id = base_id + f
        labeled = (f % spec.labeled_every == 0) and rng.random() >= spec.unlabeled
        rx, ry = [], []
        if labeled and rng.random() < spec.regions:
            for _ in range(int(rng.integers(1, 3))):
                x0, y0 = rng.uniform([0, 0], [1700, 900])
                w, h = rng.uniform([40, 40], [300, 260])
                if rng.random() < 0.5:
                    xs, ys = _rect(x0, y0, x0 + w, y0 + h)
                else:  # a convex quadrilateral
                    xs = [x0 + rng.uniform(0, 0.2) * w, x0 + w, x0 + w * rng.uniform(0.8, 1.0), x0]
                    ys = [y0, y0 + rng.uniform(0, 0.2) * h, y0 + h, y0 + h * rng.uniform(0.8, 1.0)]
                rx.append([float(v) for v in xs])
                ry.append([float(v) for v in ys])
            if rng.random() < spec.origin_region:
                xs, ys = _rect(-20.0, -20.0, 40.0, 40.0)
                rx.append(xs)
                ry.append(ys)
        img = {"file_name": f"images/val/{vid}_mpii_test/{f:06d}.jpg", "id": image_id, "frame_id": image_id,
               "vid_id": vid, "is_labeled": bool(labeled), "nframes": n_frames,
               "ignore_regions_x": rx, "ignore_regions_y": ry}
        images.append(img)
        pred_images.append(dict(img, is_labeled=True, ignore_regions_x=[], ignore_regions_y=[]))
        empty_preds = no_preds or (labeled and rng.random() < spec.empty_pred_frame)
        frame_preds, frame_gt, frame_pts = [], [], []
        for p in range(n_people):
            if not appear[p] <= f < leave[p]:
                continue
            center = start[p] + vel[p] * f
            kp = center + TEMPLATE * size[p]
            head = np.array([center[0] - 0.12 * size[p], center[1] - 1.0 * size[p], 0.24 * size[p], 0.3 * size[p]])
            head_size = 0.6 * np.hypot(head[2], head[3])
            present = rng.random(17) >= spec.miss_gt
            present[list(EARS)] = False
            present &= (kp[:, 0] > 0) & (kp[:, 1] > 0)
            if labeled:
                trip = np.zeros((17, 3))
                trip[present, :2] = kp[present]
                trip[present, 2] = 1
                frame_gt.append({"bbox_head": [float(v) for v in head], "keypoints": [float(v) for v in trip.ravel()],
                                 "track_id": p, "image_id": image_id, "person_id": p, "category_id": 1})
                frame_pts.append(kp[present])
            if empty_preds or rng.random() >= spec.detect:
                continue
            noise = rng.uniform(*spec.jitter) * head_size
            pk = kp + rng.normal(0, noise, size=(17, 2))
            if rng.random() < spec.swap:
                pk[list(LEFT)], pk[list(RIGHT)] = pk[list(RIGHT)].copy(), pk[list(LEFT)].copy()
            track = int(pred_track[p])
            if switch_at is not None and f >= switch_at and p in switch_pair:
                other = switch_pair[1] if p == switch_pair[0] else switch_pair[0]
                track = int(pred_track[other])
            frame_preds.append((pk, track))
            if rng.random() < spec.duplicate:
                frame_preds.append((pk.copy(), track + 500))
        if labeled and not _keeps_people(frame_pts, rx, ry):
            # the official kit fails on a labeled frame without GT people: such a frame is not labeled
            img.update(is_labeled=False, ignore_regions_x=[], ignore_regions_y=[])
            frame_gt = []
        for ann in frame_gt:
            gt_anns.append(dict(ann, id=ann_id))
            ann_id += 1
        if not empty_preds:
            for k in range(int(rng.poisson(spec.false_pos))):
                c = rng.uniform([100, 250], [1800, 900])
                frame_preds.append((c + TEMPLATE * rng.uniform(*spec.size), 900 + k))
            if rng.random() < spec.empty_person:
                frame_preds.append((np.zeros((17, 2)), 950))
        for pk, track in frame_preds:
            keep = rng.random(17) >= spec.drop
            keep[list(EARS)] = False
            keep &= (pk[:, 0] > 0) & (pk[:, 1] > 0)
            trip = np.zeros((17, 3))
            trip[keep, :2] = pk[keep]
            if spec.tied_scores:
                scores = rng.choice([0.3, 0.5, 0.8], size=17)
            else:
                scores = rng.uniform(0.05, 1.0, size=17)
                if not spec.float_scores:
                    scores = np.round(scores, 6)
            scores[~keep] = 0.0
            trip[keep, 2] = scores[keep]
            ann = {"keypoints": [float(v) for v in trip.ravel()], "track_id": track, "image_id": image_id,
                   "category_id": 1}
            if rng.random() >= spec.no_scores:
                ann["scores"] = [float(v) for v in scores]
            pred_anns.append(ann)
    cats = [{"supercategory": "person", "id": 1, "name": "person"}]
    return ({"images": images, "annotations": gt_anns, "categories": cats},
            {"images": pred_images, "annotations": pred_anns, "categories": cats})


def _rounded(value, decimals: int):
    if isinstance(value, float):
        return round(value, decimals)
    if isinstance(value, list):
        return [_rounded(v, decimals) for v in value]
    if isinstance(value, dict):
        return {k: _rounded(v, decimals) for k, v in value.items()}
    return value


def write_case(spec: Spec, out: Path, decimals: int | None = None) -> Path:
    """Write a case's GT and prediction folders under ``out`` (``out/gt``, ``out/pred``); ``decimals``:
    round every number to that many decimals (smaller files)."""
    rng = np.random.default_rng(spec.seed)
    (out / "gt").mkdir(parents=True, exist_ok=True)
    (out / "pred").mkdir(parents=True, exist_ok=True)
    for i in range(spec.sequences):
        no_preds = spec.no_pred_sequence and i == spec.sequences - 1
        gt, pred = make_sequence(rng, spec, i, no_preds)
        name = f"{i:06d}_mpii_test.json"
        if decimals is not None:
            gt, pred = _rounded(gt, decimals), _rounded(pred, decimals)
        (out / "gt" / name).write_text(json.dumps(gt))
        (out / "pred" / name).write_text(json.dumps(pred))
    return out


def benchmark_spec(sequences: int, seed: int = 21) -> Spec:
    """A PoseTrack21-sized benchmark: long sequences, about a third of the frames labeled, scores at full
    precision, 1% of the predicted people emitted twice (exact ties: solved as scipy solves them)."""
    return replace(Spec(seed=seed), sequences=sequences, frames=(60, 110), people=(3, 9), labeled_every=2,
                   unlabeled=0.3, no_scores=0.0, float_scores=True, duplicate=0.01)


#: the sample shipped in the package (poseval_refine/data/sample_posetrack21): ``--sample DIR`` writes it
SAMPLE = Spec(seed=2021, sequences=3, frames=(10, 14), people=(2, 4), regions=0.4, no_scores=0.0)

if __name__ == "__main__":
    if sys.argv[1] == "--sample":
        print(write_case(SAMPLE, Path(sys.argv[2]), decimals=2))
        sys.exit()
    root = Path(sys.argv[1])
    for name, spec in CASES.items():
        write_case(spec, root / name)
        print(root / name)
