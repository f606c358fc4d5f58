"""COCO keypoint files: results JSON (a registered format) and keypoint annotations (the GT of ``--task coco``).

Results: ``[{image_id, category_id, keypoints: [x, y, v] * 17, score}, ...]``. ``v`` in results is a
per-joint confidence, kept as the joint score; ``score`` is the person's (instance) score. A point
(0, 0, 0) is missing. One sequence; frames are the image ids in ascending order.

Annotations (``person_keypoints_*.json``) and results read for evaluation come as arrays
(:class:`CocoAnnotations`, :class:`CocoResults`): each column is checked at C speed first, and
only when a column holds something else is it walked value by value, to name the first bad one.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from pathlib import Path, PurePath

import numpy as np

from ..errors import InputError
from ..io import atomic_path, dumps_json, load_json
from ..poses import PoseSequence, PoseSet
from ..skeletons import AIC14, COCO17, CROWDPOSE14, Skeleton
from . import Format, register
from ._values import all_numbers, integer, is_id, is_int, is_number, kind_of, numeric_array, optional_number

_FIX = "give COCO keypoint results: [{'image_id': 139, 'category_id': 1, 'keypoints': [x, y, v] * 17, 'score': 0.9}]"


def _image_id(v, path: Path, at: str):
    """An image id as COCO uses them: an integer (``139`` or ``139.0``) or a string."""
    if isinstance(v, str):
        return v
    return integer(v, what=f"{at} 'image_id'", wrapped=False, file=path, field="image_id",
                   fix="give each result the integer image_id of its image (or a string id)")


def read_coco_results(path: str | Path, skeleton: Skeleton = COCO17, fmt: str = "coco-results") -> PoseSet:
    path = Path(path)
    return coco_results(load_json(path), path, skeleton, fmt)


def coco_results(data, path: Path, skeleton: Skeleton = COCO17, fmt: str = "coco-results") -> PoseSet:
    """The parsed result list (a file's, or the Python API's list of dicts; ``path`` names it in messages), of
    ``skeleton``'s joints (COCO's 17; CrowdPose's or AI Challenger's 14 for their results formats)."""
    if not isinstance(data, list):
        raise InputError(f"is {kind_of(data)}, not a list of COCO results", file=path, fix=_FIX)
    k = skeleton.num_joints
    first = data[0].get("keypoints") if data and isinstance(data[0], dict) else None
    if k == 17 and isinstance(first, list) and len(first) == 42:
        raise InputError("results[0] 'keypoints' has 42 values: 14 keypoints, CrowdPose's or AI Challenger's, "
                         "not COCO's 17", file=path, field="keypoints",
                         fix="read them as --from crowdpose-results or --from aic-results (the file does not say "
                             "which)")
    kps, scores, image_ids, extras = [], [], [], []
    for i, d in enumerate(data):
        image_id, a, score = _checked_result(d, i, path, k, _keypoint_array)
        image_ids.append(image_id)
        a = a.reshape(k, 3)
        a[(a == 0).all(1)] = np.nan
        kps.append(a)
        scores.append(score)
        extras.append(d)
    ids = sorted(set(image_ids), key=lambda v: (isinstance(v, str), v))
    frame = {v: f for f, v in enumerate(ids)}
    frames = np.array([frame[v] for v in image_ids], dtype=np.int64)
    order = np.argsort(frames, kind="stable")
    seq = PoseSequence(name=path.stem, skeleton=skeleton, image_names=[str(v) for v in ids],
                       person_frame=frames[order], keypoints=np.array(kps).reshape(-1, k, 3)[order],
                       person_score=np.array(scores, dtype=np.float64)[order],
                       meta={"source": {"path": str(path), "format": fmt}, "image_ids": ids,
                             "entry_index": order.tolist()},
                       person_extras=[extras[i] for i in order])
    return PoseSet({seq.name: seq.validate()}, format=fmt, root=str(path))


def person_scores(seq: PoseSequence) -> np.ndarray:
    """Instance scores for ranking: the person's own score, else the mean score of its present
    joints (formats such as OpenPose have no instance score); NaN when neither exists."""
    present = ~np.isnan(seq.keypoints[..., 0]) & np.isfinite(seq.keypoints[..., 2])
    n = present.sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(present, seq.keypoints[..., 2], 0.0).sum(1) / n
    own = seq.person_score
    return np.where(np.isfinite(own), own, np.where(n > 0, mean, np.nan))


def result_records(seq: PoseSequence, image_ids, category_id=1, skeleton: Skeleton = COCO17,
                   fmt: str = "coco-results") -> list[dict]:
    """COCO result dicts of one sequence, frame f being image ``image_ids[f]``.

    Joints are ``skeleton``'s (COCO-17) by name; a joint the sequence's skeleton lacks or leaves absent is
    written (0, 0, 0), never invented. A sequence read from results of the same format keeps its records'
    other fields (category_id, bbox, ...). ``score`` is :func:`person_scores` (NaN if none)."""
    s = seq.to_skeleton(skeleton)
    same = seq.meta.get("source", {}).get("format") == fmt
    scores = person_scores(s).tolist()
    kp = s.keypoints.copy()
    kp[np.isnan(kp[..., 0])] = 0.0
    kps = np.nan_to_num(kp, nan=0.0).reshape(s.num_persons, -1).tolist()
    frames = s.person_frame.tolist()
    out = []
    from_openpose = seq.meta.get("source", {}).get("format") == "openpose"
    for p in range(s.num_persons):
        d = dict(seq.person_extras[p]) if same else {"category_id": category_id}
        box = seq.person_extras[p].get("bbox") if from_openpose and isinstance(seq.person_extras[p], dict) else None
        if box is not None:  # the detection box prt writes into OpenPose files it converts from COCO results
            d["bbox"] = box
        d["image_id"] = image_ids[frames[p]]
        d["keypoints"] = kps[p]
        d["score"] = scores[p]
        out.append(d)
    return out


def write_coco_results(poses: PoseSet, path: str | Path, *, overwrite: bool = False, skeleton: Skeleton = COCO17,
                       fmt: str = "coco-results") -> None:
    out = []
    for seq in poses:
        ids = seq.meta.get("image_ids") or [int(n) if str(n).isdigit() else n for n in seq.image_names]
        for d in result_records(seq, ids, skeleton=skeleton, fmt=fmt):
            if np.isnan(d["score"]):
                d["score"] = 0.0
            out.append(d)
    with atomic_path(path, overwrite=overwrite) as tmp:
        tmp.write_bytes(dumps_json(out))


def image_stem(name: str) -> str:
    """The image a per-image prediction file names: its base name without ``_keypoints.json`` (OpenPose),
    ``.json`` or another extension. Readers of such files and ``prt convert --gt`` match GT images by it."""
    base = PurePath(str(name)).name
    for suffix in ("_keypoints.json", ".json"):
        if base.endswith(suffix):
            return base[: -len(suffix)]
    return PurePath(base).stem


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
    if gt_protocol(data) != "coco":  # CrowdPose (crowdIndex), COCO-WholeBody (foot_kpts)
        return True
    # COCO's 17 (not PoseTrack 2018's, which has head_bottom), COCO-WholeBody's 133, or 14 (CrowdPose, AIC)
    return isinstance(names, list) and (("left_eye" in names and "head_bottom" not in names)
                                        or len(names) in (14, 133))


def gt_protocol(data) -> str:
    """The COCO protocol a keypoint GT's layout implies: ``crowdpose`` when its images carry ``crowdIndex``,
    ``wholebody`` when its annotations carry ``foot_kpts``, else ``coco`` (AI Challenger's GT has no mark of
    its own: ``--protocol aic``)."""
    if not isinstance(data, dict):
        return "coco"
    images, anns = data.get("images"), data.get("annotations")
    if isinstance(images, list) and images and isinstance(images[0], dict) and "crowdIndex" in images[0]:
        return "crowdpose"
    if isinstance(anns, list) and any(isinstance(a, dict) and "foot_kpts" in a for a in anns[:1000]):
        return "wholebody"
    return "coco"


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


def _register_14(name: str, skeleton: Skeleton, what: str) -> None:
    """CrowdPose's and AI Challenger's results: COCO results with 14 keypoints (mmpose's CocoMetric writes
    them); the file does not say which, so these formats are named (--from/--to), never detected."""
    register(Format(name, f"{what} keypoint results JSON (COCO results with its 14 joints; give --from/--to)",
                    read=lambda p, **kw: read_coco_results(p, skeleton, name),
                    write=lambda poses, p, **kw: write_coco_results(poses, p, skeleton=skeleton, fmt=name, **kw),
                    read_data=lambda d: coco_results(d, Path("pred"), skeleton, name)))


_register_14("crowdpose-results", CROWDPOSE14, "CrowdPose")
_register_14("aic-results", AIC14, "AI Challenger")


# ----------------------------------------------------------------------------- keypoint annotations (GT)
GT_FIX = ("give a COCO keypoint annotation file (person_keypoints_*.json): images, annotations with "
          "id, image_id, category_id, keypoints (17 x 3), num_keypoints, area, bbox, iscrowd, and the "
          "'person' category")


@dataclass(frozen=True)
class GtLayout:
    """What a keypoint GT must hold, by protocol: ``fields`` the keypoint lists of a person, concatenated in
    this order ((field, joint count), ...); ``area`` and ``num_keypoints`` whether they are read (xtcocotools
    with use_area=False never reads 'area'; its plain and whole-body keypoints count v > 0 instead of
    'num_keypoints'); ``crowd_index`` whether images carry CrowdPose's crowdIndex; ``xtcocotools``: annotation
    id 0 is matchable, and annotations of categories other than the person are evaluated too (so refused)."""

    fields: tuple[tuple[str, int], ...] = (("keypoints", 17),)
    area: bool = True
    num_keypoints: bool = True
    crowd_index: bool = False
    xtcocotools: bool = False

    @property
    def n_joints(self) -> int:
        return sum(n for _, n in self.fields)


@dataclass
class CocoAnnotations:
    """The person annotations of a COCO keypoint file as arrays, in file order.

    ``image_ids``: every image id of ``images``, in pycocotools' evaluation order (ascending);
    ``image``: each annotation's index into them; ``keypoints`` (N, K, 3); ``bbox`` (N, 4);
    ``dataset``: the file's object with only the person category and its annotations (what
    pycocotools is given)."""

    path: Path
    dataset: dict
    category_id: object
    image_ids: list
    image: np.ndarray
    ids: np.ndarray
    area: np.ndarray
    crowd: np.ndarray
    num_keypoints: np.ndarray
    keypoints: np.ndarray
    bbox: np.ndarray
    #: every category id of the file, ascending (xtcocotools evaluates them all)
    category_ids: list | None = None
    #: CrowdPose: each image's crowdIndex, in ``image_ids`` order
    crowd_index: np.ndarray | None = None

    @property
    def image_ids_set(self) -> set:
        return set(self.image_ids)


def read_coco_annotations(path, n_joints: int = 17, keep_dataset: bool = True, layout: GtLayout | None = None,
                          name: str | Path | None = None) -> CocoAnnotations:
    """A COCO keypoint annotation file (or, the Python API, its parsed dict, named ``gt`` in messages, or
    ``name``), checked for what pycocotools would assert on, crash on or get silently wrong; people have
    ``n_joints`` keypoints (the OKS sigmas' count) in 'keypoints', or the fields of ``layout``.
    ``keep_dataset=False`` keeps only the file's ``images`` in ``dataset`` (what the arrays do not hold;
    the parsed annotations are freed)."""
    layout = layout or GtLayout(fields=(("keypoints", n_joints),))
    n_joints = layout.n_joints
    if not isinstance(path, (str, Path)):  # parsed content (a dict, or a list where a dict belongs)
        data, path = path, Path(name or "gt")
    else:
        data, path = load_json(Path(path)), Path(path)
    if not isinstance(data, dict):
        raise InputError("is not a COCO annotation file (a JSON object)", file=path, fix=GT_FIX)
    for key in ("images", "annotations", "categories"):
        if not isinstance(data.get(key), list):
            what = "has no" if key not in data else "has a non-list"
            raise InputError(f"{what} '{key}'", file=path, field=key, fix=GT_FIX)
    cats = [c for c in data["categories"] if isinstance(c, dict) and c.get("name") == "person"]
    if not cats:
        names = [c.get("name") for c in data["categories"] if isinstance(c, dict)]
        raise InputError(f"has no 'person' category (categories: {names})", file=path, field="categories",
                         fix="COCO keypoint evaluation scores the 'person' category; give its entry "
                             "{id: 1, name: 'person', keypoints: [17 names]}")
    person = cats[0]
    pid = person.get("id")
    if not is_id(pid):
        raise InputError(f"the person category has id {pid!r}, not an integer", file=path, field="categories.id",
                         fix=GT_FIX)
    names = person.get("keypoints")
    named = {layout.fields[0][1], n_joints}  # COCO-WholeBody names its 17 body joints (some copies all 133)
    if names is not None and (not isinstance(names, list) or len(names) not in named):
        got = len(names) if isinstance(names, list) else "no list of"
        raise InputError(f"the person category names {got} keypoints; the OKS sigmas are for {n_joints}",
                         file=path, field="categories.keypoints",
                         fix="give the 17 COCO keypoints (nose ... right_ankle)" if n_joints == 17 else
                             "give --sigmas one sigma per keypoint of the GT (or the --protocol of this GT)")
    image_ids = _image_ids(data["images"], path)
    anns = data["annotations"]
    if not _plain_ids(anns):
        _explain_ids(anns, path)
    rows = [a for a, ann in enumerate(anns) if ann["category_id"] == pid]
    if layout.xtcocotools and len(rows) != len(anns):
        a = next(a for a, ann in enumerate(anns) if ann["category_id"] != pid)
        raise _bad(anns[a], a, path, f"has category_id {anns[a]['category_id']!r}: xtcocotools (as mmpose calls "
                   "it) evaluates every category of the GT as keypoints, so it would score these too", "category_id",
                   fix=f"keep only the person annotations (category_id {pid!r}) in the GT")
    people = [anns[a] for a in rows]
    cols = _columns(people, layout)
    if cols is None:
        for a in rows:
            _check_annotation(anns[a], a, path, image_ids, layout)
        _check_unique(people, rows, path)
        raise InputError("holds annotations prt cannot read", file=path, fix=GT_FIX)  # pragma: no cover
    ids, img, area, crowd, nkp, kps, boxes = cols
    if len(set(ids)) != len(ids) or (0 in ids and not layout.xtcocotools) or not set(img) <= image_ids.keys():
        for a in rows:
            _check_annotation(anns[a], a, path, image_ids, layout)
        _check_unique(people, rows, path)
    n = len(people)
    try:
        area_a = np.array(area, dtype=np.float64) if layout.area else np.full(n, np.nan)
        kp = kps
        box = np.fromiter(itertools.chain.from_iterable(boxes), dtype=np.float64, count=4 * n)
    except OverflowError:
        kp = area_a = box = np.full(1, np.inf)
    bad = ~np.isfinite(area_a) | (area_a < 0) if area_a.shape == (n,) else np.ones(n, bool)
    if layout.area and bad.any():
        a = rows[int(np.flatnonzero(bad)[0])]
        _check_annotation(anns[a], a, path, image_ids, layout)
        raise _bad(anns[a], a, path, f"has 'area' {anns[a]['area']!r}, not a finite number >= 0", "area")
    for what, arr, k in (("keypoint", kp, 3 * n_joints), ("bbox", box, 4)):
        fin = np.isfinite(arr).reshape(n, k).all(1) if arr.size == n * k else np.zeros(n, bool)
        if not fin.all():
            a = rows[int(np.flatnonzero(~fin)[0])]
            raise _bad(anns[a], a, path, f"has a {what} value that is not a finite number",
                       "keypoints" if what == "keypoint" else "bbox",
                       fix="write every coordinate as a finite number (absent joints as 0, 0, 0)")
    index = image_ids
    cat_ids = []
    for i, c in enumerate(data["categories"]):
        if isinstance(c, dict) and is_id(c.get("id")):
            cat_ids.append(c["id"])
        elif layout.xtcocotools:
            raise InputError(f"categories[{i}] has no integer (or string) 'id': xtcocotools (as mmpose calls it) "
                             "evaluates every category of the GT", file=path, field="categories.id",
                             fix="give every category an id, or keep only the person category")
    return CocoAnnotations(
        path=path, dataset=dict(data, categories=[person], annotations=people) if keep_dataset else
        {"images": data["images"]}, category_id=pid,
        image_ids=list(index), image=np.array([index[i] for i in img], dtype=np.int64),
        ids=np.array(ids, dtype=np.int64), area=area_a, crowd=np.array(crowd, dtype=bool),
        num_keypoints=np.array(nkp, dtype=np.int64), keypoints=kp.reshape(n, n_joints, 3), bbox=box.reshape(n, 4),
        category_ids=sorted(set(cat_ids), key=lambda v: (isinstance(v, str), v)),
        crowd_index=_crowd_index(data["images"], index, path) if layout.crowd_index else None)


def _crowd_index(images: list, index: dict, path: Path) -> np.ndarray:
    """Each image's CrowdPose crowdIndex, in evaluation order (xtcocotools reads it for every image)."""
    out = np.empty(len(index))
    for i, img in enumerate(images):
        v = img.get("crowdIndex")
        if not is_number(v) or not math.isfinite(v):
            what = "has no 'crowdIndex'" if "crowdIndex" not in img else f"has crowdIndex {v!r}, not a number"
            raise InputError(f"images[{i}] (id {img['id']!r}) {what}; CrowdPose's AP_easy/medium/hard split the "
                             "images by it", file=path, field="images.crowdIndex",
                             fix="give every image its crowdIndex (CrowdPose's GT has one), or evaluate with "
                                 "--protocol aic or coco (no easy/medium/hard)")
        out[index[img["id"]]] = v
    return out


def _image_ids(images: list, path: Path) -> dict:
    """{image id: its position in pycocotools' evaluation order (ids ascending)}."""
    seen: set = set()
    for i, img in enumerate(images):
        if not isinstance(img, dict) or "id" not in img:
            raise InputError(f"images[{i}] has no 'id'", file=path, field="images", fix=GT_FIX)
        if not is_id(img["id"]):
            raise InputError(f"images[{i}] has id {img['id']!r}, not an integer (or string)", file=path,
                             field="images.id", fix=GT_FIX)
        if img["id"] in seen:
            raise InputError(f"image id {img['id']!r} appears twice in 'images' (images[{i}])", file=path,
                             field="images", fix="give every image its own id")
        seen.add(img["id"])
    if len({type(v) for v in seen}) > 1:
        raise InputError("mixes integer and string image ids (pycocotools sorts them as strings and then finds "
                         "no annotations for the integer ones)", file=path, field="images.id",
                         fix="give every image an integer id (or every image a string id)")
    return {v: i for i, v in enumerate(sorted(seen))}


def _plain_ids(anns: list) -> bool:
    if set(map(type, anns)) - {dict}:
        return False
    for key in ("id", "image_id", "category_id"):
        if not set(map(type, [a.get(key) for a in anns])) <= {int, str}:
            return False
    return True


def _explain_ids(anns: list, path: Path) -> None:
    for a, ann in enumerate(anns):
        if not isinstance(ann, dict):
            raise InputError(f"annotations[{a}] is not a JSON object", file=path, field="annotations", fix=GT_FIX)
        for key in ("id", "image_id", "category_id"):  # every annotation, as pycocotools indexes them all
            if not is_id(ann.get(key)):
                what = f"has no '{key}'" if key not in ann else f"has {key} {ann[key]!r}, not an integer"
                raise InputError(f"annotations[{a}] {what}", file=path, field=key, fix=GT_FIX)


_MISSING = object()


def _columns(people: list, layout: GtLayout):
    """The columns of the person annotations, or None when one holds a value of another kind."""
    ids = [a.get("id") for a in people]
    img = [a["image_id"] for a in people]
    area = [a.get("area", _MISSING) for a in people] if layout.area else []
    crowd = [a.get("iscrowd", _MISSING) for a in people]
    nkp = [a.get("num_keypoints", _MISSING) for a in people] if layout.num_keypoints else [0] * len(people)
    boxes = [a.get("bbox") for a in people]
    if not (set(map(type, ids)) <= {int} and all_numbers(area) and set(map(type, nkp)) <= {int}
            and set(map(type, crowd)) <= {int, bool, float} and set(crowd) <= {0, 1}
            and set(map(type, boxes)) <= {list} and set(map(len, boxes)) <= {4}
            and all_numbers(itertools.chain.from_iterable(boxes))):
        return None
    parts = []
    for key, k in layout.fields:
        kps = [a.get(key) for a in people]
        if not set(map(type, kps)) <= {list}:
            return None
        try:  # numpy reads the lists of numbers (a boolean among numbers counts 0/1, as in pycocotools)
            kp = np.array(kps) if kps else np.zeros((0, 3 * k))
        except (ValueError, TypeError, OverflowError):
            return None
        if kp.dtype.kind not in "fi" or kp.shape != (len(kps), 3 * k):
            return None
        parts.append(kp.astype(np.float64, copy=False))
    kp = parts[0] if len(parts) == 1 else np.hstack(parts)
    return ids, img, area, crowd, nkp, kp.reshape(-1), boxes


def _bad(ann, a: int, path: Path, problem: str, field: str, fix: str = GT_FIX) -> InputError:
    aid = ann.get("id")
    who = f"annotations[{a}]" + (f" (id {aid})" if aid is not None else "")
    return InputError(f"{who} {problem}", file=path, field=field, fix=fix)


def _check_unique(people: list, rows: list, path: Path) -> None:
    seen: set = set()
    for ann, a in zip(people, rows):
        if ann["id"] in seen:
            raise _bad(ann, a, path, "repeats an annotation id (pycocotools would keep only one of them)", "id",
                       fix="give every annotation its own id")
        seen.add(ann["id"])


def _check_annotation(ann: dict, a: int, path: Path, image_ids, layout: GtLayout) -> None:
    """The first problem of one person annotation, as one error naming it."""
    def bad(problem, field, fix=GT_FIX):
        raise _bad(ann, a, path, problem, field, fix)

    aid = ann.get("id")
    if not is_int(aid):
        bad("has no integer 'id'", "id")
    if aid == 0 and not layout.xtcocotools:
        bad("has id 0, which pycocotools cannot count as matched (a match is stored as the GT id, 0 meaning "
            "none)", "id", fix="number the annotations from 1")
    if not is_id(ann.get("image_id")):
        bad(f"has image_id {ann.get('image_id')!r}, not an integer (or string) id of 'images'", "image_id")
    if ann["image_id"] not in image_ids:
        bad(f"refers to image id {ann.get('image_id')!r}, which is not in 'images'", "image_id")
    if layout.area and "area" not in ann:
        bad("has no 'area', which sets the OKS scale and the area range", "area",
            fix="give every person annotation its segment area (COCO's 'area'), as in person_keypoints_*.json "
                "(GT without areas, CrowdPose's or AI Challenger's: --protocol crowdpose or aic, which scale by "
                "the box)")
    if layout.area and (not is_number(ann["area"]) or not math.isfinite(ann["area"]) or ann["area"] < 0):
        bad(f"has 'area' {ann['area']!r}, not a finite number >= 0", "area")
    if "iscrowd" not in ann:
        bad("has no 'iscrowd'", "iscrowd", fix="give iscrowd 0 for people, 1 for crowd regions")
    if not isinstance(ann["iscrowd"], (int, float)) or ann["iscrowd"] not in (0, 1):
        bad(f"has 'iscrowd' {ann['iscrowd']!r}, not 0 or 1", "iscrowd")
    bbox = ann.get("bbox")
    if not (isinstance(bbox, list) and len(bbox) == 4 and all_numbers(bbox)):
        bad(f"has 'bbox' {bbox!r}, not [x, y, width, height]", "bbox")
    for key, k in layout.fields:
        kp = ann.get(key)
        if not (isinstance(kp, list) and len(kp) == 3 * k and all_numbers(kp)):
            n = len(kp) if isinstance(kp, list) else "no"
            what = "keypoint values" if key == "keypoints" else f"'{key}' values"
            bad(f"has {n} {what}, expected {3 * k} numbers ({k} x [x, y, v])", key)
    if layout.num_keypoints and ("num_keypoints" not in ann or not is_int(ann["num_keypoints"])):
        bad("has no integer 'num_keypoints' (0 makes the person ignored)", "num_keypoints")


# ----------------------------------------------------------------------------- results as arrays
@dataclass
class CocoResults:
    """COCO keypoint results as arrays, in file order: ``image_id`` (the raw ids), ``keypoints`` (N, 3K),
    ``score``; ``box_area`` the area of each result's 'bbox' when the first result has one (pycocotools
    then takes every result's area from its box), else None; ``records`` the parsed objects."""

    image_id: list
    category_id: list
    keypoints: np.ndarray
    score: np.ndarray
    box_area: np.ndarray | None
    records: list
    #: the first field's extent (xtcocotools' loadRes reads 'keypoints' only) when ``fields`` has several
    body_joints: int | None = None
    #: per-part scores by key ('foot_score', ...): NaN for a result without it; only keys some result has
    part_scores: dict | None = None


#: COCO-WholeBody results' part score keys (xtcocotools falls back to 'score' for a result without one)
PART_SCORE_KEYS = ("foot_score", "face_score", "lefthand_score", "righthand_score", "wholebody_score")


def coco_result_arrays(data: list, path: Path, n_joints: int = 17,
                       fields: tuple[tuple[str, int], ...] | None = None) -> CocoResults:
    """:class:`CocoResults` from a parsed results list; a value of the wrong kind is one error naming
    ``results[i]`` (the i-th result of the file). ``fields``: keypoint lists other than 'keypoints'
    alone (COCO-WholeBody's keypoints, foot_kpts, face_kpts, lefthand_kpts, righthand_kpts), concatenated."""
    if fields is not None and len(fields) > 1:
        return _part_result_arrays(data, path, fields)
    n, w = len(data), 3 * n_joints
    kp = None
    ok = not set(map(type, data)) - {dict}
    if ok:
        ids = [d.get("image_id") for d in data]
        kps = [d.get("keypoints") for d in data]
        scores = [d.get("score") for d in data]
        ok = set(map(type, ids)) <= {int, str} and all_numbers(scores) and set(map(type, kps)) <= {list}
        if ok:  # numpy reads the lists of numbers (a boolean among numbers counts 0/1, as in pycocotools)
            try:
                kp = np.array(kps)
            except (ValueError, TypeError, OverflowError):
                kp = None
            ok = kp is not None and kp.dtype.kind in "fi" and kp.shape == (n, w)
    if not ok:
        ids, kps, scores = _explain_results(data, path, n_joints)
        try:
            kp = np.fromiter(itertools.chain.from_iterable(kps), dtype=np.float64, count=n * w).reshape(n, w)
        except OverflowError:
            kp = np.full((n, w), np.inf)
    kp = kp.astype(np.float64, copy=False)
    cats = [d.get("category_id") for d in data]
    box_area = None
    first = data[0].get("bbox") if n else None
    if first is not None and first != []:
        boxes = [d.get("bbox") for d in data]
        if not (set(map(type, boxes)) <= {list} and set(map(len, boxes)) <= {4}
                and all_numbers(itertools.chain.from_iterable(boxes))):
            for i, b in enumerate(boxes):
                if not (isinstance(b, list) and len(b) == 4 and all_numbers(b)):
                    raise InputError(f"results[{i}] has 'bbox' {b!r}; the first result has a box, so pycocotools "
                                     "takes every result's area from its box", file=path, field="bbox",
                                     fix="give every result a [x, y, width, height] bbox, or none of them")
        box_area = np.array([b[2] * b[3] for b in boxes], dtype=np.float64)
    elif n and ("segmentation" in data[0] or "caption" in data[0]):
        key = "segmentation" if "segmentation" in data[0] else "caption"
        raise InputError(f"results[0] has a '{key}' and no 'bbox': pycocotools would not evaluate these as keypoint "
                         "results", file=path, field=key, fix=f"drop '{key}' from keypoint results")
    return CocoResults(image_id=ids, category_id=cats, keypoints=kp,
                       score=np.array(scores, dtype=np.float64), box_area=box_area, records=data)


def _explain_results(data: list, path: Path, n_joints: int):
    """The columns of results holding unusual values (float image ids, null scores), or the first
    result that is unreadable, as one error."""
    ids, kps, scores = [], [], []
    for i, d in enumerate(data):
        image_id, kp, score = _checked_result(d, i, path, n_joints, _keypoint_numbers)
        ids.append(image_id)
        kps.append(kp)
        scores.append(score)
    return ids, kps, scores


def _checked_result(d, i: int, path: Path, n_joints: int, read_keypoints):
    """(image id, keypoints as ``read_keypoints(kp, at, path)`` reads them, score) of the i-th result, or one
    error naming ``results[i]`` and the field."""
    at = f"results[{i}]"  # the i-th result of the file, as the evaluator's messages name it
    w = 3 * n_joints
    if not isinstance(d, dict):
        raise InputError(f"{at} is {kind_of(d)}, expected an object", file=path, fix=_FIX)
    if "image_id" not in d:
        raise InputError(f"{at} has no 'image_id'", file=path, field="image_id", fix=_FIX)
    image_id = _image_id(d["image_id"], path, at)
    kp = d.get("keypoints")
    if not isinstance(kp, list) or len(kp) != w:
        got = f"has {len(kp)} values" if isinstance(kp, list) else f"is {kind_of(kp)}"
        raise InputError(f"{at} 'keypoints' {got}, expected {w} ({n_joints} x, y, v)", file=path,
                         field="keypoints", fix=f"write the {n_joints} keypoints as one flat list [x1, y1, v1, ...]")
    kp = read_keypoints(kp, at, path)
    score = optional_number(d.get("score"), what=f"{at} 'score'", wrapped=False, file=path, field="score",
                            fix="give every result its instance score as a number")
    return image_id, kp, score


def _keypoint_array(kp: list, at: str, path: Path) -> np.ndarray:
    """A result's keypoints as float64, for the canonical form (numpy's reading of the list)."""
    return numeric_array(kp, what=f"{at} 'keypoints'", file=path, field="keypoints",
                         fix="write every keypoint value as a number")


def _keypoint_numbers(kp: list, at: str, path: Path) -> list:
    """A result's keypoint list as the evaluator takes it: JSON numbers only."""
    if not all_numbers(kp):
        _keypoint_array(kp, at, path)
        bad = next((v for v in kp if not is_number(v)), None)
        if bad is not None:
            raise InputError(f"{at} 'keypoints' holds {kind_of(bad)}, not a number", file=path, field="keypoints",
                             fix="write every keypoint value as a number")
    return kp


def _part_result_arrays(data: list, path: Path, fields: tuple[tuple[str, int], ...]) -> CocoResults:
    """COCO-WholeBody results (mmpose's CocoWholeBodyMetric writes them): each part's list in its own field,
    read as one result per field and concatenated; the part scores kept where given."""
    if not isinstance(data, list) or set(map(type, data)) - {dict}:
        i = next((i for i, d in enumerate(data) if not isinstance(d, dict)), 0) if isinstance(data, list) else 0
        raise InputError(f"results[{i}] is not an object" if isinstance(data, list) else
                         f"is {kind_of(data)}, not a list of results", file=path, fix=_WB_FIX)
    (body, k0), *rest = fields
    first = coco_result_arrays(data, path, k0)
    blocks = [first.keypoints]
    for key, k in rest:
        kps = [d.get(key) for d in data]
        bad = [i for i, v in enumerate(kps) if not isinstance(v, list) or len(v) != 3 * k]
        arr = np.zeros((0, 3 * k)) if not data else None
        if data and not bad:
            try:
                arr = np.array(kps, dtype=np.float64)
            except (ValueError, TypeError, OverflowError):
                arr = None
        if arr is None or arr.shape != (len(data), 3 * k):
            for i, v in enumerate(kps):
                if not isinstance(v, list) or len(v) != 3 * k:
                    got = "has no" if key not in data[i] else (f"has {len(v)} values in" if isinstance(v, list)
                                                               else f"has {kind_of(v)} as")
                    raise InputError(f"results[{i}] {got} '{key}', expected {3 * k} ({k} x, y, v)", file=path,
                                     field=key, fix=_WB_FIX)
                if not all_numbers(v):
                    raise InputError(f"results[{i}] '{key}' holds a value that is not a number", file=path,
                                     field=key, fix=_WB_FIX)
        blocks.append(arr)
    scores = {}
    for key in PART_SCORE_KEYS:
        vals = [d.get(key, _MISSING) for d in data]
        if all(v is _MISSING for v in vals):
            continue
        out = np.full(len(data), np.nan)
        for i, v in enumerate(vals):
            if v is _MISSING:
                continue
            if not is_number(v) or not math.isfinite(v):
                raise InputError(f"results[{i}] has {key} {v!r}, not a finite number", file=path, field=key,
                                 fix=f"give {key} as a number, or leave it out (then 'score' ranks that part)")
            out[i] = v
        scores[key] = out
    first.keypoints = np.hstack(blocks)
    first.body_joints = k0
    first.part_scores = scores
    return first


_WB_FIX = ("give COCO-WholeBody results, as mmpose writes them: [{'image_id': 785, 'category_id': 1, 'keypoints': "
           "[17 x 3], 'foot_kpts': [6 x 3], 'face_kpts': [68 x 3], 'lefthand_kpts': [21 x 3], 'righthand_kpts': "
           "[21 x 3], 'score': 0.9}]")
