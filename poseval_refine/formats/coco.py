"""COCO keypoint results JSON: ``[{image_id, category_id, keypoints: [x, y, v] * 17, score}, ...]``.

``v`` in results is a per-joint confidence, kept as the joint score; ``score`` is the person's
(instance) score. A point (0, 0, 0) is missing. One sequence; frames are the image ids in
ascending order.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import InputError
from ..io import atomic_path, dumps_json, load_json
from ..poses import PoseSequence, PoseSet
from ..skeletons import COCO17
from . import Format, register
from ._values import integer, kind_of, numeric_array, optional_number

_FIX = "give COCO keypoint results: [{'image_id': 139, 'category_id': 1, 'keypoints': [x, y, v] * 17, 'score': 0.9}]"


def _image_id(v, path: Path, at: str):
    """An image id as COCO uses them: an integer (``139`` or ``139.0``) or a string."""
    if isinstance(v, str):
        return v
    return integer(v, what=f"{at} 'image_id'", wrapped=False, file=path, field="image_id",
                   fix="give each result the integer image_id of its image (or a string id)")


def read_coco_results(path: str | Path) -> PoseSet:
    path = Path(path)
    return coco_results(load_json(path), path)


def coco_results(data, path: Path) -> PoseSet:
    """The parsed result list (a file's, or the Python API's list of dicts; ``path`` names it in messages)."""
    if not isinstance(data, list):
        raise InputError(f"is {kind_of(data)}, not a list of COCO results", file=path, fix=_FIX)
    kps, scores, image_ids, extras = [], [], [], []
    for i, d in enumerate(data):
        at = f"results[{i}]"  # the i-th result of the file, as the evaluator's messages name it
        if not isinstance(d, dict):
            raise InputError(f"{at} is {kind_of(d)}, expected an object", file=path, fix=_FIX)
        if "image_id" not in d:
            raise InputError(f"{at} has no 'image_id'", file=path, field="image_id", fix=_FIX)
        image_ids.append(_image_id(d["image_id"], path, at))
        kp = d.get("keypoints")
        if not isinstance(kp, list) or len(kp) != 51:
            got = f"has {len(kp)} values" if isinstance(kp, list) else f"is {kind_of(kp)}"
            raise InputError(f"{at} 'keypoints' {got}, expected 51 (17 x, y, v)", file=path,
                             field="keypoints", fix="write the 17 COCO keypoints as one flat list [x1, y1, v1, ...]")
        a = numeric_array(kp, what=f"{at} 'keypoints'", file=path, field="keypoints",
                          fix="write every keypoint value as a number").reshape(17, 3)
        a[(a == 0).all(1)] = np.nan
        kps.append(a)
        scores.append(optional_number(d.get("score"), what=f"{at} 'score'", wrapped=False, file=path, field="score",
                                      fix="give every result its instance score as a number"))
        extras.append(d)
    ids = sorted(set(image_ids), key=lambda v: (isinstance(v, str), v))
    frame = {v: f for f, v in enumerate(ids)}
    frames = np.array([frame[v] for v in image_ids], dtype=np.int64)
    order = np.argsort(frames, kind="stable")
    seq = PoseSequence(name=path.stem, skeleton=COCO17, image_names=[str(v) for v in ids],
                       person_frame=frames[order], keypoints=np.array(kps).reshape(-1, 17, 3)[order],
                       person_score=np.array(scores, dtype=np.float64)[order],
                       meta={"source": {"path": str(path), "format": "coco-results"}, "image_ids": ids,
                             "entry_index": order.tolist()},
                       person_extras=[extras[i] for i in order])
    return PoseSet({seq.name: seq.validate()}, format="coco-results", root=str(path))


def person_scores(seq: PoseSequence) -> np.ndarray:
    """Instance scores for ranking: the person's own score, else the mean score of its present
    joints (formats such as OpenPose have no instance score); NaN when neither exists."""
    present = ~np.isnan(seq.keypoints[..., 0]) & np.isfinite(seq.keypoints[..., 2])
    n = present.sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(present, seq.keypoints[..., 2], 0.0).sum(1) / n
    own = seq.person_score
    return np.where(np.isfinite(own), own, np.where(n > 0, mean, np.nan))


def result_records(seq: PoseSequence, image_ids, category_id=1) -> list[dict]:
    """COCO result dicts of one sequence, frame f being image ``image_ids[f]``.

    Joints are COCO-17 by name; a joint the sequence's skeleton lacks or leaves absent is
    written (0, 0, 0), never invented. A sequence read from COCO results keeps its records'
    other fields (category_id, bbox, ...). ``score`` is :func:`person_scores` (NaN if none)."""
    s = seq.to_skeleton(COCO17)
    same = seq.meta.get("source", {}).get("format") == "coco-results"
    scores = person_scores(s).tolist()
    kp = s.keypoints.copy()
    kp[np.isnan(kp[..., 0])] = 0.0
    kps = np.nan_to_num(kp, nan=0.0).reshape(s.num_persons, -1).tolist()
    frames = s.person_frame.tolist()
    out = []
    for p in range(s.num_persons):
        d = dict(seq.person_extras[p]) if same else {"category_id": category_id}
        d["image_id"] = image_ids[frames[p]]
        d["keypoints"] = kps[p]
        d["score"] = scores[p]
        out.append(d)
    return out


def write_coco_results(poses: PoseSet, path: str | Path, *, overwrite: bool = False) -> None:
    out = []
    for seq in poses:
        ids = seq.meta.get("image_ids") or [int(n) if str(n).isdigit() else n for n in seq.image_names]
        for d in result_records(seq, ids):
            if np.isnan(d["score"]):
                d["score"] = 0.0
            out.append(d)
    with atomic_path(path, overwrite=overwrite) as tmp:
        tmp.write_bytes(dumps_json(out))


def is_coco_keypoints_gt(data) -> bool:
    """COCO keypoint annotations, not a PoseTrack 2018 file (same keys): no video frames, COCO's joint names."""
    if not isinstance(data, dict) or "images" not in data or "annotations" not in data:
        return False
    images = data.get("images")
    if isinstance(images, list) and any(isinstance(i, dict) and ("frame_id" in i or "vid_id" in i) for i in images):
        return False
    cats = data.get("categories")
    names = next((c.get("keypoints") for c in cats if isinstance(c, dict) and c.get("name") == "person"), None) \
        if isinstance(cats, list) else None
    return isinstance(names, list) and "left_eye" in names and "head_bottom" not in names


def _sniff(path: Path) -> bool:
    if not path.is_file() or path.suffix.lower() != ".json":
        return False
    try:
        data = load_json(path)
    except InputError:
        return False
    return isinstance(data, list) and bool(data) and isinstance(data[0], dict) and "keypoints" in data[0]


register(Format("coco-results", "COCO keypoint results JSON (list of {image_id, keypoints, score})",
                read=lambda p, **kw: read_coco_results(p),
                write=lambda poses, p, **kw: write_coco_results(poses, p, **kw),
                sniff=_sniff, aliases=("coco",),
                read_data=lambda d: coco_results(d, Path("pred")),
                sniff_data=lambda d: isinstance(d, list) and bool(d) and isinstance(d[0], dict) and
                "keypoints" in d[0]))
