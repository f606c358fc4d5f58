"""Statistical ties on a board: which rows cannot be told apart from which.

Two rows are tied when the paired bootstrap 95% interval of their difference (the same resampled items for
both, the board's draws) holds 0. Ties are pairwise and uncorrected for multiplicity: each pair is its own
95% statement, a board of k rows makes k(k-1)/2 of them, and ties are not transitive (A~B and B~C with A
clearly above C happens). docs/leaderboard.md says what that means for a reader.

Only rows resampled with the same draws can be paired: the rows of one board with the same number of items
(a board is one GT, so that is every computed row); quoted rows have no per-item statistics and no ties.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .uncertainty import Pairwise, pairwise_differences

#: boards with more paired rows than this carry no per-pair hover on the HTML page (its table of every pair's
#: interval would be k(k-1)/2 entries: 500,000 at 1,000 rows); `prt compare A B` gives any pair
HOVER_MAX = 200


@dataclass
class TieGroup:
    """Rows (indices into the board's ranked rows) resampled with the same draws, their values and resamples;
    ``pairs`` (every pair's paired difference and interval) is computed when first asked for."""
    rows: list[int]
    values: np.ndarray
    resampled: np.ndarray
    tied: np.ndarray
    _pairs: Pairwise | None = field(default=None, repr=False)

    @property
    def pairs(self) -> Pairwise:
        if self._pairs is None:
            self._pairs = pairwise_differences(self.values, self.resampled)
        return self._pairs


def _order_bound(sorted_rows: np.ndarray, at_most: int) -> np.ndarray:
    """(k, k) bool: provably #{r: m[a, r] <= m[b, r]} <= ``at_most``, from the rows' sorted resamples alone.

    For any c, m_a <= m_b implies m_a < c or m_b >= c. With c = the s-th smallest of row a, fewer than s+1
    resamples have m_a < c; when c exceeds the (R-1-t)-th smallest of row b, at most t have m_b >= c. So
    sorted_a[s] > sorted_b[R-1-(at_most-s)] for some s in [0, at_most] bounds the count by at_most (a few
    values of s spread over that range are tried: each is a valid bound)."""
    k, R = sorted_rows.shape
    out = np.zeros((k, k), dtype=bool)
    if at_most < 0 or at_most >= R:
        return out
    for s in sorted({*range(0, at_most + 1, max(1, (at_most + 1) // 6)), at_most}):
        out |= sorted_rows[:, s][:, None] > sorted_rows[:, R - 1 - at_most + s][None, :]
    return out


def _column_ranks(m: np.ndarray) -> np.ndarray:
    """Per resample (column), each row's dense rank among the rows: m[a, r] <= m[b, r] exactly when
    rank[a, r] <= rank[b, r] (equal values share a rank)."""
    k, R = m.shape
    t = np.ascontiguousarray(m.T)
    idx = np.argsort(t, axis=1)
    s = np.take_along_axis(t, idx, axis=1)
    dense = np.hstack([np.zeros((R, 1), dtype=np.int64), np.cumsum(s[:, 1:] != s[:, :-1], axis=1)])
    ranks = np.empty((R, k), dtype=np.int16 if k < 2**15 else np.int64)
    np.put_along_axis(ranks, idx, dense.astype(ranks.dtype), axis=1)
    return np.ascontiguousarray(ranks.T)


def tie_matrix(values: np.ndarray, resampled: np.ndarray, level: float = 0.95, stages: tuple[int, ...] = (128,)
               ) -> np.ndarray:
    """(k, k) bool, the diagonal False: ``pairwise_differences(values, resampled, level).tied``, the same
    matrix, computed without the pairs whose answer is certain before their percentiles are.

    A pair (a, b) is tied when the interval [lo, hi] of d = m_a - m_b holds 0. numpy's percentile interpolates
    between two neighbouring order statistics of d, and interpolating two numbers of one sign keeps that sign,
    so lo <= 0 once more than p + 1 of the R differences are <= 0 (p: the lower percentile's index) and lo > 0
    once at most p are; likewise hi from the differences < 0. Those counts are bounded first from the rows'
    sorted resamples alone (:func:`_order_bound`: rows far apart), then counted on the first ``stages``
    resamples (a count can only grow with more resamples: pairs clearly tied; 128 of 1000 pays on boards of
    near-identical results and costs about a tenth more elsewhere), then on all R; the few pairs
    whose count sits at the interpolation's edge (within one either side, whatever rounding numpy's index
    takes) get their percentiles computed exactly as :func:`pairwise_differences` does. Rows with a
    non-finite resample are paired exactly, as there."""
    v = np.asarray(values, dtype=np.float64)
    m = np.asarray(resampled, dtype=np.float64)
    k, R = m.shape
    tied = np.zeros((k, k), dtype=bool)
    if k < 2:
        return tied
    a = (1 - level) / 2 * 100
    vi = (R - 1) * np.true_divide(np.asarray([a, 100 - a]), 100)
    p, q = int(np.floor(vi[0])), int(np.floor(vi[1]))
    finite = np.isfinite(m).all(axis=1)
    fin = np.flatnonzero(finite)
    exact = sorted({(min(i, j), max(i, j)) for i in np.flatnonzero(~finite) for j in range(k) if j != i})
    if len(fin) > 1:
        # rows in order of value; column ranks (int16 where they fit) compare like the values, with a quarter
        # of the memory traffic
        order = fin[np.argsort(-v[fin], kind="stable")]
        mf = m[order]
        ranks = _column_ranks(mf)
        # the bound holds for any shift of a column (d is unchanged; rounding keeps m_a <= m_b as
        # m_a - c <= m_b - c): shifting each by its mean over the rows takes out what every row shares
        # (the draw), so the rows' spreads are those of their differences
        srt = np.sort(mf - mf.mean(axis=0), axis=1)
        # lo > 0 surely when #{m_a <= m_b} <= p - 1; hi < 0 surely when #{m_a < m_b} >= q + 3, that is
        # #{m_b <= m_a} <= R - q - 3
        apart = _order_bound(srt, p - 1) | _order_bound(srt, R - q - 3).T
        undecided = np.triu(~(apart | apart.T), 1)  # a pair decided either way round is decided
        for S in [s for s in stages if s < R] + [R]:
            rest = R - S
            cols = ranks[:, :S]
            for ia in np.flatnonzero(undecided.any(axis=1)):
                jb = np.flatnonzero(undecided[ia])
                x, y = cols[ia], cols[jb]
                le = (x <= y).view(np.uint8).sum(axis=1, dtype=np.int32)
                lt = (x < y).view(np.uint8).sum(axis=1, dtype=np.int32)
                lo_yes, lo_no = le >= p + 3, le + rest <= p - 1
                hi_yes, hi_no = lt + rest <= q - 1, lt >= q + 3
                yes, no = lo_yes & hi_yes, lo_no | hi_no
                tied[order[ia], order[jb[yes]]] = True
                undecided[ia, jb[yes | no]] = False
                if S == R:
                    exact += [(order[ia], order[j]) for j in jb[~(yes | no)]]
                    undecided[ia, jb] = False
    if exact:  # as pairwise_differences pairs them: d = m_i - m_j with i < j, in blocks
        pairs = np.array(sorted((min(i, j), max(i, j)) for i, j in exact))
        ok = finite[pairs[:, 0]] & finite[pairs[:, 1]]
        for s in range(0, int(ok.sum()), 4096):
            i, j = pairs[ok][s:s + 4096].T
            lo, hi = np.percentile(m[i] - m[j], [a, 100 - a], axis=1)
            tied[i, j] = (lo <= 0) & (hi >= 0)
        for i, j in pairs[~ok]:
            pair = pairwise_differences(v[[i, j]], m[[i, j]], level)
            tied[i, j] = bool(pair.tied[0, 1])
    tied |= tied.T
    return tied


def board_ties(rows: list, metric: str) -> list[TieGroup]:
    """Set ``tied_with`` and ``tie_ranks`` of every ranked row that has resamples of ``metric``; the groups of
    rows resampled with the same draws (their pairwise differences computed when asked for)."""
    groups: dict[int, list[int]] = {}
    for i, r in enumerate(rows):
        r.tied_with, r.tie_ranks, r._tied_rows = None, None, set()
        res = r._resampled
        if res is not None and metric in res and r._n_items:
            groups.setdefault(r._n_items, []).append(i)
    out = []
    for members in groups.values():
        values = np.array([rows[i].value for i in members], dtype=np.float64)
        resampled = np.vstack([rows[i]._resampled[metric] for i in members])
        tied = tie_matrix(values, resampled)
        for a, i in enumerate(members):
            partners = [members[b] for b in np.flatnonzero(tied[a])]
            rows[i].tied_with = [rows[j].method for j in partners]
            rows[i]._tied_rows = set(partners)
            if partners:
                ranks = [rows[j].rank for j in (i, *partners)]
                rows[i].tie_ranks = [min(ranks), max(ranks)]
        out.append(TieGroup(members, values, resampled, tied))
    return out


def leader_groups(rows: list) -> list[int]:
    """A group number per ranked row, for shading: a group starts at the first row not tied with the row
    that leads the current group (each row is then tied with its group's leader; rows without ties are
    groups of their own)."""
    out: list[int] = []
    leader = None
    for i, r in enumerate(rows):
        if leader is not None and leader in r._tied_rows:
            out.append(out[-1])
            continue
        leader = i
        out.append(out[-1] + 1 if out else 0)
    return out
