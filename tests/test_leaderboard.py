"""Leaderboard: per-item statistics and resamples, the results store, boards, verify, tables' deltas."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from poseval_refine.cli import main
from poseval_refine.evaluators import get_task
from poseval_refine.io import dumps_json

from .support.mpiibuild import perturbed_predictions

CASES = ("synth24", "quirks")


def _roundtrip(result: dict) -> dict:
    return json.loads(dumps_json(result))  # what a result file holds


# ----------------------------------------------------------------------------- the tasks' hooks
def test_single_all_ones_resample_is_the_evaluation_and_weights_mean_duplicated_people(shared_data):
    from poseval_refine.formats.mpii import read_mpii_arrays
    from poseval_refine.metrics.pckh import pckh
    from poseval_refine.skeletons import MPII16

    root = shared_data / "mpii_val"
    t = get_task("single")
    r = _roundtrip(t.run(root / "valid.h5", [root / "newell.h5"]))
    n = len(r["items"])
    assert n == 2958 and t.unit == "person" and t.primary == "PCKh@0.5"
    head = t.headline(r)
    again = t.resample(r, np.ones((1, n), dtype=np.int64))
    assert {k: float(v[0]) for k, v in again.items()} == head  # bit for bit
    # a weighted row = the evaluation of the people repeated that many times (independent computation)
    w = np.random.default_rng(3).integers(0, 3, size=n)
    g = next(iter(read_mpii_arrays(root / "valid.h5"))).to_skeleton(MPII16)
    p = next(iter(read_mpii_arrays(root / "newell.h5"))).to_skeleton(MPII16)
    idx = np.repeat(np.arange(n), w)
    direct = pckh(p.keypoints[idx, :, :2], g.keypoints[idx, :, :2], g.head_sizes()[idx])
    res = t.resample(r, w[None])
    assert res["PCKh@0.5"][0] == pytest.approx(direct["pckh"]["Total"], abs=1e-9)
    assert res["AUC"][0] == pytest.approx(direct["auc"], abs=1e-9)
    assert res["Wrist"][0] == pytest.approx(direct["pckh"]["Wrist"], abs=1e-9)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("task", ["pose", "tracking"])
def test_posetrack_resample_equals_evaluating_repeated_sequences(shared_data, tmp_path, case, task):
    src = shared_data / "posetrack_cases" / case
    t = get_task(task)
    r = _roundtrip(t.run(src / "gt", [src / "pred"]))
    n = len(r["items"])
    head = t.headline(r)
    again = t.resample(r, np.ones((1, n), dtype=np.int64))
    for k, v in head.items():
        assert again[k][0] == v or (np.isnan(v) and np.isnan(again[k][0])), k
    if case == "quirks":
        # null/NaN scores tie: where tied predictions of repeated copies fall in the pooled ranking is the
        # file system's order there, while a resample keeps each prediction's copies together (its convention)
        return
    # weights 0/1/2: evaluate a benchmark where each sequence appears that many times
    # items follow the protocol's sequence order (poseval's file-system order by default): weights go by name
    names = [it["sequence"] + ".json" for it in r["items"]]
    w = np.array([(i % 3) for i in range(n)])
    w[0] = 2
    for side in ("gt", "pred"):
        (tmp_path / side).mkdir()
        for i, name in enumerate(names):
            for c in range(w[i]):
                shutil.copy(src / side / name, tmp_path / side / f"{i:03d}_{c}_{name}")
    direct = t.headline(t.run(tmp_path / "gt", [tmp_path / "pred"]))
    res = t.resample(r, w[None])
    for k, v in direct.items():
        assert res[k][0] == pytest.approx(v, abs=1e-9, nan_ok=True), k


def test_multi_person_resample(tmp_path):
    from .support.mpiibuild import annorect_person

    rng = np.random.default_rng(11)
    gt_entries, pred_entries = [], []
    for _ in range(8):
        people = [(rng.uniform(0, 800), rng.uniform(0, 300)) for _ in range(3)]
        gt_entries.append({"annorect": [annorect_person(x, y) for x, y in people]})
        rects = []
        for x, y in people:
            if rng.random() < 0.8:
                r = annorect_person(x + rng.normal(0, 6), y + rng.normal(0, 6), score=float(rng.random()), head=False)
                for pt in r["annopoints"][0]["point"]:
                    pt["x"] += float(rng.normal(0, 8))
                    pt["score"] = float(rng.random())
                rects.append(r)
        pred_entries.append({"annorect": rects})
    t = get_task("multi")
    w = np.array([1, 0, 2, 1, 3, 0, 1, 2])
    for name, entries in (("g", gt_entries), ("p", pred_entries)):
        (tmp_path / f"{name}.json").write_text(json.dumps({"annolist": entries}))
        rep = [e for e, k in zip(entries, w) for _ in range(k)]
        (tmp_path / f"{name}w.json").write_text(json.dumps({"annolist": rep}))
    r = _roundtrip(t.run(tmp_path / "g.json", [tmp_path / "p.json"]))
    assert t.unit == "image" and len(r["items"]) == 8
    assert {k: float(v[0]) for k, v in t.resample(r, np.ones((1, 8), np.int64)).items()} == t.headline(r)
    direct = t.headline(t.run(tmp_path / "gw.json", [tmp_path / "pw.json"]))
    res = t.resample(r, w[None])
    for k, v in direct.items():
        assert res[k][0] == pytest.approx(v, abs=1e-9), k


def test_pckh_task_resample(tmp_path):
    from poseval_refine.formats.posetrack import read_sequence, sequence_files, write_posetrack
    from poseval_refine.poses import PoseSet
    from poseval_refine.sample import sample_paths

    gt, _ = sample_paths()
    rng = np.random.default_rng(2)
    seqs = {}
    for f in sequence_files(gt):
        s = read_sequence(f)
        kp = s.keypoints.copy()
        kp[..., :2] += rng.normal(0, 6, kp[..., :2].shape)
        kp[..., 2] = np.where(np.isnan(kp[..., 0]), np.nan, 0.9)
        seqs[f.stem] = s.with_keypoints(kp)
    write_posetrack(PoseSet(seqs), tmp_path / "pred", "posetrack2017")
    t = get_task("pckh")
    r = _roundtrip(t.run(gt, [tmp_path / "pred"]))
    n = len(r["items"])
    assert {k: float(v[0]) for k, v in t.resample(r, np.ones((1, n), np.int64)).items()} == t.headline(r)
    assert 40 < r["pckh_total"] < 100


# ----------------------------------------------------------------------------- store, boards, verify
@pytest.fixture()
def two_users(shared_data, tmp_path_factory):
    """Two MPII validation predictions prt never saw, saved with --save into a fresh store."""
    tmp = tmp_path_factory.mktemp("users")
    root = shared_data / "mpii_val"
    a = perturbed_predictions(root / "newell.h5", tmp / "jittered-newell.h5", seed=1, sigma=1.5)
    b = perturbed_predictions(root / "pyranet-prm.h5", tmp / "jittered-prm.h5", seed=2, sigma=4.0)
    store = tmp / "store"
    for name, pred in (("alpha-net", a), ("beta-net", b)):
        assert main(["evaluate", "--gt", str(root / "valid.h5"), "--pred", str(pred), "--task", "single",
                     "--save", name, "--results", str(store)]) == 0
    return store, root, a, b


def test_saved_results_rank_with_the_shipped_ones(two_users, capsys, tmp_path, monkeypatch):
    store, root, a, b = two_users
    capsys.readouterr()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PRT_RESULTS", str(store))
    assert main(["leaderboard", "--task", "single", "--format", "json"]) == 0
    boards = json.loads(capsys.readouterr().out)["boards"]
    val = next(x for x in boards if x["benchmark"] == "mpii-val")
    assert val["task"] == "single" and val["metric"] == "PCKh@0.5" and val["items"] == 2958
    rows = {r["method"]: r for r in val["rows"]}
    assert {"alpha-net", "beta-net", "newell", "prm", "ief"} <= set(rows)
    assert rows["alpha-net"]["source"] == "user" and rows["newell"]["source"] == "recomputed"
    assert [r["rank"] for r in val["rows"]] == list(range(1, len(rows) + 1))
    values = [r["value"] for r in val["rows"]]
    assert values == sorted(values, reverse=True)
    for name, pred in (("alpha-net", a), ("beta-net", b)):
        direct = get_task("single").run(root / "valid.h5", [pred])
        assert rows[name]["value"] == direct["pckh"]["Total"]
        assert rows[name]["metrics"]["AUC"] == direct["auc"]
        lo, hi = rows[name]["ci95"]
        assert lo < rows[name]["value"] < hi and 0.5 < hi - lo < 2.5  # ~1.2 points for 2958 people
        prov = rows[name]["provenance"]
        assert prov["inputs"]["pred"]["sha256"] and "--save" in prov["command"] and prov["prt_version"]
    # the quoted test-set numbers are on their own board, never on mpii-val's
    test = next(x for x in boards if x["benchmark"] == "mpii-test")
    assert {r["source"] for r in test["rows"]} == {"quoted"} and all(r["ci95"] is None for r in test["rows"])
    assert all(r["source"] != "quoted" for r in val["rows"])


def test_save_refuses_to_replace_other_predictions(two_users, capsys):
    store, root, a, b = two_users
    capsys.readouterr()
    args = ["evaluate", "--gt", str(root / "valid.h5"), "--task", "single", "--results", str(store)]
    assert main(args + ["--pred", str(b), "--save", "alpha-net"]) == 2
    err = capsys.readouterr().err
    assert "alpha-net" in err and "other predictions" in err and "--overwrite" in err
    assert main(args + ["--pred", str(a), "--save", "alpha-net"]) == 0  # the same predictions again: fine
    assert main(args + ["--pred", str(a), "--save", "newell"]) == 2  # would shadow a shipped method
    assert "shipped" in capsys.readouterr().err
    assert main(args + ["--pred", str(a), "--save", "x", "--benchmark", "posetrack17-val"]) == 2
    assert "mpii-val" in capsys.readouterr().err


def test_equal_values_share_a_rank(two_users, capsys):
    store, root, a, b = two_users
    args = ["evaluate", "--gt", str(root / "valid.h5"), "--task", "single", "--results", str(store)]
    assert main(args + ["--pred", str(a), "--save", "alpha-copy"]) == 0
    capsys.readouterr()
    assert main(["leaderboard", "--results", str(store), "--benchmark", "mpii-val", "--format", "json",
                 "--resamples", "0"]) == 0
    rows = json.loads(capsys.readouterr().out)["boards"][0]["rows"]
    values = [r["value"] for r in rows]
    # standard competition ranking, computed independently: 1 + how many rows are strictly better
    assert [r["rank"] for r in rows] == [1 + sum(v > x for v in values) for x in values]
    ranks = {r["method"]: r["rank"] for r in rows}
    assert ranks["alpha-copy"] == ranks["alpha-net"]
    assert sorted(ranks.values()) != list(range(1, len(rows) + 1))  # a tie, so a rank is skipped


def test_names_that_differ_only_in_case_collide(two_users, capsys, shared_data):
    store, root, a, b = two_users
    capsys.readouterr()
    args = ["evaluate", "--gt", str(root / "valid.h5"), "--task", "single", "--results", str(store)]
    # the shipped newell, even with its own predictions: one method to a reader
    assert main(args + ["--pred", str(root / "newell.h5"), "--save", "Newell"]) == 2
    err = capsys.readouterr().err
    assert "'Newell' differs only in case from the shipped result 'newell'" in err, err
    # a user result: refused even with --overwrite (two files on a case-sensitive disk, one elsewhere)
    for extra in ([], ["--overwrite"]):
        assert main(args + ["--pred", str(a), "--save", "Alpha-Net", *extra]) == 2
        err = capsys.readouterr().err
        assert "alpha-net" in err and "only in case" in err and "alpha-net__mpii-val__single.json" in err, err
    assert sorted(p.name for p in store.glob("*.json")) == ["alpha-net__mpii-val__single.json",
                                                           "beta-net__mpii-val__single.json"]


def test_user_benchmark_is_pinned_to_its_gt(shared_data, tmp_path, capsys):
    cases = shared_data / "posetrack_cases"
    store = str(tmp_path / "s")
    base = ["evaluate", "--task", "pose", "--results", store]
    assert main(base + ["--gt", str(cases / "synth24" / "gt"), "--pred", str(cases / "synth24" / "pred"),
                        "--save", "m1", "--benchmark", "my-split"]) == 0
    # same GT, no --benchmark: recognised from its hash
    assert main(base + ["--gt", str(cases / "synth24" / "gt"), "--pred", str(cases / "synth24" / "pred"),
                        "--save", "m2"]) == 0
    assert (tmp_path / "s" / "m2__my-split__pose.json").exists()
    # another GT under the same name is refused
    assert main(base + ["--gt", str(cases / "quirks" / "gt"), "--pred", str(cases / "quirks" / "pred"),
                        "--save", "m3", "--benchmark", "my-split"]) == 2
    assert "other GT" in capsys.readouterr().err
    # the real-GT Bonn test set is recognised by hash; PoseTrack val's size is checked when claimed
    assert main(base + ["--gt", str(cases / "bonn_test" / "gt"), "--pred", str(cases / "bonn_test" / "pred"),
                        "--save", "m4"]) == 0
    assert (tmp_path / "s" / "m4__bonn-multiperson-test__pose.json").exists()
    assert main(base + ["--gt", str(cases / "quirks" / "gt"), "--pred", str(cases / "quirks" / "pred"),
                        "--save", "m5", "--benchmark", "posetrack17-val"]) == 2
    assert "50" in capsys.readouterr().err


def test_verify_passes_untouched_and_names_an_edited_number(two_users, capsys, shared_data):
    store, *_ = two_users
    capsys.readouterr()
    assert main(["verify", "--results", str(store), "--data-root", str(shared_data), "--strict"]) == 0
    assert "8 matched, 0 drifted, 0 not checked" in capsys.readouterr().out
    f = store / "beta-net__mpii-val__single.json"
    d = json.loads(f.read_text())
    stored = d["numbers"]["pckh"]["Total"]
    d["numbers"]["pckh"]["Total"] = stored + 0.3
    f.write_text(json.dumps(d))
    assert main(["verify", "--results", str(store), "--data-root", str(shared_data)]) == 1
    out = capsys.readouterr().out
    assert "DRIFT beta-net / mpii-val / single" in out and "drifted" in out and "PCKh@0.5" in out
    assert f"{stored + 0.3}" in out and f"{stored}" in out
    # without the inputs the edit is caught all the same, from the stored per-item statistics
    assert main(["verify", "--results", str(store)]) == 1
    assert "beta-net" in capsys.readouterr().out


def test_refined_result_gets_a_paired_delta(two_users, capsys, shared_data, tmp_path):
    store, root, a, _ = two_users
    args = ["evaluate", "--gt", str(root / "valid.h5"), "--task", "single", "--results", str(store)]
    better = perturbed_predictions(root / "newell.h5", tmp_path / "less-noise.h5", seed=5, sigma=0.5)
    assert main(args + ["--pred", str(better), "--save", "alpha-net+refined"]) == 0
    capsys.readouterr()
    assert main(["leaderboard", "--benchmark", "mpii-val", "--format", "json", "--results", str(store)]) == 0
    rows = {r["method"]: r for r in json.loads(capsys.readouterr().out)["boards"][0]["rows"]}
    d = rows["alpha-net+refined"]["delta"]
    assert d["base"] == "alpha-net" and not d["quoted"]
    assert d["value"] == pytest.approx(rows["alpha-net+refined"]["value"] - rows["alpha-net"]["value"])
    assert d["ci95"][0] < d["value"] < d["ci95"][1] and 0 < d["p_value"] <= 1
    # the paired interval is narrower than the unpaired one
    assert d["ci95"][1] - d["ci95"][0] < rows["alpha-net"]["ci95"][1] - rows["alpha-net"]["ci95"][0]
    assert main(["tables", "--table", "mpii-val", "--results", str(store)]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("| alpha-net+refined"))
    assert "[" in line.split("|")[-2] and "p" in line.split("|")[-2]


def test_leaderboard_formats(two_users, capsys):
    store, *_ = two_users
    for fmt, probe in (("text", "alpha-net"), ("markdown", "|:--"), ("latex", "\\toprule"), ("csv", "ci95_lo")):
        capsys.readouterr()
        assert main(["leaderboard", "--format", fmt, "--results", str(store), "--resamples", "50"]) == 0
        out = capsys.readouterr().out
        assert probe in out and "beta-net" in out
    assert "\u2020" in out or fmt == "csv"


def test_bootstrap_is_seeded():
    from poseval_refine.results.uncertainty import draw_weights

    a = draw_weights(100, 20, seed=0, salt="x")
    assert (a == draw_weights(100, 20, seed=0, salt="x")).all() and (a.sum(1) == 100).all()
    assert not (a == draw_weights(100, 20, seed=1, salt="x")).all()


@pytest.mark.slow
def test_wheel_carries_the_shipped_results(tmp_path):
    """A wheel built from the checkout holds the shipped results, and `prt tables` run from it in another
    folder shows them."""
    import subprocess
    import sys
    import zipfile

    repo = Path(__file__).resolve().parent.parent
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", str(repo), "--no-deps", "--no-build-isolation",
                            "-w", str(tmp_path / "dist"), "-q"], capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stderr[-2000:]
    wheel = next((tmp_path / "dist").glob("poseval_refine-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    shipped = sorted(n for n in names if n.startswith("poseval_refine/shipped_results/") and n.endswith(".json"))
    assert len(shipped) >= 6 and "poseval_refine/shipped_results/newell__mpii-val__single.json" in shipped
    zipfile.ZipFile(wheel).extractall(tmp_path / "site")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PRT_RESULTS", "PRT_DATA")}
    env["PYTHONPATH"] = str(tmp_path / "site")
    run = subprocess.run([sys.executable, "-m", "poseval_refine.cli", "tables", "--table", "mpii-val"],
                         cwd=elsewhere, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "| Stacked Hourglass (8 stacks) | 96.8 |" in run.stdout and "| Pyramid Residual Module |" in run.stdout
    check = subprocess.run([sys.executable, "-c", "import poseval_refine; print(poseval_refine.__file__)"],
                           cwd=elsewhere, env=env, capture_output=True, text=True)
    assert check.stdout.startswith(str(tmp_path / "site"))
