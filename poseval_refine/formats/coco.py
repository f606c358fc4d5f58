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


def read_coco_results(path: str | Path) -> PoseSet:
    path = Path(path)
    data = load_json(path)
    if not isinstance(data, list):
        raise InputError("is not a list of COCO results", file=path, fix="give [{image_id, keypoints, score}, ...]")
    ids = sorted({d.get("image_id") for d in data if isinstance(d, dict)}, key=lambda v: (str(type(v)), v))
    frame = {v: i for i, v in enumerate(ids)}
    order = sorted(range(len(data)), key=lambda i: frame[data[i]["image_id"]])
    kps, scores, frames, extras = [], [], [], []
    for i in order:
        d = data[i]
        kp = d.get("keypoints")
        if not isinstance(kp, list) or len(kp) != 51:
            raise InputError(f"'keypoints' has {len(kp) if isinstance(kp, list) else 'no'} values, expected 51",
                             file=path, person=i, field="keypoints")
        try:
            a = np.asarray(kp, dtype=np.float64).reshape(17, 3)
        except (TypeError, ValueError):
            raise InputError("keypoints are not numbers", file=path, person=i, field="keypoints") from None
        a[(a == 0).all(1)] = np.nan
        kps.append(a)
        sc = d.get("score", np.nan)
        if isinstance(sc, bool) or not isinstance(sc, (int, float)):
            raise InputError(f"'score' is {sc!r}, not a number", file=path, person=i, field="score",
                             fix="give every result its instance score as a number")
        scores.append(float(sc))
        frames.append(frame[d["image_id"]])
        extras.append(d)
    seq = PoseSequence(name=path.stem, skeleton=COCO17, image_names=[str(v) for v in ids],
                       person_frame=np.array(frames, int), keypoints=np.array(kps).reshape(-1, 17, 3),
                       person_score=np.array(scores),
                       meta={"source": {"path": str(path), "format": "coco-results"}, "image_ids": ids,
                             "entry_index": order},
                       person_extras=extras)
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
                sniff=_sniff, aliases=("coco",)))
