"""Random CrowdPose, AI Challenger and COCO-WholeBody benchmarks, and xtcocotools run on them as mmpose calls it.

The benchmarks stress what xtcocotools does differently from pycocotools and what its matching hinges on:
people crowded together (detections compete for them), duplicate GT people and detections (OKS ties),
scores rounded to one decimal (score ties), crowd regions, people without keypoints (all joints, or one
whole-body part, with v = 0), num_keypoints that disagree with the v flags, annotation id 0 and negative
ids, images without GT or detections, > 20 detections in an image, detections without any keypoint
v > 0 (xtcocotools drops them), boxes in the results or not, crowdIndex on and around the 0.2 / 0.8
boundaries, an extra category without annotations (CrowdPose's split mean averages its -1 entries in),
and for COCO-WholeBody part scores given for all, some or none of the results.

xtcocotools runs in its own virtual environment (its wheels need numpy < 2): :func:`xtcocotools_python`
finds it, :func:`run_xtcocotools` evaluates many benchmarks in one subprocess (REFERENCE below).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np

WHOLEBODY_FIELDS = (("keypoints", 17), ("foot_kpts", 6), ("face_kpts", 68), ("lefthand_kpts", 21),
                    ("righthand_kpts", 21))
PART_SCORES = ("foot_score", "face_score", "lefthand_score", "righthand_score", "wholebody_score")


def benchmark(layout: str, seed: int, n_images: int = 24, noise: float = 1.0, decimals: int | None = None
              ) -> tuple[dict, list]:
    """(GT, results) of ``layout`` ("crowdpose", "aic" or "wholebody"); ``noise`` scales the detections' error,
    ``decimals`` rounds coordinates, boxes and areas (the small worked examples of docs/crowdpose.md)."""
    gt, results = _benchmark(layout, seed, n_images, noise)
    if decimals is None:
        return gt, results

    def rounded(o, key=None):
        if isinstance(o, float) and key not in ("crowdIndex", "score") and not str(key).endswith("_score"):
            return round(o, decimals)
        if isinstance(o, list):
            return [rounded(v, key) for v in o]
        if isinstance(o, dict):
            return {k: rounded(v, k) for k, v in o.items()}
        return o

    return rounded(gt), rounded(results)


def _benchmark(layout: str, seed: int, n_images: int, noise: float) -> tuple[dict, list]:
    rng = np.random.default_rng(seed)
    n_joints = {"crowdpose": 14, "aic": 14, "wholebody": 133}[layout]
    template = rng.uniform(0, 1, (n_joints, 2))
    images, anns, results = [], [], []
    ann_id = int(rng.choice([0, 0, 1]))  # annotation id 0 (xtcocotools can match it; pycocotools cannot)
    box_results = rng.random() < 0.3
    part_scores = rng.choice(["all", "some", "none"])
    for img in range(n_images):
        image = {"id": img * 3 + 1, "file_name": f"{img}.jpg", "width": 200, "height": 200}
        if layout == "crowdpose":
            image["crowdIndex"] = float(rng.choice([0.0, 0.1, 0.2, 0.5, 0.8, 0.9, rng.uniform(0, 1)]))
        images.append(image)
        people = []
        for _ in range(int(rng.choice([0, 1, 2, 4, 7]))):
            height = float(rng.choice([30.0, 60.0, 100.0, 180.0]))
            xy = template * height + rng.uniform(0, 100, 2) + rng.normal(0, 0.02 * height, (n_joints, 2))
            v = rng.choice([0, 1, 2], size=n_joints, p=[0.3, 0.2, 0.5])
            kind = rng.random()
            if kind < 0.1:
                v[:] = 0
            if layout == "wholebody":  # a part without any labeled joint: ignored for that part
                at = 0
                for _, k in WHOLEBODY_FIELDS:
                    if rng.random() < 0.2:
                        v[at:at + k] = 0
                    at += k
            kp = np.column_stack([np.where(v > 0, xy[:, 0], 0), np.where(v > 0, xy[:, 1], 0), v])
            x0, y0 = xy.min(0)
            box = [float(x0), float(y0), float(np.ptp(xy[:, 0]) + 1), float(np.ptp(xy[:, 1]) + 1)]
            if rng.random() < 0.2:
                box = [float(round(c)) for c in box]
            flat = [float(c) if i % 3 < 2 else int(c) for i, c in enumerate(kp.ravel())]
            ann = {"id": ann_id, "image_id": image["id"], "category_id": 1, "bbox": box,
                   "iscrowd": int(rng.random() < 0.08)}
            if layout == "wholebody":
                at = 0
                for field, k in WHOLEBODY_FIELDS:
                    ann[field] = flat[3 * at:3 * (at + k)]
                    at += k
                ann["area"] = float(rng.choice([32.0 ** 2, 96.0 ** 2, box[2] * box[3] * 0.6, rng.uniform(0, 2e4)]))
            else:
                ann["keypoints"] = flat
                if rng.random() < 0.3:  # an 'area' the protocol must not read (use_area=False)
                    ann["area"] = float(rng.uniform(0, 5))
            # CrowdPose's num_keypoints counts v = 2 only; sometimes it disagrees with the flags
            nkp = int((v == 2).sum())
            if kind > 0.93:
                nkp = 0 if nkp else 3
            ann["num_keypoints"] = nkp
            anns.append(ann)
            if rng.random() < 0.08:  # the same person twice: OKS ties between GT people
                ann_id += 1
                anns.append(dict(ann, id=ann_id))
            if rng.random() < 0.03:  # a negative id: xtcocotools takes the person but counts the match as none
                anns[-1] = dict(anns[-1], id=-ann_id - 5)
            ann_id += 1
            people.append(xy)
        if img % 7 == 3:
            continue  # no detections
        for _ in range(int(rng.choice([0, 1, 3, 6, 24]))):
            if people and rng.random() < 0.8:
                d = people[int(rng.integers(len(people)))] + rng.normal(
                    0, noise * float(rng.choice([0.5, 2.0, 6.0])), (n_joints, 2))
            else:
                d = template * 80 + rng.uniform(0, 120, 2)
            conf = np.round(rng.uniform(0, 1, n_joints), 2)
            if rng.random() < 0.1:
                conf[:] = 0  # no keypoint v > 0: xtcocotools drops the detection
            kp = np.column_stack([d, conf])
            kp[rng.random(n_joints) < 0.05] = 0
            flat = [float(c) for c in kp.ravel()]
            r = {"image_id": image["id"], "category_id": 1, "score": float(np.round(rng.uniform(0, 1), 1))}
            if layout == "wholebody":
                at = 0
                for field, k in WHOLEBODY_FIELDS:
                    r[field] = flat[3 * at:3 * (at + k)]
                    at += k
                for key in PART_SCORES:
                    if part_scores == "all" or (part_scores == "some" and rng.random() < 0.5):
                        r[key] = float(np.round(rng.uniform(0, 1), 1))
            else:
                r["keypoints"] = flat
            if box_results:
                r["bbox"] = [float(d[:, 0].min()), float(d[:, 1].min()), float(np.ptp(d[:, 0])),
                             float(np.ptp(d[:, 1]))]
            results.append(r)
            if rng.random() < 0.05:
                results.append(dict(r))  # a duplicate detection
    names = [f"j{i}" for i in range(17 if layout == "wholebody" else n_joints)]
    cats = [{"id": 1, "name": "person", "keypoints": names, "skeleton": []}]
    if rng.random() < 0.3:
        cats.append({"id": 2, "name": "other"})  # no annotations: -1 entries in xtcocotools' precision
    return {"images": images, "annotations": anns, "categories": cats}, results


# The reference: xtcocotools as mmpose's CocoMetric (crowdpose: iou_type keypoints_crowd, use_area=False;
# aic: keypoints, use_area=False) and CocoWholeBodyMetric (one COCOeval per part, use_area=True) call it,
# with mmpose's sigma tables read into float32 (its parse_pose_metainfo). Jobs on stdin, stats on stdout.
REFERENCE = r'''
import contextlib, io, json, sys, warnings
import numpy as np
from xtcocotools.coco import COCO
from xtcocotools.cocoeval import COCOeval

jobs = json.load(sys.stdin)
out = []
for job in jobs:
    sigmas = np.array(job["sigmas"], dtype=np.float32)
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        coco = COCO(job["gt"])
        det = coco.loadRes(job["res"])
        stats = {}
        if job["protocol"] == "wholebody":
            cuts = np.cumsum([0, 17, 6, 68, 21, 21])
            kinds = [("body", 0, 1), ("foot", 1, 2), ("face", 2, 3), ("lefthand", 3, 4), ("righthand", 4, 5),
                     ("wholebody", 0, 5)]
            for part, a, b in kinds:
                ev = COCOeval(coco, det, "keypoints_" + part, sigmas[cuts[a]:cuts[b]], use_area=True)
                ev.params.useSegm = None
                ev.evaluate()
                ious = {str(img): sorted(np.asarray(m).ravel().tolist()) for (img, _), m in ev.ious.items()
                        if len(m)}
                ev.accumulate(); ev.summarize()
                stats[part] = [float(v) for v in ev.stats]
                stats["ious_" + part] = ious
        else:
            kind = "keypoints_crowd" if job["protocol"] == "crowdpose" else "keypoints"
            ev = COCOeval(coco, det, kind, sigmas, use_area=False)
            ev.params.useSegm = None
            ev.evaluate()
            # every OKS, per image, before summarize's easy/medium/hard passes replace them (CrowdPose)
            ious = {str(img): sorted(np.asarray(m).ravel().tolist()) for (img, _), m in ev.ious.items() if len(m)}
            ev.accumulate(); ev.summarize()
            stats["all"] = [float(v) for v in ev.stats]
            stats["ious"] = ious
    out.append(stats)
print(json.dumps(out))
'''


def xtcocotools_python() -> str | None:
    """The Python of a virtual environment with xtcocotools: $PRT_XTCOCOTOOLS_PYTHON, else the venv .ci/run
    makes (~/.cache/prt-ci/xtcocotools), else /work/venvs/xtcocotools."""
    candidates = [os.environ.get("PRT_XTCOCOTOOLS_PYTHON"),
                  str(Path.home() / ".cache" / "prt-ci" / "xtcocotools" / "bin" / "python"),
                  "/work/venvs/xtcocotools/bin/python"]
    for c in candidates:
        if c and Path(c).is_file():
            return c
    return None


def run_xtcocotools(python: str, jobs: list[dict]) -> list[dict]:
    """xtcocotools' stats for each job {gt: path, res: path, protocol, sigmas} (one subprocess for all)."""
    done = subprocess.run([python, "-c", REFERENCE], input=json.dumps(jobs), capture_output=True, text=True,
                          timeout=600)
    if done.returncode:
        raise RuntimeError(f"xtcocotools failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])
