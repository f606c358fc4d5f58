"""The paired bootstrap's figures in plain Python, equal bit for bit to :mod:`.uncertainty`'s numpy ones.

``prt compare`` is run in loops and CI checks; importing numpy alone takes longer than the whole comparison
it has to make from two cached results (:mod:`.quick`). So the figures of one paired difference (the 95%
percentile interval of the paired differences d* and the two-sided p-value) are computed here from Python
floats with numpy's very operations: ``np.percentile``'s default ("linear", Hyndman and Fan's method 7) takes
the virtual index ``(n - 1) q / 100``, its floor ``i`` and ``g = index - i``, and interpolates
``a + (b - a) g``, or ``b - (b - a) (1 - g)`` when ``g >= 0.5``, each step one IEEE-754 double operation as numpy
performs it; the p-value is ``min(1, 2 (1 + min(#{d* <= 0}, #{d* >= 0})) / (R + 1))``. tests/test_compare_fast.py
checks both against numpy on random, tied and non-finite resamples.

Also the draws' defaults (the boards' and ``prt compare``'s), which are needed without numpy.
"""

from __future__ import annotations

import math
import operator
from bisect import bisect_left, bisect_right
from collections.abc import Sequence

#: resamples of a board's bootstrap (and of ``prt compare``)
RESAMPLES = 1000
#: seed of a board's draws
SEED = 0
#: the interval's level
LEVEL = 0.95


def percentiles(values: Sequence[float], qs: Sequence[float], is_sorted: bool = False) -> list[float]:
    """``np.percentile(values, qs)`` (method "linear") of finite ``values``, as Python floats."""
    v = values if is_sorted else sorted(values)
    n = len(v)
    out = []
    for q in qs:
        virtual = (n - 1) * (q / 100)
        if virtual >= n - 1:
            out.append(float(v[-1]))
            continue
        if virtual < 0:
            out.append(float(v[0]))
            continue
        previous = math.floor(virtual)
        a, b = v[previous], v[previous + 1]
        gamma = virtual - previous
        diff = b - a
        out.append(b - diff * (1 - gamma) if gamma >= 0.5 else a + diff * gamma)
    return out


def interval(values: Sequence[float], level: float = LEVEL, is_sorted: bool = False) -> list[float] | None:
    """:func:`.uncertainty.interval`: the percentile interval of the finite values, None when there are none."""
    v = values if all(map(math.isfinite, values)) else [x for x in values if math.isfinite(x)]
    if not v:
        return None
    a = (1 - level) / 2 * 100
    lo, hi = percentiles(v, [a, 100 - a], is_sorted)
    return [lo, hi]


def _floats(values: Sequence[float]) -> list[float]:
    return values.tolist() if hasattr(values, "tolist") else list(values)


def paired_difference(value: float, base: float, resampled: Sequence[float],
                      base_resampled: Sequence[float]) -> tuple[float, list[float] | None, float | None]:
    """:func:`.uncertainty.paired_difference` as (difference, 95% interval, p-value)."""
    d = value - base
    ds = list(map(operator.sub, _floats(resampled), _floats(base_resampled)))
    if not all(map(math.isfinite, ds)):
        ds = [x for x in ds if math.isfinite(x)]
    if not math.isfinite(d) or not ds:
        return d, None, None
    ds.sort()
    at_or_below, at_or_above = bisect_right(ds, 0.0), len(ds) - bisect_left(ds, 0.0)
    p = min(1.0, 2.0 * (1 + min(at_or_below, at_or_above)) / (len(ds) + 1))
    return d, interval(ds, is_sorted=True), p
