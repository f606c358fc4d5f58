"""The Python API (poseval_refine.evaluate / Evaluator / Result): in-memory inputs give the file path's
numbers bit for bit and the official tools' numbers; an Evaluator fed in parts equals evaluate on the
union; to_dict() is the CLI's --json; bad in-memory input is one InputError naming item and field; no
call writes a file."""

from __future__ import annotations

import csv
import glob
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import poseval_refine as prt
from poseval_refine.cli import main
from poseval_refine.errors import ConfigError, InputError, MismatchError
from tests.support import cocobuild
from tests.support.golden import AP_KEYS, CASES, MOT_KEYS, assert_close

# seeds no other test uses
PT_SEED, COCO_SEED, MPII_SEED, METHOD_SEED, ODD_SEED = 41, 43, 47, 53, 59


def _load_folder(folder: Path) -> dict:
    """{file name: parsed JSON} in the order the file system lists the folder (poseval's glob order)."""
    return {os.path.basename(f): json.loads(Path(f).read_text())
            for f in glob.glob(os.path.join(glob.escape(str(folder)), "*.json"))}


@pytest.fixture(scope="module")
def pt_bench(tmp_path_factory):
    from poseval_refine.formats.posetrack import write_posetrack
    from poseval_refine.synthetic import make_benchmark

    root = tmp_path_factory.mktemp("pt")
    gt, pred = make_benchmark(7, 16, seed=PT_SEED)
    write_posetrack(gt, root / "gt", "posetrack2017")
    write_posetrack(pred, root / "pred", "posetrack2018")  # predictions in the other layout
    return root


def test_import_is_cheap():
    code = ("import sys, poseval_refine as p; print(sorted(m for m in ('numpy', 'poseval_refine.api', "
            "'poseval_refine.evaluators') if m in sys.modules)); p.evaluate; "
            "print('poseval_refine.api' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[0] == "[]" and out[1] == "True"
    assert set(prt.__all__) >= {"evaluate", "Evaluator", "Result", "load", "refine", "train", "leaderboard",
                                "InputError"}
    assert issubclass(prt.InputError, ValueError) and issubclass(prt.InputError, prt.PrtError)


# ----------------------------------------------------------------------------- PoseTrack
@pytest.mark.parametrize("task", ["pose", "tracking"])
@pytest.mark.parametrize("protocol", ["official", "corrected"])
def test_posetrack_in_memory_equals_files_and_cli_json(pt_bench, tmp_path, task, protocol):
    files = prt.evaluate(pt_bench / "gt", pt_bench / "pred", task=task, protocol=protocol, min_score=0.2)
    memory = prt.evaluate(_load_folder(pt_bench / "gt"), _load_folder(pt_bench / "pred"), task=task,
                          protocol=protocol, min_score=0.2)
    assert memory.to_dict() == files.to_dict()  # every number and per-item statistic, bit for bit
    assert memory.headline == files.headline and files.headline[files._task.primary] > 0
    out = tmp_path / "r.json"
    assert main(["evaluate", "--gt", str(pt_bench / "gt"), "--pred", str(pt_bench / "pred"), "--task", task,
                 "--protocol", protocol, "--min-score", "0.2", "--json", str(out), "-q"]) == 0
    assert json.loads(out.read_text()) == files.to_dict() == memory.to_dict()


def test_posetrack_evaluator_in_parts_is_bit_for_bit(pt_bench):
    gt, pred = _load_folder(pt_bench / "gt"), _load_folder(pt_bench / "pred")
    whole = prt.evaluate(gt, pred, task="tracking").to_dict()
    ev = prt.Evaluator(pt_bench / "gt", task="tracking")  # GT from files, predictions in memory
    names = list(pred)
    rng = np.random.default_rng(PT_SEED)
    rng.shuffle(names)
    for part in (names[:3], names[3:4], names[4:]):
        ev.update({n: pred[n] for n in part})
    assert ev.compute().to_dict() == whole
    ev.update({names[0]: pred[names[0]]})  # an identical repeat (a DDP sampler's padding) counts once
    assert ev.compute().to_dict() == whole
    with pytest.raises(MismatchError, match=f"sequence '{names[0][:-5]}' is given twice, with different content"):
        ev.update({names[0]: pred[names[1]]})
    ev.reset()
    ev.update({n: pred[n] for n in names[:2]})
    with pytest.raises(MismatchError, match="has no prediction"):
        ev.compute()
    ev.update(str(pt_bench / "pred" / names[2]))  # a path as a part
    ev.update({n: pred[n] for n in names[3:]})
    assert ev.compute().to_dict() == whole  # and again after reset


def test_posetrack_in_memory_does_not_change_the_inputs(pt_bench):
    import copy

    gt, pred = _load_folder(pt_bench / "gt"), _load_folder(pt_bench / "pred")
    gt0, pred0 = copy.deepcopy(gt), copy.deepcopy(pred)
    prt.evaluate(gt, pred, task="tracking")
    assert gt == gt0 and pred == pred0


@pytest.mark.parametrize("case", CASES)
def test_posetrack_in_memory_equals_poseval(shared_data, case):
    root = shared_data / "posetrack_cases" / case
    expected = json.loads((root / "expected_poseval.json").read_text())
    task = "pose" if case == "case5" else "tracking"  # poseval's tracking crashes on case5
    got = prt.evaluate(_load_folder(root / "gt"), _load_folder(root / "pred"), task=task).to_dict()
    assert_close(got, expected, AP_KEYS + (MOT_KEYS if task == "tracking" else []), tol=1e-9)


def test_one_sequence_in_memory(shared_data):
    root = shared_data / "posetrack_cases" / "case3"
    (g,), (p,) = _load_folder(root / "gt").values(), _load_folder(root / "pred").values()
    r = prt.evaluate(g, p)  # the task from the GT: a PoseTrack sequence -> tracking
    assert r.task == "tracking"
    assert r.headline == prt.evaluate(root / "gt", root / "pred", task="tracking").headline


# ----------------------------------------------------------------------------- COCO
@pytest.fixture(scope="module")
def coco_bench(tmp_path_factory):
    root = tmp_path_factory.mktemp("coco")
    gt, results = cocobuild.make_benchmark(seed=COCO_SEED, n_images=30)
    return gt, results, cocobuild.write_json(root / "gt.json", gt), cocobuild.write_json(root / "res.json", results)


def test_coco_in_memory_equals_pycocotools_and_files(coco_bench):
    gt, results, gt_file, res_file = coco_bench
    official = cocobuild.pycocotools_stats(gt_file, res_file)
    memory = prt.evaluate(gt, results)  # the task from the GT: COCO annotations -> coco
    assert memory.task == "coco"
    got = memory.to_dict()
    for k, v in official.items():
        assert abs(got[k] - v) <= 1e-12, k
    files = prt.evaluate(gt_file, res_file).to_dict()
    assert {k: v for k, v in files.items() if k not in ("gt", "pred")} == \
        {k: v for k, v in got.items() if k not in ("gt", "pred")}


def test_coco_evaluator_in_batches(coco_bench):
    gt, results, _, _ = coco_bench
    whole = prt.evaluate(gt, results, task="coco").to_dict()
    ev = prt.Evaluator(gt, task="coco")
    for i in range(0, len(results), 37):
        ev.update(results[i:i + 37])
    assert ev.compute().to_dict() == whole
    ev.reset()
    ev.update(results[:10])
    assert ev.compute().to_dict()["counts"]["detections"] == 10


# ----------------------------------------------------------------------------- MPII single
def _preds(path: Path) -> np.ndarray:
    from poseval_refine.formats.mpii import load_arrays

    return np.asarray(load_arrays(path)["preds"])


def test_mpii_in_memory_equals_the_matlab_kit(shared_data):
    root = shared_data / "mpii_val"
    with open(root / "expected_official.csv") as fh:
        rows = [r for r in csv.DictReader(fh) if r["name"].endswith(".h5") and "ief" not in r["name"]]
    assert rows
    for row in rows:
        r = prt.evaluate(root / "valid.h5", _preds(root / row["name"]), task="single")
        got = r.to_dict()
        for col, key in (("head", "Head"), ("sho", "Shoulder"), ("elb", "Elbow"), ("wri", "Wrist"), ("hip", "Hip"),
                         ("knee", "Knee"), ("ank", "Ankle"), ("ubody", "UBody"), ("total", "Total")):
            assert abs(got["pckh"][key] - float(row[col])) <= 1e-6, (row["name"], key)  # the CSV's 6 decimals
        assert abs(got["auc"] - float(row["auc"])) <= 1e-4  # the kit rounds its curve


def test_mpii_in_memory_equals_files_and_parts(shared_data, tmp_path):
    import h5py

    root = shared_data / "mpii_val"
    rng = np.random.default_rng(MPII_SEED)
    arr = _preds(root / "newell.h5") + rng.normal(0, 4, (2958, 16, 2))
    with h5py.File(tmp_path / "p.h5", "w") as f:
        f["preds"] = arr
    files = prt.evaluate(root / "valid.h5", tmp_path / "p.h5", task="single").to_dict()
    memory = prt.evaluate(root / "valid.h5", arr, task="single").to_dict()
    drop = ("entries",)  # which names the prediction: its path, or 'pred'
    assert {k: v for k, v in files.items() if k not in drop} == {k: v for k, v in memory.items() if k not in drop}
    ev = prt.Evaluator(root / "valid.h5", task="single")
    order = rng.permutation(2958)
    for part in np.array_split(order, 5):
        ev.update((part, arr[part]))
    assert ev.compute().to_dict() == memory


# ----------------------------------------------------------------------------- bad input
def test_bad_in_memory_input_names_item_and_field(pt_bench, coco_bench):
    gt, pred = _load_folder(pt_bench / "gt"), _load_folder(pt_bench / "pred")
    name = sorted(pred)[2]
    bad = json.loads(json.dumps(pred))
    bad[name]["annotations"][3]["track_id"] = "seven"
    with pytest.raises(InputError) as e:
        prt.evaluate(gt, bad, task="tracking")
    assert isinstance(e.value, ValueError)
    assert e.value.file == name and e.value.field == "annotations[3].track_id" and name in str(e.value)
    bad_gt = json.loads(json.dumps(gt))
    bad_gt[sorted(gt)[1]]["annolist"][0]["annorect"] = "none"
    with pytest.raises(InputError, match=sorted(gt)[1]):
        prt.Evaluator(bad_gt, task="tracking")
    with pytest.raises(MismatchError, match="which the GT lacks"):
        prt.evaluate(gt, {"000999_other.json": pred[name]}, task="tracking")
    cgt, results, _, _ = coco_bench
    broken = [dict(r) for r in results]
    del broken[5]["image_id"]
    with pytest.raises(InputError) as e:
        prt.evaluate(cgt, broken, task="coco")
    assert str(e.value).startswith("pred, field 'image_id': results[5] has no 'image_id'")
    ev = prt.Evaluator({"part": np.ones((3, 16, 2)), "normalize": np.ones(3)}, task="single")
    with pytest.raises(InputError) as e:
        ev.update(np.zeros((3, 15, 2)))
    assert e.value.file == "pred" and e.value.field == "preds" and "has shape (3, 15, 2)" in str(e.value)
    with pytest.raises(MismatchError, match="person index 7 is outside the GT's 3 people"):
        ev.update(([0, 7], np.zeros((2, 16, 2))))


def test_options_are_checked_as_the_cli_checks_them(pt_bench):
    with pytest.raises(ConfigError, match="option --flavour does not apply to --task tracking"):
        prt.evaluate(pt_bench / "gt", pt_bench / "pred", task="tracking", flavour="hrnet")
    with pytest.raises(ConfigError, match="protocol='offical' is not one of"):
        prt.evaluate(pt_bench / "gt", pt_bench / "pred", task="tracking", protocol="offical")
    with pytest.raises(ConfigError, match="unknown option min_scor"):
        prt.Evaluator(pt_bench / "gt", task="tracking", min_scor=0.5)


def test_no_call_writes_a_file(pt_bench, coco_bench, shared_data, tmp_path, monkeypatch):
    """Every file opened for writing while the API runs is recorded (an audit hook on open)."""
    gt, pred = _load_folder(pt_bench / "gt"), _load_folder(pt_bench / "pred")
    cgt, results, _, _ = coco_bench
    mpii_gt = shared_data / "mpii_val" / "valid.h5"
    arr = _preds(shared_data / "mpii_val" / "newell.h5")

    def calls():
        r = prt.evaluate(gt, pred, task="tracking")
        r.to_frame(), r.render("latex"), r.render("markdown"), r.to_dict()
        ev = prt.Evaluator(pt_bench / "gt", task="pose", min_score=0.3)
        ev.update(pred).compute()
        prt.evaluate(cgt, results).render()
        prt.evaluate(mpii_gt, arr).to_frame()
        prt.load(pred), prt.load(results), prt.load(arr)

    calls()  # imports and caches first
    writes: list = []
    state = {"on": False}

    def hook(event, args):
        if state["on"] and event == "open" and args[0] is not None:
            mode, flags = args[1], args[2]
            if (isinstance(mode, str) and any(c in mode for c in "wax+")) or \
                    (isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT)):
                writes.append(args[0])

    sys.addaudithook(hook)
    monkeypatch.chdir(tmp_path)
    state["on"] = True
    try:
        calls()
    finally:
        state["on"] = False
    assert writes == [] and list(tmp_path.iterdir()) == []


# ----------------------------------------------------------------------------- Result
def test_result_frame_render_and_save(pt_bench, tmp_path, caplog):
    import logging

    caplog.set_level(logging.INFO, logger="prt")  # notes are what the prt logger lets through
    pred = _load_folder(pt_bench / "pred")
    r = prt.evaluate(pt_bench / "gt", pred, task="tracking", min_score=0.5)
    assert list(r.headline)[0] == "MOTA" and r["MOTA"] == r.to_dict()["mota_total"]
    frame = r.to_frame()
    assert len(frame) == 15 + 8 and list(frame.columns) == ["kind", "MOTA", "MOTP", "Prec", "Rec", "AP"]
    assert frame.loc["Total", "MOTA"] == r["MOTA"] and frame.loc["head_top", "AP"] == r.to_dict()["ap_joint"][14]
    assert r.render() == r._task.render(r._data) and "& MOTA" in r.render()
    assert "| Total" in r.render("markdown") and "\\toprule" in r.render("latex")
    assert any("--min-score 0.5 dropped" in n for n in r.notes)
    path = r.save("my-net", results=tmp_path / "store", benchmark="api-split")
    stored = json.loads(path.read_text())
    assert stored["inputs"]["pred"]["path"] == "<in memory>" and stored["source"] == "user"
    assert stored["headline"]["MOTA"] == r["MOTA"]
    boards = prt.leaderboard(task="tracking", benchmark="api-split", results=tmp_path / "store", resamples=20)
    assert [row.method for row in boards[0].rows] == ["my-net"] and boards[0].rows[0].value == r["MOTA"]
    assert "my-net" in prt.leaderboard(task="tracking", results=tmp_path / "store", resamples=0, fmt="markdown")


def test_load_gives_the_canonical_form(pt_bench, coco_bench):
    from poseval_refine.formats import read_poses

    pred = _load_folder(pt_bench / "pred")
    a, b = prt.load(pred), read_poses(pt_bench / "pred")
    assert a.names() == b.names()
    for name in a.names():
        np.testing.assert_array_equal(a[name].keypoints, b[name].keypoints)
        np.testing.assert_array_equal(a[name].track_id, b[name].track_id)
    _, results, _, res_file = coco_bench
    np.testing.assert_array_equal(next(iter(prt.load(results))).keypoints,
                                  next(iter(read_poses(res_file))).keypoints)
    arr = np.random.default_rng(1).normal(100, 20, (5, 16, 3))
    np.testing.assert_array_equal(next(iter(prt.load(arr))).keypoints, arr)


# ----------------------------------------------------------------------------- --method with the user's files
def test_method_with_user_files_stores_its_recomputed_row(tmp_path):
    """`prt evaluate --method artrack --task tracking --gt GT --pred PRED` reads PRED in ArtTrack's native
    format (PoseTrack 2017, baselines/artrack.json) and stores the recomputed row beside the paper's."""
    from poseval_refine.formats.posetrack import write_posetrack
    from poseval_refine.synthetic import make_benchmark

    gt, pred = make_benchmark(50, 4, seed=METHOD_SEED)  # the size of posetrack17-val (50 sequences)
    write_posetrack(gt, tmp_path / "gt", "posetrack2017")
    write_posetrack(pred, tmp_path / "pred", "posetrack2017")
    write_posetrack(pred, tmp_path / "pred18", "posetrack2018")
    store = tmp_path / "store"
    args = ["evaluate", "--method", "artrack", "--task", "tracking", "--gt", str(tmp_path / "gt"),
            "--results", str(store), "-q"]
    assert main([*args, "--pred", str(tmp_path / "pred")]) == 0
    stored = json.loads((store / "artrack__posetrack17-val__tracking.json").read_text())
    assert stored["source"] == "recomputed" and stored["options"]["native_format"] == "posetrack2017"
    expected = prt.evaluate(tmp_path / "gt", tmp_path / "pred", task="tracking")
    assert stored["headline"]["MOTA"] == expected["MOTA"] and stored["numbers"]["mota_joint"] == \
        expected.to_dict()["mota_joint"]
    board = prt.leaderboard(task="tracking", benchmark="posetrack17-val", results=store, resamples=0)[0]
    sources = {(r.source, r.name.split(" ")[0]) for r in board.rows}
    assert ("recomputed", "ArtTrack") in sources and ("quoted", "ArtTrack") in sources
    assert main([*args, "--pred", str(tmp_path / "pred18"), "--overwrite"]) == 2  # not ArtTrack's format


def test_method_native_format_is_read_by_its_adapter(shared_data, tmp_path):
    """A method whose native format the task does not read itself reaches it through the format's reader:
    the result equals evaluating the same poses converted."""
    root = shared_data / "mpii_val"
    assert main(["evaluate", "--method", "newell", "--task", "single", "--gt", str(root / "valid.h5"),
                 "--pred", str(root / "newell.h5"), "--results", str(tmp_path / "s"), "-q"]) == 0
    stored = json.loads((tmp_path / "s" / "newell__mpii-val__single.json").read_text())
    assert abs(stored["headline"]["PCKh@0.5"] - 88.425709) < 1e-6


def test_odd_inputs_in_memory_and_out_of_order_parts(tmp_path):
    """Inputs poseval reads its own way (repeated joints, null/NaN/string scores, non-finite coordinates,
    both layouts, GT ids repeated where poseval's dummy frames make them acceptable, which depends on each
    sequence's position): parsed with Python's json (NaN included), given out of order and in parts."""
    from poseval_refine.synthetic import write_odd_benchmark

    write_odd_benchmark(tmp_path, n_sequences=9, n_frames=12, seed=ODD_SEED, repeated_gt_ids=True)
    gt, pred = _load_python_json(tmp_path / "gt"), _load_python_json(tmp_path / "pred")
    files = prt.evaluate(tmp_path / "gt", tmp_path / "pred", task="tracking").to_dict()
    assert prt.evaluate(gt, pred, task="tracking").to_dict() == files
    names = list(pred)[::-1]
    ev = prt.Evaluator(gt, task="tracking")
    for part in (names[:4], names[4:]):
        ev.update({n: pred[n] for n in part})
    assert ev.compute().to_dict() == files


def _load_python_json(folder: Path) -> dict:
    return {os.path.basename(f): json.loads(Path(f).read_text())
            for f in glob.glob(os.path.join(glob.escape(str(folder)), "*.json"))}
