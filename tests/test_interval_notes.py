"""Intervals whose bootstrap distribution is not one lump around the value: the note that says so and why
(results.uncertainty.shape_note, Task.missing_joints), in every leaderboard format; and the joint-group
columns, one name per concept on every board."""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
import shutil

import numpy as np
import pytest

from poseval_refine.cli import main
from poseval_refine.evaluators import get_task
from poseval_refine.io import dumps_json
from poseval_refine.results.uncertainty import shape_note
from poseval_refine.skeletons import POSETRACK15

from .support.ptbuild import frame, person, write_case

NOSE = POSETRACK15.joints.index("nose")


# ----------------------------------------------------------------------------- shape_note on its own
def test_one_lump_around_the_value_has_no_note():
    v = np.random.default_rng(0).normal(50.0, 1.0, 1000)
    assert shape_note("MOTA", 50.0, v, "sequence") is None
    assert shape_note("MOTA", float(np.median(v)), v, "sequence", {"nose": np.zeros(1000, bool)}) is None


def _two_groups(rng, low=880, high=120):
    values = np.concatenate([rng.normal(44.3, 0.3, low), rng.normal(54.6, 0.3, high)])
    order = rng.permutation(low + high)
    in_high = np.zeros(low + high, bool)
    in_high[low:] = True  # the second group's values
    return values[order], in_high[order]


def test_a_split_explained_by_a_joint_that_leaves_the_total():
    rng = np.random.default_rng(1)
    values, in_high = _two_groups(rng)
    note = shape_note("MOTA", 44.3, values, "sequence", {"right ankle": np.zeros(1000, bool), "nose": in_high},
                      {"nose": -100.0})
    assert note is not None
    assert "nose has no MOTA in 120 of 1000 resamples" in note
    lo, hi = np.median(values[~in_high]), np.median(values[in_high])
    assert f"880 near {lo:.2f}" in note and f"120 near {hi:.2f}" in note
    assert "nose on all sequences: -100.00" in note and "the value itself is unaffected" in note


def test_a_split_no_joint_explains_names_no_joint():
    rng = np.random.default_rng(2)
    values, in_high = _two_groups(rng)
    unrelated = rng.permutation(in_high)  # as many resamples, not the same ones
    note = shape_note("mAP", 44.3, values, "sequence", {"nose": unrelated})
    assert note is not None and "nose" not in note
    assert "splits into two groups (880 near" in note and "a few sequences drive it" in note
    assert "a few people drive it" in shape_note("PCKh@0.5", 44.3, values, "person")


def test_a_value_in_a_tail_of_its_resamples():
    v = np.random.default_rng(3).normal(50.0, 1.0, 1000)
    share = 100 * np.mean(v <= 47.5)
    assert 0 < share < 5
    note = shape_note("AP", 47.5, v, "image")
    assert note == (f"AP 47.50 lies in a tail of its resamples (only {share:.1f}% are at or below it), "
                    "so the interval is not centred on it")
    assert "at or above" in shape_note("AP", 52.5, v, "image")


def test_too_few_finite_resamples_have_no_note():
    v = np.full(1000, np.nan)
    v[:10] = [1, 1, 1, 1, 1, 9, 9, 9, 9, 9]
    assert shape_note("MOTA", 1.0, v) is None


# ----------------------------------------------------------------------------- Task.missing_joints
def _sequences(root):
    """Three 3-frame sequences, one person each: A with every joint in GT and prediction; B without a GT
    nose, predicted with one; C without a nose in GT or prediction."""
    def seq(gt_joints, pred_joints):
        gt = [frame([person(100, 100, track=0, joints=gt_joints)]) for _ in range(3)]
        pred = [frame([person(102, 101, track=0, score=0.9, joints=pred_joints)]) for _ in range(3)]
        return gt, pred

    no_nose = [j for j in range(15) if j != NOSE]
    for name, (g, p) in (("a.json", seq(range(15), range(15))), ("b.json", seq(no_nose, range(15))),
                         ("c.json", seq(no_nose, no_nose))):
        write_case(root / "all", g, p, name)
    return root / "all"


@pytest.mark.parametrize("task_name, protocol", [("pose", "official"), ("pose", "corrected"),
                                                 ("tracking", "official")])
def test_missing_joints_are_the_joints_the_drawn_sequences_give_no_value(tmp_path, task_name, protocol):
    """For every set of drawn sequences, the joints the hook calls missing are the joints whose value is
    NaN when exactly those sequences are evaluated (an independent run of the evaluator)."""
    task = get_task(task_name)
    src = _sequences(tmp_path)
    result = json.loads(dumps_json(task.run(src / "gt", [src / "pred"], protocol=protocol)))
    names = [it["sequence"] + ".json" for it in result["items"]]
    key = "ap_joint" if task_name == "pose" else "mota_joint"
    seen = set()
    for k in (1, 2, 3):
        for subset in itertools.combinations(names, k):
            sub = tmp_path / "-".join(subset)
            for part in ("gt", "pred"):
                (sub / part).mkdir(parents=True)
                for n in subset:
                    shutil.copy(src / part / n, sub / part / n)
            alone = task.run(sub / "gt", [sub / "pred"], protocol=protocol)
            expected = {j for j, v in zip(POSETRACK15.joints, alone[key]) if v is None or v != v}
            weights = np.array([[n in subset for n in names]], dtype=np.int64)
            got = {j for j, m in task.missing_joints(result, weights).items() if m[0]}
            assert got == expected, (subset, got, expected)
            seen.add(frozenset(got))
    assert len(seen) > 1  # the case does make the joint come and go


# ----------------------------------------------------------------------------- on the boards
@pytest.fixture(scope="module")
def bonn_store(shared_data, tmp_path_factory):
    """Bonn test set: the tracking result's MOTA splits (the nose's MOTA exists only in two of the 30
    sequences), the pose result's mAP does not; and an MPII result for the group columns."""
    store = tmp_path_factory.mktemp("notes") / "store"
    bonn = shared_data / "posetrack_cases" / "bonn_test"
    for t in ("tracking", "pose"):
        assert main(["evaluate", "--gt", str(bonn / "gt"), "--pred", str(bonn / "pred"), "--task", t,
                     "--save", "net", "--results", str(store)]) == 0
    mpii = shared_data / "mpii_val"
    assert main(["evaluate", "--gt", str(mpii / "valid.h5"), "--pred", str(mpii / "newell.h5"), "--task", "single",
                 "--save", "hg", "--results", str(store)]) == 0
    return store


def _board(capsys, store, fmt, *extra):
    capsys.readouterr()
    assert main(["leaderboard", "--results", str(store), "--benchmark", "bonn-multiperson-test",
                 "--format", fmt, *extra]) == 0
    return capsys.readouterr().out


def test_the_note_is_computed_from_the_resamples(bonn_store, capsys):
    from poseval_refine.results.uncertainty import draw_weights

    boards = {b["task"]: b for b in json.loads(_board(capsys, bonn_store, "json"))["boards"]}
    pose, = boards["pose"]["rows"]
    track, = boards["tracking"]["rows"]
    assert pose["ci95"] and pose["ci95_note"] is None
    note = track["ci95_note"]
    assert note and "nose has no MOTA in" in note
    # independently: the nose has GT objects (poseval's dummies) in a few sequences only; a resample that
    # draws none of them has no nose MOTA
    data = json.loads(next(bonn_store.glob("net__*__tracking.json")).read_text())
    with_nose = [i for i, it in enumerate(data["items"]) if it["mot"]["num_objects"][NOSE] > 0]
    assert 0 < len(with_nose) < len(data["items"])
    w = draw_weights(len(data["items"]), 1000, 0, salt="bonn-multiperson-test/tracking/official")
    k = int((w[:, with_nose].sum(axis=1) == 0).sum())
    assert f"nose has no MOTA in {k} of 1000 resamples" in note
    # the interval is wide above the value: the resamples without the nose's -100 sit higher
    lo, hi = track["ci95"]
    assert hi - track["value"] > 3 * (track["value"] - lo)


def test_the_note_in_every_format(bonn_store, capsys):
    text = _board(capsys, bonn_store, "text")
    pose, track = text.split("\n\n")
    assert "\u2021" not in pose
    row = next(x for x in track.splitlines() if x.lstrip().startswith("1"))
    assert re.search(r"\]\u2021", row), row
    assert "\n\u2021 net: nose has no MOTA in" in track and track.rstrip().endswith("unaffected.")
    md = _board(capsys, bonn_store, "markdown")
    assert "]\u2021 |" in md and "\n\n\u2021 net: nose has no MOTA" in md
    mota = json.loads(next(bonn_store.glob("net__*__tracking.json")).read_text())["headline"]["MOTA"]
    assert f" {mota:.2f} |" in md  # as written in the other formats (44.30, not tabulate's 44.3)
    tex = _board(capsys, bonn_store, "latex")
    assert "]$^\\ddagger$" in tex and "\\par $^\\ddagger$ net: nose has no MOTA" in tex and "\u2021" not in tex
    rows = {r["task"]: r for r in csv.DictReader(io.StringIO(_board(capsys, bonn_store, "csv")))}
    assert rows["tracking"]["ci95_note"].startswith("nose has no MOTA") and rows["pose"]["ci95_note"] == ""


def test_the_latex_with_a_note_compiles(bonn_store, capsys, tmp_path):
    import subprocess

    from .conftest import in_ci

    if shutil.which("pdflatex") is None:
        if in_ci():
            pytest.fail("pdflatex not installed (.ci/run installs it)")
        pytest.skip("pdflatex not installed")
    (tmp_path / "board.tex").write_text(_board(capsys, bonn_store, "latex", "--standalone"))
    proc = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "board.tex"], cwd=tmp_path,
                          capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-2000:]


def test_group_columns_have_one_name_on_every_board(bonn_store, capsys):
    capsys.readouterr()
    assert main(["leaderboard", "--results", str(bonn_store), "--format", "csv", "--no-quoted"]) == 0
    table = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    for legacy in ("Shou", "Elb", "Wri", "Ankl"):
        assert legacy not in table[0]
    data = json.loads(next(bonn_store.glob("net__*__pose.json")).read_text())["numbers"]
    pose = next(r for r in table if r["task"] == "pose")
    single = next(r for r in table if r["method"] == "hg")
    for i, name in enumerate(("Head", "Shoulder", "Elbow", "Wrist", "Hip", "Knee", "Ankle")):
        assert float(pose[name]) == pytest.approx(data["ap_groups"][i], abs=1e-9)
        assert single[name] != ""


def test_verify_reads_the_group_names_of_older_files(bonn_store, capsys, tmp_path):
    """A result saved before the rename holds Shou/Elb/Wri/Ankl in its headline: it still verifies, and an
    edit of such a number is still a drift."""
    store = tmp_path / "store"
    store.mkdir()
    src = next(bonn_store.glob("net__*__pose.json"))
    d = json.loads(src.read_text())
    d["headline"] = {{"Shoulder": "Shou", "Elbow": "Elb", "Wrist": "Wri", "Ankle": "Ankl"}.get(k, k): v
                     for k, v in d["headline"].items()}
    assert "Shou" in d["headline"]
    (store / src.name).write_text(json.dumps(d))
    capsys.readouterr()
    assert main(["verify", "--results", str(store)]) == 0
    d["headline"]["Elb"] += 0.5
    (store / src.name).write_text(json.dumps(d))
    assert main(["verify", "--results", str(store)]) == 1
    assert "Elbow" in capsys.readouterr().out


def test_a_one_sequence_benchmark_has_no_interval(tmp_path, capsys):
    """Resampling one sequence draws it every time: the interval would be the value itself, a certainty the
    data does not give. No interval, and the footnote says why."""
    src = _sequences(tmp_path)
    one = tmp_path / "one"
    for part in ("gt", "pred"):
        (one / part).mkdir(parents=True)
        shutil.copy(src / part / "a.json", one / part / "a.json")
    store = tmp_path / "store"
    assert main(["evaluate", "--gt", str(one / "gt"), "--pred", str(one / "pred"), "--task", "pose", "--save", "net",
                 "--benchmark", "one-seq", "--results", str(store)]) == 0
    outs = {}
    for fmt in ("json", "text", "html"):
        capsys.readouterr()
        assert main(["leaderboard", "--results", str(store), "--benchmark", "one-seq", "--format", fmt]) == 0
        outs[fmt] = capsys.readouterr().out
    row, = json.loads(outs["json"])["boards"][0]["rows"]
    assert row["value"] > 0 and row["ci95"] is None and row["metrics_ci95"] == {}
    assert "no interval: the benchmark has one sequence" in outs["text"] and "1 sequences" not in outs["text"]
    assert "No interval: the benchmark has one sequence" in outs["html"]
