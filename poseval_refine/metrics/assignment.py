"""Minimum-cost assignment exactly as ``scipy.optimize.linear_sum_assignment`` solves it, ties included.

motmetrics (with its scipy solver, the one it picks when neither ``lapsolver`` nor ``lap`` is
installed) hands every frame's small distance matrix to scipy. When two assignments cost the
same, which one comes back decides MATCH versus SWITCH, so an evaluator that wants poseval's
numbers must break ties as scipy does. scipy implements Crouse's shortest augmenting path
algorithm (D. F. Crouse, "On implementing 2D rectangular assignment algorithms", IEEE TAES
52(4), 2016, pp. 1685-1686); :func:`solve` follows the same steps in the same order with the
same floating-point operations, in plain Python, so the per-frame matrices of a pose-tracking
benchmark (a handful of people) are solved without importing scipy (0.3-0.4 s at start-up).
Larger matrices go to scipy itself. tests/test_assignment.py checks both against scipy on
tie-heavy random matrices.

The steps, for a cost matrix with at least as many columns as rows (a tall matrix is
transposed first and the pairs are returned sorted by row):

- rows are added one at a time; for the current row a Dijkstra-like search over the columns
  not yet reached grows shortest reduced-cost paths ``minVal + c[i, j] - u[i] - v[j]``;
- the columns still to reach are scanned in a fixed order: initially last to first, and a
  column that is reached is replaced by the last one in the scan list;
- the next column is the one with the lowest path cost; on equal cost, a column that is not
  yet assigned wins (it ends the search), otherwise the first one found in the scan keeps it;
- the duals of the rows and columns reached are updated and the path is augmented.
"""

from __future__ import annotations

import math

import numpy as np

#: matrices with more cells than this are solved by scipy (same algorithm, compiled)
PYTHON_MAX_CELLS = 144


def solve(costs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(rows, cols) of a minimum-cost assignment of a finite cost matrix, rows ascending,
    identical to ``scipy.optimize.linear_sum_assignment(costs)``."""
    costs = np.asarray(costs, dtype=np.float64)
    if costs.ndim != 2:
        raise ValueError("expected a 2-D cost matrix")
    if costs.size > PYTHON_MAX_CELLS:
        from scipy.optimize import linear_sum_assignment

        return linear_sum_assignment(costs)
    nr, nc = costs.shape
    if nr == 0 or nc == 0:
        return np.zeros(0, np.intp), np.zeros(0, np.intp)
    if not np.isfinite(costs).all():
        raise ValueError("cost matrix holds NaN or infinite entries")
    transpose = nc < nr
    c = (costs.T if transpose else costs).tolist()
    if transpose:
        nr, nc = nc, nr
    col4row = _shortest_augmenting_paths(c, nr, nc)
    if transpose:  # rows of the original are the columns here: report them in ascending order
        order = sorted(range(nr), key=col4row.__getitem__)
        return np.array([col4row[k] for k in order], np.intp), np.array(order, np.intp)
    return np.arange(nr, dtype=np.intp), np.array(col4row, np.intp)


def _shortest_augmenting_paths(c: list[list[float]], nr: int, nc: int) -> list[int]:
    inf = math.inf
    u = [0.0] * nr
    v = [0.0] * nc
    col4row = [-1] * nr
    row4col = [-1] * nc
    path = [-1] * nc
    for cur in range(nr):
        min_val = 0.0
        remaining = list(range(nc - 1, -1, -1))
        rows_seen = [False] * nr
        cols_seen = [False] * nc
        spc = [inf] * nc  # shortest path cost to every column
        i = cur
        sink = -1
        while sink == -1:
            index = -1
            lowest = inf
            rows_seen[i] = True
            ci, ui = c[i], u[i]
            for it, j in enumerate(remaining):
                r = min_val + ci[j] - ui - v[j]
                if r < spc[j]:
                    path[j] = i
                    spc[j] = r
                if spc[j] < lowest or (spc[j] == lowest and row4col[j] == -1):
                    lowest = spc[j]
                    index = it
            min_val = lowest
            if min_val == inf:
                raise ValueError("infeasible cost matrix")
            j = remaining[index]
            if row4col[j] == -1:
                sink = j
            else:
                i = row4col[j]
            cols_seen[j] = True
            remaining[index] = remaining[-1]
            remaining.pop()
        u[cur] += min_val
        for i in range(nr):
            if rows_seen[i] and i != cur:
                u[i] += min_val - spc[col4row[i]]
        for j in range(nc):
            if cols_seen[j]:
                v[j] -= min_val - spc[j]
        j = sink
        while True:
            i = path[j]
            row4col[j] = i
            col4row[i], j = j, col4row[i]
            if i == cur:
                break
    return col4row
