"""Honest PoseTrack Totals: beside poseval's official Total, the Total over the joints the GT annotates.

The Bonn real-GT case has no nose. poseval scores the nose AP 0 when nothing predicts it (counted in the
Total) and NaN when something does (left out), so predicting a nose moves the official Total while no
joint gets better. The Total over the 14 annotated joints must not move, and must equal the mean of
poseval's own recorded per-joint APs over those joints.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from poseval_refine import evaluate
from poseval_refine.cli import main
from poseval_refine.metrics.annotated import annotated_total, annotated_total_rows, counted_unannotated
from poseval_refine.skeletons import POSETRACK15

from .support.ptbuild import add_nose

NOSE = POSETRACK15.joints.index("nose")
NOT_NOSE = [j for j in range(15) if j != NOSE]


@pytest.fixture(scope="module")
def bonn(shared_data, tmp_path_factory):
    case = shared_data / "posetrack_cases" / "bonn_test"
    nose = tmp_path_factory.mktemp("bonn") / "pred_nose"
    assert add_nose(case / "pred", nose) > 1000
    return case, nose, json.loads((case / "expected_poseval.json").read_text())


def _run(capsys, tmp_path, gt, pred, task, *extra):
    out = tmp_path / f"{pred.name}_{task}.json"
    capsys.readouterr()
    assert main(["evaluate", "--gt", str(gt), "--pred", str(pred), "--task", task, "--json", str(out), *extra]) == 0
    return capsys.readouterr().out, json.loads(out.read_text())


def test_bonn_prints_both_totals_and_names_the_nose(bonn, capsys, tmp_path):
    case, nose, expected = bonn
    text, plain = _run(capsys, tmp_path, case / "gt", case / "pred", "pose")
    text_nose, with_nose = _run(capsys, tmp_path, case / "gt", nose, "pose")
    # the official numbers are poseval's, untouched
    assert plain["ap_groups"][-1] == pytest.approx(expected["ap_groups"][-1], abs=1e-9)
    assert plain["ap_joint"] == pytest.approx(expected["ap_joint"], abs=1e-9)
    # the Total over the annotated joints = the mean of poseval's own per-joint APs without the nose
    by_hand = float(np.mean([expected["ap_joint"][j] for j in NOT_NOSE]))
    assert plain["annotated_totals"]["ap_total"] == pytest.approx(by_hand, abs=1e-9)
    assert plain["annotated_totals"]["joints_not_annotated"] == ["nose"]
    assert plain["annotated_totals"]["ap_total_counts"] == ["nose"]  # AP 0, counted
    # with a nose: AP NaN, left out; no other joint changes, so the GT-joint Total does not move
    assert with_nose["ap_joint"][NOSE] is None
    assert [with_nose["ap_joint"][j] for j in NOT_NOSE] == [plain["ap_joint"][j] for j in NOT_NOSE]
    assert with_nose["annotated_totals"]["ap_total"] == plain["annotated_totals"]["ap_total"]
    assert with_nose["annotated_totals"]["ap_total_counts"] == []
    assert with_nose["ap_groups"][-1] == pytest.approx(by_hand, abs=1e-9)  # the official Total jumped 57.4 -> 61.5
    assert with_nose["ap_groups"][-1] - plain["ap_groups"][-1] > 4
    for out in (text, text_nose):
        assert f"Total over the 14 joints the GT annotates: AP {by_hand:.1f}" in out
        assert "  nose: never annotated by the GT" in out and "--protocol corrected" in out
    assert f"(official Total {expected['ap_groups'][-1]:.1f})" in text and "its AP 0 counts" in text
    assert "its AP is NaN and left out" in text_nose


def test_bonn_tracking_mota_over_annotated_joints(bonn, capsys, tmp_path):
    """MOTA has the artefact too: the nose's MOTA is -100 (poseval's dummy objects) without predictions and far
    below with them (every predicted nose a false positive); over the 14 joints it does not move."""
    case, nose, expected = bonn
    text, plain = _run(capsys, tmp_path, case / "gt", case / "pred", "tracking")
    _, with_nose = _run(capsys, tmp_path, case / "gt", nose, "tracking")
    by_hand = float(np.mean([expected["mota_joint"][j] for j in NOT_NOSE]))
    assert plain["mota_total"] == pytest.approx(expected["mota_total"], abs=1e-9)
    assert plain["annotated_totals"]["mota_total"] == pytest.approx(by_hand, abs=1e-9)
    assert with_nose["annotated_totals"]["mota_total"] == pytest.approx(by_hand, abs=1e-9)
    assert with_nose["mota_joint"][NOSE] < -1000 and with_nose["mota_total"] < -1000
    assert f"MOTA {by_hand:.1f} (official Total {expected['mota_total']:.1f})" in text
    assert "its MOTA counts in the official MOTA Total" in text


def test_headline_and_json_keys(bonn):
    case, nose, expected = bonn
    plain = evaluate(case / "gt", case / "pred", task="tracking")
    h = plain.headline
    assert list(h)[0] == "MOTA"  # the primary metric still leads
    assert h["mAP"] == pytest.approx(expected["ap_groups"][-1], abs=1e-9)
    assert h["mAP (GT joints)"] == pytest.approx(np.mean([expected["ap_joint"][j] for j in NOT_NOSE]), abs=1e-9)
    assert h["MOTA (GT joints)"] == pytest.approx(np.mean([expected["mota_joint"][j] for j in NOT_NOSE]), abs=1e-9)
    # the existing keys are all still there, with the official numbers
    d = plain.to_dict()
    for key in ("ap_joint", "ap_groups", "mota_joint", "mota_total", "items", "per_sequence"):
        assert key in d
    # corrected: its AP Total already leaves the nose out; no extra headline column, nothing printed
    corrected = evaluate(case / "gt", case / "pred", task="pose", protocol="corrected")
    assert "mAP (GT joints)" not in corrected.headline
    assert corrected.headline["mAP"] == pytest.approx(h["mAP (GT joints)"], abs=1e-9)
    assert "joints the GT annotates" not in corrected.render()


def test_a_fully_annotated_gt_shows_nothing_new(shared_data):
    case = shared_data / "posetrack_cases" / "synth24"
    r = evaluate(case / "gt", case / "pred", task="pose")
    assert "mAP (GT joints)" not in r.headline and "joints the GT annotates" not in r.render()
    at = r.to_dict()["annotated_totals"]
    assert at["joints_not_annotated"] == [] and at["ap_total"] == pytest.approx(r.headline["mAP"], abs=1e-12)


def test_leaderboard_ranks_by_the_official_total_and_shows_the_other(bonn, capsys, tmp_path):
    case, nose, _ = bonn
    store = tmp_path / "store"
    for name, pred in (("plain", case / "pred"), ("nose", nose)):
        assert main(["evaluate", "--gt", str(case / "gt"), "--pred", str(pred), "--task", "pose", "--save", name,
                     "--results", str(store), "-q"]) == 0
    capsys.readouterr()
    assert main(["leaderboard", "--results", str(store), "--benchmark", "bonn-multiperson-test", "--format", "json",
                 "--no-quoted"]) == 0
    board, = json.loads(capsys.readouterr().out)["boards"]
    assert "mAP (GT joints)" in board["metrics"]
    rows = board["rows"]
    assert [r["method"] for r in rows] == ["nose", "plain"]  # ranked by the official Total (61.5 > 57.4)
    assert rows[0]["metrics"]["mAP (GT joints)"] == rows[1]["metrics"]["mAP (GT joints)"]
    assert rows[1]["metrics"]["mAP"] < rows[1]["metrics"]["mAP (GT joints)"]
    assert main(["verify", "--results", str(store)]) == 0


def test_annotated_total_functions():
    values = np.array([50.0, 0.0, np.nan, 70.0])
    num_gt = np.array([3, 0, 0, 5])
    assert annotated_total(values, num_gt) == 60.0
    assert counted_unannotated(values, num_gt).tolist() == [False, True, False, False]
    assert math.isnan(annotated_total(values, np.zeros(4)))
    rows = annotated_total_rows(np.stack([values, [10.0, 0.0, 5.0, np.nan]]), np.array([[3, 0, 0, 5], [1, 1, 0, 2]]))
    assert rows.tolist() == [60.0, 5.0]
