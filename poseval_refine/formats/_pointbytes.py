"""PoseTrack-2017 point lists read straight from the file's bytes into arrays.

Most of a PoseTrack-2017 file is its people's point lists
(``"annopoints": [{"point": [{"id": [0], "x": [..], "y": [..], "score": [..]}, ...]}]``). Parsing
them into Python dicts, lists and floats and then walking those objects costs several times more
than the arithmetic of the whole evaluation. :func:`split_points` cuts every such list out of the
file, checks that it is a plain list of point objects of one layout, parses its numbers with
numpy (the numbers of many files at once: :func:`split_many`), and gives back the rest of the
document (small: frames, boxes, track ids, ignore regions) with a placeholder string where each
list was, for the ordinary JSON parser.

It is a fast path only: it answers None for anything it does not fully check -- escapes, another
key, a value that is no plain JSON number (``true``/``null``, an exponent, more than 19 significant
digits), layouts that differ between points -- and the reader then parses the file the ordinary
way, which gives the same numbers and names whatever is wrong. Numbers are exactly the parser's
(correctly rounded).
"""

from __future__ import annotations

import re

import numpy as np

#: what stands in the reduced document for each point list (no file holds it: files with a
#: backslash are not split, and a raw NUL is no valid JSON)
PLACEHOLDER = "\x00"
_PLACEHOLDER_JSON = b'"\\u0000"'

_POINT_LIST = re.compile(rb'"annopoints"\s*:\s*\[\s*\{\s*"point"\s*:\s*\[')
_WHITESPACE = b" \t\n\r"
_NUMBER_CHARS = b"0123456789.-"
_NOT_SHAPE = _WHITESPACE + _NUMBER_CHARS
_KEYS = {b"id": "id", b"x": "x", b"y": "y", b"score": "score", b"is_visible": "is_visible"}
_KEY_SLOT = re.compile(rb'"([a-z_]+)":(\[\])?')

_U64 = np.uint64
#: DIGITS[L]: the low 4 bits of the high L bytes of a word (the values of L digits right-aligned in it)
_DIGITS = np.array([(~((1 << (8 * (8 - n))) - 1)) & 0x0F0F0F0F0F0F0F0F for n in range(9)], dtype=np.uint64)
_POW10 = np.array([10 ** k for k in range(20)], dtype=np.uint64)
_POW10F = np.array([10.0 ** k for k in range(23)])  # exact doubles
_EXACT = 2 ** 53
#: long double holds any 19-digit integer exactly (x86 extended, IEEE quad); not everywhere
_WIDE = np.finfo(np.longdouble).nmant >= 63
_POW10L = _POW10F.astype(np.longdouble)


class Points:
    """Every point of the lists cut out, in file order: ``counts[i]`` points in list ``i``, and a
    float64 column per key (``id``, ``x``, ``y``, ``score``, ``is_visible``) the layout has."""

    def __init__(self, counts: np.ndarray, columns: dict[str, np.ndarray]):
        self.counts, self.columns = counts, columns


class _Cut:
    """One file's point lists, cut out and joined by '|', with their checked layout; the rest of the
    file is ``rest`` joined by ``sep`` (which ends with the placeholder)."""

    def __init__(self, rest, sep, lists, layout):
        self.rest, self.sep, self.lists = rest, sep, lists
        self.counts, self.keys, self.compact = layout
        self.expected = int(self.counts.sum()) * len(self.keys)

    def result(self, values: np.ndarray) -> tuple[bytes, Points]:
        values = values.reshape(-1, max(len(self.keys), 1))
        return self.sep.join(self.rest), Points(self.counts, {k: values[:, c] for c, k in enumerate(self.keys)})


def split_points(raw: bytes) -> tuple[bytes, Points] | None:
    """(the document with every person's point list replaced by :data:`PLACEHOLDER`, the points),
    or None when the bytes are not in the layout this fast path checks (or hold no point list)."""
    return split_many([raw])[0]


#: numbers parsed in one go (bytes of point lists): large enough to make numpy's per-call cost
#: small, small enough that no temporary array reaches 4 MB (numpy gives those huge pages, and
#: faulting them in anew for every batch cost more system time than the parsing itself)
BATCH_BYTES = 2_000_000


def split_many(raws: list[bytes]) -> list[tuple[bytes, Points] | None]:
    """:func:`split_points` of many files, their numbers parsed together."""
    cuts = [_cut(raw) for raw in raws]
    out: list = [None] * len(raws)
    batch: list[int] = []
    size = 0
    for i, c in enumerate(cuts + [None]):
        if c is not None:
            batch.append(i)
            size += len(c.lists)
        if batch and (c is None and i == len(cuts) or size >= BATCH_BYTES):
            values = _parse([cuts[j] for j in batch])
            if values is None and len(batch) > 1:  # one file holds something else: find it
                values = [v for j in batch for v in (_parse([cuts[j]]) or [None])]
            for j, v in zip(batch, values or [None] * len(batch)):
                out[j] = None if v is None else cuts[j].result(v)
            batch, size = [], 0
    return out


def _parse(cuts: list[_Cut]) -> list[np.ndarray] | None:
    """The numbers of every cut (one array each), or None if any of them is not plain numbers."""
    with_numbers = [c for c in cuts if c.expected]
    if not with_numbers:
        return [np.zeros(0) for _ in cuts]
    lists = b"|".join([_PAD] + [c.lists for c in with_numbers])  # the padding _words needs, without a copy
    values = _numbers(lists, sum(c.expected for c in with_numbers), all(c.compact for c in with_numbers))
    if values is None:
        return None
    bounds = np.cumsum([0] + [c.expected for c in cuts]).tolist()
    return [values[bounds[i]:bounds[i + 1]] for i in range(len(cuts))]


#: how the usual writers (orjson, json.dumps) lay out a person's point list: split at these
_POINT_KEYS = (b'"annopoints":[{"point":', b'"annopoints": [{"point": ')


def _cut(raw: bytes) -> _Cut | None:
    """A file's point lists with their layout checked, or None (the ordinary parser reads it)."""
    if b"\\" in raw:
        return None
    for key in _POINT_KEYS:
        pieces = raw.split(key)
        if len(pieces) > 1:
            break
    else:
        return _cut_spaced(raw)
    # every piece after the first starts with its list, which ends at the first '}]' (an empty or
    # unusual list fails the layout check: the ordinary parser)
    tail = pieces[1:]
    ends = [p.find(b"}]") + 2 for p in tail]
    if min(ends) < 2:
        return None
    lists = b"|".join([p[:e] for p, e in zip(tail, ends)])
    layout = _layout(lists, len(tail))
    # (a piece that does not start with its '[' fails the layout, or holds a number too many)
    if layout is None:
        return None
    rest = [pieces[0]] + [p[e:] for p, e in zip(tail, ends)]
    return _Cut(rest, key + _PLACEHOLDER_JSON, lists, layout)


def _cut_spaced(raw: bytes) -> _Cut | None:
    """:func:`_cut` for any other spacing around the keys."""
    starts = [m.end() - 1 for m in _POINT_LIST.finditer(raw)]  # the '[' of each list
    if not starts:
        return None
    ends = [raw.find(b"}]", s) + 1 for s in starts]  # the lists' ']'
    if ends[-1] <= 0 or any(e >= s for e, s in zip(ends, starts[1:])):
        return None
    lists = b"|".join([raw[s:e + 1] for s, e in zip(starts, ends)])
    layout = _layout(lists, len(starts))
    if layout is None:
        return None
    rest = [raw[a:b] for a, b in zip([0] + [e + 1 for e in ends], starts + [len(raw)])]
    return _Cut(rest, _PLACEHOLDER_JSON, lists, layout)


def _layout(lists: bytes, n_lists: int) -> tuple[np.ndarray, list[str], bool] | None:
    """(points per list, the keys of every point, whether the lists hold no blanks) when all lists
    (joined by '|') are ``[{"key": [number], ...}, ...]`` with one key layout: the text without
    numbers and blanks (one ``translate``) must be that layout repeated."""
    blanks = b" " in lists or b"\n" in lists or b"\t" in lists or b"\r" in lists
    shape = lists.translate(None, _NOT_SHAPE)
    i = shape.find(b"{")
    if i < 0:
        return None
    point = shape[i:shape.find(b"}", i) + 1]
    keys = []
    for slot in point[1:-1].split(b","):
        m = _KEY_SLOT.fullmatch(slot)
        if m is None or m.group(1) not in _KEYS or _KEYS[m.group(1)] in keys:
            return None
        keys.append(_KEYS[m.group(1)])
    if not {"id", "x", "y"} <= set(keys):
        return None
    step = len(point) + 1
    parts = shape.split(b"|")
    if len(parts) != n_lists:
        return None
    counts = [(len(p) - 1) // step for p in parts]
    made = {n: b"[" + b",".join([point] * n) + b"]" for n in set(counts)}
    if parts != [made[n] for n in counts]:
        return None
    # every number character left out must belong to a number: _numbers checks that
    return np.array(counts, np.int64), keys, not blanks


_PAD = b"0" * 7  # joined with '|': 8 bytes before the first list


def _words(padded: bytes) -> tuple[np.ndarray, np.ndarray]:
    """The bytes after the 8 bytes of padding as uint8, and every 8-byte little-endian word ending
    at position i of them (``words[i]`` = bytes ``i-8 .. i-1``)."""
    words = np.ndarray(shape=(len(padded) - 7,), dtype="<u8", buffer=padded, strides=(1,))
    return np.frombuffer(padded, np.uint8, offset=8), words


def _digits(words: np.ndarray, end: np.ndarray, length: np.ndarray) -> np.ndarray:
    """Value of the digit runs ending at ``end`` (exclusive) of ``length`` <= 8 digits: eight digits
    combined in three multiplications (SWAR)."""
    w = words[end] & _DIGITS[length]
    w = ((w * _U64(2561)) >> _U64(8)) & _U64(0x00FF00FF00FF00FF)
    w = ((w * _U64(6553601)) >> _U64(16)) & _U64(0x0000FFFF0000FFFF)
    return (w * _U64(42949672960001)) >> _U64(32)


def _run_values(words: np.ndarray, end: np.ndarray, length: np.ndarray) -> np.ndarray | None:
    """uint64 value of digit runs of up to 22 digits; None if one does not fit (beyond 19 digits
    the leading ones must be zeros)."""
    out = _digits(words, end, np.minimum(length, 8))
    long = np.flatnonzero(length > 8)
    if len(long):
        e, n = end[long], length[long]
        mid = _digits(words, e - 8, np.minimum(n - 8, 8))
        high = np.zeros(len(long), np.uint64)
        longer = np.flatnonzero(n > 16)
        if len(longer):
            high[longer] = _digits(words, e[longer] - 16, n[longer] - 16)
            if ((n[longer] > 19) & (high[longer] >= 1000)).any():
                return None
        out[long] += mid * _U64(10 ** 8) + high * _U64(10 ** 16)
    return out


def _after_spaced_colon(b: np.ndarray, lead: np.ndarray) -> bool:
    """Every number right after its key's colon as ``json.dump`` spaces it (``: [``, ``: ``; or
    ``:[``, ``:``): a fixed offset from one colon each, so no two numbers share a key slot."""
    before = b[lead - 1]
    colon1 = b[lead - 2] == 58
    ok = (before == 58) | (((before == 91) | (before == 32)) & colon1)
    if ok.all():
        return True
    rest = np.flatnonzero(~ok)
    lr = lead[rest]
    return bool(((b[lr - 1] == 91) & (b[lr - 2] == 32) & (b[lr - 3] == 58)).all())


def _numbers(lists: bytes, expected: int, compact: bool) -> np.ndarray | None:
    """The ``expected`` numbers of the lists (after 8 bytes of padding), one per key slot in order, or None unless every
    slot holds exactly one plain JSON number (-?int(.digits)?, at most 19 significant digits).
    ``compact``: the lists hold no blanks."""
    b, words = _words(lists)
    is_digit = (b - np.uint8(48)) < 10
    edges = np.flatnonzero(is_digit[1:] != is_digit[:-1])  # the lists start and end with brackets
    edges += 1
    del is_digit
    start, end = edges[0::2], edges[1::2]
    length = end - start
    frac = b[start - 1] == 46  # a run right after '.': the fraction of the run before it
    f = np.flatnonzero(frac)
    if len(f) and (f[0] == 0 or (end[f - 1] != start[f] - 1).any() or frac[f - 1].any()):
        return None
    whole = np.flatnonzero(~frac)
    if len(whole) != expected:
        return None
    s_int, n_int = start[whole], length[whole]
    neg = b[s_int - 1] == 45
    ni = np.flatnonzero(neg)
    # every '.', '-' and digit left out of the layout is one of these numbers' (no '1.', '--1', '1-2'):
    # digits all are, in their runs; every '.' must start a fraction and every '-' a number
    if np.count_nonzero(b == 46) != len(f) or np.count_nonzero(b == 45) != len(ni):
        return None
    if ((n_int > 1) & (b[s_int] == 48)).any():
        return None  # a leading zero is no JSON number
    # exactly one number per key slot
    lead = s_int.copy()
    lead[ni] -= 1
    if compact:  # right after the key's ':' (or its '[')
        before = b[lead - 1]
        if not ((before == 58) | ((before == 91) & (b[lead - 2] == 58))).all():
            return None
    elif not _after_spaced_colon(b, lead):  # between consecutive key colons
        colon = np.flatnonzero(b == 58)
        if len(colon) != expected or not ((colon < lead).all() and (lead[:-1] < colon[1:]).all()):
            return None
    owner = f - 1 - np.arange(len(f))  # the number each fraction belongs to
    n_frac = np.zeros(expected, np.int64)
    n_frac[owner] = length[f]
    if (n_int > 19).any() or (n_frac > 22).any():
        return None
    values = _run_values(words, end, length)
    if values is None:
        return None
    m = values[whole]
    if len(f):
        # an integer part other than 0 leaves room for 19 - n_int fraction digits
        nf = n_frac[owner]
        if ((m[owner] != 0) & (n_int[owner] + nf > 19)).any():
            return None
        m[owner] = m[owner] * _POW10[np.minimum(nf, 19)] + values[f]
    out = m.astype(np.float64) / _POW10F[n_frac]  # correctly rounded where m < 2**53: both are exact
    big = np.flatnonzero((m > _EXACT) & (n_frac > 0))  # an integer converts correctly rounded
    if len(big):
        if not _WIDE:
            return None
        q = m[big].astype(np.longdouble) / _POW10L[n_frac[big]]
        d = q.astype(np.float64)
        # q is rounded once to 64 bits; rounding it to 53 can differ from rounding the exact
        # quotient only when q is exactly halfway between two doubles: leave those to the parser
        r = np.abs(q - d.astype(np.longdouble))
        ulp = np.spacing(np.abs(d)).astype(np.longdouble)  # the gap above |d|; below a power of 2 half of it
        power2 = np.frexp(d)[0] == 0.5
        if ((r == ulp / 2) | (power2 & (r == ulp / 4))).any():
            return None
        out[big] = d
    if len(ni):
        out[ni] = -out[ni]
        out[ni[(m[ni] == 0) & (n_frac[ni] == 0)]] = 0.0  # "-0" is the integer 0
    return out
