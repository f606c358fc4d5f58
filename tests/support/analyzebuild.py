"""Random COCO benchmarks for the error diagnosis (``prt analyze``), whose coco-analyze output is recorded.

``make_analyze_benchmark(seed)`` draws GT (people of every size: small ones coco-analyze leaves
out, medium, large; people without keypoints; crowd regions, some of them with keypoints; images
without people) and detections built to carry every error kind of Ronchi & Perona's taxonomy:
jittered joints, left/right inversions, joints taken from a neighbour (swaps), missed joints,
duplicates (some exact copies: ties in the rescoring), background false positives, more than 20
detections on some images, images without detections, and score ties (scores on a coarse grid in
some images). The recorded outputs of coco-analyze on these benchmarks are in
``tests/data/coco_analyze_recorded.json`` (seeds there); how they were recorded is in docs/analyze.md.
"""

from __future__ import annotations

import numpy as np

from .cocobuild import COCO_NAMES, PERSON, TEMPLATE, gt_person, pose

#: COCO's left/right partner of each joint
FLIP = [0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15]
#: the seeds (and sizes) of the recorded benchmarks
RECORDED = {"seed": [1, 2, 3, 4, 5, 6], "n_images": 60}


def _detection(rng, img, xy, others, height, tie_grid):
    """A detection of the person at ``xy`` with planted errors of every kind."""
    d = xy.copy()
    kind = rng.choice(["clean", "jitter", "inversion", "swap", "miss", "mixed"], p=[.25, .2, .15, .15, .1, .15])
    noise = 0.004 * height
    d += rng.normal(0, noise, d.shape)
    pick = rng.random(17) < rng.uniform(0.1, 0.5)
    if kind in ("jitter", "mixed"):
        d[pick] += rng.normal(0, 0.04 * height, (int(pick.sum()), 2))
    if kind in ("inversion", "mixed"):
        sel = rng.random(17) < 0.3
        d[sel] = xy[np.array(FLIP)][sel]
    if kind in ("swap", "mixed") and others:
        other = others[int(rng.integers(len(others)))]
        sel = rng.random(17) < 0.3
        d[sel] = other[sel] + rng.normal(0, noise, (int(sel.sum()), 2))
    if kind in ("miss", "mixed"):
        sel = rng.random(17) < 0.25
        d[sel] += rng.uniform(-0.5, 0.5, (int(sel.sum()), 2)) * height
    conf = rng.uniform(0.05, 1.0, 17)
    kp = np.column_stack([d, conf])
    kp[rng.random(17) < 0.03] = 0  # joints the method did not find: (0, 0, 0)
    score = float(rng.uniform(0.05, 1.0))
    if tie_grid:
        score = round(score * 4) / 4 or 0.25
    return {"image_id": img, "category_id": 1, "keypoints": [round(float(c), 3) for c in kp.ravel()], "score": score}


def make_analyze_benchmark(seed: int, n_images: int = 60):
    """(gt dict, list of result dicts) of a random benchmark for the error diagnosis."""
    rng = np.random.default_rng(seed)
    ids = sorted(int(v) for v in rng.choice(np.arange(1, 10**6), size=n_images, replace=False))
    images, anns, results = [], [], []
    ann_ids = iter(int(v) for v in rng.choice(np.arange(1, 10**7), size=n_images * 12, replace=False))
    for k, img in enumerate(ids):
        images.append({"id": img, "file_name": f"{img:012d}.jpg", "width": 640, "height": 480})
        n_people = 0 if k % 9 == 4 else int(rng.integers(1, 7))
        people = []
        # a crowd of people close together in some images, so that joints can be taken from a neighbour
        crowded = k % 3 == 0
        base = (float(rng.uniform(100, 500)), float(rng.uniform(0, 250)))
        for _ in range(n_people):
            height = float(rng.choice([rng.uniform(20, 40), rng.uniform(50, 140), rng.uniform(160, 380)]))
            if crowded:
                cx, top = base[0] + float(rng.normal(0, 0.15 * height)), base[1] + float(rng.normal(0, 0.05 * height))
            else:
                cx, top = float(rng.uniform(0, 640)), float(rng.uniform(-50, 400))
            xy = pose(rng, cx, top, height)
            anns.append(gt_person(rng, img, next(ann_ids), xy, height, visibility=(0.15, 0.25, 0.6),
                                  p_without_keypoints=0.08))
            people.append((xy, height))
        if k % 5 == 2:  # a crowd region; some carry keypoints
            x0, y0 = float(rng.uniform(0, 400)), float(rng.uniform(0, 300))
            w, h = float(rng.uniform(80, 240)), float(rng.uniform(60, 180))
            kp, nk = [0] * 51, 0
            if k % 10 == 7:
                xy = pose(rng, x0 + w / 2, y0, h)
                flat = np.column_stack([xy, np.full(17, 2)]).ravel()
                kp = [round(float(c), 2) if i % 3 < 2 else 2 for i, c in enumerate(flat)]
                nk = 17
            anns.append({"id": next(ann_ids), "image_id": img, "category_id": 1, "iscrowd": 1,
                         "keypoints": kp, "num_keypoints": nk, "area": round(w * h * 0.6, 2), "bbox": [x0, y0, w, h]})
            for _ in range(int(rng.integers(0, 3))):  # detections inside the crowd
                xy = pose(rng, x0 + w * rng.random(), y0 + h * rng.random() - 60, 80)
                results.append(_detection(rng, img, xy, [], 80, False))
        if k % 11 == 7:
            continue  # an image with GT and no detections
        tie_grid = k % 4 == 1
        poses = [p[0] for p in people]
        for i, (xy, height) in enumerate(people):
            for _ in range(int(rng.choice([0, 1, 1, 1, 2]))):  # missed people, duplicates
                results.append(_detection(rng, img, xy, poses[:i] + poses[i + 1:], height, tie_grid))
        if k % 7 == 5 and len(results) and results[-1]["image_id"] == img:  # an exact duplicate: ties in rescoring
            results.append(dict(results[-1], score=round(float(rng.uniform(0.05, 1.0)), 1)))
        n_fp = 23 if k % 13 == 3 else int(rng.integers(0, 4))  # > 20 detections on some images
        for _ in range(n_fp):
            xy = pose(rng, float(rng.uniform(0, 640)), float(rng.uniform(0, 400)), float(rng.uniform(30, 300)))
            results.append(_detection(rng, img, xy, [], 100, tie_grid))
    gt = {"info": {"description": "prt synthetic COCO keypoints (error diagnosis)"}, "images": images,
          "annotations": anns, "categories": [dict(PERSON, keypoints=list(COCO_NAMES))]}
    order = rng.permutation(len(results))
    return gt, [results[i] for i in order]


def make_rescoring_tie_case(n_images: int = 6):
    """(gt, results) where coco-analyze's rescoring meets exact ties, so that its order decides the AP.

    Each image has two GT people, Q then P (file order), P annotated on joints 0-8 only, Q on 9-16 only.
    Detection A lies exactly on both (OKS 1 with each), detection B exactly on P and far from Q (OKS with Q
    below 0.1): both get the best OKS 1.0, a tie that soft-NMS breaks by the order of the detections (A
    first in even images, B first in odd ones). Whichever keeps score 1 is matched first: A takes P (the
    later of two equal OKS), leaving B unmatched and Q missed; B first takes P and A then takes Q."""
    images, anns, results = [], [], []
    for k in range(n_images):
        img = 100 + k
        images.append({"id": img, "file_name": f"{img:012d}.jpg", "width": 640, "height": 480})
        base = np.round(TEMPLATE * 300 + [200 + 10 * k, 40]).astype(int)
        vis_p = np.arange(17) < 9
        for pid, vis in ((2 * k + 1, ~vis_p), (2 * k + 2, vis_p)):  # Q first, then P
            kp = np.column_stack([np.where(vis, base[:, 0], 0), np.where(vis, base[:, 1], 0), np.where(vis, 2, 0)])
            anns.append({"id": 1000 + pid, "image_id": img, "category_id": 1, "iscrowd": 0,
                         "keypoints": [int(c) for c in kp.ravel()], "num_keypoints": int(vis.sum()),
                         "area": 40000.0, "bbox": [150.0, 20.0, 200.0, 320.0]})
        a = np.column_stack([base, np.ones(17)])
        b = a.copy()
        b[~vis_p, :2] += 900  # far from Q's joints
        dets = [{"image_id": img, "category_id": 1, "keypoints": [float(c) for c in a.ravel()], "score": 0.9},
                {"image_id": img, "category_id": 1, "keypoints": [float(c) for c in b.ravel()], "score": 0.8}]
        results += dets if k % 2 == 0 else dets[::-1]
    gt = {"info": {"description": "prt: coco-analyze rescoring ties"}, "images": images, "annotations": anns,
          "categories": [dict(PERSON, keypoints=list(COCO_NAMES))]}
    return gt, results
