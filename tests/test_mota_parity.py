"""The vectorized CLEAR-MOT accumulator against motmetrics itself (the test-time oracle)."""

from __future__ import annotations

import numpy as np
import pytest

from poseval_refine.metrics.mota import MotStats, accumulate_sequence, finalize_mot

mm = pytest.importorskip("motmetrics")


def _random_sequence(rng, K, T, max_people=6):
    frames = []
    for _ in range(T):
        G, H = rng.integers(0, max_people + 1), rng.integers(0, max_people + 1)
        gt = rng.choice(max_people + 1, G, replace=False)
        hyp = rng.choice(max_people + 3, H, replace=False)
        d = rng.random((K, G, H)) * 0.6
        d[d > 0.5] = np.nan
        frames.append((gt, hyp, d, rng.random((K, G)) < 0.8, rng.random((K, H)) < 0.8))
    return frames


def _oracle(frames, K):
    rows = []
    for k in range(K):
        acc = mm.MOTAccumulator(auto_id=True)
        for gt, hyp, d, gh, hh in frames:
            acc.update(gt[gh[k]], hyp[hh[k]], d[k][np.ix_(gh[k], hh[k])])
        s = mm.metrics.create().compute(acc, metrics=["num_objects", "num_matches", "num_switches", "num_misses",
                                                      "num_false_positives"], return_dataframe=False)
        ev, me = acc.events, acc.mot_events
        d_match = np.nansum(me[me.Type.isin(["MATCH", "SWITCH"])]["D"].values)
        d_raw = np.nansum(ev[ev.Type == "RAW"]["D"].values)
        d_all = np.nansum(ev["D"].values)  # what poseval sums for MOTP with motmetrics >= 1.2
        rows.append([s["num_objects"], s["num_matches"], s["num_switches"], s["num_misses"],
                     s["num_false_positives"], d_match, d_raw, d_all])
    return np.array(rows, float)


def _ours(frames, K):
    s = accumulate_sequence(frames, K)
    return np.column_stack([s.num_objects, s.num_matches, s.num_switches, s.num_misses, s.num_false_positives,
                            s.sum_d_matched, s.sum_d_raw, s.sum_d_matched + s.sum_d_raw + s.sum_d_extra])


@pytest.mark.parametrize("seed", range(4))
def test_random_sequences_match_motmetrics(seed):
    rng = np.random.default_rng(seed)
    for _ in range(25):
        frames = _random_sequence(rng, K=3, T=10)
        np.testing.assert_allclose(_ours(frames, 3), _oracle(frames, 3), rtol=0, atol=1e-9)


@pytest.mark.parametrize("seed", range(3))
def test_equal_cost_ties_break_as_motmetrics(seed):
    """Distances from {0.1, 0.2, 0.3}: many equal-cost assignments, so MATCH/SWITCH/TRANSFER counts and the
    MOTP sums only agree when the solver breaks ties exactly as motmetrics' scipy path does."""
    rng = np.random.default_rng(100 + seed)
    K = 3
    frames = _random_sequence(rng, K, 40)
    for f in frames:
        d = f[2]
        d[~np.isnan(d)] = rng.choice([0.1, 0.2, 0.3], int((~np.isnan(d)).sum()))
    np.testing.assert_allclose(_ours(frames, K), _oracle(frames, K), rtol=0, atol=1e-12)


def test_motmetrics_published_vector():
    """motmetrics tests/test_metrics.py::test_mota_motp, one joint."""
    nan = np.nan
    frames = [
        (np.array([]), np.array([1, 2]), np.zeros((1, 0, 2))),
        (np.array([1, 2]), np.array([]), np.zeros((1, 2, 0))),
        (np.array([1, 2]), np.array([1, 2]), np.array([[[1, 0.5], [0.3, 1]]])),
        (np.array([1, 2]), np.array([1, 2]), np.array([[[0.2, nan], [nan, 0.1]]])),
        (np.array([1, 2]), np.array([1, 2]), np.array([[[5, 1], [1, 5]]])),
        (np.array([]), np.array([]), np.zeros((1, 0, 0))),
    ]
    frames = [(g.astype(int), h.astype(int), d, np.ones((1, len(g)), bool), np.ones((1, len(h)), bool))
              for g, h, d in frames]
    s = accumulate_sequence(frames, 1)
    assert (s.num_matches[0], s.num_false_positives[0], s.num_misses[0], s.num_switches[0]) == (4, 2, 2, 2)
    assert s.num_objects[0] == 8 and s.num_detections[0] == 6
    np.testing.assert_allclose(s.sum_d_matched[0] / s.num_detections[0], 11.1 / 6)
    m = finalize_mot(s, "clear")
    np.testing.assert_allclose(m["mota"], [25.0])


def test_prefer_history_transfer_and_migrate_by_hand():
    """o1 matched to h1; h1 then goes to o2 while o1 is absent: TRANSFER + MIGRATE (o2 never matched)."""
    f0 = (np.array([1]), np.array([1]), np.array([[[0.1]]]))
    f1 = (np.array([2]), np.array([1]), np.array([[[0.2]]]))  # h1 last assigned to o1: transfer; o2 new: migrate
    f2 = (np.array([1, 2]), np.array([1, 2]), np.array([[[0.3, 0.05], [0.01, 0.4]]]))
    frames = [(g, h, d, np.ones((1, len(g)), bool), np.ones((1, len(h)), bool)) for g, h, d in (f0, f1, f2)]
    s = accumulate_sequence(frames, 1)
    # f2: o1 comes first and keeps its last hypothesis h1 (0.3, though o2-h1 costs 0.01): prefer
    # history; o2 then gets h2: a SWITCH (o2 had h1) whose h2 was never matched: ASCEND
    assert s.num_switches[0] == 1 and s.num_matches[0] == 3
    # extra D: f1 transfer 0.2 + migrate 0.2; f2 ascend 0.4
    np.testing.assert_allclose(s.sum_d_extra[0], 0.2 + 0.2 + 0.4)
    np.testing.assert_allclose(s.sum_d_matched[0], 0.1 + 0.2 + 0.3 + 0.4)
    np.testing.assert_allclose(s.sum_d_raw[0], 0.1 + 0.2 + 0.3 + 0.05 + 0.01 + 0.4)


def test_stats_merge_is_additive():
    rng = np.random.default_rng(11)
    a, b = (accumulate_sequence(_random_sequence(rng, 2, 6), 2) for _ in range(2))
    m = a.merge(b)
    for f in ("num_objects", "num_matches", "sum_d_raw"):
        np.testing.assert_array_equal(getattr(m, f), getattr(a, f) + getattr(b, f))
    z = MotStats.zeros(2)
    z.add_counts(objects=1, misses=1, false_positives=1)
    assert z.num_objects.tolist() == [1, 1]
