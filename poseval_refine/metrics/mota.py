"""CLEAR-MOT accumulation as poseval runs it: one motmetrics ``MOTAccumulator`` per joint.

A re-implementation of ``MOTAccumulator.update`` (motmetrics >= 1.2, ``max_switch_time`` = inf)
vectorized over the joints of a frame, so a whole benchmark accumulates in well under a second.
Per frame and joint: (1) an object keeps its last hypothesis when that hypothesis is present,
unused and within reach ("prefer history"); (2) the rest get a minimum-cost assignment of
maximum cardinality (motmetrics' expensive-edge matrix solved by scipy, so equal-cost ties
break as motmetrics with scipy breaks them); a pair whose object had another hypothesis before
is a SWITCH; (3) the rest are misses and false positives.

Besides the counts, three distance sums are kept because poseval's MOTP sums the ``D`` column
of *all* events, whose content depends on the motmetrics version (spec §1.7):
``sum_d_matched`` (MATCH + SWITCH: CLEAR-MOT), ``sum_d_raw`` (every finite distance passed: the
RAW events of motmetrics >= 1.1) and ``sum_d_extra`` (the ASCEND, TRANSFER and MIGRATE events of
motmetrics >= 1.2).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields

import numpy as np
from scipy.optimize import linear_sum_assignment

MOTP_MODES = ("poseval-mm1.2+", "poseval-mm1.1", "clear")


@dataclass
class MotStats:
    """Additive CLEAR-MOT counts for K joints (arrays of shape (K,))."""

    num_objects: np.ndarray
    num_matches: np.ndarray
    num_switches: np.ndarray
    num_misses: np.ndarray
    num_false_positives: np.ndarray
    sum_d_matched: np.ndarray
    sum_d_raw: np.ndarray
    sum_d_extra: np.ndarray

    @classmethod
    def zeros(cls, num_joints: int) -> MotStats:
        i = [np.zeros(num_joints, np.int64) for _ in range(5)]
        f = [np.zeros(num_joints, np.float64) for _ in range(3)]
        return cls(*i, *f)

    def merge(self, other: MotStats) -> MotStats:
        return MotStats(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    def add_counts(self, objects=0, misses=0, false_positives=0) -> None:
        """Add to every joint (poseval's dummy frames) or per joint with (K,) arrays."""
        self.num_objects = self.num_objects + objects
        self.num_misses = self.num_misses + misses
        self.num_false_positives = self.num_false_positives + false_positives

    @property
    def num_detections(self) -> np.ndarray:
        return self.num_matches + self.num_switches


def _expensive_edges(costs: np.ndarray) -> np.ndarray:
    """motmetrics' ``add_expensive_edges``: non-edges cost more than any full set of edges."""
    valid = np.isfinite(costs)
    if valid.all():
        return costs.copy()
    if not valid.any():
        return np.zeros_like(costs)
    large = 2 * min(costs.shape) * (np.abs(costs[valid]).max() + 1) + 1
    return np.where(valid, costs, large)


def _assign(costs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of the minimum-cost, maximum-cardinality assignment with finite cost."""
    r, c = linear_sum_assignment(_expensive_edges(costs))
    keep = np.isfinite(costs[r, c])
    return r[keep], c[keep]


class _SequenceState:
    """Per-joint accumulator state over dense object / hypothesis indices of one sequence."""

    def __init__(self, K: int, n_obj: int, n_hyp: int):
        self.last_hyp = np.full((K, n_obj), -1, np.intp)  # motmetrics m[o]
        self.matched_obj = np.zeros((K, n_obj), bool)  # o in last_match
        self.matched_hyp = np.zeros((K, n_hyp), bool)  # h in hypHistory
        self.assigned_obj = np.full((K, n_hyp), -1, np.intp)  # res_m[h] (step-2 assignments only)


def _update(st: _SequenceState, out: MotStats, o_idx, h_idx, dist, o_has, h_has) -> None:
    """One frame for all joints. o_idx (G,), h_idx (H,) dense ids; dist (K, G, H); has masks."""
    K = dist.shape[0]
    G, H = len(o_idx), len(h_idx)
    n_obj = o_has.sum(1)
    n_hyp = h_has.sum(1)
    out.num_objects += n_obj
    if G == 0 or H == 0:
        out.num_misses += n_obj
        out.num_false_positives += n_hyp
        return
    pair_ok = o_has[:, :, None] & h_has[:, None, :]
    d = np.where(pair_ok, dist, np.nan)
    fin = np.isfinite(d)
    out.sum_d_raw += np.where(fin, d, 0.0).sum(axis=(1, 2))

    # 1. prefer history: an object keeps its last hypothesis if present, unused and within reach
    col_of = np.full(st.matched_hyp.shape[1] + 1, -1, np.intp)
    col_of[h_idx] = np.arange(H)
    prev = st.last_hyp[:, o_idx]  # (K, G)
    j = col_of[prev]  # prev == -1 indexes the extra slot, which stays -1
    kk = np.arange(K)[:, None]
    jj = np.maximum(j, 0)
    keep = (j >= 0) & fin[kk, np.arange(G)[None, :], jj]
    if keep.any() and G > 1:  # two objects wanting the same hypothesis: the first one takes it
        same = (jj[:, :, None] == jj[:, None, :]) & keep[:, :, None] & keep[:, None, :]
        earlier = np.tril(np.ones((G, G), bool), -1)
        keep &= ~(same & earlier[None]).any(axis=2)
    o_used = keep.copy()
    h_used = np.zeros((K, H), bool)
    kh, gh = np.nonzero(keep)
    h_used[kh, jj[kh, gh]] = True
    n_hist = keep.sum(1)
    out.num_matches += n_hist
    out.sum_d_matched += np.where(keep, d[kk, np.arange(G)[None, :], jj], 0.0).sum(1)
    st.matched_obj[kh, o_idx[gh]] = True
    st.matched_hyp[kh, h_idx[jj[kh, gh]]] = True

    # 2. minimum-cost assignment of the rest
    rest = fin & ~o_used[:, :, None] & ~h_used[:, None, :]
    pk, pg, ph = [], [], []
    if rest.any():
        rows = rest.sum(2)
        cols = rest.sum(1)
        simple = (rows <= 1).all(1) & (cols <= 1).all(1)
        k1, g1, h1 = np.nonzero(rest & simple[:, None, None])
        pk.append(k1), pg.append(g1), ph.append(h1)
        for k in np.flatnonzero(~simple & rest.any(axis=(1, 2))):
            gs = np.flatnonzero(o_has[k])
            hs = np.flatnonzero(h_has[k])
            sub = d[k][np.ix_(gs, hs)]
            sub[o_used[k][gs], :] = np.nan
            sub[:, h_used[k][hs]] = np.nan
            r, c = _assign(sub)
            pk.append(np.full(len(r), k)), pg.append(gs[r]), ph.append(hs[c])
    if pk:
        pk, pg, ph = np.concatenate(pk), np.concatenate(pg), np.concatenate(ph)
    n_assigned = np.zeros(K, np.int64)
    if len(pk):
        o, h = o_idx[pg], h_idx[ph]
        dd = d[pk, pg, ph]
        last = st.last_hyp[pk, o]
        switch = (last >= 0) & (last != h)
        ascend = switch & ~st.matched_hyp[pk, h]
        prev_o = st.assigned_obj[pk, h]
        transfer = (prev_o >= 0) & (prev_o != o)
        migrate = transfer & ~st.matched_obj[pk, o]
        extra = dd * (ascend.astype(np.int64) + transfer + migrate)
        np.add.at(out.num_switches, pk, switch)
        np.add.at(out.num_matches, pk, ~switch)
        np.add.at(out.sum_d_matched, pk, dd)
        np.add.at(out.sum_d_extra, pk, extra)
        np.add.at(n_assigned, pk, 1)
        st.matched_hyp[pk, h] = True
        st.matched_obj[pk, o] = True
        st.last_hyp[pk, o] = h
        st.assigned_obj[pk, h] = o
    # step-1 matches set the last hypothesis too (after step 2 read the old values of others)
    st.last_hyp[kh, o_idx[gh]] = h_idx[jj[kh, gh]]

    # 3. leftovers
    matched = n_hist + n_assigned
    out.num_misses += n_obj - matched
    out.num_false_positives += n_hyp - matched


def accumulate_sequence(frames: Iterable, num_joints: int) -> MotStats:
    """CLEAR-MOT counts of one sequence.

    ``frames`` yields, in order, ``(gt_ids (G,), hyp_ids (H,), dist (K, G, H), gt_has (K, G),
    hyp_has (K, H))``; for joint k the objects are the GT people with ``gt_has[k]``, the
    hypotheses the predicted people with ``hyp_has[k]``, and NaN distances may not be paired.
    Hypothesis ids must be unique within a frame (poseval checks this).
    """
    frames = list(frames)
    out = MotStats.zeros(num_joints)
    if not frames:
        return out
    gt_all = np.concatenate([np.asarray(f[0], np.int64) for f in frames])
    hyp_all = np.concatenate([np.asarray(f[1], np.int64) for f in frames])
    gt_ids, gt_dense = np.unique(gt_all, return_inverse=True)
    hyp_ids, hyp_dense = np.unique(hyp_all, return_inverse=True)
    st = _SequenceState(num_joints, len(gt_ids), len(hyp_ids))
    go = ho = 0
    for gt, hyp, dist, gt_has, hyp_has in frames:
        G, H = len(gt), len(hyp)
        _update(st, out, gt_dense[go:go + G], hyp_dense[ho:ho + H], np.asarray(dist, np.float64).reshape(
            num_joints, G, H), np.asarray(gt_has, bool).reshape(num_joints, G),
            np.asarray(hyp_has, bool).reshape(num_joints, H))
        go += G
        ho += H
    return out


def finalize_mot(stats: MotStats, motp_mode: str = "poseval-mm1.2+") -> dict[str, np.ndarray]:
    """Per-joint MOTA, MOTP, precision and recall in percent, from pooled counts (poseval's rules)."""
    if motp_mode not in MOTP_MODES:
        raise ValueError(f"unknown MOTP mode {motp_mode!r}; use one of {MOTP_MODES}")
    obj = stats.num_objects.astype(np.float64)
    det = stats.num_detections.astype(np.float64)
    fp = stats.num_false_positives.astype(np.float64)
    errors = stats.num_misses + stats.num_switches + stats.num_false_positives
    sum_d = stats.sum_d_matched.copy()
    if motp_mode != "clear":
        sum_d = sum_d + stats.sum_d_raw
    if motp_mode == "poseval-mm1.2+":
        sum_d = sum_d + stats.sum_d_extra
    with np.errstate(divide="ignore", invalid="ignore"):
        mota = np.where(obj > 0, 100.0 * (1.0 - errors / obj), np.nan)
        motp = np.where(det > 0, 100.0 * (1.0 - sum_d / det), 0.0)
        pre = np.where(det + fp > 0, 100.0 * det / (det + fp), np.nan)
        rec = np.where(obj > 0, 100.0 * det / obj, np.nan)
    return {"mota": mota, "motp": motp, "precision": pre, "recall": rec,
            "num_objects": stats.num_objects, "num_detections": stats.num_detections,
            "num_switches": stats.num_switches, "num_misses": stats.num_misses,
            "num_false_positives": stats.num_false_positives}
