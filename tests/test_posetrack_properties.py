"""Properties that must hold whatever the data: GT fed back scores 100; order does not matter."""

from __future__ import annotations

import numpy as np
import pytest

from poseval_refine.evaluators.posetrack import evaluate_posetrack
from poseval_refine.formats.posetrack import write_posetrack
from poseval_refine.poses import PoseSet
from poseval_refine.synthetic import make_benchmark

KEYS = ["ap_joint", "ap_pre", "ap_rec", "mota_joint", "motp_joint", "pre_joint", "rec_joint"]


def _arr(v):
    return np.array([np.nan if x is None else x for x in (v if isinstance(v, list) else [v])], float)


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    root = tmp_path_factory.mktemp("bench")
    gt, pred = make_benchmark(8, 15, seed=7)
    write_posetrack(gt, root / "gt", "posetrack2017")
    write_posetrack(pred, root / "pred", "posetrack2017")
    return root, gt, pred


def _gt_as_prediction(gt: PoseSet) -> PoseSet:
    seqs = {}
    for name, s in gt.sequences.items():
        kp = s.keypoints.copy()
        kp[..., 2] = np.where(np.isnan(kp[..., 0]), np.nan, 1.0)
        seqs[name] = s.with_keypoints(kp)
    return PoseSet(seqs)


@pytest.mark.parametrize("protocol", ["official", "corrected"])
def test_gt_fed_back_gives_100(bench, tmp_path, protocol):
    import copy

    root, gt, _ = bench
    # drop ignore regions so that no labeled frame becomes empty (which the official protocol penalizes)
    gt = PoseSet({n: copy.copy(s) for n, s in gt.sequences.items()})
    for s in gt.sequences.values():
        s.ignore_regions = [[] for _ in range(s.num_frames)]
    write_posetrack(gt, tmp_path / "gt", "posetrack2017")
    write_posetrack(_gt_as_prediction(gt), tmp_path / "pred", "posetrack2017")
    # MOTP in the clear mode: poseval's default MOTP also sums the distances between *other*
    # GT-prediction pairs within half a head size (motmetrics' RAW events), so it stays below 100
    # whenever two people stand close together
    r = evaluate_posetrack(tmp_path / "gt", [tmp_path / "pred"], tracking=True, protocol=protocol, motp="clear")
    for k in KEYS + ["ap_groups", "mota_groups"]:
        np.testing.assert_allclose(_arr(r[k]), 100.0, err_msg=k)


def test_real_gt_fed_back_gives_100(shared_data, tmp_path):
    from poseval_refine.formats import read_poses

    gt = read_poses(shared_data / "posetrack_cases" / "bonn_test" / "gt")
    write_posetrack(_gt_as_prediction(gt), tmp_path / "pred", "posetrack2017")
    r = evaluate_posetrack(shared_data / "posetrack_cases" / "bonn_test" / "gt", [tmp_path / "pred"],
                           tracking=True)
    ap = _arr(r["ap_joint"])
    assert ap[13] == 0.0  # Iqbal et al.'s GT has no nose: AP 0 counted in the Total (official quirk)
    np.testing.assert_allclose(np.delete(ap, 13), 100.0)
    mota = _arr(r["mota_joint"])
    np.testing.assert_allclose(np.delete(mota, 13), 100.0)


def test_sequence_order_does_not_matter(bench, tmp_path):
    root, gt, pred = bench
    base = evaluate_posetrack(root / "gt", [root / "pred"], tracking=True)
    names = gt.names()
    renamed = {n: f"{len(names) - i:03d}_{n}" for i, n in enumerate(names)}  # reverses sorted order
    for src, dst in ((gt, "gt"), (pred, "pred")):
        seqs = {renamed[n]: s for n, s in src.sequences.items()}
        write_posetrack(PoseSet(seqs), tmp_path / dst, "posetrack2017")
    other = evaluate_posetrack(tmp_path / "gt", [tmp_path / "pred"], tracking=True)
    for k in KEYS:
        np.testing.assert_allclose(_arr(other[k]), _arr(base[k]), rtol=0, atol=1e-9, err_msg=k)


def test_person_order_does_not_matter(bench, tmp_path):
    root, gt, pred = bench
    base = evaluate_posetrack(root / "gt", [root / "pred"], tracking=True)
    rng = np.random.default_rng(3)
    out = {}
    for src, dst in ((gt, "gt"), (pred, "pred")):
        seqs = {}
        for name, s in src.sequences.items():
            b = s.frame_bounds()
            order = np.concatenate([b[f] + rng.permutation(b[f + 1] - b[f]) for f in range(s.num_frames)])
            seqs[name] = s.take(order)
        out[dst] = PoseSet(seqs)
        write_posetrack(out[dst], tmp_path / dst, "posetrack2017")
    other = evaluate_posetrack(tmp_path / "gt", [tmp_path / "pred"], tracking=True)
    for k in KEYS:
        np.testing.assert_allclose(_arr(other[k]), _arr(base[k]), rtol=0, atol=1e-9, err_msg=k)


def test_moving_a_prediction_beyond_half_a_head_turns_a_hit_into_a_miss(tmp_path):
    from .support.ptbuild import frame, person, write_case

    gt_frames = [frame([person(100, 100, track=0)]) for _ in range(3)]
    near = [frame([person(100, 100, track=1, score=0.9, shift=(9, 12))]) for _ in range(3)]  # d = 0.5
    far = [frame([person(100, 100, track=1, score=0.9, shift=(9, 12.01))]) for _ in range(3)]
    g, p = write_case(tmp_path / "near", gt_frames, near)
    assert evaluate_posetrack(g, [p], tracking=False)["ap_groups"][-1] == 100.0
    g, p = write_case(tmp_path / "far", gt_frames, far)
    assert evaluate_posetrack(g, [p], tracking=False)["ap_groups"][-1] == 0.0
