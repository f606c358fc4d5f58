"""Statistical ties on a board: which rows cannot be told apart from which.

Two rows are tied when the paired bootstrap 95% interval of their difference (the same resampled items for
both, the board's draws) holds 0. Ties are pairwise and uncorrected for multiplicity: each pair is its own
95% statement, a board of k rows makes k(k-1)/2 of them, and ties are not transitive (A~B and B~C with A
clearly above C happens). docs/leaderboard.md says what that means for a reader.

Only rows resampled with the same draws can be paired: the rows of one board with the same number of items
(a board is one GT, so that is every computed row); quoted rows have no per-item statistics and no ties.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .uncertainty import Pairwise, pairwise_differences


@dataclass
class TieGroup:
    """Rows (indices into the board's ranked rows) paired with each other, and their pairwise differences."""
    rows: list[int]
    pairs: Pairwise


def board_ties(rows: list, metric: str) -> list[TieGroup]:
    """Set ``tied_with`` and ``tie_ranks`` of every ranked row that has resamples of ``metric``; the
    pairwise differences, per group of rows resampled with the same draws."""
    groups: dict[int, list[int]] = {}
    for i, r in enumerate(rows):
        r.tied_with, r.tie_ranks, r._tied_rows = None, None, set()
        res = r._resampled
        if res is not None and metric in res and r._result is not None and r._result.get("items"):
            groups.setdefault(len(r._result["items"]), []).append(i)
    out = []
    for members in groups.values():
        values = np.array([rows[i].value for i in members], dtype=np.float64)
        resampled = np.vstack([rows[i]._resampled[metric] for i in members])
        pairs = pairwise_differences(values, resampled)
        tied = pairs.tied
        for a, i in enumerate(members):
            partners = [members[b] for b in np.flatnonzero(tied[a])]
            rows[i].tied_with = [rows[j].method for j in partners]
            rows[i]._tied_rows = set(partners)
            if partners:
                ranks = [rows[j].rank for j in (i, *partners)]
                rows[i].tie_ranks = [min(ranks), max(ranks)]
        out.append(TieGroup(members, pairs))
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
