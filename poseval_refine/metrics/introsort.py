"""The order numpy 1.22-1.24's default ``argsort`` gives equal values (its introsort, not stable).

The PoseTrack21 kit ranks predicted joints with ``np.argsort(scores)[::-1]`` and runs with numpy
1.23; later numpy versions on AVX-512 machines sort with another algorithm, which orders equal
scores differently, and AP depends on that order when tied joints differ in being true positives.
:func:`introsort_argsort` reproduces the older algorithm (median-of-3 quicksort, insertion sort
of 16 elements or fewer, heapsort past the depth limit) for finite values. Each partition step is done
with numpy: the left scan stops on values >= pivot and the right scan on values <= pivot, so the
k-th swap exchanges the k-th stop of each scan (positions found once on the unswapped segment).
"""

from __future__ import annotations

import numpy as np

SMALL = 15  # numpy's SMALL_QUICKSORT


def introsort_argsort(values: np.ndarray) -> np.ndarray:
    """Indices that sort ``values`` (finite floats) ascending, equal values ordered as numpy 1.23's
    ``np.argsort(values)`` (kind "quicksort") orders them."""
    v = np.asarray(values, dtype=np.float64)
    n = len(v)
    idx = np.arange(n, dtype=np.intp)
    if n < 2:
        return idx
    stack: list[tuple[int, int, int]] = []
    pl, pr, depth = 0, n - 1, 2 * (n.bit_length() - 1)
    small: list[tuple[int, int]] = []
    while True:
        if depth < 0:
            _heapsort(v, idx, pl, pr)
        else:
            while pr - pl > SMALL:
                pm = pl + ((pr - pl) >> 1)
                if v[idx[pm]] < v[idx[pl]]:
                    idx[pm], idx[pl] = idx[pl], idx[pm]
                if v[idx[pr]] < v[idx[pm]]:
                    idx[pr], idx[pm] = idx[pm], idx[pr]
                if v[idx[pm]] < v[idx[pl]]:
                    idx[pm], idx[pl] = idx[pl], idx[pm]
                vp = v[idx[pm]]
                idx[pm], idx[pr - 1] = idx[pr - 1], idx[pm]
                pi = _partition(v, idx, pl, pr, vp)
                idx[pi], idx[pr - 1] = idx[pr - 1], idx[pi]
                depth -= 1
                if pi - pl < pr - pi:
                    stack.append((pi + 1, pr, depth))
                    pr = pi - 1
                else:
                    stack.append((pl, pi - 1, depth))
                    pl = pi + 1
            small.append((pl, pr))
        if not stack:
            break
        pl, pr, depth = stack.pop()
    # insertion sort of a short segment (strict comparison) is a stable sort of it
    for a, b in small:
        if b > a:
            seg = idx[a:b + 1]
            idx[a:b + 1] = seg[np.argsort(v[seg], kind="stable")]
    return idx


def _partition(v: np.ndarray, idx: np.ndarray, pl: int, pr: int, vp: float) -> int:
    """One partition pass of [pl, pr] around ``vp`` (already at pr - 1); returns the pivot's place."""
    vals = v[idx[pl:pr + 1]]
    left = pl + 1 + np.flatnonzero(vals[1:pr - pl] >= vp)  # stops of ++pi, ascending
    right = pl + np.flatnonzero(vals[:pr - pl - 1] <= vp)[::-1]  # stops of --pj, descending
    m = min(len(left), len(right))
    crossed = left[:m] >= right[:m]
    k = int(np.argmax(crossed)) if crossed.any() else m
    if k:
        a, b = left[:k], right[:k]
        idx[a], idx[b] = idx[b], idx[a].copy()
    if k < len(left):
        return int(min(left[k], right[k - 1])) if k else int(left[0])
    return int(right[k - 1])


def _heapsort(v: np.ndarray, idx: np.ndarray, pl: int, pr: int) -> None:
    """numpy's ``aheapsort`` of idx[pl..pr] (reached only past the depth limit)."""
    a = [0] + idx[pl:pr + 1].tolist()  # 1-based, as numpy's
    n = pr - pl + 1

    def sift(i: int, n: int, tmp: int) -> None:
        j = i << 1
        while j <= n:
            if j < n and v[a[j]] < v[a[j + 1]]:
                j += 1
            if v[tmp] < v[a[j]]:
                a[i] = a[j]
                i = j
                j += j
            else:
                break
        a[i] = tmp

    for lo in range(n >> 1, 0, -1):
        sift(lo, n, a[lo])
    while n > 1:
        tmp = a[n]
        a[n] = a[1]
        n -= 1
        sift(1, n, tmp)
    idx[pl:pr + 1] = a[1:]
