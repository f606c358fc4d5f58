"""The PoseTrack 2018 layout (COCO-like ``images`` + ``annotations``), read the way poseval reads it.

A keypoint slot is absent only when x == y == v == 0; ``scores`` that are empty (or missing) mean
no scores; ``bbox_head`` [x, y, w, h] becomes the head box x1 = x, y1 = y, x2 = x + w, y2 = y + h;
joint slots are mapped by the names in ``categories[0].keypoints``; only the frames of the first
video (the folder of the first ``file_name``) are read, and an annotation belongs to every image
whose id equals its ``image_id``.
"""

from __future__ import annotations

import logging
import os
from itertools import chain
from pathlib import Path

import numpy as np

from ...errors import InputError
from ...poses import PoseSequence
from ...skeletons import ALIASES, POSETRACK15, POSETRACK18, Skeleton, symmetric_pairs_of
from .._values import JSON_NUMBERS, MISSING, field_numbers, kind_of, plain_numbers
from .fields import FMT18, NUMBERS_FIX, Where, lenient_numbers, mark_nonfinite, polygon, score_values, track_ids

log = logging.getLogger("prt")


def read_2018(data: dict, path: Path, name: str, records: bool = True, regions: bool = True) -> PoseSequence:
    """One parsed 2018 document as a sequence (the options are :func:`~.reader.read_sequence`'s)."""
    images = data["images"]
    anns = data["annotations"]
    if type(images) is not list or type(anns) is not list:
        raise InputError("'images' and 'annotations' must be lists", file=path, fix="give COCO-like lists")
    skeleton, names = _skeleton_2018(data, path)
    K = len(skeleton)
    notes: list[str] = []
    info_of: dict = {}
    for f, img in enumerate(images):
        if type(img) is not dict or "id" not in img:
            raise InputError("image entry has no 'id'", file=path, frame=f, field=f"images[{f}].id",
                             fix="give every image an id")
        iid = img["id"]
        if type(iid) in (list, dict):
            raise InputError(f"image id is {kind_of(iid)}", file=path, frame=f, field=f"images[{f}].id",
                             fix="use numbers (or strings) as image ids")
        info_of.setdefault(iid, img)  # poseval takes the first image with an id
    # poseval keeps the first video only (the folder of the first image's file name)
    frame_imgs = [info_of[img["id"]] for img in images]
    if frame_imgs:
        vids = [_video_of(img.get("file_name")) for img in frame_imgs]
        keep = [f for f, v in enumerate(vids) if v == vids[0]]
        if len(keep) < len(images):
            notes.append(f"{len(images) - len(keep)} images belong to another video than the first image "
                         f"(folder '{vids[0]}'); poseval reads only the first video, so does prt")
    else:
        keep = []
    kept_ids = [images[f]["id"] for f in keep]
    groups: dict = {}
    for a, ann in enumerate(anns):
        if type(ann) is not dict:
            raise InputError("annotation is not a JSON object", file=path, field=f"annotations[{a}]",
                             fix="give each annotation as a JSON object")
        iid = ann.get("image_id", MISSING)
        if type(iid) in (list, dict):
            raise InputError(f"image_id is {kind_of(iid)}", file=path, field=f"annotations[{a}].image_id",
                             fix="give every annotation the id of its image")
        groups.setdefault(iid, []).append(a)
    per_frame = [groups.get(i, []) for i in kept_ids]
    known = set(kept_ids)
    stray = sum(len(v) for k, v in groups.items() if k not in known)
    if stray:
        notes.append(f"{stray} annotations refer to image ids not in 'images' (or of another video); "
                     "poseval ignores them, so does prt")
    order = list(chain.from_iterable(per_frame))
    P = len(order)
    counts = list(map(len, per_frame))
    person_frame = np.repeat(np.arange(len(keep), dtype=np.int64), counts)
    frame_start = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    where = Where(path, person_frame, frame_start, label=lambda i: f"annotations[{order[i]}]")
    recs = [anns[a] for a in order]

    raw = _keypoints_2018(recs, K, where)
    absent = (raw[..., 0] == 0) & (raw[..., 1] == 0) & (raw[..., 2] == 0)
    keypoints = np.full((P, K, 3), np.nan)
    keypoints[..., :2] = np.where(absent[..., None], np.nan, raw[..., :2])
    pp, pk = np.nonzero(~absent)
    xs, ys = keypoints[pp, pk, 0], keypoints[pp, pk, 1]
    mark_nonfinite(xs, ys, records, lambda i: where.person(int(pp[i]), "keypoints"), notes, "keypoints")
    keypoints[pp, pk, 0], keypoints[pp, pk, 1] = xs, ys

    evaluated = np.array([j in POSETRACK15 for j in skeleton.joints])
    sc, given = _read_scores_2018(recs, K, evaluated, where, notes)
    keypoints[..., 2] = np.where(absent, np.nan, sc)
    score_null = given & np.isnan(sc) & ~absent

    track = track_ids([r.get("track_id") for r in recs], where.person)
    head = np.full((P, 4), np.nan)
    for i, r in enumerate(recs):
        hb = r.get("bbox_head")
        if hb is None or hb == []:
            continue
        vals, bad = field_numbers(hb[:4]) if type(hb) is list and len(hb) >= 4 else (None, {0: hb})
        if bad:
            raise InputError(f"bbox_head is {kind_of(next(iter(bad.values())))}, expected [x, y, w, h] numbers",
                             **where.person(i, "bbox_head"), fix=NUMBERS_FIX)
        head[i] = (vals[0], vals[1], vals[0] + vals[2], vals[1] + vals[3])
    pscore = lenient_numbers([r.get("score") for r in recs])

    ignore = []
    for f in keep:
        info = frame_imgs[f]
        if not regions or "ignore_regions_x" not in info or "ignore_regions_y" not in info:
            ignore.append([])
            continue
        ignore.append(_ignore_2018(info["ignore_regions_x"], info["ignore_regions_y"], path, len(ignore), notes))
    kept_images = [images[f] for f in keep]
    labeled = [bool(img.get("is_labeled", True)) for img in kept_images]
    meta = {"source": {"path": str(path), "format": FMT18},
            "file_fields": {k: v for k, v in data.items() if k not in ("images", "annotations")}}
    if names is None:
        meta.setdefault("conversions", []).append("no categories[0].keypoints: assumed the PoseTrack-2018 order")
    if notes:
        meta["notes"] = notes
    return PoseSequence(
        name=name, skeleton=skeleton, image_names=[str(frame_imgs[f].get("file_name", "")) for f in keep],
        person_frame=person_frame, keypoints=keypoints, track_id=track,
        visibility=np.where(absent, np.nan, raw[..., 2]), head_box=head, score_null=score_null,
        person_score=pscore, has_pose=np.ones(P, bool),
        is_labeled=np.array(labeled, bool), ignore_regions=ignore, meta=meta,
        frame_extras=kept_images if records else None, person_extras=recs if records else None,
    )


def _skeleton_2018(data: dict, path: Path) -> tuple[Skeleton, list[str] | None]:
    cats = data.get("categories")
    if not cats or type(cats) is not list:
        return POSETRACK18, None
    names = cats[0].get("keypoints") if type(cats[0]) is dict else None
    if not names or type(names) is not list:
        return POSETRACK18, None
    if names == list(POSETRACK18.file_names):
        return POSETRACK18, names
    if any(type(n) is not str for n in names):
        raise InputError("categories[0].keypoints holds something that is not a name", file=path,
                         field="categories[0].keypoints", fix="list the keypoint names as strings")
    joints = tuple(ALIASES.get(n, n) for n in names)
    if len(set(joints)) != len(joints):
        dup = next(n for n in joints if joints.count(n) > 1)
        raise InputError(f"categories[0].keypoints names {dup!r} twice", file=path, field="categories[0].keypoints",
                         fix="name every keypoint slot once")
    missing = [n for n in POSETRACK15.joints if n not in joints]
    if missing:
        log.warning("%s: categories[0].keypoints lacks %s; those joints count as absent "
                    "(poseval would stop here)", path, ", ".join(missing))
    sk = Skeleton(name=f"posetrack18-custom-{len(names)}", joints=joints, file_names=tuple(names),
                  symmetric_pairs=symmetric_pairs_of(joints))
    return sk, list(names)


def _video_of(file_name) -> str:
    """poseval's video id of an image: the first '_' token of its folder name."""
    if type(file_name) is not str:
        return ""
    return os.path.basename(os.path.dirname(file_name)).split("_")[0]


def _keypoints_2018(recs: list, K: int, where: Where) -> np.ndarray:
    """(P, K, 3) raw [x, y, v] triples; a person without 'keypoints' has none (all zero)."""
    P = len(recs)
    kps = [r.get("keypoints") for r in recs]
    try:
        lens = set(map(len, kps))
    except TypeError:
        lens = None
    if lens is not None and lens <= {3 * K}:
        flat = list(chain.from_iterable(kps))
        if set(map(type, flat)) <= JSON_NUMBERS:
            try:
                return np.array(flat, dtype=np.float64).reshape(P, K, 3)
            except OverflowError:
                pass
    raw = np.zeros((P, K, 3))
    for i, kp in enumerate(kps):
        if kp is None:
            continue
        if type(kp) is not list or len(kp) != 3 * K:
            n = len(kp) if type(kp) is list else kind_of(kp)
            raise InputError(f"'keypoints' has {n} values, expected {3 * K}", **where.person(i, "keypoints"),
                             fix=f"write {K} [x, y, v] triples in the order of categories[0].keypoints")
        vals, bad = field_numbers(kp)
        if bad:
            k, v = next(iter(bad.items()))
            raise InputError(f"keypoint value {k} is {kind_of(v)}, not a number", **where.person(i, "keypoints"),
                             fix="write keypoints as JSON numbers")
        raw[i] = vals.reshape(K, 3)
    return raw


def _read_scores_2018(recs: list, K: int, evaluated: np.ndarray, where: Where, notes: list):
    """(P, K) scores and whether given; poseval reads ``scores`` only when it is non-empty (truthy)."""
    P = len(recs)
    sc = np.full((P, K), np.nan)
    given = np.zeros((P, K), bool)
    raw = [r.get("scores") for r in recs]
    try:
        fast = set(map(len, raw)) <= {K}
    except TypeError:
        fast = False
    if fast:
        arr = plain_numbers(list(chain.from_iterable(raw)))
        if arr is not None:
            return arr.reshape(P, K), np.ones((P, K), bool)
    n_str = 0
    for i, s in enumerate(raw):
        if not s:
            continue  # missing, null or []: no scores
        if type(s) is not list or len(s) < K:
            n = f"{len(s)} values" if type(s) is list else kind_of(s)
            raise InputError(f"'scores' has {n}, expected {K} (or [] for none)", **where.person(i, "scores"),
                             fix="give one score per keypoint slot, in the order of categories[0].keypoints")
        vals = [s[k] if evaluated[k] else 0.0 for k in range(K)]  # slots poseval never reads stay unchecked
        v, g, n = score_values(vals, lambda k, field, i=i: where.person(i, f"{field}[{k}]"), "scores")
        sc[i], given[i] = v, g
        n_str += n
    if n_str:
        notes.append(f"{n_str} scores are strings; read as numbers, as poseval (numpy) does")
    return sc, given


def _ignore_2018(rx, ry, path, f: int, notes: list) -> list[np.ndarray]:
    if type(rx) is not list or type(ry) is not list:
        raise InputError("ignore_regions_x/y are not lists of polygons", file=path, frame=f,
                         field="ignore_regions_x", fix="give parallel lists of x and y coordinate lists")
    if len(rx) != len(ry):
        notes.append(f"frame {f}: ignore_regions_x and ignore_regions_y differ in length; as in poseval the "
                     "extra polygons are dropped")
    out = []
    for r, (px, py) in enumerate(zip(rx, ry)):
        if type(px) is not list or type(py) is not list:
            raise InputError(f"ignore region {r} is not a list of coordinates", file=path, frame=f,
                             field="ignore_regions_x", fix="give parallel lists of x and y coordinate lists")
        if len(px) != len(py):
            notes.append(f"frame {f}: ignore region {r} has {len(px)} x and {len(py)} y values; as in poseval the "
                         "extra ones are dropped")
        n = min(len(px), len(py))
        out.append(polygon(px[:n], py[:n], path, f, r, "ignore_regions_x"))
    return out
