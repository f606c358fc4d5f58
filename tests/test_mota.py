"""CLEAR-MOT accumulator: hand-derived cases, motmetrics' published vector, and parity with motmetrics 1.4."""

from __future__ import annotations

import numpy as np
import pytest

from poseval_refine.metrics.mota import (
    MotStats,
    accumulate_sequence,
    accumulate_sequences,
    expensive_edges,
    finalize_mot,
)

NAN = np.nan
COUNTS = ("num_objects", "num_matches", "num_switches", "num_misses", "num_false_positives")


def one_joint(*frames):
    """Frames of (gt_ids, hyp_ids, {(o, h): d}) for K = 1, every id present, unlisted pairs NaN."""
    out = []
    for gt, hyp, pairs in frames:
        d = np.full((1, len(gt), len(hyp)), NAN)
        for (o, h), v in pairs.items():
            d[0, gt.index(o), hyp.index(h)] = v
        out.append((np.array(gt, np.int64), np.array(hyp, np.int64), d,
                    np.ones((1, len(gt)), bool), np.ones((1, len(hyp)), bool)))
    return out


def counts(s: MotStats, k: int = 0) -> tuple:
    return tuple(int(getattr(s, f)[k]) for f in COUNTS)


# ---------------------------------------------------------------- motmetrics' own test vector


def test_motmetrics_published_vector():
    """motmetrics tests/test_metrics.py::test_mota_motp (docs/protocol.md §6.1)."""
    frames = one_joint(
        ([], [1, 2], {}),  # FP only
        ([1, 2], [], {}),  # miss only
        ([1, 2], [1, 2], {(1, 1): 1, (1, 2): .5, (2, 1): .3, (2, 2): 1}),  # match 1-2, 2-1
        ([1, 2], [1, 2], {(1, 1): .2, (2, 2): .1}),  # both switch
        ([1, 2], [1, 2], {(1, 1): 5, (1, 2): 1, (2, 1): 1, (2, 2): 5}),  # history beats cost
        ([], [], {}),
    )
    s = accumulate_sequence(frames, 1)
    # objects, matches, switches, misses, FPs
    assert counts(s) == (8, 4, 2, 2, 2)
    assert s.num_detections[0] == 6
    np.testing.assert_allclose(s.sum_d_matched[0] / 6, 11.1 / 6, rtol=0, atol=1e-12)
    m = finalize_mot(s, "clear")
    np.testing.assert_allclose(m["mota"], [25.0], atol=1e-12)
    np.testing.assert_allclose(m["motp"], [100 * (1 - 11.1 / 6)], atol=1e-12)
    np.testing.assert_allclose(m["precision"], [75.0])
    np.testing.assert_allclose(m["recall"], [75.0])
    # RAW: every finite entry; extra: frame 4 is two SWITCH+TRANSFER pairs (no ASCEND: both
    # hypotheses were paired in frame 3; no MIGRATE: both objects were paired).
    np.testing.assert_allclose(s.sum_d_raw[0], 2.8 + 0.3 + 12.0, atol=1e-12)
    np.testing.assert_allclose(s.sum_d_extra[0], 0.2 + 0.1, atol=1e-12)
    np.testing.assert_allclose(finalize_mot(s)["motp"], [100 * (1 - 26.5 / 6)], atol=1e-12)


# ---------------------------------------------------------------- hand-derived cases


def test_identity_switch_with_transfers():
    frames = one_joint(
        ([1, 2], [1, 2], {(1, 1): .1, (2, 2): .2}),
        ([1, 2], [1, 2], {(1, 2): .15, (2, 1): .25}),  # the tracker swapped the identities
    )
    s = accumulate_sequence(frames, 1)
    assert counts(s) == (4, 2, 2, 0, 0)
    np.testing.assert_allclose(s.sum_d_matched[0], .1 + .2 + .15 + .25)
    # both pairs: SWITCH + TRANSFER (each hypothesis was last assigned to the other object)
    np.testing.assert_allclose(s.sum_d_extra[0], .15 + .25)
    np.testing.assert_allclose(finalize_mot(s)["mota"], [50.0])


def test_prefer_history_over_cheaper_pair():
    frames = one_joint(
        ([1], [1], {(1, 1): .3}),
        ([1], [1, 2], {(1, 1): .4, (1, 2): .01}),  # h2 is much closer, o1 keeps h1
    )
    s = accumulate_sequence(frames, 1)
    assert counts(s) == (2, 2, 0, 0, 1)
    np.testing.assert_allclose(s.sum_d_matched[0], .7)
    np.testing.assert_allclose(s.sum_d_raw[0], .3 + .4 + .01)
    assert s.sum_d_extra[0] == 0


# distances of the two-object case below
PAIRS = {(1, 1): .3, (1, 2): .05, (2, 1): .01, (2, 2): .4}


@pytest.mark.parametrize("order, matched, extra", [
    # o1 comes first, keeps h1 (.3); o2 gets h2 (.4): SWITCH + ASCEND (h2 never paired)
    ([1, 2], .1 + .2 + .3 + .4, .2 + .2 + .4),
    # o2 comes first, keeps h1 (.01); o1 gets h2 (.05): SWITCH + ASCEND
    ([2, 1], .1 + .2 + .01 + .05, .2 + .2 + .05),
])
def test_two_objects_wanting_one_hypothesis_first_listed_wins(order, matched, extra):
    """f0 pairs o1-h1; f1 (o1 absent) assigns h1 to o2, new: TRANSFER and MIGRATE, .2 each."""
    frames = one_joint(
        ([1], [1], {(1, 1): .1}),
        ([2], [1], {(2, 1): .2}),
        (order, [1, 2], PAIRS),
    )
    s = accumulate_sequence(frames, 1)
    assert counts(s) == (4, 3, 1, 0, 0)
    np.testing.assert_allclose(s.sum_d_matched[0], matched, atol=1e-12)
    np.testing.assert_allclose(s.sum_d_extra[0], extra, atol=1e-12)
    np.testing.assert_allclose(s.sum_d_raw[0], .1 + .2 + sum(PAIRS.values()), atol=1e-12)


def test_transfer_without_migrate_and_history_pairs_raise_nothing():
    frames = one_joint(
        ([1, 2], [1, 2], {(1, 1): .1, (2, 2): .2}),
        ([2], [1], {(2, 1): .3}),  # SWITCH (o2 had h2) + TRANSFER (h1 was o1's); no ASCEND/MIGRATE
        ([1], [1], {(1, 1): .05}),  # o1 re-takes h1 through history: a MATCH, no TRANSFER
        ([2], [1], {(2, 1): .07}),  # o2's last hypothesis is h1: history MATCH again
    )
    s = accumulate_sequence(frames, 1)
    assert counts(s) == (5, 4, 1, 0, 0)
    np.testing.assert_allclose(s.sum_d_extra[0], .3)
    np.testing.assert_allclose(s.sum_d_matched[0], .1 + .2 + .3 + .05 + .07)


def test_ascend_and_migrate_together_count_each_distance():
    frames = one_joint(
        ([1], [1], {(1, 1): .1}),
        ([2], [1], {(2, 1): .2}),  # TRANSFER + MIGRATE: .2 twice
        ([1], [2], {(1, 2): .3}),  # o1 had h1: SWITCH; h2 never paired: ASCEND; h2 not assigned: no TRANSFER
    )
    s = accumulate_sequence(frames, 1)
    assert counts(s) == (3, 2, 1, 0, 0)
    np.testing.assert_allclose(s.sum_d_extra[0], .2 + .2 + .3)
    m = finalize_mot(s)
    np.testing.assert_allclose(m["motp"], [100 * (1 - (.6 + .6 + .7) / 3)])
    np.testing.assert_allclose(finalize_mot(s, "poseval-mm1.1")["motp"], [100 * (1 - 1.2 / 3)])
    np.testing.assert_allclose(finalize_mot(s, "clear")["motp"], [100 * (1 - .6 / 3)])


def test_empty_frames_and_state_across_them():
    K = 2
    frames = [
        (np.array([7]), np.array([3]), np.array([[[.1]], [[.2]]]), np.ones((K, 1), bool), np.ones((K, 1), bool)),
        # no hypotheses: every object a miss
        (np.array([7, 8]), np.zeros(0, np.int64), np.zeros((K, 2, 0)), np.ones((K, 2), bool), np.zeros((K, 0), bool)),
        # no objects: every hypothesis an FP
        (np.zeros(0, np.int64), np.array([3, 4, 5]), np.zeros((K, 0, 3)), np.zeros((K, 0), bool),
         np.ones((K, 3), bool)),
        # nothing at all
        (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros((K, 0, 0)), np.zeros((K, 0), bool),
         np.zeros((K, 0), bool)),
        # o7 still remembers h3 and keeps it although h4 is closer; joint 1 lacks h3 here
        (np.array([7]), np.array([3, 4]), np.array([[[.4, .01]], [[.4, .01]]]), np.ones((K, 1), bool),
         np.array([[True, True], [False, True]])),
    ]
    s = accumulate_sequence(frames, K)
    assert counts(s, 0) == (4, 2, 0, 2, 4)
    assert counts(s, 1) == (4, 1, 1, 2, 3)  # joint 1: o7 - h4 is a SWITCH
    np.testing.assert_allclose(s.sum_d_matched, [.1 + .4, .2 + .01])
    np.testing.assert_allclose(s.sum_d_raw, [.1 + .4 + .01, .2 + .01])
    np.testing.assert_allclose(s.sum_d_extra, [0, .01])  # ASCEND: h4 never paired
    assert counts(accumulate_sequence([], K)) == (0, 0, 0, 0, 0)


def test_all_nan_frame_is_misses_and_false_positives():
    frames = one_joint(([1, 2], [1, 2, 3], {}))
    assert counts(accumulate_sequence(frames, 1)) == (2, 0, 0, 2, 3)


def test_solver_gives_maximum_cardinality_before_minimum_cost():
    # min-sum alone would take o1-h1 (.01) and leave o2 alone; motmetrics pairs both
    frames = one_joint(([1, 2], [1, 2], {(1, 1): .01, (1, 2): .3, (2, 1): .4}))
    s = accumulate_sequence(frames, 1)
    assert counts(s) == (2, 2, 0, 0, 0)
    np.testing.assert_allclose(s.sum_d_matched[0], .7)
    c = expensive_edges(np.array([[.01, .3], [.4, NAN]]))
    np.testing.assert_allclose(c[1, 1], 2 * 2 * (.4 + 1) + 1)


def test_repeated_gt_id_within_a_frame_is_sequential():
    frames = one_joint(
        ([1], [1], {(1, 1): .1}),
        # GT id 1 twice: the first row keeps h1 through history, the second then gets h2, a
        # SWITCH of the same object (motmetrics sees its own write from the first row) + ASCEND
        ([1, 1], [1, 2], {}),
    )
    frames[1][2][0] = [[.2, .3], [.4, .5]]
    s = accumulate_sequence(frames, 1)
    assert counts(s) == (3, 2, 1, 0, 0)
    np.testing.assert_allclose(s.sum_d_matched[0], .1 + .2 + .5)
    np.testing.assert_allclose(s.sum_d_extra[0], .5)


def test_repeated_new_gt_id_paired_twice_raises_like_motmetrics_crashes():
    frames = one_joint(([1, 1], [1, 2], {}))
    frames[0][2][0] = [[.2, .3], [.4, .5]]
    with pytest.raises(ValueError, match="frame 0, joint 0.*unique"):
        accumulate_sequence(frames, 1)


def test_bad_shapes_name_the_frame():
    good = one_joint(([1], [1], {(1, 1): .1}))[0]
    bad = (good[0], good[1], good[2].reshape(1, 1, 1, 1), good[3], good[4])
    with pytest.raises(ValueError, match=r"frame 1: dist has shape \(1, 1, 1, 1\), expected \(1, 1, 1\)"):
        accumulate_sequence([good, bad], 1)
    with pytest.raises(ValueError, match="frame 0: gt_has"):
        accumulate_sequence([(good[0], good[1], good[2], np.ones((2, 1), bool), good[4])], 1)


# ---------------------------------------------------------------- stats and finalize


def test_stats_merge_and_add_counts():
    a = MotStats.zeros(3)
    a.add_counts(objects=2, misses=1, false_positives=np.array([0, 1, 2]))
    b = MotStats.zeros(3)
    b.num_matches += 1
    b.sum_d_raw += .5
    m = a.merge(b)
    assert m.num_objects.tolist() == [2, 2, 2] and m.num_false_positives.tolist() == [0, 1, 2]
    assert m.num_matches.tolist() == [1, 1, 1] and m.sum_d_raw.tolist() == [.5] * 3
    assert m.num_objects.dtype == np.int64 and m.sum_d_raw.dtype == np.float64
    assert a.num_matches.tolist() == [0, 0, 0]  # merge does not alias


def test_finalize_edge_cases():
    s = MotStats.zeros(3)
    # joint 0: nothing at all; joint 1: only FPs; joint 2: 4 objects, 1 match, 1 switch, 2 misses, 1 FP
    s.num_false_positives[:] = [0, 5, 1]
    s.num_objects[2], s.num_matches[2], s.num_switches[2], s.num_misses[2] = 4, 1, 1, 2
    s.sum_d_matched[2], s.sum_d_raw[2], s.sum_d_extra[2] = .2, .3, .1
    m = finalize_mot(s)
    assert np.isnan(m["mota"][:2]).all() and np.isnan(m["recall"][:2]).all()
    assert m["motp"][:2].tolist() == [0.0, 0.0]  # poseval: 0, not NaN, when nothing is detected
    assert np.isnan(m["precision"][0]) and m["precision"][1] == 0.0
    np.testing.assert_allclose(m["mota"][2], 100 * (1 - 4 / 4))
    np.testing.assert_allclose(m["motp"][2], 100 * (1 - .6 / 2))
    np.testing.assert_allclose(finalize_mot(s, "poseval-mm1.1")["motp"][2], 100 * (1 - .5 / 2))
    np.testing.assert_allclose(finalize_mot(s, "clear")["motp"][2], 100 * (1 - .2 / 2))
    np.testing.assert_allclose(m["precision"][2], 100 * 2 / 3)
    np.testing.assert_allclose(m["recall"][2], 50.0)
    with pytest.raises(ValueError, match="unknown MOTP mode"):
        finalize_mot(s, "mm1.3")


# ---------------------------------------------------------------- parity with motmetrics 1.4.0


def random_sequence(rng, K, T, max_people=5, repeat_ids=False, p_inf=0.0):
    frames = []
    pool_g, pool_h = max_people + 2, max_people + 4  # small pools: ids recur, vanish and come back
    dense = rng.random() < 0.3  # mostly-finite matrices make the solver do real work
    for _ in range(T):
        G, H = rng.integers(0, max_people + 1, 2)
        gt = rng.choice(pool_g, G, replace=repeat_ids)
        hyp = rng.choice(pool_h, H, replace=False)
        d = rng.random((K, G, H)) * (0.55 if dense else 1.0)
        d[d > 0.5] = NAN
        d[rng.random(d.shape) < p_inf] = np.inf
        frames.append((gt, hyp, d, rng.random((K, G)) < 0.85, rng.random((K, H)) < 0.85))
    return frames


def motmetrics_oracle(frames, K):
    mm = pytest.importorskip("motmetrics")
    rows = []
    for k in range(K):
        acc = mm.MOTAccumulator(auto_id=True)
        for gt, hyp, d, gh, hh in frames:
            acc.update(gt[gh[k]], hyp[hh[k]], d[k][np.ix_(gh[k], hh[k])])
        ev = acc.events
        t = ev["Type"].astype(str).to_numpy()
        D = np.nan_to_num(ev["D"].to_numpy(np.float64), nan=0.0)
        clear = D[np.isin(t, ["MATCH", "SWITCH"])].sum()
        rows.append([(t == "MATCH").sum() + (t == "SWITCH").sum() + (t == "MISS").sum(), (t == "MATCH").sum(),
                     (t == "SWITCH").sum(), (t == "MISS").sum(), (t == "FP").sum(),
                     clear, clear + D[t == "RAW"].sum(), ev["D"].sum()])
    return np.array(rows, np.float64)


def ours(s: MotStats):
    return np.column_stack([getattr(s, f) for f in COUNTS] + [
        s.sum_d_matched, s.sum_d_matched + s.sum_d_raw, s.sum_d_matched + s.sum_d_raw + s.sum_d_extra])


@pytest.mark.parametrize("seed", range(6))
def test_random_sequences_match_motmetrics(seed):
    rng = np.random.default_rng(seed)
    K = 3
    seqs = [random_sequence(rng, K, int(rng.integers(1, 14)), p_inf=0.05 * (seed % 2)) for _ in range(20)]
    batched = accumulate_sequences(seqs, K)
    for frames, together in zip(seqs, batched):
        s = accumulate_sequence(frames, K)
        np.testing.assert_allclose(ours(s), motmetrics_oracle(frames, K), rtol=0, atol=1e-9)
        np.testing.assert_allclose(ours(together), ours(s), rtol=0, atol=1e-12)  # padding: summation order


def test_random_sequences_with_repeated_gt_ids_match_motmetrics():
    rng = np.random.default_rng(100)
    compared = crashed = 0
    for _ in range(60):
        frames = random_sequence(rng, 2, 8, max_people=4, repeat_ids=True)
        try:
            expected = motmetrics_oracle(frames, 2)
        except KeyError:  # motmetrics crashes; prt must refuse rather than invent numbers
            with pytest.raises(ValueError, match="unique"):
                accumulate_sequence(frames, 2)
            crashed += 1
            continue
        np.testing.assert_allclose(ours(accumulate_sequence(frames, 2)), expected, rtol=0, atol=1e-9)
        compared += 1
    assert compared >= 20 and crashed >= 5
