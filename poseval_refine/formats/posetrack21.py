"""PoseTrack21 sequence files: one COCO-like JSON per sequence, read into flat arrays.

The layout (see docs/posetrack21.md): ``images`` with ``id``, ``is_labeled`` and the ignore polygons
``ignore_regions_x``/``ignore_regions_y``; ``annotations`` with ``image_id``, ``track_id``, 17 keypoint
triplets (the ears, slots 3 and 4, are always empty and dropped here) and, in GT files, ``bbox_head``
(x, y, w, h); prediction files give per-joint ``scores``. This module parses and checks; it computes
no score. The arrays follow the 15 joints of the official PoseTrack21 kit, in its order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import orjson

from ..errors import InputError
from ..io import no_gc, parse_json, read_bytes
from ._values import MISSING, kind_of

#: the kit's 15 joints, in its order (PoseTrack's 17 COCO-style slots without the ears)
JOINTS = ("Nose", "Neck", "Head", "LS", "RS", "LE", "RE", "LW", "RW", "LH", "RH", "LK", "RK", "LA", "RA")
#: the 17 slots of the file kept, in order (slots 3 and 4 are the ears)
KEPT_SLOTS = np.array([0, 1, 2, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16])
RAW_SLOTS = 17
#: the score a predicted joint gets when its person has no ``scores`` (the kit's)
MISSING_SCORE = -9999.0


@dataclass
class PT21Sequence:
    """One sequence file as arrays. People are ordered by image (file order), then file order.

    ``keypoints`` holds the raw x, y of the 15 joints (the kit treats a joint as present when
    x > 0 and y > 0); ``head_size`` is GT only, ``scores`` predictions only.
    """

    source: Path
    image_ids: np.ndarray  # (F,) int64, in file order
    labeled: np.ndarray  # (F,) bool
    regions: list = field(default_factory=list)  # per image: list of (n, 2) polygon corners
    person_image: np.ndarray = None  # type: ignore[assignment]  # (P,) index into image_ids
    person_index: np.ndarray = None  # type: ignore[assignment]  # (P,) index in the file's annotations
    track_id: np.ndarray = None  # type: ignore[assignment]  # (P,) int64
    keypoints: np.ndarray = None  # type: ignore[assignment]  # (P, 15, 2)
    scores: np.ndarray | None = None  # (P, 15)
    head_size: np.ndarray | None = None  # (P,)


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _numbers(values, n: int) -> bool:
    if not isinstance(values, list) or len(values) != n:
        return False
    if set(map(type, values)) <= _PLAIN_NUMBERS:  # what JSON gives: checked in C
        return all(map(math.isfinite, values))
    return all(_number(v) for v in values)


_PLAIN_NUMBERS = {int, float}


def read_sequence(path: str | Path, is_gt: bool, only_images: set | None = None) -> PT21Sequence:
    """Read one PoseTrack21 sequence file (``is_gt``: a GT file with head boxes and ignore regions); see
    :func:`parse_sequence` for ``only_images``. The file's people are read by :func:`read_skimmed` when they
    can be; anything it does not vouch for goes through :func:`parse_sequence`, which names what is wrong."""
    raw = read_bytes(path)
    with no_gc():
        seq = read_skimmed(raw, Path(path), is_gt, only_images)
        if seq is None:
            seq = parse_sequence(parse_json(raw, path), Path(path), is_gt, only_images)
    return seq


def parse_sequence(data, path: Path, is_gt: bool, only_images: set | None = None) -> PT21Sequence:
    """A sequence from its parsed JSON; ``path`` names it in errors. ``only_images``: read only the people
    of these image ids (the frames that are evaluated; the others' values are not checked either)."""
    if not isinstance(data, dict) or not isinstance(data.get("images"), list) \
            or not isinstance(data.get("annotations"), list):
        raise InputError("is not a PoseTrack21 sequence file (a JSON object with 'images' and 'annotations' lists)",
                         file=path, fix="give one PoseTrack21 JSON per sequence, as the official kit reads")
    ids, labeled, regions, where = _images(data["images"], is_gt, path)
    anns = data["annotations"]
    if only_images is not None:
        anns = _only(anns, set(where) - set(only_images))
    parsed = _parse_fast(anns, where, is_gt)
    if parsed is None:  # something is wrong: find it person by person, to name it
        parsed = _parse_checked(anns, where, is_gt, path)
    return _sequence(path, ids, labeled, regions, parsed)


def _sequence(path: Path, ids: np.ndarray, labeled: np.ndarray, regions: list, parsed) -> PT21Sequence:
    """The sequence of the images' arrays and the people's (``_parse_fast``'s tuple), people sorted by image."""
    person_image, track_id, kps, scores, boxes = parsed
    n = len(person_image)
    order = np.argsort(person_image, kind="stable")
    xy = kps.reshape(n, RAW_SLOTS, 3)[order][:, KEPT_SLOTS, :2]
    seq = PT21Sequence(source=path, image_ids=ids, labeled=labeled, regions=regions,
                       person_image=person_image[order], person_index=order, track_id=track_id[order],
                       keypoints=np.ascontiguousarray(xy))
    if scores is not None:
        seq.scores = np.ascontiguousarray(scores[order][:, KEPT_SLOTS])
    if boxes is not None:
        b = boxes[order]
        # the kit's arithmetic: corners (x1, y1) and (x1 + w, y1 + h), 0.6 times their distance
        dx = (b[:, 0] + b[:, 2]) - b[:, 0]
        dy = (b[:, 1] + b[:, 3]) - b[:, 1]
        seq.head_size = 0.6 * np.sqrt(dx * dx + dy * dy)
    return seq


def _images(images: list, is_gt: bool, path: Path) -> tuple[np.ndarray, np.ndarray, list, dict]:
    """(ids, labeled, regions, {image id: index}) of the ``images`` list, checked (raises naming what is wrong)."""
    ids, labeled, regions = _images_fast(images, is_gt, path)
    if ids is None:  # something is wrong: find it image by image, to name it
        ids, labeled, regions = _images_checked(images, is_gt, path)
    sorted_ids = np.sort(ids)  # (not np.unique: it imports numpy.ma, 7 ms)
    twice = np.flatnonzero(sorted_ids[1:] == sorted_ids[:-1])
    if len(twice):
        dup = int(sorted_ids[twice[0]])
        raise InputError(f"image id {dup} is listed twice", file=path, field="images[].id",
                         fix="list every image once")
    return ids, labeled, regions, dict(zip(ids.tolist(), range(len(ids))))


def _skim_decoder(is_gt: bool):
    """msgspec's decoder of a sequence file's outline: the ``images`` list and every annotation's number
    lists as raw JSON text (checked to be valid JSON, not parsed), ``image_id`` and ``track_id`` as values;
    None without msgspec."""
    if is_gt in _DECODERS:
        return _DECODERS[is_gt]
    try:
        import msgspec
    except ImportError:
        _DECODERS[is_gt] = None
        return None

    # (defstruct: this module's annotations are strings, which msgspec would resolve in its globals)
    lists = ("keypoints", "bbox_head") if is_gt else ("keypoints", "scores")
    person = msgspec.defstruct("Person", [("image_id", object, MISSING), ("track_id", object, MISSING),
                                          *((name, msgspec.Raw, None) for name in lists)])
    image_fields = [("id", object, MISSING)]
    if is_gt:
        image_fields += [("is_labeled", object, MISSING), ("ignore_regions_x", msgspec.Raw, None),
                         ("ignore_regions_y", msgspec.Raw, None)]
    image = msgspec.defstruct("Image", image_fields)
    outline = msgspec.defstruct("Outline", [("images", list[image]), ("annotations", list[person])])
    _DECODERS[is_gt] = (msgspec.json.Decoder(outline), (msgspec.DecodeError, msgspec.ValidationError))
    return _DECODERS[is_gt]


_DECODERS: dict = {}


def read_skimmed(raw: bytes, path: Path, is_gt: bool, only_images: set | None) -> PT21Sequence | None:
    """The sequence read without making Python objects of what is not evaluated: msgspec checks the whole file
    and gives each person's number lists as JSON text; only the lists of the people read (``only_images``)
    are parsed, by orjson, as :func:`parse_sequence` parses the whole file, so the numbers are the same bits.
    None when msgspec is missing or anything differs from a plain, valid file (then :func:`parse_sequence`
    reads the file and names what is wrong)."""
    dec = _skim_decoder(is_gt)
    if dec is None:
        return None
    decoder, errors = dec
    if not raw.isascii():  # msgspec does not check the UTF-8 of strings it skips; orjson would refuse the file
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            return None
    try:
        outline = decoder.decode(raw)
    except errors:
        return None
    people = outline.annotations
    try:
        images = _images_skimmed(outline.images, is_gt, path)
        if images is None:
            return None
        ids, labeled, regions, where = images
        if only_images is not None:
            skipped = set(where) - set(only_images)
            people = [a for a in people if a.image_id not in skipped]
        n = len(people)
        person_image = np.array([where[a.image_id] for a in people], dtype=np.int64).reshape(n)
        track_id = np.array([a.track_id for a in people])
        kps = _raw_lists([a.keypoints for a in people], RAW_SLOTS * 3)
        if kps is None:
            return None
        scores = boxes = None
        if is_gt:
            boxes = _raw_lists([a.bbox_head for a in people], 4)
            if boxes is None:
                return None
        else:
            # (a person without scores, or with "scores": null, gets MISSING_SCORE, as in _parse_fast)
            with_raw = [i for i, a in enumerate(people) if a.scores is not None]
            values = _raw_values([people[i].scores for i in with_raw])
            if values is None:
                return None
            given = [i for i, v in zip(with_raw, values) if v is not None]
            scores = np.full((n, RAW_SLOTS), MISSING_SCORE)
            if given:
                rows = np.array([v for v in values if v is not None], dtype=np.float64)
                if rows.shape != (len(given), RAW_SLOTS):
                    return None
                scores[given] = rows
    except (KeyError, TypeError, ValueError, OverflowError):  # (an id beyond int64, ...): the parser names it
        return None
    if n and (track_id.dtype.kind not in "iu" or track_id.min() < 0):
        return None
    if scores is not None and not np.isfinite(scores).all():
        return None
    return _sequence(path, ids, labeled, regions, (person_image, track_id.astype(np.int64).reshape(n), kps, scores,
                                                   boxes))


def _images_skimmed(images: list, is_gt: bool, path: Path):
    """:func:`_images` of the skimmed images (ids, GT flags, and the ignore regions of labeled GT images, parsed
    by orjson as the whole file would be); None when an id or flag is not what :func:`_images_fast` takes."""
    id_list = [img.id for img in images]
    flags = [img.is_labeled for img in images] if is_gt else []
    if not set(map(type, id_list)) <= {int} or not set(map(type, flags)) <= {bool}:
        return None
    ids = np.array(id_list, dtype=np.int64) if id_list else np.empty(0, dtype=np.int64)
    labeled = np.array(flags, dtype=bool) if is_gt else np.zeros(len(images), dtype=bool)
    regions: list = [[]] * len(images)
    if is_gt:
        regions = [[] for _ in images]
        keys = ("ignore_regions_x", "ignore_regions_y")
        frames = [i for i, flag in enumerate(flags) if flag and (images[i].ignore_regions_x is not None
                                                                or images[i].ignore_regions_y is not None)]
        given = [(i, k) for i in frames for k in keys if getattr(images[i], k) is not None]
        values = _raw_values([getattr(images[i], k) for i, k in given])
        if values is None:
            return None
        corners: dict = {i: {} for i in frames}
        for (i, k), v in zip(given, values):
            corners[i][k] = v
        for i, img in corners.items():
            if img.get("ignore_regions_x") or img.get("ignore_regions_y"):
                regions[i] = _regions(img, path, i)
    sorted_ids = np.sort(ids)
    if (sorted_ids[1:] == sorted_ids[:-1]).any():
        return None  # an id listed twice: _images names it
    return ids, labeled, regions, dict(zip(id_list, range(len(ids))))


def _raw_values(raws: list) -> list | None:
    """The values of raw JSON texts, parsed together by orjson; None if one is missing or orjson refuses them."""
    if None in raws:
        return None
    try:
        return orjson.loads(b"[" + b",".join(raws) + b"]")
    except orjson.JSONDecodeError:
        return None


def _raw_lists(raws: list, width: int) -> np.ndarray | None:
    """(n, width) float64 of n raw JSON lists of ``width`` finite numbers, parsed by orjson; None otherwise."""
    if not raws:
        return np.empty((0, width))
    values = _raw_values(raws)
    if values is None:
        return None
    out = np.array(values, dtype=np.float64)
    if out.shape != (len(raws), width) or not np.isfinite(out).all():
        return None
    return out


def _parse_checked(anns: list, where: dict, is_gt: bool, path: Path):
    """The annotations person by person, each value checked: raises on the first bad one."""
    n = len(anns)
    person_image = np.empty(n, dtype=np.int64)
    track_id = np.empty(n, dtype=np.int64)
    kps = np.empty((n, RAW_SLOTS * 3), dtype=np.float64)
    scores = np.full((n, RAW_SLOTS), MISSING_SCORE) if not is_gt else None
    boxes = np.empty((n, 4)) if is_gt else None
    for p, ann in enumerate(anns):
        if not isinstance(ann, dict):
            raise InputError(f"annotation is {kind_of(ann)}, not an object", file=path, person=p, field="annotations",
                             fix="give every person an object with image_id, track_id and keypoints")
        image = ann.get("image_id", MISSING)
        if isinstance(image, (bool, list, dict)) or image not in where:  # a list or object: not a key at all
            raise InputError(f"annotation refers to image_id {kind_of(image)}, which 'images' does not list", file=path,
                             person=p, field="image_id", fix="give every person the id of an image of the file")
        frame = where[image]
        person_image[p] = frame
        tid = ann.get("track_id", MISSING)
        if not isinstance(tid, int) or isinstance(tid, bool) or tid < 0:
            raise InputError(f"track_id is {kind_of(tid)}, not an integer >= 0", file=path, frame=frame, person=p,
                             field="track_id", fix="give every person an integer track id >= 0")
        track_id[p] = tid
        kp = ann.get("keypoints", MISSING)
        if not _numbers(kp, RAW_SLOTS * 3):
            raise InputError(f"keypoints is {kind_of(kp)}; it must be {RAW_SLOTS * 3} numbers (17 x, y, visibility "
                             "triplets)", file=path,
                             frame=frame, person=p, field="keypoints",
                             fix="write 17 triplets per person, 0, 0, 0 for a joint that is absent")
        kps[p] = kp
        if is_gt:
            box = ann.get("bbox_head", MISSING)
            if not _numbers(box, 4):
                raise InputError(f"GT person's head box is {kind_of(box)}, not [x, y, w, h] (it sets the distance "
                                 "scale)", file=path,
                                 frame=frame, person=p, field="bbox_head",
                                 fix="give every GT person its head box")
            boxes[p] = box
        elif ann.get("scores") is not None:
            s = ann["scores"]
            if not _numbers(s, RAW_SLOTS):
                raise InputError(f"scores is {kind_of(s)}; it must be {RAW_SLOTS} numbers, one per keypoint slot",
                                 file=path,
                                 frame=frame, person=p, field="scores",
                                 fix="write one score per keypoint slot (17), or leave 'scores' out")
            scores[p] = s
    return person_image, track_id, kps, scores, boxes


def _parse_fast(anns: list, where: dict, is_gt: bool):
    """The annotations as arrays in a few numpy steps; None when any value is missing or not a number
    (then :func:`_parse_checked` finds and names it)."""
    n = len(anns)
    try:
        person_image = np.array([where[a["image_id"]] for a in anns], dtype=np.int64).reshape(n)
        track_id = np.array([a["track_id"] for a in anns])
        kps = np.array([a["keypoints"] for a in anns], dtype=np.float64).reshape(n, -1)
        if is_gt:
            boxes = np.array([a["bbox_head"] for a in anns], dtype=np.float64).reshape(n, -1)
            scores = None
        else:
            boxes = None
            given = [a.get("scores") for a in anns]
            scores = np.full((n, RAW_SLOTS), MISSING_SCORE)
            rows = [i for i, v in enumerate(given) if v is not None]
            if rows:
                scores[rows] = np.array([given[i] for i in rows], dtype=np.float64).reshape(len(rows), RAW_SLOTS)
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
    if n and (track_id.dtype.kind not in "iu" or track_id.min() < 0):
        return None
    if kps.shape != (n, RAW_SLOTS * 3) or not np.isfinite(kps).all():
        return None
    if boxes is not None and (boxes.shape != (n, 4) or not np.isfinite(boxes).all()):
        return None
    if scores is not None and not np.isfinite(scores).all():
        return None
    return person_image, track_id.astype(np.int64).reshape(n), kps, scores, boxes


def _only(anns: list, skipped: set) -> list:
    """The annotations not on a ``skipped`` image (one that is listed but not evaluated); an annotation that is
    not an object, or whose image id is not listed, stays, to be reported."""
    try:
        return [a for a in anns if a.get("image_id") not in skipped]
    except (AttributeError, TypeError):
        return [a for a in anns if not isinstance(a, dict) or not _hashable(a.get("image_id"))
                or a.get("image_id") not in skipped]


def _hashable(value) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _images_fast(images: list, is_gt: bool, path: Path):
    """(ids, labeled, regions) of the ``images`` list in a few steps; (None, None, None) when an image is not an
    object with an integer id or (GT) a true/false ``is_labeled`` (then :func:`_images_checked` names it)."""
    try:
        id_list = [img["id"] for img in images]
        flags = [img.get("is_labeled") for img in images] if is_gt else []
    except (TypeError, KeyError, AttributeError):
        return None, None, None
    if not set(map(type, id_list)) <= {int} or not set(map(type, images)) <= {dict} \
            or not set(map(type, flags)) <= {bool}:
        return None, None, None
    ids = np.array(id_list, dtype=np.int64) if id_list else np.empty(0, dtype=np.int64)
    labeled = np.array(flags, dtype=bool) if is_gt else np.zeros(len(images), dtype=bool)
    regions: list = [[]] * len(images)
    if is_gt:
        regions = [_regions(img, path, i) if flag and (img.get("ignore_regions_x") or img.get("ignore_regions_y"))
                   else [] for i, (img, flag) in enumerate(zip(images, flags))]
    return ids, labeled, regions


def _images_checked(images: list, is_gt: bool, path: Path):
    """:func:`_images_fast` image by image, each value checked: raises on the first bad one."""
    ids = np.empty(len(images), dtype=np.int64)
    labeled = np.zeros(len(images), dtype=bool)
    regions: list = [[] for _ in images]
    for i, img in enumerate(images):
        if type(img) is not dict or type(img.get("id")) is not int:
            raise InputError("image has no integer 'id'", file=path, frame=i, field="images[].id",
                             fix="give every image its integer id, as the GT file does")
        ids[i] = img["id"]
        if is_gt:
            flag = img.get("is_labeled")
            labeled[i] = flag if type(flag) is bool else _flag(flag, path, i)
            if flag is True and (img.get("ignore_regions_x") or img.get("ignore_regions_y")):
                regions[i] = _regions(img, path, i)
    return ids, labeled, regions


def _flag(value, path: Path, frame: int) -> bool:
    if not isinstance(value, bool):
        raise InputError(f"is_labeled is {kind_of(value)}, not true or false", file=path, frame=frame,
                         field="images[].is_labeled", fix="mark every GT image is_labeled: true or false")
    return value


def _regions(img: dict, path: Path, frame: int) -> list:
    xs, ys = img.get("ignore_regions_x", []), img.get("ignore_regions_y", [])
    if not isinstance(xs, list) or not isinstance(ys, list) or len(xs) != len(ys):
        raise InputError("ignore_regions_x and ignore_regions_y must be lists of the same length", file=path,
                         frame=frame, field="ignore_regions_x/y", fix="give one x list and one y list per region")
    out = []
    for r, (x, y) in enumerate(zip(xs, ys)):
        if not isinstance(x, list) or not _numbers(x, len(x)) or not _numbers(y, len(x)):
            raise InputError(f"ignore region {r}: x and y must be lists of numbers of the same length", file=path,
                             frame=frame, field="ignore_regions_x/y", fix="give each region's corners as numbers")
        if len(x) < 3:
            raise InputError(f"ignore region {r} has {len(x)} corners; a polygon needs 3 or more (the official kit "
                             "fails on it)", file=path, frame=frame, field="ignore_regions_x/y",
                             fix="give every ignore region 3 or more corners, or remove it")
        out.append(np.array((x, y), dtype=np.float64).T)
    return out
