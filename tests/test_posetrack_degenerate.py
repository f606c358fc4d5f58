"""Hand-derived cases for the degenerate situations of docs/protocol.md §1.5-1.7, in both protocols."""

from __future__ import annotations

import math

import numpy as np
import pytest

from poseval_refine.evaluators.posetrack import evaluate_posetrack
from poseval_refine.metrics.ap import assign_frame, normalized_distances

from .ptbuild import TEMPLATE, frame, person, write_case

A, B = (100, 100), (300, 100)


def run(gt, pred, **kw):
    return evaluate_posetrack(gt, [pred], tracking=True, **kw)


def test_no_predictions(tmp_path):
    gt_frames = [frame([person(*A, track=0), person(*B, track=1)]) for _ in range(3)]
    gt, pred = write_case(tmp_path, gt_frames, [frame([]) for _ in range(3)])
    r = run(gt, pred)
    # official: AP 0 (counted in Total); 2 tracking frames, each a dummy miss + dummy FP per joint
    assert r["ap_joint"] == [0.0] * 15 and r["ap_groups"][-1] == 0.0
    assert r["mota_joint"] == [-100.0] * 15
    assert r["motp_joint"] == [0.0] * 15 and r["pre_joint"] == [0.0] * 15 and r["rec_joint"] == [0.0] * 15
    c = run(gt, pred, protocol="corrected")
    # corrected: all 3 frames, real people: 6 objects, 6 misses, no FP per joint
    assert c["mota_joint"] == [0.0] * 15 and c["rec_joint"] == [0.0] * 15
    assert all(math.isnan(v) for v in c["pre_joint"])
    assert c["ap_joint"] == [0.0] * 15  # the joints have GT, so AP 0 stays


def test_frame_without_gt_after_ignore_region(tmp_path):
    region = [(500, 0), (900, 0), (900, 400), (500, 400)]
    gt_frames = [frame([person(*A, track=0)]),
                 frame([person(600, 100, track=1)], ignore=[region]),  # GT person inside the region
                 frame([person(*A, track=0)])]
    pred_frames = [frame([person(*A, track=7, score=0.9)]),
                   frame([person(*A, track=7, score=0.8)]),  # outside the region: a false positive
                   frame([person(*A, track=7, score=0.7)])]
    gt, pred = write_case(tmp_path, gt_frames, pred_frames)
    r = run(gt, pred)
    # AP: .9 TP, .8 FP, .7 TP with 2 GT -> 0.5 * 1 + 0.5 * 2/3
    np.testing.assert_allclose(r["ap_joint"], [100 * (0.5 + 0.5 * 2 / 3)] * 15)
    np.testing.assert_allclose(r["ap_pre"], [100 * 2 / 3] * 15)
    np.testing.assert_allclose(r["ap_rec"], [100.0] * 15)
    # official tracking: frames 0 and 1; frame 1 has no GT left -> dummy object, miss and FP
    np.testing.assert_allclose(r["mota_joint"], [0.0] * 15)
    np.testing.assert_allclose(r["pre_joint"], [50.0] * 15)
    np.testing.assert_allclose(r["rec_joint"], [50.0] * 15)
    np.testing.assert_allclose(r["motp_joint"], [100.0] * 15)
    c = run(gt, pred, protocol="corrected")
    # corrected: 3 frames, 2 objects matched, 1 real FP
    np.testing.assert_allclose(c["mota_joint"], [50.0] * 15)
    np.testing.assert_allclose(c["pre_joint"], [100 * 2 / 3] * 15)
    np.testing.assert_allclose(c["rec_joint"], [100.0] * 15)


def test_joint_never_annotated_and_joint_never_predicted(tmp_path):
    no_nose = [j for j in range(15) if j != 13]
    no_head_top = [j for j in range(15) if j != 14]
    no_both = [j for j in range(15) if j not in (0, 13)]
    gt_frames = [frame([person(*A, track=0, joints=no_nose)]) for _ in range(3)]
    pred_frames = [frame([person(*A, track=4, score=0.9, joints=[j for j in no_head_top if j != 0])])
                   for _ in range(3)]
    del no_both
    gt, pred = write_case(tmp_path, gt_frames, pred_frames)
    r = run(gt, pred)
    ap = r["ap_joint"]
    assert math.isnan(ap[13])  # nose predicted but never annotated: NaN, left out of Total
    assert ap[14] == 0.0 and ap[0] == 0.0  # annotated but never predicted: 0, counted
    assert ap[1] == 100.0
    np.testing.assert_allclose(r["ap_groups"][-1], 100 * 12 / 14)
    assert math.isnan(r["mota_joint"][13]) and r["pre_joint"][13] == 0.0 and math.isnan(r["rec_joint"][13])
    assert r["motp_joint"][13] == 0.0  # no detections: MOTP 0, not NaN (quirk)
    assert r["mota_joint"][14] == 0.0  # 2 objects, 2 misses


def test_joint_with_neither_gt_nor_predictions(tmp_path):
    joints = [j for j in range(15) if j != 13]
    gt_frames = [frame([person(*A, track=0, joints=joints)]) for _ in range(2)]
    pred_frames = [frame([person(*A, track=1, score=0.5, joints=joints)]) for _ in range(2)]
    gt, pred = write_case(tmp_path, gt_frames, pred_frames)
    r = evaluate_posetrack(gt, [pred], tracking=False)
    assert r["ap_joint"][13] == 0.0  # official quirk 6: counts as 0 in the Total
    np.testing.assert_allclose(r["ap_groups"][-1], 100 * 14 / 15)
    c = evaluate_posetrack(gt, [pred], tracking=False, protocol="corrected")
    assert math.isnan(c["ap_joint"][13])
    assert c["ap_groups"][-1] == 100.0


def test_identity_switch(tmp_path):
    gt_frames = [frame([person(*A, track=0)]) for _ in range(4)]
    pred_frames = [frame([person(*A, track=5 if f < 2 else 6, score=0.9)]) for f in range(4)]
    gt, pred = write_case(tmp_path, gt_frames, pred_frames)
    r = run(gt, pred)
    np.testing.assert_allclose(r["mota_joint"], [100 * (1 - 1 / 3)] * 15)  # last frame dropped
    np.testing.assert_allclose(r["pre_joint"], [100.0] * 15)
    c = run(gt, pred, protocol="corrected")
    np.testing.assert_allclose(c["mota_joint"], [75.0] * 15)


def test_ignore_region_boundary_points_are_kept(tmp_path):
    # polygon whose left edge passes exactly through A's head top (110, 85): boundary -> kept
    region = [(110, 0), (400, 0), (400, 86), (110, 86)]
    gt_frames = [frame([person(*A, track=0)], ignore=[region]) for _ in range(2)]
    pred_frames = [frame([person(*A, track=3, score=0.9)]) for _ in range(2)]
    gt, pred = write_case(tmp_path, gt_frames, pred_frames)
    r = evaluate_posetrack(gt, [pred], tracking=False)
    assert r["ap_joint"][14] == 100.0  # on the boundary: evaluated
    # nose (110, 105) and neck are below the polygon; all other joints outside too
    assert r["ap_groups"][-1] == 100.0


def test_ignore_region_removes_points_inside(tmp_path):
    region = [(105, 80), (200, 80), (200, 110), (105, 110)]  # contains head top, nose, neck of A
    gt_frames = [frame([person(*A, track=0)], ignore=[region]) for _ in range(2)]
    pred_frames = [frame([person(*A, track=3, score=0.9)]) for _ in range(2)]
    gt, pred = write_case(tmp_path, gt_frames, pred_frames)
    r = evaluate_posetrack(gt, [pred], tracking=False)
    # head top (110, 85) and nose (110, 105) are removed from both sides: no predictions left -> AP 0;
    # the neck (110, 120) lies below the region and is evaluated
    assert r["ap_joint"][12:] == [100.0, 0.0, 0.0]
    assert r["ap_joint"][:12] == [100.0] * 12


def test_assignment_is_not_sequential_greedy():
    """PT-4 (docs/protocol.md §6.2): P2 wants A (7/13), loses it to P1, and is not given B (6/13)."""
    K = 15
    a = np.array([[100 + dx, 100 + dy] for dx, dy in TEMPLATE], dtype=float)
    b = a + [200, 0]
    gt = np.stack([a, b])
    gt[:, [0, 5]] = np.nan
    p1 = a.copy()
    p1[[0, 5]] = np.nan
    p2 = np.full((K, 2), np.nan)
    p2[[1, 2, 3, 4, 6, 7, 8]] = a[[1, 2, 3, 4, 6, 7, 8]]
    p2[[9, 10, 11, 12, 13, 14]] = b[[9, 10, 11, 12, 13, 14]]
    d = normalized_distances(np.stack([p1, p2]), gt, np.array([30.0, 30.0]))
    match, hit = assign_frame(d, ~np.isnan(gt[..., 0]))
    assert match.tolist() == [0, -1]
    assert hit[1].sum() == 0 and hit[0].sum() == 13


@pytest.mark.parametrize("motp,expected", [("clear", 100 * (1 - 1 / 6)), ("poseval-mm1.1", 100 * (1 - 2 / 6)),
                                            ("poseval-mm1.2+", 100 * (1 - 2 / 6))])
def test_motp_modes(tmp_path, motp, expected):
    """Every joint off by (3, 4) px = 1/6 head size; 2 tracking frames, 2 matches per joint.

    clear: sum d over matches = 2/6; mm1.1 adds every finite distance passed (2/6 again);
    mm1.2+ adds transfer/ascend/migrate events, of which there are none here."""
    gt_frames = [frame([person(*A, track=0)]) for _ in range(3)]
    pred_frames = [frame([person(*A, track=1, score=0.9, shift=(3, 4))]) for _ in range(3)]
    gt, pred = write_case(tmp_path, gt_frames, pred_frames)
    r = run(gt, pred, motp=motp)
    np.testing.assert_allclose(r["motp_joint"], [expected] * 15)
