"""PoseTrack JSON, 2017 (``annolist``) and 2018 (COCO-like) layouts, GT and predictions.

One JSON file per sequence; a folder holds a benchmark. Reading keeps every record as read
(``frame_extras``/``person_extras`` hold the source dicts) so that writing back in the same
layout changes only what prt owns: keypoint coordinates and scores, track ids and head boxes.
An unchanged number is written back as the very token that was read (``1`` stays ``1``).

Conventions, as poseval reads these files (spec §1.2):
- 2017: scalars may be wrapped in one-element lists; point ``id`` is the PoseTrack-15 joint id.
- 2018: a keypoint slot is absent only when x == y == v == 0; ``scores: []`` means no scores;
  ``bbox_head`` [x, y, w, h] becomes the head box x1 = x, y1 = y, x2 = x + w, y2 = y + h;
  joint slots are mapped by the names in ``categories[0].keypoints``.
"""

from __future__ import annotations

import logging
import math
from itertools import chain
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..io import atomic_dir, atomic_path, dumps_json, load_json, no_gc
from ..poses import NO_TRACK, PoseSequence, PoseSet
from ..skeletons import ALIASES, POSETRACK15, POSETRACK18, Skeleton
from . import Format, register

log = logging.getLogger("prt")

FMT17 = "posetrack2017"
FMT18 = "posetrack2018"
_OWNED_RECT = ("x1", "y1", "x2", "y2", "track_id", "annopoints")
_OWNED_ANN = ("keypoints", "scores", "track_id", "bbox_head", "image_id")


def _unwrap(v):
    return v[0] if type(v) is list and len(v) == 1 else v


def _is_wrapped(v) -> bool:
    return type(v) is list


def _num(v, *, file, frame, person, field) -> float:
    """A number from a JSON value; anything else is an InputError naming the place."""
    v = _unwrap(v)
    if type(v) is float or type(v) is int:
        return float(v)
    if isinstance(v, bool) or v is None or isinstance(v, (str, list, dict)):
        raise InputError(f"expected a number, got {v!r}", file=file, frame=frame, person=person, field=field,
                         fix="write coordinates and scores as JSON numbers")
    return float(v)


# ----------------------------------------------------------------------------------- reading
def _layout(data, path) -> str:
    if isinstance(data, dict):
        if "annolist" in data:
            return FMT17
        if "images" in data and "annotations" in data:
            return FMT18
    raise InputError("is in neither PoseTrack layout (no 'annolist', no 'images' + 'annotations')",
                     file=path, fix="give PoseTrack 2017 {'annolist': [...]} or 2018 COCO-like JSON files")


def _read_2017(data: dict, path: Path, name: str, records: bool = True) -> PoseSequence:
    frames = data["annolist"]
    if not isinstance(frames, list):
        raise InputError("'annolist' is not a list", file=path, field="annolist")
    K = len(POSETRACK15)
    image_names, labeled, ignore = [], [], []
    person_frame, has_pose, rects_all = [], [], []
    # values of the whole file go into flat lists, converted by numpy once (fast path);
    # anything unusual falls back to a slow pass that names the bad value
    track_vals, track_idx, head_vals, head_idx, score_vals, score_idx = [], [], [], [], [], []
    pt_person, pt_all, pt_dicts = [], [], []
    for f, fr in enumerate(frames):
        if not isinstance(fr, dict):
            raise InputError("frame is not a JSON object", file=path, frame=f)
        img = fr.get("image")
        img = _unwrap(img) if img is not None else None
        image_names.append(str(_unwrap(img.get("name", ""))) if isinstance(img, dict) else "")
        lab = fr.get("is_labeled")
        labeled.append(bool(_unwrap(lab)) if lab is not None and lab != [] else True)
        ignore.append(_ignore_2017(fr.get("ignore_regions"), path, f))
        rects = fr.get("annorect") or []
        if not isinstance(rects, list):
            raise InputError("'annorect' is not a list", file=path, frame=f, field="annorect")
        for r, rect in enumerate(rects):
            if not isinstance(rect, dict):
                raise InputError("person is not a JSON object", file=path, frame=f, person=r)
            i = len(rects_all)
            person_frame.append(f)
            rects_all.append(rect)
            tid = rect.get("track_id")
            if tid is not None and tid != []:
                track_vals.append(tid)
                track_idx.append(i)
            if "x1" in rect and "y1" in rect and "x2" in rect and "y2" in rect:
                head_vals += (rect["x1"], rect["y1"], rect["x2"], rect["y2"])
                head_idx.append(i)
            sc = rect.get("score")
            if sc is not None and sc != []:
                score_vals.append(sc)
                score_idx.append(i)
            ap = rect.get("annopoints")
            if isinstance(ap, dict) and "point" in ap:  # an unwrapped annopoints object
                ap = [ap]
            ok = isinstance(ap, list) and len(ap) > 0 and isinstance(ap[0], dict) and "point" in ap[0]
            has_pose.append(ok)
            if ok:
                pts = ap[0]["point"] or []
                if isinstance(pts, dict):
                    pts = [pts]
                pt_all += pts
                pt_person += [i] * len(pts)
                pt_dicts.append((f, r, pts))
    P = len(rects_all)
    person_frame = np.array(person_frame, dtype=np.int64)

    def place(p):
        return dict(file=path, frame=int(person_frame[p]), person=p - int(np.searchsorted(person_frame,
                                                                                           person_frame[p])))

    track = np.full(P, NO_TRACK, dtype=np.int64)
    if track_idx:
        try:
            track[track_idx] = _column(track_vals, int)
        except (TypeError, ValueError):
            for v, p in zip(track_vals, track_idx):
                t = _num(v, field="track_id", **place(p))
                if t != int(t):
                    raise InputError(f"track id {t} is not an integer", field="track_id",
                                     fix="use integer track ids", **place(p)) from None
            raise
    head = np.full((P, 4), np.nan)
    if head_idx:
        try:
            head[head_idx] = _column(head_vals, float).reshape(-1, 4)
        except (TypeError, ValueError):
            for k, v in enumerate(head_vals):
                _num(v, field=("x1", "y1", "x2", "y2")[k % 4], **place(head_idx[k // 4]))
            raise
    pscore = np.full(P, np.nan)
    if score_idx:
        try:
            pscore[score_idx] = _column(score_vals, float)
        except (TypeError, ValueError):
            for v, p in zip(score_vals, score_idx):
                _num(v, field="score", **place(p))
            raise
    keypoints = np.full((P, K, 3), np.nan)
    visibility = np.full((P, K), np.nan)
    if pt_person:
        try:
            ids = _column([p["id"] for p in pt_all], int)
            xs = _column([p["x"] for p in pt_all], float)
            ys = _column([p["y"] for p in pt_all], float)
            ss = _column([p.get("score", _NAN_WRAPPED) for p in pt_all], float)
            vs = _column([p.get("is_visible", _NAN_WRAPPED) for p in pt_all], float) if records else None
            if ids.min() < 0 or ids.max() >= K:
                raise ValueError
        except (TypeError, ValueError, KeyError, AttributeError):
            for f, r, pts in pt_dicts:  # slow path: find and name the bad point
                for p in pts:
                    _bad_point(p, path, f, r, K, final=False)
            raise InputError("points cannot be read", file=path) from None
        pidx = np.asarray(pt_person, dtype=np.intp)
        keypoints[pidx, ids, 0] = xs
        keypoints[pidx, ids, 1] = ys
        keypoints[pidx, ids, 2] = ss
        if vs is not None:
            visibility[pidx, ids] = vs
    _check_coords(keypoints, path, person_frame)
    return PoseSequence(
        name=name, skeleton=POSETRACK15, image_names=image_names,
        person_frame=person_frame, keypoints=keypoints, track_id=track, head_box=head,
        visibility=visibility, person_score=pscore, has_pose=np.array(has_pose, dtype=bool),
        is_labeled=np.array(labeled, dtype=bool), ignore_regions=ignore,
        meta={"source": {"path": str(path), "format": FMT17},
              "file_fields": {k: v for k, v in data.items() if k != "annolist"}},
        frame_extras=list(frames) if records else None, person_extras=rects_all if records else None,
    )


_NAN4 = [math.nan] * 4
_NAN_WRAPPED = [math.nan]


def _column(values: list, kind) -> np.ndarray:
    """One point field of a whole file as a 1-D array; values may be wrapped in 1-element lists."""
    try:  # the common case: every value wrapped in a one-element list
        arr = np.fromiter(chain.from_iterable(values), dtype=np.float64)
        if len(arr) != len(values):
            raise ValueError("a value is not a single number")
    except (TypeError, ValueError):  # bare scalars, empty lists, or something that is not a number
        arr = np.asarray([_scalar(v) for v in values], dtype=np.float64)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError("not one number per point")
    if kind is int:
        if not np.all(arr == np.round(arr)):
            raise ValueError("non-integer id")
        return arr.astype(np.intp)
    return arr


def _scalar(v):
    v = _unwrap(v)
    if v == [] or v is None:
        return math.nan
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise TypeError("not a number")
    return v


def _bad_point(pt, path, f, r, K, final=True):
    if not isinstance(pt, dict):
        raise InputError("a point is not a JSON object", file=path, frame=f, person=r, field="point")
    for key in ("id", "x", "y"):
        if key not in pt:
            raise InputError(f"a point has no '{key}'", file=path, frame=f, person=r, field=key,
                             fix="every point needs id, x and y")
    j = _unwrap(pt["id"])
    if type(j) is not int or not 0 <= j < K:
        raise InputError(f"joint id {j!r} is not one of the PoseTrack ids 0..{K - 1}", file=path, frame=f,
                         person=r, field="id", fix="use PoseTrack-2017 joint ids (0 right ankle ... 14 head top)")
    for key in ("x", "y", "score"):
        if key in pt and pt[key] != []:
            _num(pt[key], file=path, frame=f, person=r, field=f"{key} (joint {j})")
    if final:
        raise InputError("a point cannot be read", file=path, frame=f, person=r, field="point")


def _check_coords(keypoints: np.ndarray, path, person_frame) -> None:
    bad = np.isinf(keypoints).any(-1)
    if bad.any():
        p, k = (int(v[0]) for v in np.nonzero(bad))
        raise InputError(f"joint {k} has an infinite value {keypoints[p, k].tolist()}", file=path,
                         frame=int(person_frame[p]), person=p, fix="write finite numbers")


def _ignore_2017(regions, path, f) -> list[np.ndarray]:
    if not regions:
        return []
    out = []
    for reg in regions:
        pts = reg.get("point", []) if isinstance(reg, dict) else []
        try:
            poly = np.array([[float(_unwrap(p["x"])), float(_unwrap(p["y"]))] for p in pts], dtype=np.float64)
        except (TypeError, ValueError, KeyError):
            raise InputError("an ignore region has a point without numeric x and y", file=path, frame=f,
                             field="ignore_regions") from None
        out.append(poly.reshape(-1, 2))
    return out


def _skeleton_2018(data: dict, path: Path) -> tuple[Skeleton, list[str] | None]:
    cats = data.get("categories")
    if not cats:
        return POSETRACK18, None
    names = cats[0].get("keypoints") if isinstance(cats[0], dict) else None
    if not names:
        return POSETRACK18, None
    if list(names) == list(POSETRACK18.file_names):
        return POSETRACK18, list(names)
    if len(names) == 15 and all(ALIASES.get(n, n) in POSETRACK15 for n in names):
        joints = tuple(ALIASES.get(n, n) for n in names)
    else:
        joints = tuple(ALIASES.get(n, n) for n in names)
        missing = [n for n in POSETRACK15.joints if n not in joints]
        if missing:
            log.warning("%s: categories[0].keypoints lacks %s; those joints count as absent "
                        "(poseval would stop here)", path, ", ".join(missing))
    from ..skeletons import _pairs

    sk = Skeleton(name=f"posetrack18-custom-{len(names)}", joints=joints, file_names=tuple(names),
                  symmetric_pairs=_pairs(joints))
    return sk, list(names)


def _read_2018(data: dict, path: Path, name: str, records: bool = True) -> PoseSequence:
    images = data["images"]
    anns = data["annotations"]
    if not isinstance(images, list) or not isinstance(anns, list):
        raise InputError("'images' and 'annotations' must be lists", file=path)
    skeleton, names = _skeleton_2018(data, path)
    K = len(skeleton)
    frame_of = {}
    for f, img in enumerate(images):
        if not isinstance(img, dict) or "id" not in img:
            raise InputError("image entry has no 'id'", file=path, frame=f, field="id")
        frame_of.setdefault(img["id"], f)
    per_frame: list[list[int]] = [[] for _ in images]
    for a, ann in enumerate(anns):
        if not isinstance(ann, dict):
            raise InputError("annotation is not a JSON object", file=path, person=a)
        f = frame_of.get(ann.get("image_id"))
        if f is None:
            raise InputError(f"annotation refers to image id {ann.get('image_id')!r}, which is not in 'images'",
                             file=path, person=a, field="image_id", fix="give every annotation an image_id of 'images'")
        per_frame[f].append(a)
    order = [a for lst in per_frame for a in lst]
    P = len(order)
    person_frame = np.array([f for f, lst in enumerate(per_frame) for _ in lst], dtype=np.int64)
    kp_list, sc_list, track, head, pscore = [], [], [], [], []
    for i, a in enumerate(order):
        ann = anns[a]
        f = int(person_frame[i])
        kp = ann.get("keypoints")
        if kp is None:
            kp = [0] * (3 * K)
        if not isinstance(kp, list) or len(kp) != 3 * K:
            raise InputError(f"'keypoints' has {len(kp) if isinstance(kp, list) else 'no'} values, expected {3 * K}",
                             file=path, frame=f, person=a, field="keypoints",
                             fix=f"write {K} [x, y, v] triples in the order of categories[0].keypoints")
        kp_list.append(kp)
        sc = ann.get("scores")
        if sc is None or sc == []:
            sc_list.append(None)
        elif not isinstance(sc, list) or len(sc) != K:
            raise InputError(f"'scores' has {len(sc) if isinstance(sc, list) else 'no'} values, expected {K} or []",
                             file=path, frame=f, person=a, field="scores")
        else:
            sc_list.append(sc)
        tid = ann.get("track_id")
        if tid is None:
            track.append(NO_TRACK)
        else:
            t = _num(tid, file=path, frame=f, person=a, field="track_id")
            if t != int(t):
                raise InputError(f"track id {t} is not an integer", file=path, frame=f, person=a, field="track_id")
            track.append(int(t))
        hb = ann.get("bbox_head")
        if hb is not None and len(hb) == 4:
            x, y, w, h = (_num(v, file=path, frame=f, person=a, field="bbox_head") for v in hb)
            head.append([x, y, x + w, y + h])
        else:
            head.append([math.nan] * 4)
        s = ann.get("score")
        pscore.append(_num(s, file=path, frame=f, person=a, field="score") if s is not None else math.nan)
    try:
        raw = np.array(kp_list, dtype=np.float64).reshape(P, K, 3)
    except (TypeError, ValueError):
        for i, kp in enumerate(kp_list):
            for v in kp:
                _num(v, file=path, frame=int(person_frame[i]), person=order[i], field="keypoints")
        raise
    absent = (raw[..., 0] == 0) & (raw[..., 1] == 0) & (raw[..., 2] == 0)
    keypoints = np.full((P, K, 3), np.nan)
    keypoints[..., :2] = np.where(absent[..., None], np.nan, raw[..., :2])
    for i, sc in enumerate(sc_list):
        if sc is not None:
            try:
                keypoints[i, :, 2] = np.array(sc, dtype=np.float64)
            except (TypeError, ValueError):
                for v in sc:
                    _num(v, file=path, frame=int(person_frame[i]), person=order[i], field="scores")
    keypoints[..., 2] = np.where(absent, np.nan, keypoints[..., 2])
    _check_coords(keypoints, path, person_frame)
    ignore = []
    for f, img in enumerate(images):
        xs, ys = img.get("ignore_regions_x") or [], img.get("ignore_regions_y") or []
        if len(xs) != len(ys):
            raise InputError("ignore_regions_x and ignore_regions_y differ in length", file=path, frame=f)
        polys = []
        for px, py in zip(xs, ys):
            if len(px) != len(py):
                raise InputError("an ignore region has different numbers of x and y values", file=path, frame=f,
                                 field="ignore_regions_x")
            polys.append(np.column_stack([np.asarray(px, dtype=np.float64), np.asarray(py, dtype=np.float64)])
                         if len(px) else np.zeros((0, 2)))
        ignore.append(polys)
    labeled = [bool(img.get("is_labeled", True)) for img in images]
    meta = {"source": {"path": str(path), "format": FMT18},
            "file_fields": {k: v for k, v in data.items() if k not in ("images", "annotations")}}
    if names is None:
        meta.setdefault("conversions", []).append("no categories[0].keypoints: assumed the PoseTrack-2018 order")
    return PoseSequence(
        name=name, skeleton=skeleton, image_names=[str(img.get("file_name", "")) for img in images],
        person_frame=person_frame, keypoints=keypoints, track_id=np.array(track, dtype=np.int64),
        visibility=np.where(absent, np.nan, raw[..., 2]), head_box=np.array(head, dtype=np.float64).reshape(P, 4),
        person_score=np.array(pscore, dtype=np.float64), has_pose=np.ones(P, bool),
        is_labeled=np.array(labeled, bool), ignore_regions=ignore, meta=meta,
        frame_extras=list(images) if records else None, person_extras=[anns[a] for a in order] if records else None,
    )


def read_sequence(path: str | Path, name: str | None = None, records: bool = True) -> PoseSequence:
    """One PoseTrack JSON file (either layout, detected from its keys).

    ``records=False`` keeps only what evaluation needs (no source records for writing back):
    faster, and the parsed JSON is freed at once."""
    path = Path(path)
    with no_gc():
        data = load_json(path)
        layout = _layout(data, path)
        name = name or path.stem
        reader = _read_2017 if layout == FMT17 else _read_2018
        seq = reader(data, path, name, records)
        del data  # freed before the collector is back on: it would otherwise walk the whole tree
    return seq.validate()


def sequence_files(path: str | Path) -> list[Path]:
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() == ".json" and not p.name.startswith("."))
        if not files:
            raise InputError("holds no .json files", file=path,
                             fix="give a folder with one PoseTrack JSON per sequence")
        return files
    if not path.exists():
        raise InputError("not found", file=path, fix="check the path")
    return [path]


def read_posetrack(path: str | Path) -> PoseSet:
    """A file or a folder of per-sequence files, in sorted file-name order."""
    files = sequence_files(path)
    seqs = {}
    for f in files:
        seqs[f.stem] = read_sequence(f)
    fmts = {s.meta["source"]["format"] for s in seqs.values()}
    return PoseSet(sequences=seqs, format=fmts.pop() if len(fmts) == 1 else "posetrack-mixed", root=str(path))


# ----------------------------------------------------------------------------------- writing
def _keep(raw, new: float):
    """The token that was read when the value did not change, else the new number."""
    r = _unwrap(raw)
    if (type(r) is int or type(r) is float) and float(r) == new:
        return r
    return int(new) if float(new).is_integer() and type(r) is int else new


def _wrap_like(raw, value, default_wrapped=True):
    if raw is None:
        return [value] if default_wrapped else value
    return [value] if _is_wrapped(raw) else value


def _same_format(seq: PoseSequence, fmt: str) -> bool:
    return seq.meta.get("source", {}).get("format") == fmt


def _to_2017(seq: PoseSequence) -> dict:
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
                    raw_pts[_unwrap(pt["id"])] = pt
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


def _to_2018(seq: PoseSequence) -> dict:
    same = _same_format(seq, FMT18)
    sk = seq.skeleton if same else POSETRACK18
    seqk = seq.to_skeleton(sk)
    K = len(sk)
    images, anns = [], []
    bounds = seq.frame_bounds()
    for f in range(seq.num_frames):
        if same:
            img = dict(seq.frame_extras[f])
        else:
            img = {"file_name": seq.image_names[f], "id": f, "frame_id": f, "is_labeled": bool(seq.is_labeled[f]),
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
                    rx, ry = _unwrap(rh[0]), _unwrap(rh[1])
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


_WRITERS = {FMT17: _to_2017, FMT18: _to_2018}


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


def _sniff(layout: str):
    def sniff(path: Path) -> bool:
        try:
            first = sequence_files(path)[0]
        except InputError:
            return False
        if first.suffix.lower() != ".json":
            return False
        try:
            return _layout(load_json(first), first) == layout
        except InputError:
            return False
    return sniff


register(Format(FMT17, "PoseTrack 2017 annolist JSON, one file per sequence (GT or predictions)",
                read=lambda p, **kw: read_posetrack(p),
                write=lambda poses, p, **kw: write_posetrack(poses, p, FMT17, **kw),
                sniff=_sniff(FMT17), aliases=("posetrack17", "pt17", "annolist")))
register(Format(FMT18, "PoseTrack 2018 COCO-like JSON, one file per sequence (GT or predictions)",
                read=lambda p, **kw: read_posetrack(p),
                write=lambda poses, p, **kw: write_posetrack(poses, p, FMT18, **kw),
                sniff=_sniff(FMT18), aliases=("posetrack18", "pt18")))
