"""PoseTrack JSON, 2017 (``annolist``) and 2018 (COCO-like) layouts, GT and predictions.

One JSON file per sequence; a folder holds a benchmark. Reading keeps every record as read
(``frame_extras``/``person_extras`` hold the source dicts) so that writing back in the same
layout changes only what prt owns: keypoint coordinates and scores, track ids and head boxes.
An unchanged number is written back as the very token that was read (``1`` stays ``1``).

Conventions, as poseval reads these files (docs/protocol.md §1.2):
- 2017: poseval reads ``field[0]`` of every field; prt also accepts a bare value. Point ``id``
  is the PoseTrack-15 joint id.
- 2018: a keypoint slot is absent only when x == y == v == 0; ``scores`` that are empty (or
  missing) mean no scores; ``bbox_head`` [x, y, w, h] becomes the head box x1 = x, y1 = y,
  x2 = x + w, y2 = y + h; joint slots are mapped by the names in ``categories[0].keypoints``;
  only the frames of the first video (the folder of the first ``file_name``) are read, and an
  annotation belongs to every image whose id equals its ``image_id``.

Odd inputs poseval accepts are read its way (docs/protocol.md §1.10), so numbers stay poseval's:
- a person naming a joint twice: the first point counts (the others are kept aside in
  ``meta["extra_points"]``, because a point deleted by an ignore region exposes the next one);
- a point whose id is not one of 0..14 (out of range, fractional, null, a string) is no joint;
  it only keeps its person alive when ignore regions delete the other points;
- a score ``null``/NaN stays NaN (``score_null``; poseval's sort ranks it first), a score
  given as a numeric string is that number (numpy's conversion), a missing score stays NaN
  (the evaluator gives it poseval's -9999);
- a non-finite coordinate (JSON NaN/Infinity) makes a joint that is present but never within
  any distance (stored as +inf; only evaluation reads, ``records=False``, accept it).
What poseval crashes on (strings as coordinates, track ids or head boxes, true/false where a
number belongs, track ids that cannot be stored, polygons of one or two points, ...) is one
:class:`InputError` naming the file, frame, person and field.
"""

from __future__ import annotations

import glob
import logging
import os
from itertools import chain, repeat
from operator import itemgetter
from pathlib import Path

import numpy as np
import orjson

from ..errors import InputError
from ..io import atomic_dir, atomic_path, dumps_json, load_json, no_gc, parse_json, read_bytes
from ..poses import NO_TRACK, PoseSequence, PoseSet
from ..skeletons import ALIASES, POSETRACK15, POSETRACK18, Skeleton
from . import Format, register
from ._pointbytes import PLACEHOLDER, Points, split_many

log = logging.getLogger("prt")

FMT17 = "posetrack2017"
FMT18 = "posetrack2018"
_OWNED_RECT = ("x1", "y1", "x2", "y2", "track_id", "annopoints")
_OWNED_ANN = ("keypoints", "scores", "track_id", "bbox_head", "image_id")
#: track ids must fit int64 with room to spare (poseval itself requires < 10000)
_TRACK_LIMIT = 2.0 ** 62
_NUMBER = {int, float}
_NUMBERS_FIX = "write coordinates, track ids and head boxes as JSON numbers"


class _Sentinel:
    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return self.text


_MISSING = _Sentinel("missing")
_EMPTY = _Sentinel("an empty list")


def _unwrap(v):
    return v[0] if type(v) is list and len(v) == 1 else v


def _is_wrapped(v) -> bool:
    return type(v) is list


def _first(v):
    """The value poseval reads from a 2017 field: ``field[0]`` of a list (prt also takes a bare value)."""
    if type(v) is list:
        return v[0] if v else _EMPTY
    return v


def _describe(v) -> str:
    if v is None:
        return "null"
    if isinstance(v, _Sentinel):
        return v.text
    if type(v) is bool:
        return "true" if v else "false"
    if type(v) is str:
        return f"the string {v!r}"
    if type(v) is list:
        return "a list"
    if type(v) is dict:
        return "a JSON object"
    return repr(v)


def _numbers(values: list) -> np.ndarray | None:
    """float64 of ``values`` when each is a number or a list starting with one number only
    (the usual layouts), else None. C-level loops only: this is the fast path of every field."""
    try:
        flat = list(chain.from_iterable(values))
    except TypeError:  # bare scalars (or something odd)
        flat = None
    try:
        if flat is not None and len(flat) == len(values) and set(map(type, flat)) <= _NUMBER:
            return np.array(flat, dtype=np.float64)
        if set(map(type, values)) <= _NUMBER:
            return np.array(values, dtype=np.float64)
    except OverflowError:  # an integer beyond float64
        pass
    return None


def _classify(values: list) -> tuple[np.ndarray, dict]:
    """Slow path: float64 of the numbers poseval reads (``field[0]``), NaN elsewhere, and
    ``{index: value read}`` for every value that is not a number (true/false included)."""
    out = np.full(len(values), np.nan)
    bad = {}
    for i, v in enumerate(values):
        v = _first(v)
        if type(v) is int or type(v) is float:
            try:
                out[i] = v
                continue
            except OverflowError:
                pass
        bad[i] = v
    return out, bad


def _numeric(values: list) -> tuple[np.ndarray, dict]:
    arr = _numbers(values)
    return (arr, {}) if arr is not None else _classify(values)


def _score_value(v) -> float:
    """A score as poseval stores it: ``score_array[i] = value`` (numpy converts numeric strings)."""
    if type(v) is bool or type(v) is list or type(v) is dict or isinstance(v, _Sentinel):
        raise ValueError
    cell = np.full(1, np.nan)
    cell[0] = v  # None -> NaN, '0.5' -> 0.5, 'abc' -> ValueError, as in poseval
    return float(cell[0])


def _scores(raw: list, where, field) -> tuple[np.ndarray, np.ndarray, int]:
    """Scores of points (or slots): (value, given, number of numeric strings); missing -> NaN, not given."""
    n = len(raw)
    n_missing = raw.count(_MISSING)
    if n_missing == n:
        return np.full(n, np.nan), np.zeros(n, bool), 0
    if n_missing == 0:
        arr = _numbers(raw)
        if arr is not None:
            return arr, np.ones(n, bool), 0
    out = np.full(n, np.nan)
    given = np.zeros(n, bool)
    n_str = 0
    for i, v in enumerate(raw):
        if v is _MISSING:
            continue
        v = _first(v)
        if v is _EMPTY:
            continue  # prt reads "score": [] as no score (poseval fails on it)
        if type(v) is int or type(v) is float:
            out[i] = v
        else:
            try:
                out[i] = _score_value(v)
            except (ValueError, TypeError, OverflowError):
                raise InputError(f"score is {_describe(v)}, not a number", **where(i, field),
                                 fix="write scores as JSON numbers (null counts as NaN, as in poseval)") from None
            n_str += type(v) is str
        given[i] = True
    return out, given, n_str


def _track_ids(raw: list, where) -> np.ndarray:
    """Track ids; a person without one gets NO_TRACK (``--task tracking`` refuses it later)."""
    arr, bad = _numeric(raw)
    present = np.ones(len(raw), bool)
    for i, v in bad.items():
        if v is None or v is _EMPTY or v is _MISSING:
            present[i] = False
            continue
        raise InputError(f"track id is {_describe(v)}, not a number", **where(i, "track_id"),
                         fix="give every person an integer track id (poseval requires 0 <= id < 10000)")
    vals = arr[present]
    big = ~(np.abs(vals) < _TRACK_LIMIT)  # NaN and inf too
    if big.any():
        i = int(np.flatnonzero(present)[np.flatnonzero(big)[0]])
        raise InputError(f"track id {arr[i]:g} is too large (poseval requires track ids < 10000)",
                         **where(i, "track_id"), fix="renumber the tracks of the sequence from 0")
    frac = vals != np.floor(vals)
    if frac.any():
        i = int(np.flatnonzero(present)[np.flatnonzero(frac)[0]])
        raise InputError(f"track id {arr[i]:g} is not an integer", **where(i, "track_id"),
                         fix="use integer track ids")
    track = np.full(len(raw), NO_TRACK, dtype=np.int64)
    track[present] = vals.astype(np.int64)
    return track


def _lenient(raw: list) -> np.ndarray:
    """Numbers where given, NaN elsewhere (fields poseval never reads: visibility, person score)."""
    arr, _ = _numeric(raw)
    return arr


def _polygon(xs: list, ys: list, path, f: int, r: int, field: str) -> np.ndarray:
    x, bx = _numeric(xs)
    y, by = _numeric(ys)
    if bx or by:
        v = next(iter(bx.values())) if bx else next(iter(by.values()))
        raise InputError(f"ignore region {r} has a coordinate that is {_describe(v)}, not a number", file=path,
                         frame=f, field=field, fix="write ignore-region coordinates as JSON numbers")
    if len(x) in (1, 2):
        raise InputError(f"ignore region {r} has {len(x)} point{'s' if len(x) > 1 else ''}; a polygon needs at least 3",
                         file=path, frame=f, field=field,
                         fix="give every ignore region 3 or more corners, or remove it "
                             "(poseval fails on it: shapely needs 4 coordinates for a ring)")
    return np.column_stack([x, y]) if len(x) else np.zeros((0, 2))


def _ignore_2017(regions, path, f) -> list[np.ndarray]:
    if not regions:
        return []
    if type(regions) is not list:
        raise InputError("'ignore_regions' is not a list", file=path, frame=f, field="ignore_regions",
                         fix="give a list of {'point': [{'x': [..], 'y': [..]}, ...]} polygons")
    out = []
    for r, reg in enumerate(regions):
        pts = reg.get("point") if type(reg) is dict else None
        if type(pts) is not list or any(type(p) is not dict for p in pts):
            raise InputError(f"ignore region {r} has no 'point' list of {{'x', 'y'}} objects", file=path, frame=f,
                             field="ignore_regions", fix="give each region as {'point': [{'x': [..], 'y': [..]}, ...]}")
        out.append(_polygon([p.get("x", _MISSING) for p in pts], [p.get("y", _MISSING) for p in pts],
                            path, f, r, "ignore_regions"))
    return out


# ----------------------------------------------------------------------------------- reading
def _layout(data, path) -> str:
    if isinstance(data, dict):
        if "annolist" in data:
            return FMT17
        if "images" in data and "annotations" in data:
            return FMT18
    raise InputError("is in neither PoseTrack layout (no 'annolist', no 'images' + 'annotations')",
                     file=path, fix="give PoseTrack 2017 {'annolist': [...]} or 2018 COCO-like JSON files")


def _not_dict(items: list) -> int | None:
    """Index of the first item that is not a JSON object, or None."""
    if set(map(type, items)) <= {dict}:
        return None
    return next(i for i, v in enumerate(items) if type(v) is not dict)


class _Where:
    """Error location of person ``p`` (and its point ``k``): file, frame, person within the frame, field."""

    def __init__(self, path, person_frame: np.ndarray, frame_start: np.ndarray, pt_person=None, pt_start=None,
                 label=None):
        self.path, self.person_frame, self.frame_start = path, person_frame, frame_start
        self.pt_person, self.pt_start, self.label = pt_person, pt_start, label

    def person(self, p: int, field: str | None = None) -> dict:
        f = int(self.person_frame[p])
        if self.label is not None:  # 2018: name the annotation
            field = f"{self.label(p)}.{field}" if field else self.label(p)
        return dict(file=self.path, frame=f, person=p - int(self.frame_start[f]), field=field)

    def point(self, i: int, field: str) -> dict:
        p = int(self.pt_person[i])
        return self.person(p, f"point {i - int(self.pt_start[p])}: {field}")


def _point_lists(rects: list, where: _Where) -> tuple[list, np.ndarray]:
    """Each person's point list and whether it has a pose record (poseval ``rectHasPoints``)."""
    aps = list(map(dict.get, rects, repeat("annopoints")))
    try:
        lists = [a[0]["point"] for a in aps]
        if set(map(type, lists)) <= {list}:
            return lists, np.ones(len(rects), bool)
    except (TypeError, KeyError, IndexError):
        pass
    lists, has = [], np.zeros(len(rects), bool)
    for p, a in enumerate(aps):
        if type(a) is dict:
            a = [a]  # prt also reads an unwrapped annopoints object
        if type(a) is list and a and type(a[0]) is dict and "point" in a[0]:
            has[p] = True
            pts = a[0]["point"]
            if pts is None:
                pts = []
            elif type(pts) is dict:
                pts = [pts]
            elif type(pts) is not list:
                raise InputError(f"'point' is {_describe(pts)}, not a list", **where.person(p, "annopoints"),
                                 fix="give annopoints as [{'point': [{'id': [j], 'x': [..], 'y': [..]}, ...]}]")
            lists.append(pts)
        else:
            lists.append([])
    return lists, has


_HEAD_BOX = itemgetter("x1", "y1", "x2", "y2")


def _head_boxes_2017(rects: list, where: _Where) -> np.ndarray:
    n = len(rects)
    try:  # every person has a head box of wrapped numbers (GT files)
        flat = list(chain.from_iterable(chain.from_iterable(map(_HEAD_BOX, rects))))
        if len(flat) == 4 * n and set(map(type, flat)) <= _NUMBER:
            return np.array(flat, dtype=np.float64).reshape(n, 4)
    except (KeyError, TypeError, OverflowError):
        pass
    cols = [list(map(dict.get, rects, repeat(k), repeat(_MISSING))) for k in ("x1", "y1", "x2", "y2")]
    if all(c.count(_MISSING) == n for c in cols):  # no head boxes at all (predictions)
        return np.full((n, 4), np.nan)
    fast = [_numbers(c) for c in cols]
    if all(a is not None for a in fast):
        return np.column_stack(fast) if rects else np.zeros((0, 4))
    head = np.full((len(rects), 4), np.nan)
    for c, (key, col) in enumerate(zip(("x1", "y1", "x2", "y2"), cols)):
        arr, bad = _classify(col)
        for i, v in bad.items():
            if v is _MISSING or v is None:
                continue  # no head box (a GT person needs one; the evaluator says so)
            raise InputError(f"head box {key} is {_describe(v)}, not a number", **where.person(i, key),
                             fix=_NUMBERS_FIX)
        head[:, c] = arr
    head[np.isnan(head).any(axis=1)] = np.nan
    return head


class _Points:
    """All points of a file as flat arrays (PoseTrack-15 ids for 2017 files)."""

    def __init__(self, person, joint, x, y, score, given):
        self.person, self.joint, self.x, self.y, self.score, self.given = person, joint, x, y, score, given


def _nonfinite(x: np.ndarray, y: np.ndarray, records: bool, where, notes: list, what: str) -> None:
    """Non-finite coordinates: kept as present-but-unmatchable (+inf) for evaluation, refused otherwise."""
    bad = ~(np.isfinite(x) & np.isfinite(y))
    if not bad.any():
        return
    i = int(np.flatnonzero(bad)[0])
    if records:
        raise InputError(f"a coordinate is {x[i]!r}/{y[i]!r}, not a finite number", **where(i),
                         fix="write finite coordinates, or leave the joint out (poseval counts a NaN joint as "
                             "present and never matching; `prt evaluate` does the same)")
    x[bad] = np.inf
    y[bad] = np.inf
    notes.append(f"{int(bad.sum())} {what} have a non-finite coordinate; as in poseval they count as present "
                 "and never match")


def _read_2017(data: dict, path: Path, name: str, records: bool = True, regions: bool = True,
               scores: bool = True, may_bool: bool = True, packed: Points | None = None) -> PoseSequence | None:
    """``packed``: the point lists cut out of the file (``_pointbytes``); None is returned when the
    document does not fit them, and the caller reads the whole file the ordinary way."""
    frames = data["annolist"]
    if type(frames) is not list:
        raise InputError("'annolist' is not a list", file=path, field="annolist",
                         fix="give {'annolist': [frame, ...]} with one entry per frame")
    K = len(POSETRACK15)
    notes: list[str] = []
    bad = _not_dict(frames)
    if bad is not None:
        raise InputError("frame is not a JSON object", file=path, frame=bad, fix="give each frame as a JSON object")
    F = len(frames)
    rect_lists = list(map(dict.get, frames, repeat("annorect")))
    if not set(map(type, rect_lists)) <= {list}:
        for f, rects in enumerate(rect_lists):
            if rects is None:
                rect_lists[f] = []
            elif type(rects) is not list:
                raise InputError(f"'annorect' is {_describe(rects)}, not a list", file=path, frame=f,
                                 field="annorect", fix="give the people of a frame as a list (empty for none)")
    ignore = [[] for _ in range(F)]
    if regions:
        for f, reg in enumerate(map(dict.get, frames, repeat("ignore_regions"))):
            if reg:
                ignore[f] = _ignore_2017(reg, path, f)
    if records:
        image_names, labeled = [], []
        for fr in frames:
            img = _first(fr.get("image"))
            img_name = img.get("name") if type(img) is dict else None
            image_names.append(str(_first(img_name)) if img_name is not None else "")
            lab = fr.get("is_labeled")
            labeled.append(bool(_first(lab)) if lab is not None and lab != [] else True)
    else:  # evaluation reads neither (poseval ignores is_labeled)
        image_names, labeled = [""] * F, [True] * F
    counts = list(map(len, rect_lists))
    rects_all = list(chain.from_iterable(rect_lists))
    P = len(rects_all)
    person_frame = np.repeat(np.arange(len(frames), dtype=np.int64), counts)
    frame_start = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    where = _Where(path, person_frame, frame_start)
    bad = _not_dict(rects_all)
    if bad is not None:
        raise InputError("person is not a JSON object", **where.person(bad), fix="give each person as a JSON object")

    track = _track_ids(list(map(dict.get, rects_all, repeat("track_id"))), where.person)
    head = _head_boxes_2017(rects_all, where)
    pscore = _lenient(list(map(dict.get, rects_all, repeat("score")))) if records else None  # unused by evaluation
    if packed is None:
        pt_lists, has_pose = _point_lists(rects_all, where)
        n_pts = list(map(len, pt_lists))
    else:
        pt_lists, (n_pts, has_pose) = None, _packed_counts(rects_all, packed.counts)
        if n_pts is None:
            return None
    pt_person = np.repeat(np.arange(P, dtype=np.int64), n_pts)
    where.pt_person, where.pt_start = pt_person, np.concatenate([[0], np.cumsum(n_pts)]).astype(np.int64)
    if packed is not None:
        points = _packed_points(packed, pt_person, scores)
    else:
        fast = None if may_bool else _fast_points(pt_lists, len(pt_person), scores)
        points = _points_2017(pt_lists, pt_person, where, records, notes, scores, fast)
    if points is None:
        return None
    keypoints, score_null, extra = _scatter(points, P, K, notes)
    visibility = None
    if records:
        vis = _lenient(list(map(dict.get, chain.from_iterable(pt_lists), repeat("is_visible"))))
        visibility = np.full((P, K), np.nan)
        visibility[points.person[extra.first], points.joint[extra.first]] = vis[extra.first]
    meta = {"source": {"path": str(path), "format": FMT17},
            "file_fields": {k: v for k, v in data.items() if k != "annolist"}}
    if extra.points is not None:
        meta["extra_points"] = extra.points
    if notes:
        meta["notes"] = notes
    return PoseSequence(
        name=name, skeleton=POSETRACK15, image_names=image_names,
        person_frame=person_frame, keypoints=keypoints, track_id=track, head_box=head,
        visibility=visibility, person_score=pscore, has_pose=has_pose, score_null=score_null,
        is_labeled=np.array(labeled, dtype=bool), ignore_regions=ignore, meta=meta,
        frame_extras=list(frames) if records else None, person_extras=rects_all if records else None,
    )


def _packed_counts(rects: list, counts: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
    """Points of each person and whether it has a pose record, when the people with a pose record
    are exactly those whose point list was cut out (in file order), else (None, None)."""
    P = len(rects)
    aps = list(map(dict.get, rects, repeat("annopoints")))
    try:
        lists = [a[0]["point"] for a in aps]
    except (TypeError, KeyError, IndexError):
        lists = None
    if lists is not None and len(lists) == len(counts) and lists.count(PLACEHOLDER) == P:
        return counts, np.ones(P, bool)
    n, has, k = np.zeros(P, np.int64), np.zeros(P, bool), 0
    for p, a in enumerate(aps):
        if type(a) is dict:
            a = [a]
        if type(a) is list and a and type(a[0]) is dict and "point" in a[0]:
            if a[0]["point"] != PLACEHOLDER or k == len(counts):
                return None, None
            has[p], n[p] = True, counts[k]
            k += 1
    return (n, has) if k == len(counts) else (None, None)


def _packed_points(packed: Points, pt_person: np.ndarray, scores: bool) -> _Points | None:
    """The cut-out points when every id is a PoseTrack-15 joint (their coordinates are finite by
    construction), else None: the careful reading names what is odd."""
    cols = packed.columns
    ids = cols["id"]
    joint = ids.astype(np.int64)
    if not ((joint == ids).all() and (joint >= 0).all() and (joint < len(POSETRACK15)).all()):
        return None
    if scores and "score" in cols:
        score, given = cols["score"], np.ones(len(ids), bool)
    else:
        score, given = np.full(len(ids), np.nan), np.zeros(len(ids), bool)
    return _Points(pt_person, joint, cols["x"], cols["y"], score, given)


_ID_X_Y_SCORE = itemgetter("id", "x", "y", "score")
_ID_X_Y = itemgetter("id", "x", "y")


def _fast_points(pt_lists: list, n: int, scores: bool = True) -> tuple[np.ndarray, bool] | None:
    """(N, 4) id, x, y, score of the ``n`` points of all people, and whether they have scores, when
    every point holds numbers in one-element lists and either all or none have a score (the usual
    layouts), in one pass over the points; None sends the caller to the careful path.
    ``scores=False`` does not read scores. The file must hold no true/false (numpy would read 1/0)."""
    for getter, width in ((_ID_X_Y_SCORE, 4), (_ID_X_Y, 3)) if scores else ((_ID_X_Y, 3),):
        try:
            flat = list(chain.from_iterable(chain.from_iterable(map(getter, chain.from_iterable(pt_lists)))))
        except (KeyError, TypeError):
            continue
        if len(flat) != width * n:
            return None
        try:
            arr = np.array(flat)  # numbers only: any string or null makes another dtype than int/float
        except (OverflowError, ValueError):
            return None
        if arr.dtype.kind not in "fi":
            return None
        arr = arr.astype(np.float64, copy=False).reshape(n, width)
        if width == 4:
            return arr, True
        if scores and any("score" in p for p in chain.from_iterable(pt_lists)):
            return None  # some points have scores, others not: the careful path
        out = np.empty((n, 4))
        out[:, :3] = arr
        out[:, 3] = np.nan
        return out, False
    return None


def _points_2017(pt_lists: list, pt_person: np.ndarray, where: _Where, records: bool, notes: list,
                 scores: bool = True, fast: tuple | None = None) -> _Points:
    """Every point of a file: the fast path's arrays (``fast``, from :func:`_fast_points`) when they
    hold only valid joints and finite coordinates, else a careful reading naming what is wrong."""
    K = len(POSETRACK15)
    if fast is not None:
        arr, has_scores = fast
        ids = arr[:, 0]
        if ((ids >= 0) & (ids < K) & (ids == np.floor(ids))).all() and np.isfinite(arr[:, 1:3]).all():
            given = np.full(len(ids), has_scores)
            return _Points(pt_person, ids.astype(np.int64), arr[:, 1], arr[:, 2], arr[:, 3], given)
    if pt_lists is None:
        return None  # cut-out points that need the careful reading: the caller reads the file again
    pts = list(chain.from_iterable(pt_lists))
    bad = _not_dict(pts)
    if bad is not None:
        raise InputError("a point is not a JSON object", **where.point(bad, "point"),
                         fix="give each point as {'id': [j], 'x': [..], 'y': [..], 'score': [..]}")
    raw_ids = list(map(dict.get, pts, repeat("id"), repeat(_MISSING)))
    ids, bad_ids = _numeric(raw_ids)
    ignored_kinds = set()
    for i, v in bad_ids.items():
        if v is _MISSING or v is _EMPTY or type(v) in (bool, list, dict):
            raise InputError(f"joint id is {_describe(v)}, not a number", **where.point(i, "id"),
                             fix="give every point a PoseTrack-2017 joint id (0 right ankle ... 14 head top)")
        ignored_kinds.add(_describe(v) if v is None else type(v).__name__)
    valid = (ids >= 0) & (ids < K) & (ids == np.floor(ids))
    if not valid.all():
        n = int((~valid).sum())
        shown = sorted({repr(float(v)) for v in ids[~valid & ~np.isnan(ids)]})[:5] + sorted(ignored_kinds)
        notes.append(f"{n} points have ids that are no PoseTrack-2017 joint id 0..14 ({', '.join(shown)}); "
                     "poseval ignores such points, so does prt")
    coords = []
    for key in ("x", "y"):
        arr, bad = _numeric(list(map(dict.get, pts, repeat(key), repeat(_MISSING))))
        if bad:
            i, v = next(iter(bad.items()))
            hint = " (poseval fails on strings: numpy cannot subtract them)" if type(v) is str else ""
            raise InputError(f"{key} is {_describe(v)}, not a number{hint}", **where.point(i, key),
                             fix="write coordinates as JSON numbers")
        coords.append(arr)
    x, y = coords
    _nonfinite(x, y, records, lambda i: where.point(i, "x/y"), notes, "points")
    raw_scores = list(map(dict.get, pts, repeat("score"), repeat(_MISSING))) if scores else [_MISSING] * len(pts)
    score, given, n_str = _scores(raw_scores, lambda i, field: where.point(i, field), "score")
    if n_str:
        notes.append(f"{n_str} scores are strings; read as numbers, as poseval (numpy) does")
    joint = np.where(valid, ids, -1).astype(np.int64)
    return _Points(pt_person, joint, x, y, score, given)


class _Scattered:
    def __init__(self, first: np.ndarray, points: dict | None):
        self.first, self.points = first, points


def _scatter(pts: _Points, P: int, K: int, notes: list):
    """Canonical arrays from flat points: the first point of each (person, joint) counts."""
    n = len(pts.joint)
    keypoints = np.full((P, K, 3), np.nan)
    score_null = np.zeros((P, K), bool)
    key = pts.person * K + pts.joint
    if n and (pts.joint >= 0).all() and (n == 1 or (key[1:] > key[:-1]).all()):
        first = None  # every point a joint of its own (the usual files: joints in increasing order)
    else:
        valid = np.flatnonzero(pts.joint >= 0)
        key = key[valid]
        if len(key) and np.bincount(key, minlength=P * K).max() > 1:
            _, first = np.unique(key, return_index=True)  # first occurrence of every (person, joint)
            first = valid[np.sort(first)]
            key = key[np.searchsorted(valid, first)]
            n_dup = len(valid) - len(first)
            notes.append(f"{n_dup} points repeat a joint their person already has; as in poseval the first counts")
        else:
            first = valid
    sel = slice(None) if first is None else first
    flat = keypoints.reshape(P * K, 3)
    flat[key, 0] = pts.x[sel]
    flat[key, 1] = pts.y[sel]
    flat[key, 2] = pts.score[sel]
    score_null.reshape(P * K)[key] = pts.given[sel] & np.isnan(pts.score[sel])
    if first is None:
        return keypoints, score_null, _Scattered(np.arange(n), None)
    rest = np.ones(n, bool)
    rest[first] = False
    extra = None
    if rest.any():  # repeated joints and non-joint points: only ignore regions can bring them in
        r = np.flatnonzero(rest)
        extra = {"person": pts.person[r], "joint": pts.joint[r], "x": pts.x[r], "y": pts.y[r],
                 "score": pts.score[r], "score_null": pts.given[r] & np.isnan(pts.score[r])}
    return keypoints, score_null, _Scattered(first, extra)


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
    from ..skeletons import _pairs

    sk = Skeleton(name=f"posetrack18-custom-{len(names)}", joints=joints, file_names=tuple(names),
                  symmetric_pairs=_pairs(joints))
    return sk, list(names)


def _video_of(file_name) -> str:
    """poseval's video id of an image: the first '_' token of its folder name."""
    if type(file_name) is not str:
        return ""
    return os.path.basename(os.path.dirname(file_name)).split("_")[0]


def _read_2018(data: dict, path: Path, name: str, records: bool = True, regions: bool = True) -> PoseSequence:
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
            raise InputError(f"image id is {_describe(iid)}", file=path, frame=f, field=f"images[{f}].id",
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
        iid = ann.get("image_id", _MISSING)
        if type(iid) in (list, dict):
            raise InputError(f"image_id is {_describe(iid)}", file=path, field=f"annotations[{a}].image_id",
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
    where = _Where(path, person_frame, frame_start, label=lambda i: f"annotations[{order[i]}]")
    recs = [anns[a] for a in order]

    raw = _keypoints_2018(recs, K, where)
    absent = (raw[..., 0] == 0) & (raw[..., 1] == 0) & (raw[..., 2] == 0)
    keypoints = np.full((P, K, 3), np.nan)
    keypoints[..., :2] = np.where(absent[..., None], np.nan, raw[..., :2])
    pp, pk = np.nonzero(~absent)
    xs, ys = keypoints[pp, pk, 0], keypoints[pp, pk, 1]
    _nonfinite(xs, ys, records, lambda i: where.person(int(pp[i]), "keypoints"), notes, "keypoints")
    keypoints[pp, pk, 0], keypoints[pp, pk, 1] = xs, ys

    evaluated = np.array([j in POSETRACK15 for j in skeleton.joints])
    sc, given = _read_scores_2018(recs, K, evaluated, where, notes)
    keypoints[..., 2] = np.where(absent, np.nan, sc)
    score_null = given & np.isnan(sc) & ~absent

    track = _track_ids([r.get("track_id") for r in recs], where.person)
    head = np.full((P, 4), np.nan)
    for i, r in enumerate(recs):
        hb = r.get("bbox_head")
        if hb is None or hb == []:
            continue
        vals, bad = _classify(hb[:4]) if type(hb) is list and len(hb) >= 4 else (None, {0: hb})
        if bad:
            raise InputError(f"bbox_head is {_describe(next(iter(bad.values())))}, expected [x, y, w, h] numbers",
                             **where.person(i, "bbox_head"), fix=_NUMBERS_FIX)
        head[i] = (vals[0], vals[1], vals[0] + vals[2], vals[1] + vals[3])
    pscore = _lenient([r.get("score") for r in recs])

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


def _keypoints_2018(recs: list, K: int, where: _Where) -> np.ndarray:
    """(P, K, 3) raw [x, y, v] triples; a person without 'keypoints' has none (all zero)."""
    P = len(recs)
    kps = [r.get("keypoints") for r in recs]
    try:
        lens = set(map(len, kps))
    except TypeError:
        lens = None
    if lens is not None and lens <= {3 * K}:
        flat = list(chain.from_iterable(kps))
        if set(map(type, flat)) <= _NUMBER:
            try:
                return np.array(flat, dtype=np.float64).reshape(P, K, 3)
            except OverflowError:
                pass
    raw = np.zeros((P, K, 3))
    for i, kp in enumerate(kps):
        if kp is None:
            continue
        if type(kp) is not list or len(kp) != 3 * K:
            n = len(kp) if type(kp) is list else _describe(kp)
            raise InputError(f"'keypoints' has {n} values, expected {3 * K}", **where.person(i, "keypoints"),
                             fix=f"write {K} [x, y, v] triples in the order of categories[0].keypoints")
        vals, bad = _classify(kp)
        if bad:
            k, v = next(iter(bad.items()))
            raise InputError(f"keypoint value {k} is {_describe(v)}, not a number", **where.person(i, "keypoints"),
                             fix="write keypoints as JSON numbers")
        raw[i] = vals.reshape(K, 3)
    return raw


def _read_scores_2018(recs: list, K: int, evaluated: np.ndarray, where: _Where, notes: list):
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
        arr = _numbers(list(chain.from_iterable(raw)))
        if arr is not None:
            return arr.reshape(P, K), np.ones((P, K), bool)
    n_str = 0
    for i, s in enumerate(raw):
        if not s:
            continue  # missing, null or []: no scores
        if type(s) is not list or len(s) < K:
            n = f"{len(s)} values" if type(s) is list else _describe(s)
            raise InputError(f"'scores' has {n}, expected {K} (or [] for none)", **where.person(i, "scores"),
                             fix="give one score per keypoint slot, in the order of categories[0].keypoints")
        vals = [s[k] if evaluated[k] else 0.0 for k in range(K)]  # slots poseval never reads stay unchecked
        v, g, n = _scores(vals, lambda k, field, i=i: where.person(i, f"{field}[{k}]"), "scores")
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
        out.append(_polygon(px[:n], py[:n], path, f, r, "ignore_regions_x"))
    return out


def prepare_reads(paths: list[Path]) -> list[tuple]:
    """The bytes of files that :func:`read_sequence` will read for evaluation (``prepared=``), with
    their point lists parsed together (``_pointbytes.split_many``); a file that cannot be read
    holds its error, raised when it is read."""
    raws: list = []
    for p in paths:
        try:
            raws.append(read_bytes(p))
        except InputError as e:
            raws.append(e)
    ok = [i for i, r in enumerate(raws) if type(r) is bytes]
    splits: list = [None] * len(raws)
    for i, sp in zip(ok, split_many([raws[i] for i in ok])):
        splits[i] = sp
    return list(zip(raws, splits))


def read_sequence(path: str | Path, name: str | None = None, records: bool = True,
                  regions: bool = True, scores: bool = True, prepared: tuple | None = None) -> PoseSequence:
    """One PoseTrack JSON file (either layout, detected from its keys).

    ``records=False`` keeps only what evaluation needs (no source records for writing back, no
    image names): faster, the parsed JSON is freed at once, and joints with non-finite
    coordinates are kept the way poseval counts them. ``regions=False`` skips ignore regions
    (poseval reads them from the GT only); ``scores=False`` skips the scores of a 2017 file
    (evaluation does not use GT scores); ``prepared``: this file's entry of :func:`prepare_reads`."""
    path = Path(path)
    name = name or path.stem
    with no_gc():
        if prepared is not None:
            raw, split = prepared
            if type(raw) is not bytes:
                raise raw
        else:
            raw = read_bytes(path)
            split = split_many([raw])[0] if not records else None
        if not records:  # the point lists straight from the bytes, the rest parsed as usual
            if split is not None:
                try:
                    data = orjson.loads(split[0])
                except orjson.JSONDecodeError:
                    data = None
                seq = None
                if type(data) is dict and "annolist" in data:
                    seq = _read_2017(data, path, name, False, regions, scores, packed=split[1])
                del data, split
                if seq is not None:
                    return seq
        data = parse_json(raw, path)
        layout = _layout(data, path)
        if layout == FMT17:
            # true/false anywhere: the careful path reads the points (numpy would take a bool for 1)
            may_bool = b"true" in raw or b"false" in raw
            del raw
            seq = _read_2017(data, path, name, records, regions, scores, may_bool)
        else:
            del raw
            seq = _read_2018(data, path, name, records, regions)
        del data  # freed before the collector is back on: it would otherwise walk the whole tree
    # the contract is checked for what is written back; an evaluation read builds it by construction
    return seq.validate() if records else seq


#: the orders in which a folder's sequences can be read (and AP ties broken)
SEQUENCE_ORDERS = ("filesystem", "sorted")


def sequence_files(path: str | Path, order: str = "sorted") -> list[Path]:
    """The ``*.json`` files of a folder (or the one file given).

    ``order="filesystem"`` is poseval's: ``glob(dir + "/*.json")``, i.e. the order the file
    system lists the folder in (it decides how AP breaks ties between equal scores, NaN
    included); ``"sorted"`` is by file name, the same on every machine."""
    path = Path(path)
    if path.is_dir():
        files = [Path(p) for p in glob.glob(os.path.join(glob.escape(str(path)), "*.json"))]
        if order == "sorted":
            files.sort(key=lambda p: p.name)
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
                    j = _first(pt.get("id")) if type(pt) is dict else None
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
