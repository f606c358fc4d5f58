"""What both PoseTrack layouts read alike: layout names, track ids, scores, ignore-region polygons,
non-finite coordinates, and where an error is (file, frame, person, field)."""

from __future__ import annotations

import numpy as np

from ...errors import InputError
from ...poses import NO_TRACK
from .._values import EMPTY, MISSING, Absent, first_item, kind_of, plain_numbers, read_numbers

FMT17 = "posetrack2017"
FMT18 = "posetrack2018"
#: track ids must fit int64 with room to spare (poseval itself requires < 10000)
_TRACK_LIMIT = 2.0 ** 62
NUMBERS_FIX = "write coordinates, track ids and head boxes as JSON numbers"


def _score_value(v) -> float:
    """A score as poseval stores it: ``score_array[i] = value`` (numpy converts numeric strings)."""
    if type(v) is bool or type(v) is list or type(v) is dict or isinstance(v, Absent):
        raise ValueError
    cell = np.full(1, np.nan)
    cell[0] = v  # None -> NaN, '0.5' -> 0.5, 'abc' -> ValueError, as in poseval
    return float(cell[0])


def score_values(raw: list, where, field) -> tuple[np.ndarray, np.ndarray, int]:
    """Scores of points (or slots): (value, given, number of numeric strings); missing -> NaN, not given."""
    n = len(raw)
    n_missing = raw.count(MISSING)
    if n_missing == n:
        return np.full(n, np.nan), np.zeros(n, bool), 0
    if n_missing == 0:
        arr = plain_numbers(raw)
        if arr is not None:
            return arr, np.ones(n, bool), 0
    out = np.full(n, np.nan)
    given = np.zeros(n, bool)
    n_str = 0
    for i, v in enumerate(raw):
        if v is MISSING:
            continue
        v = first_item(v)
        if v is EMPTY:
            continue  # prt reads "score": [] as no score (poseval fails on it)
        if type(v) is int or type(v) is float:
            out[i] = v
        else:
            try:
                out[i] = _score_value(v)
            except (ValueError, TypeError, OverflowError):
                raise InputError(f"score is {kind_of(v)}, not a number", **where(i, field),
                                 fix="write scores as JSON numbers (null counts as NaN, as in poseval)") from None
            n_str += type(v) is str
        given[i] = True
    return out, given, n_str


def track_ids(raw: list, where) -> np.ndarray:
    """Track ids; a person without one gets NO_TRACK (``--task tracking`` refuses it later)."""
    arr, bad = read_numbers(raw)
    present = np.ones(len(raw), bool)
    for i, v in bad.items():
        if v is None or v is EMPTY or v is MISSING:
            present[i] = False
            continue
        raise InputError(f"track id is {kind_of(v)}, not a number", **where(i, "track_id"),
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


def lenient_numbers(raw: list) -> np.ndarray:
    """Numbers where given, NaN elsewhere (fields poseval never reads: visibility, person score)."""
    arr, _ = read_numbers(raw)
    return arr


def polygon(xs: list, ys: list, path, f: int, r: int, field: str) -> np.ndarray:
    x, bx = read_numbers(xs)
    y, by = read_numbers(ys)
    if bx or by:
        v = next(iter(bx.values())) if bx else next(iter(by.values()))
        raise InputError(f"ignore region {r} has a coordinate that is {kind_of(v)}, not a number", file=path,
                         frame=f, field=field, fix="write ignore-region coordinates as JSON numbers")
    if len(x) in (1, 2):
        raise InputError(f"ignore region {r} has {len(x)} point{'s' if len(x) > 1 else ''}; a polygon needs at least 3",
                         file=path, frame=f, field=field,
                         fix="give every ignore region 3 or more corners, or remove it "
                             "(poseval fails on it: shapely needs 4 coordinates for a ring)")
    return np.column_stack([x, y]) if len(x) else np.zeros((0, 2))


def layout_of(data, path) -> str:
    if isinstance(data, dict):
        if "annolist" in data:
            return FMT17
        if "images" in data and "annotations" in data:
            return FMT18
    raise InputError("is in neither PoseTrack layout (no 'annolist', no 'images' + 'annotations')",
                     file=path, fix="give PoseTrack 2017 {'annolist': [...]} or 2018 COCO-like JSON files")


def first_non_object(items: list) -> int | None:
    """Index of the first item that is not a JSON object, or None."""
    if set(map(type, items)) <= {dict}:
        return None
    return next(i for i, v in enumerate(items) if type(v) is not dict)


class Where:
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


def mark_nonfinite(x: np.ndarray, y: np.ndarray, records: bool, where, notes: list, what: str) -> None:
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
