"""Writing PoseTrack JSON, 2017 or 2018 layout.

A sequence read from the same layout is written back with every record as read (``frame_extras``/
``person_extras``), changing only what prt owns: keypoint coordinates and scores, track ids and
head boxes. An unchanged number is written back as the very token that was read (``1`` stays ``1``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ...errors import InputError
from ...io import atomic_dir, atomic_path, dumps_json
from ...poses import NO_TRACK, PoseSequence, PoseSet
from ...skeletons import POSETRACK15, POSETRACK18
from .._values import first_item, unwrap
from .fields import FMT17, FMT18


def _keep(raw, new: float):
    """The token that was read when the value did not change, else the new number."""
    r = unwrap(raw)
    if (type(r) is int or type(r) is float) and float(r) == new:
        return r
    return int(new) if float(new).is_integer() and type(r) is int else new


def _wrap_like(raw, value, default_wrapped=True):
    if raw is None:
        return [value] if default_wrapped else value
    return [value] if type(raw) is list else value


def _same_format(seq: PoseSequence, fmt: str) -> bool:
    return seq.meta.get("source", {}).get("format") == fmt


def to_2017(seq: PoseSequence) -> dict:
    """The 2017 document of a sequence (PoseTrack-15 joints), its source records kept when read from 2017."""
    seq15 = seq.to_skeleton(POSETRACK15)
    same = _same_format(seq, FMT17)
    K = len(POSETRACK15)
    bounds = seq.frame_bounds()
    frames = []
    for f in range(seq.num_frames):
        raw_fr = seq.frame_extras[f] if same else {}
        fr = dict(raw_fr)
        if not same:
            fr["image"] = [{"name": seq.image_names[f]}]
            if seq.ignore_regions[f]:
                fr["ignore_regions"] = [{"point": [{"x": [float(x)], "y": [float(y)]} for x, y in poly]}
                                        for poly in seq.ignore_regions[f]]
            fr["is_labeled"] = [int(seq.is_labeled[f])]
        rects = []
        for p in range(bounds[f], bounds[f + 1]):
            raw = seq.person_extras[p] if same else {}
            rect = dict(raw)
            hb = seq.head_box[p]
            if not np.isnan(hb).any():
                for key, v in zip(("x1", "y1", "x2", "y2"), hb):
                    rect[key] = _wrap_like(raw.get(key), _keep(raw.get(key), float(v)))
            if seq.track_id[p] != NO_TRACK:
                rect["track_id"] = _wrap_like(raw.get("track_id"), _keep(raw.get("track_id"), int(seq.track_id[p])))
            if not np.isnan(seq.person_score[p]) and (not same or "score" in raw):
                rect["score"] = _wrap_like(raw.get("score"), _keep(raw.get("score"), float(seq.person_score[p])))
            raw_pts = {}
            if same and seq.has_pose[p]:
                ap = raw.get("annopoints")
                ap0 = ap[0] if isinstance(ap, list) else ap
                for pt in ap0.get("point") or []:
                    j = first_item(pt.get("id")) if type(pt) is dict else None
                    if type(j) in (int, float) and j == int(j):
                        raw_pts.setdefault(int(j), pt)  # the first point of a joint is the one read
            pts = []
            kp = seq15.keypoints[p]
            for j in range(K):
                x, y, s = kp[j]
                if np.isnan(x):
                    continue
                rp = raw_pts.get(j, {})
                pt = dict(rp) if rp else {"id": [j]}
                pt["x"] = _wrap_like(rp.get("x"), _keep(rp.get("x"), float(x)))
                pt["y"] = _wrap_like(rp.get("y"), _keep(rp.get("y"), float(y)))
                if not np.isnan(s):
                    pt["score"] = _wrap_like(rp.get("score"), _keep(rp.get("score"), float(s)))
                else:
                    pt.pop("score", None)
                pts.append(pt)
            if seq.has_pose[p] or pts:
                ap = raw.get("annopoints") if same else None
                if isinstance(ap, list) and ap and isinstance(ap[0], dict):
                    rect["annopoints"] = [dict(ap[0], point=pts)] + ap[1:]
                elif isinstance(ap, dict):
                    rect["annopoints"] = dict(ap, point=pts)
                else:
                    rect["annopoints"] = [{"point": pts}]
            rects.append(rect)
        fr["annorect"] = rects
        frames.append(fr)
    out = dict(seq.meta.get("file_fields", {})) if same else {}
    out["annolist"] = frames
    return out


def to_2018(seq: PoseSequence) -> dict:
    """The 2018 document of a sequence, its source records and joint slots kept when read from 2018."""
    same = _same_format(seq, FMT18)
    sk = seq.skeleton if same else POSETRACK18
    seqk = seq.to_skeleton(sk)
    K = len(sk)
    images, anns = [], []
    bounds = seq.frame_bounds()
    image_ids = seq.meta.get("image_ids")
    if image_ids is not None and len(image_ids) != seq.num_frames:
        image_ids = None
    for f in range(seq.num_frames):
        if same:
            img = dict(seq.frame_extras[f])
        else:
            # an image set read with ids (COCO results) keeps them: the GT pairs detections by image id
            iid = image_ids[f] if image_ids is not None else f
            img = {"file_name": seq.image_names[f], "id": iid, "frame_id": f, "is_labeled": bool(seq.is_labeled[f]),
                   "nframes": seq.num_frames}
            if seq.ignore_regions[f]:
                img["ignore_regions_x"] = [poly[:, 0].tolist() for poly in seq.ignore_regions[f]]
                img["ignore_regions_y"] = [poly[:, 1].tolist() for poly in seq.ignore_regions[f]]
        images.append(img)
        for p in range(bounds[f], bounds[f + 1]):
            raw = seq.person_extras[p] if same else {}
            ann = dict(raw)
            if not same:
                ann["image_id"] = img["id"]
            raw_kp = raw.get("keypoints") if same else None
            kp = []
            present = ~np.isnan(seqk.keypoints[p, :, 0])
            for j in range(K):
                if not present[j]:
                    kp += [0, 0, 0]
                    continue
                x, y = float(seqk.keypoints[p, j, 0]), float(seqk.keypoints[p, j, 1])
                v = seqk.visibility[p, j]
                if raw_kp is not None:
                    rx, ry, rv = raw_kp[3 * j: 3 * j + 3]
                    kp += [_keep(rx, x), _keep(ry, y), rv if not np.isnan(v) else 1]
                else:
                    kp += [x, y, 1 if np.isnan(v) else (int(v) if float(v).is_integer() else float(v))]
            ann["keypoints"] = kp
            ann["scores"] = _scores_2018(seqk.keypoints[p, :, 2], present, raw.get("scores") if same else None)
            if seq.track_id[p] != NO_TRACK:
                ann["track_id"] = _keep(raw.get("track_id"), int(seq.track_id[p]))
            hb = seq.head_box[p]
            if not np.isnan(hb).any():
                new = [float(hb[0]), float(hb[1]), float(hb[2] - hb[0]), float(hb[3] - hb[1])]
                rh = raw.get("bbox_head")
                if isinstance(rh, list) and len(rh) == 4:
                    rx, ry = unwrap(rh[0]), unwrap(rh[1])
                    same_box = (float(rx) == hb[0] and float(ry) == hb[1]
                                and float(rx) + float(rh[2]) == hb[2] and float(ry) + float(rh[3]) == hb[3])
                    ann["bbox_head"] = rh if same_box else new
                else:
                    ann["bbox_head"] = new
            if not same and not np.isnan(seq.person_score[p]):
                ann["score"] = float(seq.person_score[p])
            anns.append(ann)
    out = dict(seq.meta.get("file_fields", {})) if same else {}
    out["images"] = images
    out["annotations"] = anns
    if not same or "categories" not in out:
        out["categories"] = [{"id": 1, "name": "person", "keypoints": list(POSETRACK18.file_names),
                              "skeleton": []}]
    return out


def _scores_2018(sc: np.ndarray, present: np.ndarray, raw_sc) -> list:
    """``scores`` of one annotation: [] when it has none; an absent slot gets the value read, else 0."""
    base = raw_sc if isinstance(raw_sc, list) and len(raw_sc) == len(sc) else None
    if not (present & ~np.isnan(sc)).any():
        return raw_sc if raw_sc == [] or base is None else base
    out = []
    for j in range(len(sc)):
        if present[j] and not np.isnan(sc[j]):
            out.append(_keep(base[j], float(sc[j])) if base is not None else float(sc[j]))
        else:
            out.append(base[j] if base is not None else 0)
    return out


_WRITERS = {FMT17: to_2017, FMT18: to_2018}


def write_sequence(seq: PoseSequence, path: str | Path, fmt: str | None = None, *, overwrite: bool = False) -> None:
    fmt = fmt or seq.meta.get("source", {}).get("format", FMT17)
    data = _WRITERS[fmt](seq)
    with atomic_path(path, overwrite=overwrite) as tmp:
        tmp.write_bytes(dumps_json(data))


def write_posetrack(poses: PoseSet, path: str | Path, fmt: str | None = None, *, overwrite: bool = False) -> None:
    """Write a set to a folder (one file per sequence) or, for a single sequence, to a .json path."""
    path = Path(path)
    if path.suffix.lower() == ".json":
        if len(poses) != 1:
            raise InputError(f"holds {len(poses)} sequences but the output is one file", file=path,
                             fix="give an output folder")
        write_sequence(next(iter(poses)), path, fmt, overwrite=overwrite)
        return
    with atomic_dir(path, overwrite=overwrite) as tmp:
        for name, seq in poses.sequences.items():
            write_sequence(seq, tmp / f"{name}.json", fmt, overwrite=True)
