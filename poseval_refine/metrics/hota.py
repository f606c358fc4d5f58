"""Keypoint HOTA as the official PoseTrack21 kit computes it (docs/posetrack21.md), per joint.

Every joint is tracked on its own: in each labeled frame GT and predicted joints are matched by a
Hungarian assignment that maximises the summed keypoint similarity, and a match is a true positive
at threshold alpha when its similarity is >= alpha. Similarity is ``max(0, 1 - d / 0.5001)`` with d
the distance in GT head sizes (the kit's; ``clip_similarity=False``: ``max(0, 1 - d)``).

:func:`sequence_stats` returns additive statistics (:class:`HotaStats`): counts and the weighted sums
the kit's ``combine_sequences`` adds over sequences; :func:`combine` adds them and :func:`finalize`
is the kit's final computation. Arrays are (19 alphas, 16 columns): the 15 joints, then the kit's
Total column (counts summed over joints, per-sequence scores averaged over joints, as the kit does).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from ..protocols import HotaProtocol, get_protocol
from .assignment import solve
from .posetrack21 import NUM_JOINTS, FrameBatch, LabeledFrames

#: the kit's 19 thresholds (np.arange(0.05, 0.99, 0.05), bit for bit)
ALPHAS = np.arange(0.05, 0.99, 0.05)
EPS = np.finfo(float).eps
#: the kit's slope: a distance of 0.5001 head sizes has similarity 0
KIT_SLOPE = -1 / 0.5001
WEIGHTED = ("AssA", "AssRe", "AssPr", "FragA", "LocA")
COUNT_FIELDS = ("HOTA_TP", "HOTA_FN", "HOTA_FP")
ZERO_COUNT_FIELDS = ("HOTA_TP(0)", "HOTA_FN(0)", "HOTA_FP(0)")


class EmptyLabeledFrame(Exception):
    """A labeled frame without GT people (the official kit fails on it); ``frame`` is its labeled index."""

    def __init__(self, frame: int):
        super().__init__(frame)
        self.frame = frame


class RepeatedTrackId(Exception):
    def __init__(self, frame: int, who: str, track_id: int):
        super().__init__(frame, who, track_id)
        self.frame, self.who, self.track_id = frame, who, track_id


#: the PoseTrack21 kit's conventions (the default of :func:`sequence_stats`)
OFFICIAL = get_protocol("hota", "official")


@dataclass
class HotaStats:
    """Additive statistics, each (19, 16): counts, and each of AssA, AssRe, AssPr, FragA, LocA of the
    sequence times its TP count (the weights of the kit's ``combine_sequences``)."""

    tp: np.ndarray
    fn: np.ndarray
    fp: np.ndarray
    AssA: np.ndarray
    AssRe: np.ndarray
    AssPr: np.ndarray
    FragA: np.ndarray
    LocA: np.ndarray

    @classmethod
    def zeros(cls) -> HotaStats:
        shape = (len(ALPHAS), NUM_JOINTS + 1)
        return cls(**{f.name: np.zeros(shape) for f in fields(cls)})

    def __add__(self, other: HotaStats) -> HotaStats:
        return HotaStats(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})

    def as_json(self) -> dict:
        return {f.name: getattr(self, f.name).tolist() for f in fields(self)}

    @classmethod
    def from_json(cls, data: dict) -> HotaStats:
        return cls(**{f.name: np.asarray(data[f.name], dtype=np.float64) for f in fields(cls)})


def similarity(d: np.ndarray, clip: bool = True) -> np.ndarray:
    """Keypoint similarity of head-normalised distances (``inf`` -> 0)."""
    if clip:
        return np.maximum(KIT_SLOPE * d + 1, 0)
    return np.maximum(1 - d, 0)


def _matches(sim: np.ndarray, batch: FrameBatch) -> tuple[np.ndarray, ...]:
    """(frame, joint, GT person, predicted person, similarity) of every pair with similarity > 0 that the
    kit's Hungarian assignment (scipy's, maximising each joint's summed similarity per frame) keeps.

    ``sim`` is (T, G, P, 15). Where the positive entries of a frame's joint already form a matching, that
    matching is the positive part of every optimum. Otherwise the matrix is solved by
    metrics.assignment (scipy's algorithm, ties broken as scipy breaks them): on the rows and columns
    with a positive entry when no two of its similarities are equal (the optimum is then unique, so it
    is the kit's), else on the frame's whole matrix, as the kit passes it."""
    pos = sim > 0
    simple = (pos.sum(axis=2) <= 1).all(axis=1) & (pos.sum(axis=1) <= 1).all(axis=1)  # (T, 15)
    t, g, p, j = np.nonzero(pos & simple[:, None, None, :])
    ts, js, gs, ps = [t], [j], [g], [p]
    for tk, k in zip(*np.nonzero(~simple)):
        s = sim[tk, :batch.n_gt[tk], :batch.n_pred[tk], k]
        r, c = _solve_joint(s)
        ts.append(np.full(len(r), tk))
        js.append(np.full(len(r), k))
        gs.append(r)
        ps.append(c)
    t, j, g, p = (np.concatenate(a).astype(np.intp) for a in (ts, js, gs, ps))
    return t, j, batch.gt_index[t, g], batch.pred_index[t, p], sim[t, g, p, j]


#: optimum gaps below this are treated as ties (then solved as scipy solves them)
TIE_GAP = 1e-9


def _solve_joint(s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The positive pairs (rows, cols) of scipy's maximum-similarity assignment of one frame's joint.

    Pairs alone in their row and column belong to every optimum. The rest is solved by enumerating its
    assignments when it is small: if the best beats every other by more than ``TIE_GAP``, it is the
    optimum any exact solver returns, scipy's included. Otherwise (a tie, or a larger block) the frame's
    whole matrix is solved by metrics.assignment, which breaks ties as scipy does."""
    quick = _solve_line(s)
    if quick is TIED:
        r, c = solve(-s)
        keep = s[r, c] > 0
        return r[keep], c[keep]
    if quick is not None:
        return quick
    pos = s > 0
    rc, cc = pos.sum(axis=1), pos.sum(axis=0)
    alone = pos & (rc[:, None] == 1) & (cc[None, :] == 1)
    r0, c0 = np.nonzero(alone)
    rows = np.flatnonzero((rc > 0) & ~alone.any(axis=1))
    cols = np.flatnonzero((cc > 0) & ~alone.any(axis=0))
    if len(rows) == 0:
        return r0, c0
    sub = np.where(pos[np.ix_(rows, cols)], s[np.ix_(rows, cols)], 0.0)
    transposed = len(rows) > len(cols)
    if transposed:
        sub = sub.T
    k, m = sub.shape
    if k <= 3 and m <= 8:
        best = _best_injection(sub.tolist(), k, m)
        if best is not None:
            r, c = np.arange(k), np.array(best, dtype=np.intp)
            if transposed:
                r, c = c, r
            keep = s[rows[r], cols[c]] > 0
            return np.concatenate([r0, rows[r[keep]]]), np.concatenate([c0, cols[c[keep]]])
    r, c = solve(-s)
    keep = s[r, c] > 0
    return r[keep], c[keep]


#: what :func:`_solve_line` answers for a row (or column) whose best entries are tied
TIED = object()


def _solve_line(s: np.ndarray):
    """:func:`_solve_joint` in plain Python when, besides pairs alone in their row and column, one row (or
    one column) is left: it takes its best entry if that beats the next by more than ``TIE_GAP`` (else
    ``TIED``). None when the matrix is not of that kind."""
    m = s.tolist()
    pos = [[j for j, v in enumerate(row) if v > 0] for row in m]
    in_col = [0] * s.shape[1]
    for cols in pos:
        for j in cols:
            in_col[j] += 1
    fixed, rest = [], []
    for i, cols in enumerate(pos):
        if len(cols) == 1 and in_col[cols[0]] == 1:
            fixed.append((i, cols[0]))
        elif cols:
            rest.append(i)
    if len(rest) == 1:
        i = rest[0]
        options = sorted(((m[i][j], j) for j in pos[i]), reverse=True)
        if options[0][0] - options[1][0] <= TIE_GAP:
            return TIED
        fixed.append((i, options[0][1]))
    elif rest:
        cols = {j for i in rest for j in pos[i]}
        if len(cols) != 1:
            return None
        j = cols.pop()
        options = sorted(((m[i][j], i) for i in rest), reverse=True)
        if options[0][0] - options[1][0] <= TIE_GAP:
            return TIED
        fixed.append((options[0][1], j))
    fixed.sort()
    return np.array([f[0] for f in fixed], np.intp), np.array([f[1] for f in fixed], np.intp)


def _best_injection(sub: list, k: int, m: int) -> tuple | None:
    """The columns (one per row, distinct) of the k x m block's best assignment, when it beats every other
    matching by more than ``TIE_GAP`` (assignments that differ only in pairs of similarity 0 are the same
    matching); None on a tie."""
    from itertools import permutations

    best, best_total, best_pairs, runner_up = None, -1.0, None, -1.0
    for cols in permutations(range(m), k):
        total = 0.0
        for i, j in enumerate(cols):
            total += sub[i][j]
        pairs = tuple(j if sub[i][j] > 0 else -1 for i, j in enumerate(cols))
        if total > best_total:
            if best_pairs is not None and pairs != best_pairs:
                runner_up = max(runner_up, best_total)
            best, best_total, best_pairs = cols, total, pairs
        elif pairs != best_pairs:
            runner_up = max(runner_up, total)
    if best_total - runner_up <= TIE_GAP:
        return None
    return best


def _frame_counts(frame: np.ndarray, present: np.ndarray, num_frames: int) -> np.ndarray:
    out = np.zeros((num_frames, NUM_JOINTS), dtype=np.int64)
    out[:] = _row_sums(frame, present, num_frames)
    return out


def sequence_stats(fr: LabeledFrames, batch: FrameBatch, protocol: HotaProtocol = OFFICIAL) -> HotaStats:
    """The additive HOTA statistics of one sequence (``batch``: its ``frame_batch``)."""
    A, J = len(ALPHAS), NUM_JOINTS
    T = fr.num_frames
    gp, pp = fr.gt_present, fr.pred_present
    n_gt_t = _frame_counts(fr.gt_frame, gp, T)
    n_pr_t = _frame_counts(fr.pred_frame, pp, T)
    gb, pb = fr.gt_bounds(), fr.pred_bounds()
    has_gt = np.diff(gb) > 0
    has_pr = np.diff(pb) > 0
    _check_unique(fr.gt_frame, fr.gt_id, "GT")
    _check_unique(fr.pred_frame, fr.pred_id, "prediction")
    if protocol.empty_labeled_frame_is_error and not has_gt.all():
        raise EmptyLabeledFrame(int(np.flatnonzero(~has_gt)[0]))

    tp = np.zeros((A, J))
    fn = np.zeros((A, J))
    fp = np.zeros((A, J))
    sums = {name: np.zeros((A, J)) for name in WEIGHTED}
    if len(fr.pred_frame) == 0 or len(fr.gt_frame) == 0:
        # the kit's shortcut for a sequence without predictions (or GT): all joints missed (or false),
        # LocA 1, the rest 0
        fn += n_gt_t.sum(axis=0)
        fp += n_pr_t.sum(axis=0)
        return _weigh(tp, fn, fp, sums, np.zeros((A, J)), loca=np.ones((A, J)))

    # frames with GT and predictions: Hungarian matches; frames with one side only: misses / false positives
    both = has_gt & has_pr
    fn += n_gt_t[both].sum(axis=0)
    fp += n_pr_t[both].sum(axis=0)
    gt_only = has_gt & ~has_pr
    pr_only = ~has_gt & has_pr
    if protocol.whole_sequence_empty_frames:
        fn += gt_only.sum() * n_gt_t.sum(axis=0)
        fp += pr_only.sum() * n_pr_t.sum(axis=0)
    else:
        fn += n_gt_t[gt_only].sum(axis=0)
        fp += n_pr_t[pr_only].sum(axis=0)

    gids, gid = np.unique(fr.gt_id, return_inverse=True)
    pids, pid = np.unique(fr.pred_id, return_inverse=True)
    G, P = len(gids), len(pids)
    gt_count = np.zeros((G, J))
    gt_count[:] = _row_sums(gid, gp, G)
    pr_count = np.zeros((P, J))
    pr_count[:] = _row_sums(pid, pp, P)

    sim = similarity(batch.distances, protocol.clip_similarity)
    ev_t, ev_j, ev_g, ev_p, ev_s = _matches(sim, batch)
    ev_g, ev_p = gid[ev_g], pid[ev_p]
    # events in the kit's order of visiting them (frame, joint, GT row) for the fragment runs
    order = np.lexsort((ev_t, ev_g, ev_j))
    ev_t, ev_j, ev_g, ev_p, ev_s = ev_t[order], ev_j[order], ev_g[order], ev_p[order], ev_s[order]
    # a match is a true positive at the thresholds alpha with alpha - eps <= similarity: the first k of them
    k = np.searchsorted(ALPHAS - EPS, ev_s, side="right")
    tp[:] = _passing(ev_j, k, J).T
    loc = _passing(ev_j, k, J, weights=ev_s).T
    if len(ev_j):
        key = (ev_g * P + ev_p) * J + ev_j
        pair, pair_of = np.unique(key, return_inverse=True)
        pg, pp_, pj = pair // J // P, pair // J % P, pair % J
        mc = _passing(pair_of, k, len(pair))  # (pairs, alphas): matches of each pair of tracks
        gc, pc = gt_count[pg, pj][:, None], pr_count[pp_, pj][:, None]
        denom = np.maximum(1, gc + pc - mc)
        for name, d in (("AssA", denom), ("AssRe", np.maximum(1, gc)), ("AssPr", np.maximum(1, pc))):
            acc = np.zeros((J, A))
            acc[:] = _row_sums(pj, mc * (mc / d), J)
            sums[name] = acc.T
        # fragments: runs of consecutive matches of a GT joint track to the same predicted track, at every
        # threshold at once (the matches passing threshold a, in order, then those passing a + 1, ...)
        a, e = np.nonzero(k[None, :] > np.arange(A)[:, None])  # (threshold, match) pairs, by threshold then match
        j, g, p = ev_j[e], ev_g[e], ev_p[e]
        new = np.ones(len(e), dtype=bool)
        new[1:] = (a[1:] != a[:-1]) | (j[1:] != j[:-1]) | (g[1:] != g[:-1]) | (p[1:] != p[:-1])
        length = np.bincount(np.cumsum(new) - 1).astype(np.float64)
        run_pair, run_a = pair_of[e[new]], a[new]
        frag = length * (length / denom[run_pair, run_a])
        sums["FragA"] = np.bincount(run_a * J + pj[run_pair], weights=frag, minlength=A * J).reshape(A, J)
    fn -= tp
    fp -= tp
    return _weigh(tp, fn, fp, sums, loc)


def _passing(rows: np.ndarray, k: np.ndarray, n: int, weights: np.ndarray | None = None) -> np.ndarray:
    """(n, 19): per row, how many (or what weight) of its matches pass each threshold, a match passing
    the first ``k`` thresholds."""
    hist = np.zeros((n, len(ALPHAS) + 1))
    width = len(ALPHAS) + 1
    hist[:] = np.bincount(rows * width + k, weights=weights, minlength=n * width).reshape(n, width)
    return np.cumsum(hist[:, ::-1], axis=1)[:, ::-1][:, 1:]


def _row_sums(rows: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """(n, C): the sum of the (N, C) ``values`` rows per row index (rows in [0, n)), column by column."""
    v = np.asarray(values, dtype=np.float64)
    C = v.shape[1]
    return np.bincount((rows[:, None] * C + np.arange(C)).ravel(), weights=v.ravel(), minlength=n * C).reshape(n, C)


def _check_unique(frame: np.ndarray, ids: np.ndarray, who: str) -> None:
    if len(ids) < 2:
        return
    order = np.lexsort((ids, frame))
    same = (np.diff(frame[order]) == 0) & (np.diff(ids[order]) == 0)
    if same.any():
        k = order[np.flatnonzero(same)[0] + 1]
        raise RepeatedTrackId(int(frame[k]), who, int(ids[k]))


def _weigh(tp, fn, fp, sums, loc, loca=None) -> HotaStats:
    """The sequence's scores as the kit computes them (per joint, then their mean as the Total column),
    times its TP counts: the sums ``combine_sequences`` adds."""
    div = np.maximum(1, tp)
    per_seq = {name: sums[name] / div for name in ("AssA", "AssRe", "AssPr", "FragA")}
    per_seq["LocA"] = loca if loca is not None else np.maximum(1e-10, loc) / np.maximum(1e-10, tp)
    tp16 = _with_total(tp, np.sum)
    out = {name: _with_total(v, np.mean) * tp16 for name, v in per_seq.items()}
    return HotaStats(tp=tp16, fn=_with_total(fn, np.sum), fp=_with_total(fp, np.sum), **out)


def _with_total(v: np.ndarray, how) -> np.ndarray:
    return np.append(v, how(v, axis=1, keepdims=True), axis=1)


def combine(stats: list[HotaStats]) -> HotaStats:
    """Sum of per-sequence statistics, added in the given order."""
    total = HotaStats.zeros()
    for s in stats:
        total = total + s
    return total


def finalize(stats: HotaStats) -> dict[str, np.ndarray]:
    """Every field of the kit's combined result: (19, 16) arrays (fractions) for the per-alpha fields,
    (16,) for the ``(0)`` fields (alpha = 0.05)."""
    tp, fn, fp = stats.tp, stats.fn, stats.fp
    div = np.maximum(1.0, tp)
    res = {name: getattr(stats, name) / div for name in ("AssA", "AssRe", "AssPr", "FragA")}
    res["LocA"] = np.maximum(1e-10, stats.LocA) / np.maximum(1e-10, tp)
    res["DetRe"] = tp / np.maximum(1, tp + fn)
    res["DetPr"] = tp / np.maximum(1, tp + fp)
    res["DetA"] = tp / np.maximum(1, tp + fn + fp)
    res["HOTA"] = np.sqrt(res["DetA"] * res["AssA"])
    res["RHOTA"] = np.sqrt(res["DetRe"] * res["AssA"])
    frag = np.sqrt(res["AssA"] * res["FragA"])
    res["FA-HOTA"] = np.sqrt(res["DetA"] * frag)
    res["FA-RHOTA"] = np.sqrt(res["DetRe"] * frag)
    res["HOTA_TP"], res["HOTA_FN"], res["HOTA_FP"] = tp, fn, fp
    res["HOTA(0)"] = res["HOTA"][0]
    res["LocA(0)"] = res["LocA"][0]
    res["HOTALocA(0)"] = res["HOTA(0)"] * res["LocA(0)"]
    res["HOTA_TP(0)"], res["HOTA_FN(0)"], res["HOTA_FP(0)"] = tp[0], fn[0], fp[0]
    return res
