"""CLEAR-MOT accumulation as poseval runs it: one motmetrics ``MOTAccumulator`` per joint.

An independent re-implementation of ``MOTAccumulator(auto_id=True).update`` of motmetrics 1.4.0
(``max_switch_time`` = inf), vectorized over *lanes*: one lane is one (sequence, joint)
accumulator, and one numpy step advances every lane by one frame. Per frame and lane:

1. **Prefer history.** Going through the objects in order, an object keeps the hypothesis it was
   last paired with when that hypothesis is in the frame, not yet taken, and within reach
   (finite distance): MATCH, even if another pairing would be cheaper.
2. **Assign the rest** with a minimum-cost assignment on motmetrics' own cost matrix (the
   objects x hypotheses of that lane with the step-1 rows and columns set to NaN, non-edges
   replaced by ``lap.add_expensive_edges``' constant, solved as scipy solves it, see
   ``metrics.assignment``), so even equal-cost ties break as motmetrics with its scipy solver
   breaks them. When every remaining row and column
   has at most one finite entry the answer is those entries and no solver runs. A pair whose
   object was paired with another hypothesis before is a SWITCH (else a MATCH); a SWITCH whose
   hypothesis was never paired before also raises ASCEND; a pair whose hypothesis was last
   *assigned* (step 2 only) to another object raises TRANSFER, and also MIGRATE when the object
   was never paired before.
3. **Leftovers**: unpaired objects are MISSes, unpaired hypotheses FPs.

Besides the counts, three distance sums are kept because poseval's MOTP sums the ``D`` column
of *all* events, whose content depends on the motmetrics version (docs/protocol.md §1.7):

- ``sum_d_matched``: MATCH + SWITCH rows (true CLEAR-MOT MOTP, motmetrics 1.0);
- ``sum_d_raw``: RAW rows, one per finite entry of every distance matrix (motmetrics >= 1.1);
- ``sum_d_extra``: ASCEND, TRANSFER and MIGRATE rows (motmetrics >= 1.2), each carrying the
  pair's distance, so a migrating pair adds its distance twice here (TRANSFER and MIGRATE).

``sum_d_matched + sum_d_raw + sum_d_extra`` equals ``acc.events['D'].sum()`` of motmetrics 1.4.

Ids repeated within a frame (poseval does not check GT track ids) are handled exactly, by a
sequential path for that frame, because motmetrics then lets later rows see the state written by
earlier rows of the same frame; the one case where motmetrics itself crashes (KeyError) raises a
ValueError here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields

import numpy as np

from .assignment import solve as linear_sum_assignment

MOTP_MODES = ("poseval-mm1.2+", "poseval-mm1.1", "clear")
_LANES_PER_BATCH = 2048  # bounds the padded per-frame arrays of accumulate_sequences


@dataclass
class MotStats:
    """Additive per-sequence CLEAR-MOT counts for K joints (arrays of shape (K,))."""

    num_objects: np.ndarray
    num_matches: np.ndarray
    num_switches: np.ndarray
    num_misses: np.ndarray
    num_false_positives: np.ndarray
    sum_d_matched: np.ndarray
    sum_d_raw: np.ndarray
    sum_d_extra: np.ndarray

    @classmethod
    def zeros(cls, K: int) -> MotStats:
        ints = [np.zeros(K, np.int64) for _ in range(5)]
        floats = [np.zeros(K, np.float64) for _ in range(3)]
        return cls(*ints, *floats)

    def merge(self, other: MotStats) -> MotStats:
        return MotStats(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    def add_counts(self, objects=0, misses=0, false_positives=0) -> None:
        """Add to every joint (poseval's dummy frames) or per joint with (K,) arrays."""
        self.num_objects = self.num_objects + np.asarray(objects, np.int64)
        self.num_misses = self.num_misses + np.asarray(misses, np.int64)
        self.num_false_positives = self.num_false_positives + np.asarray(false_positives, np.int64)

    @property
    def num_detections(self) -> np.ndarray:
        return self.num_matches + self.num_switches


#: the counts of :class:`MotStats`, in order (an item's stored statistics)
MOT_FIELDS = tuple(f.name for f in fields(MotStats))


def resample_mot(items: list[dict], weights: np.ndarray) -> MotStats:
    """The pooled CLEAR-MOT counts of every resample (arrays R x K) from each item's counts (a dict of
    :data:`MOT_FIELDS`, ``weights[r, i]`` how often item i is drawn). Counts are sums of integers (exact in
    float64 whatever the order); distance sums are added item by item in order, as the evaluation combines
    sequences, so an all-ones row gives the evaluated sums bit for bit."""
    w = np.asarray(weights)
    out = {}
    for f in MOT_FIELDS:
        x = np.array([it[f] for it in items])
        if x.dtype.kind in "iu":
            out[f] = (w.astype(np.float64) @ x.astype(np.float64)).astype(np.int64)
        else:
            acc = np.zeros((len(w), x.shape[1]))
            for n in range(len(items)):
                acc = acc + w[:, n, None] * x[n]
            out[f] = acc
    return MotStats(**out)


def expensive_edges(costs: np.ndarray) -> np.ndarray:
    """The finite matrix motmetrics' scipy path solves: non-edges cost more than any full set of edges.

    With r = min(shape) and c = max|finite cost| + 1, a non-edge costs 2rc + 1, so a minimum
    assignment has maximum cardinality among finite edges and, within that, minimum sum.
    """
    valid = np.isfinite(costs)
    if valid.all():
        return costs.copy()
    if not valid.any():
        return np.zeros_like(costs)
    large = 2 * min(costs.shape) * (np.abs(costs[valid]).max() + 1) + 1
    return np.where(valid, costs, large)


def _assign(costs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns of motmetrics' assignment on ``costs``, finite pairs only, rows ascending."""
    r, c = linear_sum_assignment(expensive_edges(costs))
    keep = np.isfinite(costs[r, c])
    return r[keep], c[keep]


class _LaneState:
    """motmetrics' per-accumulator dictionaries as dense arrays over lanes x local ids."""

    def __init__(self, lanes: int, n_obj: int, n_hyp: int):
        self.last_hyp = np.full((lanes, n_obj), -1, np.int64)  # m[o]
        self.obj_paired = np.zeros((lanes, n_obj), bool)  # o in last_match
        self.obj_seen = np.zeros((lanes, n_obj), bool)  # o in last_occurrence
        self.hyp_paired = np.zeros((lanes, n_hyp), bool)  # h in hypHistory
        self.assigned_obj = np.full((lanes, n_hyp), -1, np.int64)  # res_m[h]


class _Sums:
    """Per-lane accumulators (the MotStats fields, over lanes)."""

    def __init__(self, lanes: int):
        self.c = np.zeros((5, lanes), np.int64)  # objects, matches, switches, misses, FPs
        self.d = np.zeros((3, lanes), np.float64)  # matched, raw, extra

    def stats(self, lo: int, hi: int) -> MotStats:
        return MotStats(*(self.c[i, lo:hi].copy() for i in range(5)), *(self.d[i, lo:hi].copy() for i in range(3)))


def _nonzero(a: np.ndarray) -> tuple[np.ndarray, ...]:
    """``np.nonzero`` of a C-contiguous array (the same indices, in the same order, much faster for
    the small trailing axes here)."""
    idx = np.flatnonzero(a)
    out = []
    for n in a.shape[:0:-1]:
        idx, rem = np.divmod(idx, n)
        out.append(rem)
    out.append(idx)
    return tuple(out[::-1])


def _step(st: _LaneState, out: _Sums, obj, hyp, d, o_has, h_has, raw: bool = True) -> None:
    """Advance every lane by one frame (ids unique within each lane's frame).

    obj (L, G) and hyp (L, H) are local ids (anything where the has-mask is False), d (L, G, H)
    holds NaN wherever a pair may not be matched, including rows/columns that are not present.
    ``raw=False``: the caller adds the RAW distance sums itself (see ``accumulate_frames``).
    """
    L, G, H = d.shape
    n_obj = o_has.sum(1)
    n_hyp = h_has.sum(1)
    out.c[0] += n_obj
    ol, og = _nonzero(o_has)
    st.obj_seen[ol, obj[ol, og]] = True  # motmetrics' last_occurrence, read only on the sequential path
    if G == 0 or H == 0:
        out.c[3] += n_obj
        out.c[4] += n_hyp
        return
    lane = np.arange(L)[:, None]
    fin = np.isfinite(d)
    df = np.where(fin, d, 0.0)
    if raw:
        out.d[1] += df.sum(axis=(1, 2))

    # 1. prefer history: the first object (in order) wanting a hypothesis gets it
    prev = st.last_hyp[lane, obj]  # (L, G); -1 = never paired, never equal to a local id
    want = (prev[:, :, None] == hyp[:, None, :]) & fin
    first = want.argmax(1)  # (L, H): the first object of each column (where the column has one)
    hl, hh = _nonzero(np.take_along_axis(want, first[:, None, :], 1)[:, 0, :])
    hg = first[hl, hh]
    if len(hl) > 1:  # in (lane, object, hypothesis) order, as the sums below must add them
        order = np.argsort((hl * G + hg) * H + hh, kind="stable")
        hl, hg, hh = hl[order], hg[order], hh[order]
    n_hist = np.bincount(hl, minlength=L)
    out.c[1] += n_hist
    out.d[0] += np.bincount(hl, df[hl, hg, hh], minlength=L)
    st.obj_paired[hl, obj[hl, hg]] = True
    st.hyp_paired[hl, hyp[hl, hh]] = True

    # 2. minimum-cost assignment of what is left
    o_used = np.zeros((L, G), bool)
    o_used[hl, hg] = True
    h_used = np.zeros((L, H), bool)
    h_used[hl, hh] = True
    rest = fin.copy()
    rest[hl, hg, :] = False
    rest[hl, :, hh] = False
    n_assigned = np.zeros(L, np.int64)
    pl, pg, ph = _nonzero(rest)
    if len(pl):
        # lanes where an object or a hypothesis has two candidates: the solver's
        hard = np.zeros(L, bool)
        hard[pl[np.bincount(pl * G + pg, minlength=L * G)[pl * G + pg] > 1]] = True
        hard[pl[np.bincount(pl * H + ph, minlength=L * H)[pl * H + ph] > 1]] = True
        if hard.any():
            easy = ~hard[pl]
            sl, sg, sh = _solve_hard(np.flatnonzero(hard), rest, d, o_has, h_has, o_used, h_used)
            pl, pg, ph = np.concatenate([pl[easy], sl]), np.concatenate([pg[easy], sg]), np.concatenate([ph[easy], sh])
        o, h = obj[pl, pg], hyp[pl, ph]
        dd = df[pl, pg, ph]
        last = st.last_hyp[pl, o]
        switch = (last >= 0) & (last != h)
        ascend = switch & ~st.hyp_paired[pl, h]
        before = st.assigned_obj[pl, h]
        transfer = (before >= 0) & (before != o)
        migrate = transfer & ~st.obj_paired[pl, o]
        n_assigned = np.bincount(pl, minlength=L)
        n_switch = np.bincount(pl, switch, minlength=L).astype(np.int64)
        out.c[1] += n_assigned - n_switch
        out.c[2] += n_switch
        out.d[0] += np.bincount(pl, dd, minlength=L)
        out.d[2] += np.bincount(pl, dd * (ascend.astype(np.int64) + transfer + migrate), minlength=L)
        st.last_hyp[pl, o] = h
        st.obj_paired[pl, o] = True
        st.hyp_paired[pl, h] = True
        st.assigned_obj[pl, h] = o

    # 3. leftovers
    matched = n_hist + n_assigned
    out.c[3] += n_obj - matched
    out.c[4] += n_hyp - matched


def _solve_hard(lanes, rest, d, o_has, h_has, o_used, h_used):
    """Solver pairs (lane, row, col) for lanes whose remaining graph is not a plain matching."""
    out_l, out_g, out_h = [], [], []
    for k in lanes:
        gs = np.flatnonzero(o_has[k])
        hs = np.flatnonzero(h_has[k])
        sub = d[k][np.ix_(gs, hs)]  # exactly the matrix motmetrics solves for this accumulator
        sub[o_used[k, gs], :] = np.nan
        sub[:, h_used[k, hs]] = np.nan
        r, c = _assign(sub)
        out_l.append(np.full(len(r), k))
        out_g.append(gs[r])
        out_h.append(hs[c])
    return np.concatenate(out_l), np.concatenate(out_g), np.concatenate(out_h)


def _step_sequential(st: _LaneState, out: _Sums, lane: int, obj, hyp, d, where: str, raw: bool = True,
                     item: int | None = None) -> None:
    """One frame of one lane, row by row as motmetrics runs it (for frames with repeated ids)."""
    n_o, n_h = len(obj), len(hyp)
    out.c[0, lane] += n_o
    fin = np.isfinite(d)
    if raw:
        out.d[1, lane] += d[fin].sum()
    o_done = np.zeros(n_o, bool)
    h_done = np.zeros(n_h, bool)
    if n_o and n_h:
        for i in range(n_o):
            prev = st.last_hyp[lane, obj[i]]
            cand = np.flatnonzero(~h_done & (hyp == prev))
            if prev < 0 or not len(cand) or not fin[i, cand[0]]:
                continue
            j = cand[0]
            o_done[i] = h_done[j] = True
            out.c[1, lane] += 1
            out.d[0, lane] += d[i, j]
            st.obj_paired[lane, obj[i]] = True
            st.hyp_paired[lane, hyp[j]] = True
        sub = d.copy()
        sub[o_done, :] = np.nan
        sub[:, h_done] = np.nan
        for i, j in zip(*_assign(sub)):
            o, h, dij = obj[i], hyp[j], d[i, j]
            last = st.last_hyp[lane, o]
            if last >= 0 and last != h:
                if not st.obj_seen[lane, o]:
                    raise RepeatedIdError(item, repeated_id_message(where))
                out.c[2, lane] += 1
                if not st.hyp_paired[lane, h]:
                    out.d[2, lane] += dij  # ASCEND
            else:
                out.c[1, lane] += 1
            before = st.assigned_obj[lane, h]
            if before >= 0 and before != o:
                out.d[2, lane] += dij * (1 if st.obj_paired[lane, o] else 2)  # TRANSFER (+ MIGRATE)
            out.d[0, lane] += dij
            st.hyp_paired[lane, h] = True
            st.obj_paired[lane, o] = True
            o_done[i] = h_done[j] = True
            st.last_hyp[lane, o] = h
            st.assigned_obj[lane, h] = o
    out.c[3, lane] += (~o_done).sum()
    out.c[4, lane] += (~h_done).sum()
    st.obj_seen[lane, obj] = True


def repeated_id_message(where: str) -> str:
    """What both accumulator backends (prt's, motmetrics') say about the input motmetrics crashes on."""
    return (f"{where}: object id repeated within the frame is paired with two hypotheses in its first frame; "
            "motmetrics crashes on this (KeyError in MOTAccumulator.update). "
            "Make the ground-truth track ids unique within each frame.")


class RepeatedIdError(ValueError):
    """An object id repeated within a frame in a way motmetrics crashes on; ``item`` says which
    sequence of a batch (None when unknown)."""

    def __init__(self, item: int | None, message: str):
        super().__init__(message)
        self.item = item


def check_frame(frame, K: int, where: str):
    try:
        gt, hyp, dist, gt_has, hyp_has = frame
    except (TypeError, ValueError):
        raise ValueError(f"{where}: expected (gt_ids, hyp_ids, dist, gt_has, hyp_has)") from None
    gt, hyp = np.asarray(gt).reshape(-1), np.asarray(hyp).reshape(-1)
    G, H = len(gt), len(hyp)
    dist = np.asarray(dist, np.float64)
    gt_has, hyp_has = np.asarray(gt_has, bool), np.asarray(hyp_has, bool)
    if G * H == 0 and dist.size == 0:
        dist = dist.reshape(K, G, H)
    for name, a, shape in (("dist", dist, (K, G, H)), ("gt_has", gt_has, (K, G)), ("hyp_has", hyp_has, (K, H))):
        if a.shape != shape:
            raise ValueError(f"{where}: {name} has shape {a.shape}, expected {shape} "
                             f"(joints, {G} GT ids, {H} hypothesis ids)")
    return gt, hyp, dist, gt_has, hyp_has


def accumulate_sequences(sequences: Sequence[Iterable], num_joints: int) -> list[MotStats]:
    """``accumulate_sequence`` for many sequences at once (one numpy step per frame index).

    Sequences are independent; batching them only amortizes numpy's per-call cost.
    """
    K = num_joints
    seqs = [[check_frame(f, K, f"sequence {s}, frame {t}") for t, f in enumerate(frames)]
            for s, frames in enumerate(sequences)]
    stats: list[MotStats] = []
    per_batch = max(1, _LANES_PER_BATCH // max(K, 1))
    for b in range(0, len(seqs), per_batch):
        stats.extend(_accumulate_batch(seqs[b:b + per_batch], K, b))
    return stats


def _frames_with_repeats(bounds: np.ndarray, ids: np.ndarray, n_ids: int) -> np.ndarray:
    """Which frames (ids[bounds[t]:bounds[t+1]]) list an id more than once."""
    T = len(bounds) - 1
    frame = np.repeat(np.arange(T), np.diff(bounds))
    key = np.sort(frame * max(n_ids, 1) + ids)
    dup = key[1:] == key[:-1]
    out = np.zeros(T, bool)
    out[key[1:][dup] // max(n_ids, 1)] = True
    return out


def _accumulate_batch(seqs: list[list[tuple]], K: int, first: int) -> list[MotStats]:
    S = len(seqs)
    L = S * K
    out = _Sums(L)
    # local ids per sequence: GT and hypothesis ids each mapped to 0..n-1
    local, repeats = [], []
    n_obj = n_hyp = 0
    for frames in seqs:
        if frames:
            g_ids, g_loc = np.unique(np.concatenate([f[0] for f in frames]), return_inverse=True)
            h_ids, h_loc = np.unique(np.concatenate([f[1] for f in frames]), return_inverse=True)
        else:
            g_ids = h_ids = g_loc = h_loc = np.zeros(0, np.int64)
        n_obj, n_hyp = max(n_obj, len(g_ids)), max(n_hyp, len(h_ids))
        gs = np.cumsum([0] + [len(f[0]) for f in frames])
        hs = np.cumsum([0] + [len(f[1]) for f in frames])
        local.append([(g_loc[gs[t]:gs[t + 1]], h_loc[hs[t]:hs[t + 1]]) for t in range(len(frames))])
        rep = _frames_with_repeats(gs, g_loc, len(g_ids)) | _frames_with_repeats(hs, h_loc, len(h_ids))
        repeats.append(set(np.flatnonzero(rep).tolist()))
    st = _LaneState(L, n_obj, n_hyp)
    T = max((len(f) for f in seqs), default=0)
    for t in range(T):
        active = [s for s in range(S) if t < len(seqs[s])]
        G = max(len(seqs[s][t][0]) for s in active)
        H = max(len(seqs[s][t][1]) for s in active)
        obj = np.zeros((S, K, G), np.int64)
        hyp = np.zeros((S, K, H), np.int64)
        d = np.full((S, K, G, H), np.nan)
        o_has = np.zeros((S, K, G), bool)
        h_has = np.zeros((S, K, H), bool)
        repeated = []
        for s in active:
            _, _, dist, gh, hh = seqs[s][t]
            go, ho = local[s][t]
            g, h = len(go), len(ho)
            if t in repeats[s]:
                repeated.append(s)
                continue
            obj[s, :, :g] = go
            hyp[s, :, :h] = ho
            d[s, :, :g, :h] = dist
            o_has[s, :, :g] = gh
            h_has[s, :, :h] = hh
        o_has, h_has = o_has.reshape(L, G), h_has.reshape(L, H)
        d = d.reshape(L, G, H)
        d[~(o_has[:, :, None] & h_has[:, None, :])] = np.nan
        _step(st, out, obj.reshape(L, G), hyp.reshape(L, H), d, o_has, h_has)
        for s in repeated:
            _, _, dist, gh, hh = seqs[s][t]
            go, ho = local[s][t]
            for k in range(K):
                _step_sequential(st, out, s * K + k, go[gh[k]], ho[hh[k]], dist[k][np.ix_(gh[k], hh[k])],
                                 f"sequence {first + s}, frame {t}, joint {k}")
    return [out.stats(s * K, (s + 1) * K) for s in range(S)]


def accumulate_frames(frames: Sequence[np.ndarray], dist: np.ndarray, gt_ids: np.ndarray, gt_valid: np.ndarray,
                      gt_has: np.ndarray, hyp_ids: np.ndarray, hyp_valid: np.ndarray, hyp_has: np.ndarray,
                      threshold: float, seen_from: np.ndarray | None = None) -> list[MotStats]:
    """CLEAR-MOT counts of many sequences held in padded per-frame arrays, one accumulator per
    (sequence, joint): the evaluator's fast path, same numbers as ``accumulate_sequence`` per sequence.

    ``dist`` is ``(F, H, G, K)`` (predictions x GT, as the pose assignment uses it; non-finite =
    absent); ``gt_ids (F, G)`` / ``hyp_ids (F, H)`` are ids local to each sequence (0..n-1),
    ``*_valid`` mark the people of each frame (packed first), ``*_has (F, ., K)`` the joints they
    have. ``frames[s]`` lists, in order, the rows of ``dist`` that sequence ``s`` accumulates; a
    pair is matchable when its distance is <= ``threshold``. Every step advances one frame of every
    sequence at once. RAW distance sums are added per frame exactly as the per-sequence path adds
    them (numpy sums over each frame's own GT x prediction matrix), so results are bit-identical.

    ``seen_from (S, 2)``, rows ``(t, o)``: object ``o`` of sequence ``s`` counts as seen before its
    t-th frame (-1: never). poseval's dummy frames (object 0, never paired; their counts are added
    by the caller) change one thing in motmetrics' state, ``last_occurrence`` of their object, and
    that turns the same GT id repeated within a later frame from a crash into a SWITCH
    (``_step_sequential``); which track the dummy's object is: ``metrics.posetrack.sequences_stats``.
    """
    S = len(frames)
    F, H, G, K = dist.shape
    L = S * K
    out = _Sums(L)
    T = max((len(fr) for fr in frames), default=0)
    if S == 0 or T == 0:
        return [out.stats(s * K, (s + 1) * K) for s in range(S)]
    rows = np.full((S, T), -1, np.intp)
    for s, fr in enumerate(frames):
        rows[s, : len(fr)] = fr
    repeated = _rows_with_repeats(gt_ids, gt_valid) | _rows_with_repeats(hyp_ids, hyp_valid)
    n_obj = int(gt_ids[gt_valid].max()) + 1 if gt_valid.any() else 0
    n_hyp = int(hyp_ids[hyp_valid].max()) + 1 if hyp_valid.any() else 0
    st = _LaneState(L, n_obj, n_hyp)
    raw = _raw_sums(rows, dist, gt_valid, gt_has, hyp_valid, hyp_has, repeated, threshold)
    lanes_of = np.arange(L).reshape(S, K)
    # the has-masks in the steps' layout (frame, joint, GT / prediction); each step's matrices are made
    # from its own rows (small, in cache) rather than for every frame at once (the padded F x H x G x K
    # array is most of a batch's memory and was walked twice, transposed)
    g_has = np.ascontiguousarray(gt_has.transpose(0, 2, 1))
    h_has = np.ascontiguousarray(hyp_has.transpose(0, 2, 1))
    for t in range(T):
        if seen_from is not None:
            mark = np.flatnonzero(seen_from[:, 0] == t)
            st.obj_seen[lanes_of[mark].ravel(), np.repeat(seen_from[mark, 1], K)] = True
        r = rows[:, t]
        act = r >= 0
        rr = np.where(act, r, 0)
        batch = act & ~repeated[rr]
        d = _matchable(dist[rr], gt_has[rr], hyp_has[rr], threshold).reshape(L, G, H)
        oh = g_has[rr].reshape(L, G)
        hh = h_has[rr].reshape(L, H)
        if not batch.all():  # sequences without this frame, or stepped one by one: nothing to pair
            off = np.repeat(~batch, K)
            d[off] = np.nan
            oh[off] = False
            hh[off] = False
        obj = np.broadcast_to(gt_ids[rr][:, None, :], (S, K, G)).reshape(L, G)
        hyp = np.broadcast_to(hyp_ids[rr][:, None, :], (S, K, H)).reshape(L, H)
        _step(st, out, obj, hyp, d, oh, hh, raw=False)
        for s in np.flatnonzero(act & repeated[rr]):
            f = rr[s]
            dk = np.where(dist[f] <= threshold, dist[f], np.nan).transpose(2, 1, 0)  # (K, G, H)
            for k in range(K):
                go, ho = gt_has[f, :, k], hyp_has[f, :, k]
                _step_sequential(st, out, int(lanes_of[s, k]), gt_ids[f][go], hyp_ids[f][ho], dk[k][np.ix_(go, ho)],
                                 f"labeled frame {t} (counted from 0), joint {k}", raw=False, item=int(s))
    for t in range(T):  # frame by frame, as the per-sequence path adds them
        out.d[1] += raw[t]
    return [out.stats(s * K, (s + 1) * K) for s in range(S)]


def _matchable(dist: np.ndarray, gt_has: np.ndarray, hyp_has: np.ndarray, threshold: float) -> np.ndarray:
    """(n, K, G, H) distances of rows ``dist (n, H, G, K)`` where a GT and a predicted joint may be paired
    (both present, distance <= threshold), NaN elsewhere."""
    ok = dist <= threshold
    ok &= hyp_has[:, :, None, :]
    ok &= gt_has[:, None, :, :]
    return np.where(ok, dist, np.nan).transpose(0, 3, 2, 1).copy()


def _rows_with_repeats(ids: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Which rows of ``ids (F, N)`` list an id more than once among their valid entries."""
    if ids.shape[1] < 2:
        return np.zeros(len(ids), bool)
    big = np.iinfo(np.int64).max
    srt = np.sort(np.where(valid, ids, big), axis=1)
    return ((srt[:, 1:] == srt[:, :-1]) & (srt[:, 1:] != big)).any(axis=1)


def _raw_sums(rows, dist, gt_valid, gt_has, hyp_valid, hyp_has, repeated, threshold) -> np.ndarray:
    """(T, S*K) sum of the matchable distances of every accumulated frame: motmetrics' RAW rows.

    Summed the way ``_step`` sums one frame of one sequence (numpy over the frame's own
    GT x prediction matrix, unmatchable entries 0), so the floating-point result is the same."""
    S, T = rows.shape
    F, H, G, K = dist.shape
    out = np.zeros((T, S, K))
    ss, tt = np.nonzero(rows >= 0)
    f = rows[ss, tt]
    ng = gt_valid[f].sum(1)
    nh = hyp_valid[f].sum(1)
    normal = ~repeated[f] & (ng > 0) & (nh > 0)
    shapes = sorted(set(zip(ng[normal].tolist(), nh[normal].tolist())))  # (np.unique(axis=0) imports numpy.ma)
    for a, b in shapes:
        sel = np.flatnonzero(normal & (ng == a) & (nh == b))
        fs = f[sel]
        d = dist[fs][:, :b, :a, :]
        d = np.where(d <= threshold, d, np.nan).transpose(0, 3, 2, 1)  # (n, K, a, b)
        g_has = gt_has[fs][:, :a, :].transpose(0, 2, 1)  # (n, K, a)
        h_has = hyp_has[fs][:, :b, :].transpose(0, 2, 1)  # (n, K, b)
        both = g_has[..., :, None] & h_has[..., None, :]
        # C order, as ``_step`` sums a contiguous (lanes, a, b) array: numpy's pairwise sum over each lane's
        # a*b values (a strided layout would be summed in another order, with other rounding)
        d = np.ascontiguousarray(np.where(both & np.isfinite(d), d, 0.0)).reshape(len(fs) * K, a, b)
        out[tt[sel], ss[sel]] = d.sum(axis=(1, 2)).reshape(len(fs), K)
    for i in np.flatnonzero(repeated[f]):  # the sequential path sums the finite entries of each joint's matrix
        d = np.where(dist[f[i]] <= threshold, dist[f[i]], np.nan).transpose(2, 1, 0)
        for k in range(K):
            sub = d[k][np.ix_(gt_has[f[i], :, k], hyp_has[f[i], :, k])]
            out[tt[i], ss[i], k] = sub[np.isfinite(sub)].sum()
    return out.reshape(T, S * K)


def accumulate_sequence(frames: Iterable, num_joints: int) -> MotStats:
    """CLEAR-MOT counts of one sequence, one independent accumulator per joint.

    ``frames`` yields, in order, ``(gt_ids (G,), hyp_ids (H,), dist (K, G, H), gt_has (K, G),
    hyp_has (K, H))``. For joint k the objects are ``gt_ids[gt_has[k]]``, the hypotheses
    ``hyp_ids[hyp_has[k]]`` and the distances ``dist[k][gt_has[k]][:, hyp_has[k]]``, NaN (or inf)
    meaning "may not be paired". G or H may be 0. State persists across the frames given only.
    """
    return accumulate_sequences([list(frames)], num_joints)[0]


def finalize_mot(stats: MotStats, motp_mode: str = "poseval-mm1.2+") -> dict[str, np.ndarray]:
    """Per-joint MOTA, MOTP, precision and recall in percent from pooled counts (poseval's rules).

    ``motp_mode`` picks sumD: 'clear' (MATCH + SWITCH distances), 'poseval-mm1.1' (+ RAW rows) or
    'poseval-mm1.2+' (+ RAW, TRANSFER, ASCEND and MIGRATE rows: poseval with motmetrics >= 1.2).
    """
    if motp_mode not in MOTP_MODES:
        raise ValueError(f"unknown MOTP mode {motp_mode!r}; use one of {', '.join(MOTP_MODES)}")
    obj = stats.num_objects.astype(np.float64)
    det = stats.num_detections.astype(np.float64)
    fp = stats.num_false_positives.astype(np.float64)
    errors = (stats.num_misses + stats.num_switches + stats.num_false_positives).astype(np.float64)
    sum_d = stats.sum_d_matched.astype(np.float64)
    if motp_mode != "clear":
        sum_d = sum_d + stats.sum_d_raw
    if motp_mode == "poseval-mm1.2+":
        sum_d = sum_d + stats.sum_d_extra
    with np.errstate(divide="ignore", invalid="ignore"):
        mota = np.where(obj > 0, 100.0 * (1.0 - errors / obj), np.nan)
        motp = np.where(det > 0, 100.0 * (1.0 - sum_d / det), 0.0)
        precision = np.where(det + fp > 0, 100.0 * det / (det + fp), np.nan)
        recall = np.where(obj > 0, 100.0 * det / obj, np.nan)
    return {"mota": mota, "motp": motp, "precision": precision, "recall": recall,
            "num_objects": stats.num_objects, "num_detections": stats.num_detections,
            "num_matches": stats.num_matches, "num_switches": stats.num_switches,
            "num_misses": stats.num_misses, "num_false_positives": stats.num_false_positives,
            "sum_d": sum_d}
