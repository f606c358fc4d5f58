"""A synthetic COCO keypoint benchmark written by the tests, and pycocotools run on it directly.

``make_benchmark`` draws GT (people of every size, people without keypoints, crowd regions,
images without people) and detections (noisy copies of GT people, missing joints, false
positives, detections on crowds, images with more than 20 detections, images with none) as
plain COCO JSON objects. ``pycocotools_stats`` runs pycocotools exactly as a user does on the
raw files: it is the independent reference for prt, which reads the predictions through its own
adapters instead.
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import numpy as np

COCO_NAMES = ["nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
              "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip", "left_knee",
              "right_knee", "left_ankle", "right_ankle"]
#: a standing person, in units of its height (x right, y down), COCO order
TEMPLATE = np.array([[0.0, 0.06], [-0.02, 0.04], [0.02, 0.04], [-0.05, 0.05], [0.05, 0.05], [-0.12, 0.18],
                     [0.12, 0.18], [-0.16, 0.33], [0.16, 0.33], [-0.18, 0.47], [0.18, 0.47], [-0.08, 0.5],
                     [0.08, 0.5], [-0.09, 0.72], [0.09, 0.72], [-0.1, 0.95], [0.1, 0.95]])
PERSON = {"id": 1, "name": "person", "supercategory": "person", "keypoints": COCO_NAMES, "skeleton": []}


def pose(rng, cx, top, height):
    """A standing person's 17 points: the template scaled to ``height`` at (cx, top), with 1 % noise."""
    xy = TEMPLATE * height + [cx, top]
    return xy + rng.normal(0, 0.01 * height, xy.shape)


def gt_person(rng, image_id: int, ann_id: int, xy, height: float, visibility=(0.2, 0.2, 0.6),
              p_without_keypoints: float = 0.1) -> dict:
    """A COCO GT annotation of the person at ``xy``: random v flags (probabilities of 0, 1, 2), sometimes no
    keypoints at all (ignored by COCOeval), a bbox around the points and an area of 40-70 % of it."""
    v = rng.choice([0, 1, 2], size=17, p=list(visibility))
    if rng.random() < p_without_keypoints:
        v[:] = 0
    kp = np.column_stack([np.where(v > 0, xy[:, 0], 0), np.where(v > 0, xy[:, 1], 0), v])
    x0, y0 = xy.min(0) - 0.05 * height
    x1, y1 = xy.max(0) + 0.05 * height
    area = float((x1 - x0) * (y1 - y0) * rng.uniform(0.4, 0.7))
    return {"id": ann_id, "image_id": image_id, "category_id": 1, "iscrowd": 0,
            "keypoints": [round(float(c), 2) if i % 3 < 2 else int(c) for i, c in enumerate(kp.ravel())],
            "num_keypoints": int((v > 0).sum()), "area": round(area, 3),
            "bbox": [round(float(c), 2) for c in (x0, y0, x1 - x0, y1 - y0)]}


def make_benchmark(seed: int = 0, n_images: int = 40, bbox: bool = False, max_people: int = 6):
    """(gt dict, list of result dicts) of a random benchmark with continuous (tie-free) scores."""
    rng = np.random.default_rng(seed)
    ids = sorted(int(v) for v in rng.choice(np.arange(1, 10**6), size=n_images, replace=False))
    images, anns, results = [], [], []
    ann_ids = iter(int(v) for v in rng.choice(np.arange(1, 10**7), size=n_images * (max_people + 2), replace=False))
    for k, img in enumerate(ids):
        images.append({"id": img, "file_name": f"{img:012d}.jpg", "width": 640, "height": 480})
        n_people = 0 if k % 9 == 4 else int(rng.integers(1, max_people + 1))
        people = []
        for _ in range(n_people):
            height = float(rng.choice([rng.uniform(20, 45), rng.uniform(60, 140), rng.uniform(180, 400)]))
            cx, top = float(rng.uniform(0, 640)), float(rng.uniform(-50, 400))
            xy = pose(rng, cx, top, height)
            anns.append(gt_person(rng, img, next(ann_ids), xy, height))
            people.append((xy, anns[-1]["area"], height))
        if k % 5 == 2:  # a crowd region
            x0, y0 = float(rng.uniform(0, 400)), float(rng.uniform(0, 300))
            w, h = float(rng.uniform(80, 240)), float(rng.uniform(60, 180))
            anns.append({"id": next(ann_ids), "image_id": img, "category_id": 1, "iscrowd": 1,
                         "keypoints": [0] * 51, "num_keypoints": 0, "area": round(w * h * 0.6, 2),
                         "bbox": [x0, y0, w, h]})
            for _ in range(int(rng.integers(0, 3))):  # detections inside the crowd
                xy = pose(rng, x0 + w * rng.random(), y0 + h * rng.random() - 60, 80)
                people_det = _det(rng, xy, img, bbox, noise=0.0)
                results.append(people_det)
        if k % 11 == 7:
            continue  # an image with GT and no detections
        for xy, _area, height in people:
            if rng.random() < 0.85:
                noise = float(rng.choice([0.003, 0.01, 0.02, 0.05])) * height
                results.append(_det(rng, xy, img, bbox, noise, score=(0.3, 1.0)))
        n_fp = 22 if k % 13 == 3 else int(rng.integers(0, 4))  # > 20 detections on some images
        for _ in range(n_fp):
            xy = pose(rng, float(rng.uniform(0, 640)), float(rng.uniform(0, 400)), float(rng.uniform(30, 300)))
            results.append(_det(rng, xy, img, bbox, 0.0))
    gt = {"info": {"description": "prt synthetic COCO keypoints"}, "images": images, "annotations": anns,
          "categories": [dict(PERSON, keypoints=list(COCO_NAMES))]}  # a copy: tests edit it
    order = rng.permutation(len(results))  # results in no particular order, as a method writes them
    return gt, [results[i] for i in order]


def _det(rng, xy, img, bbox, noise, score=(0.01, 0.7)):
    d = xy + rng.normal(0, 1, xy.shape) * noise
    conf = rng.uniform(0.05, 1.0, 17)
    kp = np.column_stack([d, conf])
    kp[rng.random(17) < 0.03] = 0  # joints the method did not find: (0, 0, 0)
    out = {"image_id": img, "category_id": 1, "keypoints": [float(c) for c in kp.ravel()],
           "score": float(rng.uniform(*score))}
    if bbox:
        out["bbox"] = [float(d[:, 0].min()), float(d[:, 1].min()), float(np.ptp(d[:, 0])), float(np.ptp(d[:, 1]))]
    return out


def write_json(path: Path, obj) -> Path:
    path.write_text(json.dumps(obj))
    return path


def pycocotools_stats(gt_file: Path, res_file: Path) -> dict:
    """pycocotools' ten numbers on the raw files, the way its README runs it (stdout swallowed)."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(str(gt_file))
        dt = gt.loadRes(str(res_file))
        ev = COCOeval(gt, dt, "keypoints")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    names = ["AP", "AP50", "AP75", "APm", "APl", "AR", "AR50", "AR75", "ARm", "ARl"]
    return dict(zip(names, (float(v) for v in ev.stats)))


def duplicate(gt: dict, results: list[dict], weights) -> tuple[dict, list[dict]]:
    """The benchmark with image i present ``weights[i]`` times (copies get new image and annotation ids,
    in the original image order): the image set one bootstrap resample draws."""
    images, anns, res = [], [], []
    by_img_anns: dict = {}
    for a in gt["annotations"]:
        by_img_anns.setdefault(a["image_id"], []).append(a)
    by_img_res: dict = {}
    for r in results:
        by_img_res.setdefault(r["image_id"], []).append(r)
    for img, w in zip(sorted(gt["images"], key=lambda im: im["id"]), weights):
        for c in range(int(w)):
            new = img["id"] * 100 + c
            images.append(dict(img, id=new))
            anns += [dict(a, id=a["id"] * 100 + c, image_id=new) for a in by_img_anns.get(img["id"], [])]
            res += [dict(r, image_id=new) for r in by_img_res.get(img["id"], [])]
    return dict(gt, images=images, annotations=anns), res
