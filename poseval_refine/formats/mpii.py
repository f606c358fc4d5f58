"""MPII Human Pose files: annotations (.mat RELEASE, HDF5 splits, Tompson's .mat), single-person
predictions (.h5/.mat ``preds``, IEF ``poses``, pose-tensorflow ``predictions.mat``) and
multi-person annolists (.mat or JSON) with per-point scores.

Single-person sets become one sequence with one frame per person, in file order, in the MPII-16
joint set. Coordinates are used as the files give them (MPII GT and the published predictions
use the same MATLAB 1-based pixels); pose-tensorflow writes 0-based pixels, which is recorded in
``meta['conversions']``.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..io import atomic_path, load_json
from ..poses import PoseSequence, PoseSet
from ..skeletons import MPII16
from . import Format, register
from ._matfile import check_mat_v5
from ._values import (
    field,
    integer,
    is_empty,
    is_struct,
    items,
    kind_of,
    number,
    numeric_array,
    optional_number,
    quiet_load,
    text,
)

log = logging.getLogger("prt")
K = len(MPII16)
#: pose-tensorflow's 14 MPII joints (LSP-like order) as MPII ids
POSE_TF_TO_MPII = (0, 1, 2, 3, 4, 5, 10, 11, 12, 13, 14, 15, 8, 9)


# ------------------------------------------------------------------------------------ low level
_ARRAYS_FIX = ("save predictions as one numeric N x 16 x 2 array 'preds' (x 3 with scores): "
               "h5py f['preds'] = preds, scipy.io.savemat(path, {'preds': preds}) or MATLAB save(path, 'preds')")


def _load_mat(path: Path) -> dict:
    import io

    import scipy.io

    try:
        data = path.read_bytes()
        check_mat_v5(data)  # scipy crashes (segfault) on some damaged files instead of raising
        with quiet_load(path):
            return scipy.io.loadmat(io.BytesIO(data), squeeze_me=True, struct_as_record=False)
    except NotImplementedError:  # MATLAB v7.3 files are HDF5
        return _load_h5(path)
    except Exception as e:  # scipy raises many types for damaged or non-.mat input
        raise InputError(f"cannot be read as a MATLAB .mat file ({type(e).__name__}: {_first_line(e)})", file=path,
                         fix="give a .mat file saved by MATLAB/scipy (or an .h5 file)") from None


def _load_h5(path: Path) -> dict:
    import h5py

    try:
        with quiet_load(path), h5py.File(path, "r") as h:
            return {k: h[k][()] for k in h.keys() if isinstance(h.get(k), h5py.Dataset)}
    except Exception as e:  # h5py raises OSError, KeyError, TypeError... for damaged files
        raise InputError(f"cannot be read as HDF5 ({type(e).__name__}: {_first_line(e)})", file=path,
                         fix="give an .h5 file written by h5py/MATLAB -v7.3 (or a .mat file)") from None


def _first_line(e: Exception) -> str:
    text = str(e).strip().splitlines()
    return text[0][:200] if text else "no details"


def load_arrays(path: str | Path) -> dict:
    """Variables of a .mat or .h5 file."""
    path = Path(path)
    if not path.is_file():
        raise InputError("not found", file=path, fix="check the path")
    suffix = path.suffix.lower()
    if suffix in (".h5", ".hdf5"):
        return _load_h5(path)
    if suffix == ".mat":
        return _load_mat(path)
    raise InputError(f"has the extension '{suffix}', but MPII files are .mat or .h5", file=path,
                     fix="give a .mat or .h5 file")


def _single_sequence(path: Path, xy: np.ndarray, score=None, **kw) -> PoseSequence:
    n = len(xy)
    kp = np.full((n, K, 3), np.nan)
    kp[..., :2] = xy
    if score is not None:
        kp[..., 2] = score
    names = kw.pop("image_names", None) or [""] * n
    return PoseSequence(name=path.stem, skeleton=MPII16, image_names=list(names),
                        person_frame=np.arange(n), keypoints=kp, **kw)


def _as_nk2(arr, path: Path, key: str) -> np.ndarray:
    """``N x 16 x C`` from the layouts in use: N x 16 x C, C x 16 x N (MATLAB), 16 x C x N (Tompson)."""
    a = numeric_array(arr, what=f"'{key}'", fix=_ARRAYS_FIX, file=path, field=key)
    if a.ndim == 3 and a.shape[1] == K and a.shape[2] in (2, 3):
        return a
    if a.ndim == 3 and a.shape[1] == K and a.shape[0] in (2, 3):
        return a.transpose(2, 1, 0)
    if a.ndim == 3 and a.shape[0] == K and a.shape[1] in (2, 3):
        return a.transpose(2, 0, 1)
    if a.ndim == 2 and a.shape == (K, 2):
        return a[None]
    raise InputError(f"'{key}' has shape {a.shape}; expected N x 16 x 2 (or x 3 with scores) or 2 x 16 x N",
                     file=path, field=key, fix=_ARRAYS_FIX)


def _per_person(v: dict, key: str, n: int, path: Path, tail: tuple = (), *, fix: str) -> np.ndarray | None:
    """A per-person array of a GT file (``normalize``, ``visible``, ...), checked to have one entry per person."""
    if key not in v:
        return None
    a = numeric_array(v[key], what=f"'{key}'", fix=fix, file=path, field=key)
    a = a.reshape(-1) if not tail else a
    if a.shape[:1] != (n,) or a.shape[1:] != tail:
        want = " x ".join(str(d) for d in (n, *tail))
        raise InputError(f"'{key}' has shape {a.shape} but the file has {n} people (expected {want})", file=path,
                         field=key, fix=fix)
    return a


def _names(v: dict, key: str, n: int, path: Path) -> list[str] | None:
    if key not in v:
        return None
    raw = v[key]
    raw = [raw] if isinstance(raw, (str, bytes, np.str_, np.bytes_)) else np.asarray(raw).reshape(-1)
    if len(raw) != n:
        raise InputError(f"'{key}' has {len(raw)} names but the file has {n} people", file=path, field=key,
                         fix=f"give one image name per person in '{key}', or leave '{key}' out")
    return [text(x, what=f"'{key}' entry {i}", file=path, field=key) for i, x in enumerate(raw)]


# ------------------------------------------------------------------------------------ readers
def read_mpii_arrays(path: str | Path) -> PoseSet:
    """HDF5/.mat single-person files: GT (``part`` or ``pos_gt_src``) or predictions."""
    path = Path(path)
    return mpii_arrays(load_arrays(path), path)


def mpii_arrays(v: dict, path: Path) -> PoseSet:
    """Single-person arrays by variable name (what a .h5/.mat file holds, or the Python API's in-memory
    ``{"preds": N x 16 x 2|3}`` / ``{"part": ..., "normalize": ...}``); ``path`` names them in messages."""
    meta = {"source": {"path": str(path), "format": "mpii"}, "conversions": []}
    if "part" in v:  # valid.h5-style GT: (0, 0) = not annotated, 'normalize' = head size
        part = _as_nk2(v["part"], path, "part")[..., :2]
        n = len(part)
        xy = np.where(((part[..., 0] == 0) & (part[..., 1] == 0))[..., None], np.nan, part)
        _check_gt(path, part, "part")
        names = _names(v, "imgname", n, path)
        hs = _per_person(v, "normalize", n, path, fix="give one head size per person in 'normalize' "
                                                     "(0.6 x the head-box diagonal, as in valid.h5)")
        vis = _per_person(v, "visible", n, path, (K,), fix="give 'visible' as N x 16 (one flag per joint), or leave "
                                                          "it out")
        meta["conversions"].append("joints at (0, 0) are not annotated (valid.h5 convention)")
        seq = _single_sequence(path, xy, head_size=hs, image_names=names, visibility=vis, meta=meta)
        meta["kind"] = "gt"
        meta["fields"] = {k: np.asarray(v[k]) for k in ("center", "scale", "index", "person", "torsoangle") if k in v}
    elif "pos_gt_src" in v:  # Tompson's gt_valid.mat: 16 x 2 x N, jnt_missing 16 x N, headboxes_src 2 x 2 x N
        pos = _as_nk2(v["pos_gt_src"], path, "pos_gt_src")[..., :2]
        n = len(pos)
        _check_gt(path, pos, "pos_gt_src")
        missing = np.zeros(pos.shape[:2], bool)
        if "jnt_missing" in v:
            jm = numeric_array(v["jnt_missing"], what="'jnt_missing'", file=path, field="jnt_missing",
                               fix="give 'jnt_missing' as 16 x N flags (1 = joint not annotated)")
            if jm.shape != (K, n):
                raise InputError(f"'jnt_missing' has shape {jm.shape}, expected 16 x {n}", file=path,
                                 field="jnt_missing", fix="give one flag per joint and person (16 x N)")
            missing = jm.T != 0
        xy = np.where(missing[..., None], np.nan, pos)
        if "headboxes_src" not in v:
            raise InputError("has 'pos_gt_src' but no 'headboxes_src'", file=path, field="headboxes_src",
                             fix="give the head boxes (2 x 2 x N) that set the PCKh distance scale")
        hb = numeric_array(v["headboxes_src"], what="'headboxes_src'", file=path, field="headboxes_src",
                           fix="give 'headboxes_src' as 2 (corner) x 2 (x, y) x N")
        if hb.shape != (2, 2, n):
            raise InputError(f"'headboxes_src' has shape {hb.shape}, expected 2 x 2 x {n}", file=path,
                             field="headboxes_src", fix="give 'headboxes_src' as 2 (corner) x 2 (x, y) x N")
        boxes = np.column_stack([hb[0, 0], hb[0, 1], hb[1, 0], hb[1, 1]])
        meta["kind"] = "gt"
        seq = _single_sequence(path, xy, head_box=boxes, meta=meta)
    else:
        for key in ("preds", "poses", "pred", "predictions"):
            if key in v:
                raw = numeric_array(v[key], what=f"'{key}'", fix=_ARRAYS_FIX, file=path, field=key)
                if raw.ndim == 3 and raw.shape[1] == 17:  # IEF: 16 MPII joints + a crop anchor
                    raw = raw[:, :16]
                    meta["conversions"].append(f"'{key}' has 17 points: the first 16 are the MPII joints (IEF)")
                a = _as_nk2(raw, path, key)
                score = a[..., 2] if a.shape[-1] == 3 else None
                meta["kind"] = "pred"
                seq = _single_sequence(path, a[..., :2], score=score, meta=meta)
                break
        else:
            if "joints" in v:
                return read_pose_tensorflow(path, v)
            if "RELEASE" in v or any(k in v for k in ANNOLIST_KEYS):
                raise InputError("is an MPII annolist (multi-person annotation, e.g. the RELEASE .mat), not "
                                 "single-person arrays", file=path,
                                 fix="evaluate it with --task multi, or give single-person GT (valid.h5 with 'part' "
                                     "and 'normalize', or Tompson's gt_valid.mat) and 'preds' for --task single")
            keys = ", ".join(sorted(k for k in v if not k.startswith("__"))) or "none"
            raise InputError(f"has no 'preds' array (variables: {keys})", file=path, field="preds",
                             fix="store predictions as 'preds' (N x 16 x 2), or GT as 'part' (valid.h5 layout)")
    return PoseSet({seq.name: seq.validate()}, format="mpii", root=str(path))


def _check_gt(path: Path, xy: np.ndarray, key: str) -> None:
    bad = np.isnan(xy).any(-1) | np.isinf(xy).any(-1)
    if bad.any():
        p, j = (int(x[0]) for x in np.nonzero(bad))
        raise InputError(f"GT joint {MPII16.joints[j]} is NaN/inf", file=path, person=p, field=key,
                         fix="mark unannotated joints as (0, 0) in 'part' (or with jnt_missing), not NaN")


def _pose_tf_cells(joints) -> list:
    """``joints`` as one entry per image: a cell array, or a numeric N x J x 3 / J x 3 array."""
    if isinstance(joints, np.ndarray) and joints.dtype.kind == "O":
        return list(joints.reshape(-1))
    if isinstance(joints, np.ndarray) and joints.dtype.kind in "fiu":
        if joints.ndim == 2:
            return [joints]
        if joints.ndim == 3:
            return list(joints)
    if isinstance(joints, list):
        return joints
    return [joints]


def read_pose_tensorflow(path: str | Path, variables: dict | None = None) -> PoseSet:
    """pose-tensorflow ``predictions.mat``: ``joints``, an object array with one J x 3 (x, y, score) per image."""
    path = Path(path)
    v = variables if variables is not None else load_arrays(path)
    fix = "give the predictions.mat written by pose-tensorflow's test.py ('joints': one 14 x 3 array per image)"
    if "joints" not in v:
        raise InputError("has no 'joints' variable", file=path, field="joints", fix=fix)
    cells = _pose_tf_cells(v["joints"])
    xy = np.full((len(cells), K, 2), np.nan)
    score = np.full((len(cells), K), np.nan)
    for i, c in enumerate(cells):
        a = numeric_array(c, what="the image's joints", fix=fix, file=path, person=i, field="joints")
        if a.ndim != 2 or a.shape[1] != 3 or a.shape[0] not in (14, 16):
            raise InputError(f"image entry has shape {a.shape}, expected 14 x 3 (x, y, score)", file=path,
                             person=i, field="joints", fix=fix)
        ids = POSE_TF_TO_MPII if a.shape[0] == 14 else range(16)
        xy[i, list(ids)] = a[:, :2]
        score[i, list(ids)] = a[:, 2]
    meta = {"source": {"path": str(path), "format": "pose-tensorflow"}, "kind": "pred",
            "conversions": ["pose-tensorflow 14-joint order mapped to MPII ids 0-5, 10-15, 8, 9",
                            "coordinates as written by pose-tensorflow (0-based pixels), not shifted"]}
    seq = _single_sequence(path, xy, score=score, meta=meta)
    return PoseSet({seq.name: seq.validate()}, format="pose-tensorflow", root=str(path))


# ------------------------------------------------------------------------------------ annolists
ANNOLIST_KEYS = ("annolist", "pred", "annolist_test", "annolist_val")
_STRUCT_FIX = ("follow the MPII annolist layout: annolist(i).annorect(j).annopoints.point(k) with id, x, y "
               "(and score for predictions)")


#: fields an annolist entry / person has (MPII RELEASE, the kit's predictions, PoseTrack 2017)
ENTRY_FIELDS = ("image", "annorect")
PERSON_FIELDS = ("annopoints", "x1", "y1", "x2", "y2", "score", "scale", "objpos", "track_id")


def _known_fields(struct, known: tuple[str, ...], what: str, path: Path, f: int, r: int | None = None) -> None:
    """A struct with fields but none of the annolist ones is another layout (e.g. people keyed by
    index, ``{"0": {...}, "1": {...}}``): an error, not a person without joints."""
    names = list(struct) if isinstance(struct, dict) else list(getattr(struct, "_fieldnames", []) or [])
    if names and not any(n in known for n in names):
        shown = ", ".join(repr(str(n)) for n in names[:6]) + (", ..." if len(names) > 6 else "")
        fix = ("give 'annorect' as a list of people, each with 'annopoints' (and x1, y1, x2, y2 in GT)"
               if what == "person" else "give an MPII annolist: one entry per image with 'image' and 'annorect' "
                                        "(its people); a tracking annolist by sequence is not one")
        raise InputError(f"{what} has none of the annolist fields ({', '.join(known)}); it has {shown}",
                         file=path, frame=f, person=r, field="annorect" if what == "person" else None, fix=fix)


def _one(v, *, what: str, **where):
    """A struct that MATLAB may store as a 1 x 1 struct array / JSON as a one-element list; None if empty."""
    lst = items(v, what=what, **where)
    if not lst:
        return None
    if not is_struct(lst[0]):
        raise InputError(f"{what} is {kind_of(lst[0])}, expected a struct/object", fix=_STRUCT_FIX, **where)
    return lst[0]


def _read_points(points: list, path: Path, f: int, r: int, require_scores: bool, repeats: list) -> np.ndarray:
    """One person's points as a 16 x 3 array (x, y, score); a repeated joint id keeps its first point,
    as the MPII kit's ``util_get_annopoint_by_id`` does."""
    row = np.full((K, 3), np.nan)
    seen = np.zeros(K, bool)
    where = dict(file=path, frame=f, person=r)
    for k, pt in enumerate(points):
        if not is_struct(pt):
            raise InputError(f"point {k} is {kind_of(pt)}, expected a struct/object with id, x, y",
                             field="annopoints.point", fix=_STRUCT_FIX, **where)
        for name in ("id", "x", "y"):
            if is_empty(field(pt, name)):
                raise InputError(f"point {k} has no '{name}'", field=name, fix="give every point id, x and y",
                                 **where)
        j = integer(field(pt, "id"), what=f"point {k}'s id", fix="use MPII joint ids 0..15", field="id", **where)
        if not 0 <= j < K:
            raise InputError(f"joint id {j} is not an MPII id 0..15", field="id",
                             fix="use MPII joint ids 0 (r ankle) .. 15 (l wrist)", **where)
        x = number(field(pt, "x"), what=f"x of joint {j}", field="x", fix="write coordinates as numbers", **where)
        y = number(field(pt, "y"), what=f"y of joint {j}", field="y", fix="write coordinates as numbers", **where)
        s = field(pt, "score")
        if is_empty(s):
            if require_scores:
                raise InputError(f"point {j} has no score", field="score", **where,
                                 fix="give every predicted point a 'score' (the MPII kit requires it)")
            sc = np.nan
        else:
            sc = number(s, what=f"score of joint {j}", field="score",
                        fix="write each point's score as a number (higher = more confident)", **where)
        if seen[j]:
            repeats.append((f, r, j))
        else:
            row[j] = (x, y, sc)
            seen[j] = True
    return row


def annolist_to_sequence(annolist: list, path: Path, name: str, require_scores: bool = False) -> PoseSequence:
    """MPII annolist entries (dicts from JSON or MATLAB structs) as one sequence (one frame per entry)."""
    names, kp_rows, heads, person_frame, scales, objpos, repeats = [], [], [], [], [], [], []
    for f, entry in enumerate(annolist):
        if not is_struct(entry):
            raise InputError(f"entry is {kind_of(entry)}, expected a struct/object with 'annorect'", file=path,
                             frame=f, fix=_STRUCT_FIX)
        _known_fields(entry, ENTRY_FIELDS, "entry", path, f)
        img = _one(field(entry, "image"), what="'image'", file=path, frame=f, field="image")
        names.append(text(field(img, "name"), what="the image name", file=path, frame=f, field="image.name")
                     if img is not None else "")
        rects = items(field(entry, "annorect"), what="'annorect'", file=path, frame=f, field="annorect")
        for r, rect in enumerate(rects):
            if is_empty(rect):
                continue
            if not is_struct(rect):
                raise InputError(f"person is {kind_of(rect)}, expected a struct/object", file=path, frame=f,
                                 person=r, field="annorect", fix=_STRUCT_FIX)
            _known_fields(rect, PERSON_FIELDS, "person", path, f, r)
            where = dict(file=path, frame=f, person=r)
            ap = _one(field(rect, "annopoints"), what="'annopoints'", field="annopoints", **where)
            points = items(field(ap, "point"), what="'annopoints.point'", field="annopoints.point", **where) \
                if ap is not None else []
            person_frame.append(f)
            kp_rows.append(_read_points(points, path, f, r, require_scores, repeats))
            box = [field(rect, k) for k in ("x1", "y1", "x2", "y2")]
            heads.append([np.nan] * 4 if any(is_empty(b) for b in box) else
                         [number(b, what=f"head box {k}", field=k, fix="write the head box as numbers", **where)
                          for k, b in zip(("x1", "y1", "x2", "y2"), box)])
            scales.append(optional_number(field(rect, "scale"), what="'scale'", field="scale", **where))
            op = _one(field(rect, "objpos"), what="'objpos'", field="objpos", **where)
            objpos.append([np.nan, np.nan] if op is None else
                          [optional_number(field(op, c), what=f"objpos.{c}", field="objpos", **where) for c in "xy"])
    P = len(person_frame)
    meta = {"source": {"path": str(path), "format": "mpii-annolist"},
            "person_scale": np.asarray(scales, dtype=np.float64),
            "person_objpos": np.asarray(objpos, dtype=np.float64).reshape(P, 2), "conversions": []}
    if repeats:
        f, r, j = repeats[0]
        meta["conversions"].append(f"{len(repeats)} points repeat a joint id of their person (first: frame {f}, "
                                   f"person {r}, joint {j}); the first point of each id is used, as the MPII kit does")
    return PoseSequence(name=name, skeleton=MPII16, image_names=names, person_frame=np.asarray(person_frame),
                        keypoints=np.asarray(kp_rows).reshape(P, K, 3), head_box=np.asarray(heads).reshape(P, 4),
                        meta=meta).validate()


def read_annolist(path: str | Path, require_scores: bool = False) -> PoseSet:
    """Multi-person annolist, ``.mat`` (variable ``annolist``, ``pred`` or ``RELEASE``) or JSON."""
    path = Path(path)
    if path.suffix.lower() == ".json":
        data = load_json(path)
        annolist = data.get("annolist") if isinstance(data, dict) else data
        if not isinstance(annolist, list):
            raise InputError("has no 'annolist' list", file=path, field="annolist",
                             fix="give {'annolist': [{'image': ..., 'annorect': [...]}, ...]} JSON")
    else:
        v = load_arrays(path)
        if "RELEASE" in v:
            return read_release(path, v)
        annolist = next((v[k] for k in ANNOLIST_KEYS if k in v), None)
        if annolist is None:
            keys = ", ".join(sorted(k for k in v if not k.startswith("__"))) or "none"
            raise InputError(f"has no 'annolist' variable (variables: {keys})", file=path, field="annolist",
                             fix="save the annotations or predictions as an annolist struct array named 'annolist' "
                                 "(or 'pred')")
        annolist = items(annolist, what="'annolist'", file=path, field="annolist")
    seq = annolist_to_sequence(annolist, path, path.stem, require_scores=require_scores)
    return PoseSet({seq.name: seq}, format="mpii-annolist", root=str(path))


def read_release(path: str | Path, variables: dict | None = None) -> PoseSet:
    """The official ``mpii_human_pose_v1_u12_1.mat``: all images, one frame per image.

    ``meta['img_train']`` (per frame) and ``meta['single_person']`` (per person) give the
    official subsets; :func:`single_person_subset` selects them."""
    path = Path(path)
    v = variables if variables is not None else load_arrays(path)
    rel = v.get("RELEASE")
    fix = "give the official mpii_human_pose_v1_u12_1.mat (RELEASE with annolist, img_train, single_person)"
    if rel is None:
        raise InputError("has no RELEASE struct", file=path, fix=fix)
    if not is_struct(rel):
        raise InputError(f"'RELEASE' is {kind_of(rel)}, expected a struct", file=path, field="RELEASE", fix=fix)
    annolist = items(field(rel, "annolist"), what="'RELEASE.annolist'", file=path, field="RELEASE.annolist")
    seq = annolist_to_sequence(annolist, path, path.stem)
    F = seq.num_frames
    raw_train = field(rel, "img_train")
    if is_empty(raw_train) and F:
        raise InputError("has no 'img_train' flags", file=path, field="RELEASE.img_train", fix=fix)
    img_train = numeric_array(raw_train, what="'img_train'", file=path, field="RELEASE.img_train",
                              fix="give one 0/1 flag per image").reshape(-1) if F else np.zeros(0)
    if img_train.shape != (F,):
        raise InputError(f"'img_train' has {img_train.size} flags for {F} images", file=path,
                         field="RELEASE.img_train", fix="give one 0/1 flag per image")
    single = field(rel, "single_person")
    if isinstance(single, np.ndarray) and single.dtype.kind == "O":
        single = list(single.reshape(-1))
    elif F == 1 and not is_empty(single):  # squeeze_me turns the one-image cell array into its content
        single = [single]
    single = items(single, what="'single_person'", file=path, field="RELEASE.single_person")
    if len(single) not in (0, F):
        raise InputError(f"'single_person' has {len(single)} entries for {F} images", file=path,
                         field="RELEASE.single_person", fix="give one list of person indices per image")
    flags = np.zeros(seq.num_persons, bool)
    bounds = seq.frame_bounds()
    for f, s in enumerate(single):
        ids = np.array([]) if is_empty(s) else numeric_array(
            s, what="'single_person' entry", file=path, frame=f, field="RELEASE.single_person",
            fix="give 1-based person indices (numbers) per image").reshape(-1)
        ids = ids[~np.isnan(ids)]  # NaN: no index
        n = bounds[f + 1] - bounds[f]
        bad = ~np.isin(ids, np.arange(1, n + 1))
        if bad.any():
            raise InputError(f"'single_person' names person {ids[bad][0]:g} but the image has {n} people",
                             file=path, frame=f, field="RELEASE.single_person",
                             fix="give 1-based indices into the image's annorect")
        flags[bounds[f] + ids.astype(np.int64) - 1] = True  # MATLAB 1-based rect indices
    seq.meta.update(img_train=img_train != 0, single_person=flags)
    seq.meta["source"]["format"] = "mpii-release"
    return PoseSet({seq.name: seq}, format="mpii-release", root=str(path))


def single_person_subset(seq: PoseSequence, train: bool | None = None) -> PoseSequence:
    """The official single-person people (optionally of the train or test images), one per frame."""
    keep = np.asarray(seq.meta["single_person"], bool).copy()
    if train is not None:
        keep &= np.asarray(seq.meta["img_train"], bool)[seq.person_frame] == train
    sub = seq.select_persons(keep)
    names = [seq.image_names[f] for f in sub.person_frame]
    sub.image_names, sub.person_frame = names, np.arange(sub.num_persons)
    sub.ignore_regions = [[] for _ in names]
    sub.frame_extras = [{} for _ in names]
    sub.is_labeled = np.ones(len(names), bool)
    return sub


# ------------------------------------------------------------------------------------ writers
PICKS = ("largest", "first")


def one_person_per_frame(seq: PoseSequence, pick: str | None = None, file=None) -> PoseSequence:
    """One person per frame, as single-person arrays hold them: a frame with several people is an error
    naming those frames unless ``pick`` says whom to keep (``largest``: the person whose joints span
    the largest box, ties to the first listed; ``first``: the first listed); a frame without people
    gets a row without joints."""
    counts = np.diff(seq.frame_bounds())
    crowded = np.flatnonzero(counts > 1)
    if len(crowded) and pick is None:
        shown = ", ".join(str(int(f)) for f in crowded[:10]) + (", ..." if len(crowded) > 10 else "")
        raise InputError(f"{len(crowded)} of {seq.num_frames} frames hold more than one person (frames {shown}), "
                         "but MPII single-person arrays hold one person per frame", file=file or seq.source,
                         frame=int(crowded[0]), fix="choose whom to keep with --pick largest or --pick first "
                                                    "(or write a multi-person format such as posetrack2018)")
    if pick is not None and pick not in PICKS:
        raise InputError(f"unknown --pick {pick!r}", fix=f"use one of: {', '.join(PICKS)}")
    if pick == "largest" and seq.num_persons:
        xy = seq.keypoints[..., :2]
        with np.errstate(invalid="ignore", over="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # people without joints: all-NaN spans
            span = np.nanmax(xy, axis=1) - np.nanmin(xy, axis=1)
            area = span[:, 0] * span[:, 1]
        key = -np.nan_to_num(area, nan=-1.0, posinf=np.finfo(float).max)
    else:
        key = np.zeros(seq.num_persons)
    order = np.lexsort((np.arange(seq.num_persons), key, seq.person_frame))  # per frame: key, then file order
    has = counts > 0
    keep = np.zeros(seq.num_persons, bool)
    keep[order[np.searchsorted(seq.person_frame[order], np.flatnonzero(has))]] = True
    out = seq.select_persons(keep)
    if len(crowded):
        log.info("%s: frames with several people: %d; kept the %s of each", seq.name, len(crowded),
                 "largest (widest joint box)" if pick == "largest" else "first listed")
    if not has.all():  # a row without joints keeps the rows aligned with the frames
        log.info("%s: frames without a person: %d, written as rows without joints", seq.name, int((~has).sum()))
        rows = np.concatenate([out.person_frame, np.flatnonzero(~has)])
        kp = np.concatenate([out.keypoints, np.full((int((~has).sum()), len(seq.skeleton), 3), np.nan)])
        idx = np.argsort(rows, kind="stable")
        out = PoseSequence(name=seq.name, skeleton=seq.skeleton, image_names=list(seq.image_names),
                           person_frame=rows[idx], keypoints=kp[idx], meta=dict(seq.meta))
    return out


def write_preds(poses: PoseSet, path: str | Path, *, overwrite: bool = False, pick: str | None = None) -> None:
    """Single-person predictions as ``preds`` (N x 16 x 2, or x 3 when scores exist), .h5 or .mat:
    one row per frame (see :func:`one_person_per_frame` for frames with several people)."""
    path = Path(path)
    if path.suffix.lower() not in (".h5", ".hdf5", ".mat"):
        raise InputError("MPII predictions are written as .h5 or .mat", file=path, fix="give OUT a .h5 or .mat name")
    if len(poses) != 1:
        names = ", ".join(poses.names()[:5]) + (", ..." if len(poses) > 5 else "")
        raise InputError(f"the input holds {len(poses)} sequences ({names}); an MPII prediction file holds one",
                         file=path, fix="convert one sequence file at a time")
    seq = one_person_per_frame(next(iter(poses)), pick).to_skeleton(MPII16)
    preds = seq.keypoints if not np.isnan(seq.keypoints[..., 2]).all() else seq.keypoints[..., :2]
    with atomic_path(path, overwrite=overwrite) as tmp:
        if path.suffix.lower() == ".mat":
            import scipy.io

            scipy.io.savemat(str(tmp), {"preds": preds})
        else:
            import h5py

            with h5py.File(tmp, "w") as h:
                h["preds"] = preds


def _variable_names(path: Path, suffixes: tuple[str, ...]) -> set[str]:
    """Names of the variables of a .mat/.h5 file, or nothing when it is not one."""
    if path.suffix.lower() not in suffixes or not path.is_file():
        return set()
    try:
        return set(load_arrays(path))
    except InputError:
        return set()


def _sniff_arrays(path: Path) -> bool:
    return bool(_variable_names(path, (".h5", ".hdf5", ".mat")) & {"part", "pos_gt_src", "preds", "poses"})


def _sniff_posetf(path: Path) -> bool:
    names = _variable_names(path, (".mat",))
    return "joints" in names and "preds" not in names


def _sniff_annolist(path: Path) -> bool:
    """A .mat annolist, or a JSON list of annolist entries (``{"annolist": ...}`` JSON is PoseTrack 2017's
    layout too: the posetrack2017 format reads it, and tells the tasks apart)."""
    if path.suffix.lower() == ".json" and path.is_file():
        try:
            data = load_json(path)
        except InputError:
            return False
        return isinstance(data, list) and bool(data) and all(isinstance(e, dict) for e in data) and \
            any("annorect" in e for e in data)
    return bool(_variable_names(path, (".mat",)) & {"annolist", "RELEASE"})


register(Format("mpii", "MPII single-person arrays (.h5/.mat): valid.h5 GT, Tompson's gt_valid.mat, 'preds'",
                read=lambda p, **kw: read_mpii_arrays(p), write=lambda poses, p, **kw: write_preds(poses, p, **kw),
                sniff=_sniff_arrays, aliases=("mpii-h5", "mpii-mat", "mpii-preds"), write_options=("pick",),
                gt_task=lambda p: ("single", "MPII single-person arrays"),
                read_data=lambda v: mpii_arrays(v if isinstance(v, dict) else {"preds": v}, Path("pred")),
                sniff_data=lambda v: isinstance(v, np.ndarray) or (isinstance(v, dict) and bool(
                    {"preds", "poses", "part", "pos_gt_src"} & set(v)))))
register(Format("pose-tensorflow", "pose-tensorflow / DeeperCut / ArtTrack predictions.mat ('joints')",
                read=lambda p, **kw: read_pose_tensorflow(p), sniff=_sniff_posetf,
                aliases=("deepercut", "posetf", "predictions.mat")))
register(Format("mpii-annolist", "MPII multi-person annolist (.mat or JSON) and the RELEASE annotation .mat",
                read=lambda p, **kw: read_annolist(p), sniff=_sniff_annolist, aliases=("mpii-multi", "mpii-release"),
                gt_task=lambda p: ("multi", "an MPII multi-person annolist")))
