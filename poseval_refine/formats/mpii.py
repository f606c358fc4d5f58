"""MPII Human Pose files: annotations (.mat RELEASE, HDF5 splits, Tompson's .mat), single-person
predictions (.h5/.mat ``preds``, IEF ``poses``, pose-tensorflow ``predictions.mat``) and
multi-person annolists (.mat or JSON) with per-point scores.

Single-person sets become one sequence with one frame per person, in file order, in the MPII-16
joint set. Coordinates are used as the files give them (MPII GT and the published predictions
use the same MATLAB 1-based pixels); pose-tensorflow writes 0-based pixels, which is recorded in
``meta['conversions']``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import InputError
from ..io import atomic_path, load_json
from ..poses import PoseSequence, PoseSet
from ..skeletons import MPII16
from . import Format, register

K = len(MPII16)
#: pose-tensorflow's 14 MPII joints (LSP-like order) as MPII ids
POSE_TF_TO_MPII = (0, 1, 2, 3, 4, 5, 10, 11, 12, 13, 14, 15, 8, 9)


# ------------------------------------------------------------------------------------ low level
def _load_mat(path: Path) -> dict:
    import scipy.io

    try:
        return scipy.io.loadmat(str(path), squeeze_me=True, struct_as_record=False)
    except NotImplementedError:  # MATLAB v7.3 files are HDF5
        return _load_h5(path)
    except Exception as e:  # scipy raises several types for non-.mat input
        raise InputError(f"cannot be read as a MATLAB .mat file ({e})", file=path,
                         fix="give a .mat or .h5 file") from None


def _load_h5(path: Path) -> dict:
    import h5py

    try:
        with h5py.File(path, "r") as h:
            return {k: h[k][()] for k in h.keys() if isinstance(h[k], h5py.Dataset)}
    except OSError as e:
        raise InputError(f"cannot be read as HDF5 ({e})", file=path, fix="give a .mat or .h5 file") from None


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


def _as_nk2(arr: np.ndarray, path: Path, key: str) -> np.ndarray:
    """``N x 16 x C`` from the layouts in use: N x 16 x C, C x 16 x N (MATLAB), 16 x C x N (Tompson)."""
    a = np.asarray(arr, dtype=np.float64)
    if a.ndim == 3 and a.shape[1] == K and a.shape[2] in (2, 3):
        return a
    if a.ndim == 3 and a.shape[1] == K and a.shape[0] in (2, 3):
        return a.transpose(2, 1, 0)
    if a.ndim == 3 and a.shape[0] == K and a.shape[1] in (2, 3):
        return a.transpose(2, 0, 1)
    if a.ndim == 2 and a.shape == (K, 2):
        return a[None]
    raise InputError(f"'{key}' has shape {a.shape}; expected N x 16 x 2 (or x 3 with scores) or 2 x 16 x N",
                     file=path, field=key, fix="save predictions as an N x 16 x 2 array of MPII joints")


# ------------------------------------------------------------------------------------ readers
def read_mpii_arrays(path: str | Path) -> PoseSet:
    """HDF5/.mat single-person files: GT (``part`` or ``pos_gt_src``) or predictions."""
    path = Path(path)
    v = load_arrays(path)
    meta = {"source": {"path": str(path), "format": "mpii"}, "conversions": []}
    if "part" in v:  # valid.h5-style GT: (0, 0) = not annotated, 'normalize' = head size
        part = _as_nk2(v["part"], path, "part")[..., :2]
        xy = np.where(((part[..., 0] == 0) & (part[..., 1] == 0))[..., None], np.nan, part)
        _check_gt(path, part, "part")
        names = [n.decode() if isinstance(n, bytes) else str(n) for n in v.get("imgname", [])]
        hs = np.asarray(v["normalize"], np.float64).reshape(-1) if "normalize" in v else None
        meta["conversions"].append("joints at (0, 0) are not annotated (valid.h5 convention)")
        seq = _single_sequence(path, xy, head_size=hs, image_names=names,
                               visibility=np.asarray(v["visible"], np.float64) if "visible" in v else None, meta=meta)
        meta["kind"] = "gt"
        meta["fields"] = {k: np.asarray(v[k]) for k in ("center", "scale", "index", "person", "torsoangle") if k in v}
    elif "pos_gt_src" in v:  # Tompson's gt_valid.mat: 16 x 2 x N, jnt_missing 16 x N, headboxes 2 x 2 x N
        pos = _as_nk2(v["pos_gt_src"], path, "pos_gt_src")[..., :2]
        _check_gt(path, pos, "pos_gt_src")
        missing = np.asarray(v["jnt_missing"]).T.astype(bool) if "jnt_missing" in v else np.zeros(pos.shape[:2], bool)
        xy = np.where(missing[..., None], np.nan, pos)
        hb = np.asarray(v["headboxes_src"], np.float64)  # 2 (corner) x 2 (x, y) x N
        boxes = np.column_stack([hb[0, 0], hb[0, 1], hb[1, 0], hb[1, 1]])
        meta["kind"] = "gt"
        seq = _single_sequence(path, xy, head_box=boxes, meta=meta)
    else:
        for key in ("preds", "poses", "pred", "predictions"):
            if key in v:
                raw = np.asarray(v[key])
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


def read_pose_tensorflow(path: str | Path, variables: dict | None = None) -> PoseSet:
    """pose-tensorflow ``predictions.mat``: ``joints``, an object array with one J x 3 (x, y, score) per image."""
    path = Path(path)
    v = variables if variables is not None else load_arrays(path)
    if "joints" not in v:
        raise InputError("has no 'joints' variable", file=path, field="joints",
                         fix="give the predictions.mat written by pose-tensorflow's test.py")
    cells = np.atleast_1d(v["joints"]).ravel()
    xy = np.full((len(cells), K, 2), np.nan)
    score = np.full((len(cells), K), np.nan)
    for i, c in enumerate(cells):
        a = np.asarray(c, dtype=np.float64)
        if a.ndim != 2 or a.shape[1] != 3 or a.shape[0] not in (14, 16):
            raise InputError(f"image entry has shape {a.shape}, expected 14 x 3 (x, y, score)", file=path,
                             person=i, field="joints")
        ids = POSE_TF_TO_MPII if a.shape[0] == 14 else range(16)
        xy[i, list(ids)] = a[:, :2]
        score[i, list(ids)] = a[:, 2]
    meta = {"source": {"path": str(path), "format": "pose-tensorflow"}, "kind": "pred",
            "conversions": ["pose-tensorflow 14-joint order mapped to MPII ids 0-5, 10-15, 8, 9",
                            "coordinates as written by pose-tensorflow (0-based pixels), not shifted"]}
    seq = _single_sequence(path, xy, score=score, meta=meta)
    return PoseSet({seq.name: seq.validate()}, format="pose-tensorflow", root=str(path))


# ------------------------------------------------------------------------------------ annolists
def _field(obj, name, default=None):
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


def _scalar(v):
    if isinstance(v, list):
        v = v[0] if len(v) == 1 else (np.nan if not v else v)
    a = np.asarray(v)
    if a.size == 0:
        return np.nan
    return float(a.ravel()[0])


def _items(v) -> list:
    """A MATLAB struct array / JSON list as a Python list (one element arrays and scalars too)."""
    if v is None:
        return []
    if isinstance(v, list):
        return v
    if isinstance(v, np.ndarray):
        return list(v.ravel())
    return [v]


def annolist_to_sequence(annolist: list, path: Path, name: str, require_scores: bool = False) -> PoseSequence:
    """MPII annolist entries (dicts from JSON or MATLAB structs) as one sequence (one frame per entry)."""
    frames, names, kp_rows, heads, person_frame, scales, objpos = [], [], [], [], [], [], []
    for f, entry in enumerate(annolist):
        img = _field(entry, "image")
        img = _items(img)[0] if _items(img) else None
        names.append(str(_field(img, "name", "")) if img is not None else "")
        for r, rect in enumerate(_items(_field(entry, "annorect"))):
            if rect is None or (isinstance(rect, np.ndarray) and rect.size == 0):
                continue
            person_frame.append(f)
            row = np.full((K, 3), np.nan)
            ap = _field(rect, "annopoints")
            ap = _items(ap)[0] if _items(ap) else None
            for pt in _items(_field(ap, "point")) if ap is not None else []:
                try:
                    j = int(_scalar(_field(pt, "id")))
                    x, y = _scalar(_field(pt, "x")), _scalar(_field(pt, "y"))
                except (TypeError, ValueError):
                    raise InputError("a point has a non-numeric id, x or y", file=path, frame=f, person=r,
                                     field="annopoints.point") from None
                if not 0 <= j < K:
                    raise InputError(f"joint id {j} is not an MPII id 0..15", file=path, frame=f, person=r,
                                     field="id")
                s = _field(pt, "score")
                if s is None or (isinstance(s, (list, np.ndarray)) and np.asarray(s).size == 0):
                    if require_scores:
                        raise InputError(f"point {j} has no score", file=path, frame=f, person=r, field="score",
                                         fix="give every predicted point a 'score' (the MPII kit requires it)")
                    s = np.nan
                row[j] = (x, y, _scalar(s))
            kp_rows.append(row)
            box = [_field(rect, k) for k in ("x1", "y1", "x2", "y2")]
            heads.append([np.nan] * 4 if any(b is None for b in box) else [_scalar(b) for b in box])
            sc = _field(rect, "scale")
            scales.append(np.nan if sc is None else _scalar(sc))
            op = _field(rect, "objpos")
            op = _items(op)[0] if _items(op) else None
            objpos.append([np.nan, np.nan] if op is None else [_scalar(_field(op, "x")), _scalar(_field(op, "y"))])
        frames.append(entry)
    P = len(person_frame)
    meta = {"source": {"path": str(path), "format": "mpii-annolist"},
            "person_scale": np.asarray(scales), "person_objpos": np.asarray(objpos).reshape(P, 2)}
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
            raise InputError("has no 'annolist' list", file=path, fix="give {'annolist': [...]} JSON")
    else:
        v = load_arrays(path)
        release = v.get("RELEASE")
        if release is not None:
            return read_release(path, v)
        annolist = next((v[k] for k in ("annolist", "pred", "annolist_test", "annolist_val") if k in v), None)
        if annolist is None:
            raise InputError("has no 'annolist' variable", file=path, field="annolist",
                             fix="save the predictions as an annolist struct array")
        annolist = _items(annolist)
    seq = annolist_to_sequence(annolist, path, path.stem, require_scores=require_scores)
    return PoseSet({seq.name: seq}, format="mpii-annolist", root=str(path))


def read_release(path: str | Path, variables: dict | None = None) -> PoseSet:
    """The official ``mpii_human_pose_v1_u12_1.mat``: all images, one frame per image.

    ``meta['img_train']`` (per frame) and ``meta['single_person']`` (per person) give the
    official subsets; :func:`single_person_subset` selects them."""
    path = Path(path)
    v = variables if variables is not None else load_arrays(path)
    rel = v.get("RELEASE")
    if rel is None:
        raise InputError("has no RELEASE struct", file=path, fix="give mpii_human_pose_v1_u12_1.mat")
    annolist = _items(_field(rel, "annolist"))
    seq = annolist_to_sequence(annolist, path, path.stem)
    img_train = np.asarray(_field(rel, "img_train"), dtype=bool).ravel()
    single = _items(_field(rel, "single_person"))
    flags = np.zeros(seq.num_persons, bool)
    bounds = seq.frame_bounds()
    for f, s in enumerate(single[: seq.num_frames]):
        ids = np.atleast_1d(np.asarray(s, dtype=np.float64)).ravel()
        for r in ids[~np.isnan(ids)].astype(int) - 1:  # MATLAB 1-based rect indices
            if 0 <= r < bounds[f + 1] - bounds[f]:
                flags[bounds[f] + r] = True
    seq.meta.update(img_train=img_train, single_person=flags)
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
def write_preds(poses: PoseSet, path: str | Path, *, overwrite: bool = False) -> None:
    """Single-person predictions as ``preds`` (N x 16 x 2, or x 3 when scores exist), .h5 or .mat."""
    path = Path(path)
    if len(poses) != 1:
        raise InputError(f"holds {len(poses)} sequences; MPII prediction files hold one", file=path)
    seq = next(iter(poses)).to_skeleton(MPII16)
    preds = seq.keypoints if not np.isnan(seq.keypoints[..., 2]).all() else seq.keypoints[..., :2]
    with atomic_path(path, overwrite=overwrite) as tmp:
        if path.suffix.lower() in (".h5", ".hdf5"):
            import h5py

            with h5py.File(tmp, "w") as h:
                h["preds"] = preds
        elif path.suffix.lower() == ".mat":
            import scipy.io

            scipy.io.savemat(str(tmp), {"preds": preds})
        else:
            raise InputError("MPII predictions are written as .h5 or .mat", file=path)


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
    return bool(_variable_names(path, (".mat",)) & {"annolist", "RELEASE"})


register(Format("mpii", "MPII single-person arrays (.h5/.mat): valid.h5 GT, Tompson's gt_valid.mat, 'preds'",
                read=lambda p, **kw: read_mpii_arrays(p), write=lambda poses, p, **kw: write_preds(poses, p, **kw),
                sniff=_sniff_arrays, aliases=("mpii-h5", "mpii-mat", "mpii-preds")))
register(Format("pose-tensorflow", "pose-tensorflow / DeeperCut / ArtTrack predictions.mat ('joints')",
                read=lambda p, **kw: read_pose_tensorflow(p), sniff=_sniff_posetf,
                aliases=("deepercut", "posetf", "predictions.mat")))
register(Format("mpii-annolist", "MPII multi-person annolist (.mat or JSON) and the RELEASE annotation .mat",
                read=lambda p, **kw: read_annolist(p), sniff=_sniff_annolist, aliases=("mpii-multi", "mpii-release")))
