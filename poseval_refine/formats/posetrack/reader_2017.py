"""The PoseTrack 2017 layout (``{"annolist": [frame, ...]}``), read the way poseval reads it.

poseval reads ``field[0]`` of every field; prt also accepts a bare value. Point ``id`` is the
PoseTrack-15 joint id. A person naming a joint twice: the first point counts (the others are kept
aside in ``meta["extra_points"]``, because a point deleted by an ignore region exposes the next
one); a point whose id is not one of 0..14 (out of range, fractional, null, a string) is no joint:
it only keeps its person alive when ignore regions delete the other points.
"""

from __future__ import annotations

from itertools import chain, repeat
from operator import itemgetter
from pathlib import Path

import numpy as np

from ...errors import InputError
from ...poses import PoseSequence
from ...skeletons import POSETRACK15
from .._pointbytes import PLACEHOLDER, Points
from .._values import EMPTY, JSON_NUMBERS, MISSING, field_numbers, first_item, kind_of, plain_numbers, read_numbers
from .fields import (
    FMT17,
    NUMBERS_FIX,
    Where,
    first_non_object,
    lenient_numbers,
    mark_nonfinite,
    polygon,
    score_values,
    track_ids,
)


def read_2017(data: dict, path: Path, name: str, records: bool = True, regions: bool = True,
               scores: bool = True, may_bool: bool | None = True, packed: Points | None = None) -> PoseSequence | None:
    """``packed``: the point lists cut out of the file (``_pointbytes``); None is returned when the
    document does not fit them, and the caller reads the whole file the ordinary way. ``may_bool``: the
    file may hold true/false (the careful path reads its points); None: unknown, the points are checked."""
    frames = data["annolist"]
    if type(frames) is not list:
        raise InputError("'annolist' is not a list", file=path, field="annolist",
                         fix="give {'annolist': [frame, ...]} with one entry per frame")
    K = len(POSETRACK15)
    notes: list[str] = []
    bad = first_non_object(frames)
    if bad is not None:
        raise InputError("frame is not a JSON object", file=path, frame=bad, fix="give each frame as a JSON object")
    F = len(frames)
    rect_lists = list(map(dict.get, frames, repeat("annorect")))
    if not set(map(type, rect_lists)) <= {list}:
        for f, rects in enumerate(rect_lists):
            if rects is None:
                rect_lists[f] = []
            elif type(rects) is not list:
                raise InputError(f"'annorect' is {kind_of(rects)}, not a list", file=path, frame=f,
                                 field="annorect", fix="give the people of a frame as a list (empty for none)")
    ignore = [[] for _ in range(F)]
    if regions:
        for f, reg in enumerate(map(dict.get, frames, repeat("ignore_regions"))):
            if reg:
                ignore[f] = _ignore_2017(reg, path, f)
    if records:
        image_names, labeled = [], []
        for fr in frames:
            img = first_item(fr.get("image"))
            img_name = img.get("name") if type(img) is dict else None
            image_names.append(str(first_item(img_name)) if img_name is not None else "")
            lab = fr.get("is_labeled")
            labeled.append(bool(first_item(lab)) if lab is not None and lab != [] else True)
    else:  # evaluation reads neither (poseval ignores is_labeled)
        image_names, labeled = [""] * F, [True] * F
    counts = list(map(len, rect_lists))
    rects_all = list(chain.from_iterable(rect_lists))
    P = len(rects_all)
    person_frame = np.repeat(np.arange(len(frames), dtype=np.int64), counts)
    frame_start = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    where = Where(path, person_frame, frame_start)
    bad = first_non_object(rects_all)
    if bad is not None:
        raise InputError("person is not a JSON object", **where.person(bad), fix="give each person as a JSON object")

    track = track_ids(list(map(dict.get, rects_all, repeat("track_id"))), where.person)
    head = _head_boxes_2017(rects_all, where)
    # the person score is unused by evaluation
    pscore = lenient_numbers(list(map(dict.get, rects_all, repeat("score")))) if records else None
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
        fast = None if may_bool else _fast_points(pt_lists, len(pt_person), scores, check_bools=may_bool is None)
        points = _points_2017(pt_lists, pt_person, where, records, notes, scores, fast)
    if points is None:
        return None
    keypoints, score_null, extra = _scatter(points, P, K, notes)
    visibility = None
    if records:
        vis = lenient_numbers(list(map(dict.get, chain.from_iterable(pt_lists), repeat("is_visible"))))
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
        out.append(polygon([p.get("x", MISSING) for p in pts], [p.get("y", MISSING) for p in pts],
                            path, f, r, "ignore_regions"))
    return out


def _point_lists(rects: list, where: Where) -> tuple[list, np.ndarray]:
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
                raise InputError(f"'point' is {kind_of(pts)}, not a list", **where.person(p, "annopoints"),
                                 fix="give annopoints as [{'point': [{'id': [j], 'x': [..], 'y': [..]}, ...]}]")
            lists.append(pts)
        else:
            lists.append([])
    return lists, has


_HEAD_BOX = itemgetter("x1", "y1", "x2", "y2")


def _head_boxes_2017(rects: list, where: Where) -> np.ndarray:
    n = len(rects)
    try:  # every person has a head box of wrapped numbers (GT files)
        flat = list(chain.from_iterable(chain.from_iterable(map(_HEAD_BOX, rects))))
        if len(flat) == 4 * n and set(map(type, flat)) <= JSON_NUMBERS:
            return np.array(flat, dtype=np.float64).reshape(n, 4)
    except (KeyError, TypeError, OverflowError):
        pass
    cols = [list(map(dict.get, rects, repeat(k), repeat(MISSING))) for k in ("x1", "y1", "x2", "y2")]
    if all(c.count(MISSING) == n for c in cols):  # no head boxes at all (predictions)
        return np.full((n, 4), np.nan)
    fast = [plain_numbers(c) for c in cols]
    if all(a is not None for a in fast):
        return np.column_stack(fast) if rects else np.zeros((0, 4))
    head = np.full((len(rects), 4), np.nan)
    for c, (key, col) in enumerate(zip(("x1", "y1", "x2", "y2"), cols)):
        arr, bad = field_numbers(col)
        for i, v in bad.items():
            if v is MISSING or v is None:
                continue  # no head box (a GT person needs one; the evaluator says so)
            raise InputError(f"head box {key} is {kind_of(v)}, not a number", **where.person(i, key),
                             fix=NUMBERS_FIX)
        head[:, c] = arr
    head[np.isnan(head).any(axis=1)] = np.nan
    return head


class _Points:
    """All points of a file as flat arrays (PoseTrack-15 ids for 2017 files)."""

    def __init__(self, person, joint, x, y, score, given):
        self.person, self.joint, self.x, self.y, self.score, self.given = person, joint, x, y, score, given


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


def _fast_points(pt_lists: list, n: int, scores: bool = True, check_bools: bool = False
                 ) -> tuple[np.ndarray, bool] | None:
    """(N, 4) id, x, y, score of the ``n`` points of all people, and whether they have scores, when
    every point holds numbers in one-element lists and either all or none have a score (the usual
    layouts), in one pass over the points; None sends the caller to the careful path.
    ``scores=False`` does not read scores. The file must hold no true/false (numpy would read 1/0), or
    ``check_bools`` looks for them among the values (parsed objects, whose text cannot be searched)."""
    for getter, width in ((_ID_X_Y_SCORE, 4), (_ID_X_Y, 3)) if scores else ((_ID_X_Y, 3),):
        try:
            flat = list(chain.from_iterable(chain.from_iterable(map(getter, chain.from_iterable(pt_lists)))))
        except (KeyError, TypeError):
            continue
        if len(flat) != width * n or (check_bools and bool in set(map(type, flat))):
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


def _points_2017(pt_lists: list, pt_person: np.ndarray, where: Where, records: bool, notes: list,
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
    bad = first_non_object(pts)
    if bad is not None:
        raise InputError("a point is not a JSON object", **where.point(bad, "point"),
                         fix="give each point as {'id': [j], 'x': [..], 'y': [..], 'score': [..]}")
    raw_ids = list(map(dict.get, pts, repeat("id"), repeat(MISSING)))
    ids, bad_ids = read_numbers(raw_ids)
    ignored_kinds = set()
    for i, v in bad_ids.items():
        if v is MISSING or v is EMPTY or type(v) in (bool, list, dict):
            raise InputError(f"joint id is {kind_of(v)}, not a number", **where.point(i, "id"),
                             fix="give every point a PoseTrack-2017 joint id (0 right ankle ... 14 head top)")
        ignored_kinds.add(kind_of(v) if v is None else type(v).__name__)
    valid = (ids >= 0) & (ids < K) & (ids == np.floor(ids))
    if not valid.all():
        n = int((~valid).sum())
        shown = sorted({repr(float(v)) for v in ids[~valid & ~np.isnan(ids)]})[:5] + sorted(ignored_kinds)
        notes.append(f"{n} points have ids that are no PoseTrack-2017 joint id 0..14 ({', '.join(shown)}); "
                     "poseval ignores such points, so does prt")
    coords = []
    for key in ("x", "y"):
        arr, bad = read_numbers(list(map(dict.get, pts, repeat(key), repeat(MISSING))))
        if bad:
            i, v = next(iter(bad.items()))
            hint = " (poseval fails on strings: numpy cannot subtract them)" if type(v) is str else ""
            raise InputError(f"{key} is {kind_of(v)}, not a number{hint}", **where.point(i, key),
                             fix="write coordinates as JSON numbers")
        coords.append(arr)
    x, y = coords
    mark_nonfinite(x, y, records, lambda i: where.point(i, "x/y"), notes, "points")
    raw_scores = list(map(dict.get, pts, repeat("score"), repeat(MISSING))) if scores else [MISSING] * len(pts)
    score, given, n_str = score_values(raw_scores, lambda i, field: where.point(i, field), "score")
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
