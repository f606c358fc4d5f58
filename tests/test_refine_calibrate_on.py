"""Calibration on the user's labeled frames (`prt refine --calibrate-on GT`): the choice on constructed
cases where the answer is known, and the written rules agree with what the choice scored."""

from __future__ import annotations

import numpy as np

from poseval_refine.poses import PoseSequence
from poseval_refine.refiner.calibrate import GRID, MIN_MOVES
from poseval_refine.refiner.infer import KeepRules, PersonJob, RefinedPeople, RefineOptions, RefineStats, apply_refined
from poseval_refine.refiner.labeled import (
    LabeledPeople,
    centre_distances,
    choose_on_labeled,
    paired_interval,
    written_positions,
)
from poseval_refine.skeletons import POSETRACK15

HS = 10.0  # every person's head size (px)


def _people(n: int, rng: np.random.Generator) -> np.ndarray:
    """n distinct GT poses (n, 15, 2), about 8 head sizes tall."""
    base = rng.uniform(0, 80, (15, 2))
    return base[None] + rng.uniform(-3, 3, (n, 15, 2)) + 200 * np.arange(n)[:, None, None]


def _case(gt: np.ndarray, inp: np.ndarray, refined_xy: np.ndarray, conf: np.ndarray):
    n = len(gt)
    jobs = [PersonJob("s", i, np.zeros((4, 4, 3), np.uint8), inp[i]) for i in range(n)]
    refined = np.concatenate([refined_xy, conf[..., None]], -1)
    people = RefinedPeople(["s"], jobs, refined, np.ones((n, 15), bool), np.full(n, HS))
    labeled = LabeledPeople(np.arange(n), gt, np.full(n, HS), ["f"], n)
    return people, labeled


def _pckh(pos, gt):
    d = np.hypot(*(pos - gt).transpose(2, 0, 1)) / HS
    return 100.0 * (np.nan_to_num(d, nan=np.inf) <= 0.5).sum() / np.isfinite(gt).all(-1).sum()


def test_move_nothing_when_refinement_only_harms():
    rng = np.random.default_rng(1)
    gt = _people(30, rng)
    inp = gt + rng.normal(0, 0.1 * HS, gt.shape)  # a good estimator: every joint within 0.5 head sizes
    bad = inp + np.array([0.8 * HS, 0.0])  # the refiner moves every joint 0.8 head sizes off, confidently
    people, labeled = _case(gt, inp, bad, np.full((30, 15), 0.95))
    rules, report = choose_on_labeled(people, labeled, RefineOptions(), KeepRules(keep_below=0.0, min_move=0.0))
    assert rules.move_nothing and rules.source == "calibrate-on"
    assert report["pckh_input"] == report["pckh_chosen"] == _pckh(inp, gt) == 100.0
    assert report["pckh_move_every_joint"] == _pckh(bad, gt) == 0.0
    assert report["interval_vs_input"] == [0.0, 0.0] and not report["held_out"]
    # min-move 1.0 would keep every joint too, but ties go to moving nothing
    assert report["pckh_best_moving"] == 100.0 and not report["rejected_as_noise"]


def test_chooses_the_rules_that_help_where_they_help():
    rng = np.random.default_rng(2)
    gt = _people(30, rng)
    inp = gt.copy()
    far = rng.random((30, 15)) < 0.5  # half the joints displaced by 3 head sizes: misses
    inp[far] += np.array([3 * HS, 0.0])
    ref = gt.copy()
    ref[~far] += np.array([0.6 * HS, 0.0])  # the refiner spoils the right joints (a 0.6 head size move) ...
    conf = np.where(far, 0.9, 0.3)  # ... but is unsure about them
    people, labeled = _case(gt, inp, ref, conf)
    rules, report = choose_on_labeled(people, labeled, RefineOptions(), KeepRules())
    # independent expectation: the first pair, in the grid's order (keep-below, then min-move, ascending),
    # whose rule keeps exactly the right joints: min-move 0.75 (0.6 < 0.75 < 3) at keep-below 0
    expected = next((c, r) for c in GRID for r in MIN_MOVES
                    if (c > 0.3 and c <= 0.9) or (r > 0.6 and r <= 3.0))
    assert (rules.keep_below, rules.min_move, rules.move_nothing) == (*expected, False) == (0.0, 0.75, False)
    assert report["pckh_chosen"] == 100.0
    assert report["pckh_input"] == _pckh(inp, gt) < 60
    assert report["pckh_move_every_joint"] == _pckh(ref, gt) < 60
    lo, hi = report["interval_vs_input"]
    assert 0 < lo <= 100 - report["pckh_input"] <= hi


def test_a_gain_within_noise_moves_nothing():
    rng = np.random.default_rng(3)
    gt = _people(40, rng)
    inp = gt.copy()
    inp[0, 5] += np.array([2 * HS, 0.0])  # one joint of one person is wrong; the refiner fixes only it
    ref = inp.copy()
    ref[0, 5] = gt[0, 5]
    people, labeled = _case(gt, inp, ref, np.full((40, 15), 0.9))
    rules, report = choose_on_labeled(people, labeled, RefineOptions(), KeepRules())
    assert report["pckh_best_moving"] > report["pckh_input"]
    # person 0 is left out of a resample with probability (39/40)^40 = 0.36 > 2.5 %: the lower bound is 0
    assert report["best_interval_vs_move_nothing"][0] == 0.0 and report["rejected_as_noise"]
    assert rules.move_nothing


def test_paired_interval_resamples_people():
    after = np.array([10.0, 10.0, 5.0])
    before = np.array([5.0, 10.0, 5.0])
    ann = np.array([10.0, 10.0, 10.0])
    lo, hi = paired_interval(after, before, ann)
    # gains per resample lie between 0 (person 0 never drawn) and 50 points (drawn 3 times)
    assert 0.0 <= lo < 100 * 5 / 30 < hi <= 50.0
    assert paired_interval(before, before, ann) == (0.0, 0.0)


def test_written_positions_are_what_apply_refined_writes():
    rng = np.random.default_rng(4)
    n = 6
    gt = _people(n, rng)
    kp = np.concatenate([gt + rng.normal(0, 3, gt.shape), rng.uniform(0, 1, (n, 15, 1))], -1)
    kp[rng.random((n, 15)) < 0.2, :2] = np.nan  # missing joints
    seq = PoseSequence(name="s", skeleton=POSETRACK15, image_names=["a.jpg"], person_frame=np.zeros(n, int),
                       keypoints=kp)
    refined = np.concatenate([gt + rng.normal(0, 5, gt.shape), rng.uniform(0, 1, (n, 15, 1))], -1)
    seen = rng.random((n, 15)) < 0.9
    head = np.full(n, HS)
    for rules in (KeepRules(move_nothing=True), KeepRules(0.5, 0.0), KeepRules(0.0, 0.5), KeepRules(0.3, 0.25)):
        for opts in (RefineOptions(), RefineOptions(recover_missing=False), RefineOptions(min_score=0.4)):
            out = apply_refined(seq, list(range(n)), refined, seen, head, opts, rules.keep_below, rules.min_move,
                                RefineStats(), move_nothing=rules.move_nothing)
            mine = written_positions(kp[..., :2], refined, seen, head, rules, opts)
            np.testing.assert_array_equal(out.keypoints[..., :2], mine)


def test_pairing_goes_by_where_the_person_is():
    g = np.zeros((2, 15, 2))
    g[0] = np.linspace(0, 80, 30).reshape(15, 2)
    g[1] = g[0] + 500
    swapped = g[0].copy()
    swapped[[0, 5]] = swapped[[5, 0]]  # left/right confusion: same centre
    pred = np.stack([g[1] + 3, swapped])
    d = centre_distances(g, pred)
    assert d.shape == (2, 2) and d[0, 1] < 1 and d[1, 0] < 5 and d[0, 0] > 500
