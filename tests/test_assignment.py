"""The scipy-exact assignment solver: same pairs as scipy.optimize.linear_sum_assignment, ties included."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

from poseval_refine.metrics import assignment
from poseval_refine.metrics.mota import expensive_edges


def _matrices(seed: int, n: int, max_side: int):
    rng = np.random.default_rng(seed)
    for t in range(n):
        nr, nc = (int(x) for x in rng.integers(1, max_side + 1, 2))
        kind = t % 4
        if kind == 0:  # small integers: many equal-cost optima
            yield rng.integers(0, 3, (nr, nc)).astype(float)
        elif kind == 1:  # a few distances within reach
            yield rng.choice([0.1, 0.2, 0.3, 0.45], (nr, nc))
        elif kind == 2:
            yield rng.random((nr, nc)) * 0.5
        else:  # motmetrics' matrix: non-edges replaced by its large constant
            d = rng.choice([0.1, 0.25, 0.3], (nr, nc))
            d[rng.random((nr, nc)) < 0.4] = np.nan
            yield expensive_edges(d)


@pytest.mark.parametrize("seed", range(3))
def test_same_pairs_as_scipy_on_tie_heavy_matrices(seed):
    for c in _matrices(seed, 3000, 7):
        want = linear_sum_assignment(c)
        got = assignment.solve(c)
        np.testing.assert_array_equal(got[0], want[0], err_msg=str(c))
        np.testing.assert_array_equal(got[1], want[1], err_msg=str(c))


def test_scipy_is_used_for_large_matrices(monkeypatch):
    calls = []
    import scipy.optimize

    real = scipy.optimize.linear_sum_assignment
    monkeypatch.setattr(scipy.optimize, "linear_sum_assignment", lambda c: calls.append(c.shape) or real(c))
    c = np.ones((13, 13))
    r, k = assignment.solve(c)
    assert calls == [(13, 13)] and list(k) == list(range(13))
    assignment.solve(np.ones((3, 3)))
    assert calls == [(13, 13)]


def test_ties_by_hand():
    # a constant matrix gives the identity (the scan runs from the last column to the first,
    # and an unassigned column wins ties), as in scipy
    r, c = assignment.solve(np.zeros((3, 3)))
    assert list(c) == [0, 1, 2]
    # row 0 takes column 0 (its cheapest); row 1 ties between keeping column 1 (cost 1) and the
    # path 1->0, 0->1 (cost 0 + 1): the search reaches the free column 1 first at equal cost
    r, c = assignment.solve(np.array([[0.0, 1.0], [0.0, 1.0]]))
    assert list(c) == [0, 1]
    # a tall matrix is solved transposed; pairs come back sorted by row
    r, c = assignment.solve(np.array([[5.0], [1.0], [3.0]]))
    assert (list(r), list(c)) == ([1], [0])
    with pytest.raises(ValueError):
        assignment.solve(np.array([[np.nan, 1.0]]))
