"""Checked access to values read from files (JSON, MATLAB, HDF5, pickles): the one vocabulary of every format.

Readers call these instead of ``float()``/``np.asarray`` so that a value of the wrong kind becomes
one :class:`InputError` naming the file, frame, person and field (:func:`kind_of` says what was
found), with a fix, instead of a ``TypeError`` from deep inside numpy. Readers of large JSON files
read whole columns at once (:func:`plain_numbers`, :func:`read_numbers`) and look at single values
only when a column holds something odd. Loading binary containers (``.mat``, ``.h5``) goes through
:func:`quiet_load`, which turns the library's warnings into notes on prt's logger.
"""

from __future__ import annotations

import logging
import numbers
import warnings
from contextlib import contextmanager
from itertools import chain

import numpy as np

from ..errors import InputError

log = logging.getLogger("prt")

#: np.dtype kinds that hold numbers prt can use as coordinates or scores
NUMERIC_KINDS = "fiu"
#: the Python types a JSON parser gives numbers
JSON_NUMBERS = frozenset({int, float})


class Absent:
    """A value that is not there; distinct from every value a file can hold (``null`` included)."""

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return self.text


#: a key the record does not have
MISSING = Absent("missing")
#: the first item of an empty list
EMPTY = Absent("an empty list")


def kind_of(v) -> str:
    """A short, user-facing name for the type of a value (for messages)."""
    if v is None:
        return "null"
    if isinstance(v, Absent):
        return v.text
    if isinstance(v, (bool, np.bool_)):
        return "true" if v else "false"
    if isinstance(v, (str, np.str_)):
        return f"the text {_short(v)}"
    if isinstance(v, (bytes, np.bytes_)):
        return f"the text {_short(v)}"
    if isinstance(v, dict) or type(v).__name__ == "mat_struct":
        return "a struct/object"
    if isinstance(v, (list, tuple)):
        return f"a list of {len(v)}"
    if isinstance(v, np.ndarray):
        if v.dtype.kind in "SU":
            return "text"
        if v.dtype.kind == "O":
            return f"a cell array of shape {v.shape}"
        if v.dtype.kind == "c":
            return "complex numbers"
        if v.dtype.kind == "b":
            return "true/false values"
        return f"an array of shape {v.shape}"
    if isinstance(v, numbers.Number):
        return f"the number {v!r}"
    return f"a {type(v).__name__}"


def _short(v) -> str:
    s = repr(v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v))
    return s if len(s) <= 40 else s[:37] + "...'"


def is_number(v) -> bool:
    return isinstance(v, (numbers.Real, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))


def is_int(v) -> bool:
    """A JSON integer (booleans are not)."""
    return isinstance(v, int) and not isinstance(v, bool)


def is_id(v) -> bool:
    """An id as COCO files use them: an integer or a string (not a boolean)."""
    return isinstance(v, (int, str)) and not isinstance(v, bool)


_NUMBER_TYPES = {int, float}


def all_numbers(values) -> bool:
    """Every value of a JSON list a number (booleans excluded); the set of types is built at C speed."""
    return set(map(type, values)) <= _NUMBER_TYPES


def unwrap(v):
    """A value wrapped in one-element lists or arrays (MATLAB and PoseTrack style) as the value."""
    while True:
        if isinstance(v, list) and len(v) == 1:
            v = v[0]
        elif isinstance(v, np.ndarray) and v.size == 1 and v.dtype.kind in NUMERIC_KINDS + "O":
            v = v.reshape(-1)[0]
        else:
            return v


def first_item(v):
    """The value a wrapped JSON field holds as poseval reads it: ``field[0]`` of a list (``[]`` gives
    :data:`EMPTY`); a bare value as it is."""
    if type(v) is list:
        return v[0] if v else EMPTY
    return v


def plain_numbers(values: list) -> np.ndarray | None:
    """float64 of ``values`` when each is a number or a list starting with one number only
    (the usual layouts), else None. C-level loops only: this is the fast path of every field."""
    try:
        flat = list(chain.from_iterable(values))
    except TypeError:  # bare scalars (or something odd)
        flat = None
    try:
        if flat is not None and len(flat) == len(values) and set(map(type, flat)) <= JSON_NUMBERS:
            return np.array(flat, dtype=np.float64)
        if set(map(type, values)) <= JSON_NUMBERS:
            return np.array(values, dtype=np.float64)
    except OverflowError:  # an integer beyond float64
        pass
    return None


def field_numbers(values: list) -> tuple[np.ndarray, dict]:
    """Slow path: float64 of the numbers poseval reads (:func:`first_item`), NaN elsewhere, and
    ``{index: value read}`` for every value that is not a number (true/false included)."""
    out = np.full(len(values), np.nan)
    bad = {}
    for i, v in enumerate(values):
        v = first_item(v)
        if type(v) is int or type(v) is float:
            try:
                out[i] = v
                continue
            except OverflowError:
                pass
        bad[i] = v
    return out, bad


def read_numbers(values: list) -> tuple[np.ndarray, dict]:
    """:func:`plain_numbers` when it applies, else :func:`field_numbers`."""
    arr = plain_numbers(values)
    return (arr, {}) if arr is not None else field_numbers(values)


def is_empty(v) -> bool:
    """``None``, ``[]`` or an empty array: MATLAB's ``[]``, a value that is not given."""
    return v is None or (isinstance(v, (list, tuple)) and len(v) == 0) or (isinstance(v, np.ndarray) and v.size == 0)


def number(v, *, what: str = "value", fix: str | None = None, wrapped: bool = True, **where) -> float:
    """One number (wrapped in one-element lists/arrays or not, unless ``wrapped=False``); NaN stays NaN."""
    u = unwrap(v) if wrapped else v
    if is_number(u):
        return float(u)
    raise InputError(f"{what} is {kind_of(u)}, not a number", fix=fix or "write it as a plain number", **where)


def optional_number(v, **kw) -> float:
    """A number, or NaN when the value is absent (``None``, ``[]``)."""
    return np.nan if is_empty(v) else number(v, **kw)


def integer(v, *, what: str = "value", fix: str | None = None, wrapped: bool = True, **where) -> int:
    """An integer-valued number within the int64 range (``3.0`` is 3; ``3.5``, NaN, 1e20 are errors)."""
    x = number(v, what=what, fix=fix, wrapped=wrapped, **where)
    if not np.isfinite(x) or x != int(x) or not -(2 ** 63) <= x < 2 ** 63:
        raise InputError(f"{what} is {x!r}, not an integer", fix=fix or "write a whole number", **where)
    return int(x)


def text(v, *, what: str = "value", **where) -> str:
    """A string (MATLAB char arrays and bytes included); ``None``/``[]`` is ``''``."""
    u = unwrap(v)
    if is_empty(u):
        return ""
    if isinstance(u, (str, np.str_)):
        return str(u)
    if isinstance(u, (bytes, np.bytes_)):
        return u.decode("utf-8", "replace")
    if is_number(u):
        return str(u)
    raise InputError(f"{what} is {kind_of(u)}, not text", fix="write it as a string", **where)


def numeric_array(v, *, what: str, fix: str, **where) -> np.ndarray:
    """A float64 array from a numeric array, a (nested) list of numbers, or a cell array of equal-shaped
    numeric cells; text, booleans, complex numbers and ragged cells are errors naming the value."""
    if isinstance(v, (str, bytes, np.str_, np.bytes_)) or v is None or isinstance(v, bool):
        raise InputError(f"{what} is {kind_of(v)}, not numbers", fix=fix, **where)
    if isinstance(v, np.ndarray) and v.dtype.kind == "O":
        return _cells(v, what=what, fix=fix, **where)
    if isinstance(v, (list, tuple)):
        try:
            a = np.array(v)
        except (ValueError, TypeError):
            raise InputError(f"{what} is a nested list of different lengths", fix=fix, **where) from None
        if a.dtype.kind == "O":
            return _cells(a, what=what, fix=fix, **where)
    else:
        a = np.asarray(v)
    if a.dtype.kind not in NUMERIC_KINDS:
        raise InputError(f"{what} holds {kind_of(a)}, not numbers", fix=fix, **where)
    return a.astype(np.float64)


def _cells(a: np.ndarray, *, what: str, fix: str, **where) -> np.ndarray:
    """A cell array (object array) whose cells are numeric arrays of one shape, stacked."""
    if a.size == 0:
        return np.zeros(a.shape)
    cells = []
    for i, c in enumerate(a.reshape(-1)):
        if is_number(c):
            arr = np.float64(c)
        elif isinstance(c, np.ndarray) and c.dtype.kind == "O":
            raise InputError(f"{what} is a cell array with a nested cell array in cell {i}", fix=fix, **where)
        elif not isinstance(c, (np.ndarray, list)):
            raise InputError(f"{what} is a cell array whose cell {i} is {kind_of(c)}", fix=fix, **where)
        else:
            arr = numeric_array(c, what=f"{what} cell {i}", fix=fix, **where)
        if cells and np.shape(arr) != np.shape(cells[0]):
            raise InputError(f"{what} is a ragged cell array: cell {i} has shape {np.shape(arr)}, cell 0 has "
                             f"{np.shape(cells[0])}", fix=fix, **where)
        cells.append(arr)
    return np.stack(cells).reshape(a.shape + np.shape(cells[0]))


def items(v, *, what: str, **where) -> list:
    """A JSON list / MATLAB struct or cell array as a list; one struct/object is a list of one;
    ``None``/``[]`` is empty. Anything else (text, a number) is an error naming the field."""
    if is_empty(v):
        return []
    if isinstance(v, list):
        return v
    if isinstance(v, np.ndarray) and v.dtype.kind == "O":
        return list(v.reshape(-1))
    if is_struct(v):
        return [v]
    raise InputError(f"{what} is {kind_of(v)}, expected a list", fix="write it as a list of objects/structs",
                     **where)


def is_struct(v) -> bool:
    return isinstance(v, dict) or type(v).__name__ == "mat_struct"


def field(obj, name: str, default=None):
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


@contextmanager
def quiet_load(path):
    """Run a third-party loader; its warnings become one prt note each, naming the file."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    for w in caught:
        log.warning("%s: %s", path, str(w.message).splitlines()[0] if str(w.message) else w.category.__name__)
