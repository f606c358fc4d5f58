"""``prt evaluate`` without ``--task``: the task follows from the GT file, and stderr says which."""

from __future__ import annotations

import json
import shutil

import pytest

from poseval_refine.cli import main
from poseval_refine.sample import sample_paths

from .support.cocobuild import make_benchmark, write_json


def _evaluate(capsys, *args):
    code = main(["evaluate", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def test_coco_annotations_mean_task_coco(tmp_path, capsys):
    gt, res = make_benchmark(3, n_images=8)
    g = write_json(tmp_path / "person_keypoints.json", gt)
    r = write_json(tmp_path / "res.json", res)
    code, out, err = _evaluate(capsys, "--gt", g, "--pred", r, "--json", tmp_path / "default.json")
    assert code == 0, err
    assert "--task coco" in err and "COCO keypoint annotations" in err
    code, _, err2 = _evaluate(capsys, "--gt", g, "--pred", r, "--task", "coco", "--json", tmp_path / "explicit.json")
    assert code == 0, err2
    assert "--task coco" not in err2  # nothing to say when the task is given
    default, explicit = (json.loads((tmp_path / n).read_text()) for n in ("default.json", "explicit.json"))
    assert default["task"] == "coco" and default["AP"] == explicit["AP"] and default["AR"] == explicit["AR"]


def test_mpii_arrays_mean_task_single(shared_data, tmp_path, capsys):
    root = shared_data / "mpii_val"
    code, out, err = _evaluate(capsys, "--gt", root / "valid.h5", "--pred", root / "newell.h5",
                               "--json", tmp_path / "r.json")
    assert code == 0, err
    assert "--task single" in err
    assert json.loads((tmp_path / "r.json").read_text())["pckh"]["Total"] == pytest.approx(88.425709, abs=1e-6)


def test_posetrack_folder_and_file_mean_task_tracking(tmp_path, capsys):
    gt, pred = sample_paths()
    code, out, err = _evaluate(capsys, "--gt", gt, "--pred", pred)
    assert code == 0, err
    assert "--task tracking" in err and "MOTA" in out
    one = sorted(gt.glob("*.json"))[0]
    shutil.copy(one, tmp_path / "gt.json")
    shutil.copy(pred / one.name, tmp_path / "pred.json")
    code, out, err = _evaluate(capsys, "--gt", tmp_path / "gt.json", "--pred", tmp_path / "pred.json")
    assert code == 0, err
    assert "--task tracking" in err and "MOTA" in out


def test_posetrack18_file_is_not_taken_for_coco(shared_data, capsys):
    root = shared_data / "posetrack18_val_sample"
    gt = sorted((root / "annotations" / "val").glob("*.json"))[0]
    pred = root / "gt_as_pred" / gt.name
    code, out, err = _evaluate(capsys, "--gt", gt, "--pred", pred)
    assert "--task tracking" in err, err
    assert "--task coco" not in err


def test_unknown_gt_kind_asks_for_task(tmp_path, capsys):
    gt = tmp_path / "gt.txt"
    gt.write_text("x y\n")
    code, out, err = _evaluate(capsys, "--gt", gt, "--pred", gt)
    assert code == 2
    assert "gt.txt" in err and "--task" in err and "Traceback" not in err


def test_mpii_multi_person_annolist_json_means_task_multi(tmp_path, capsys):
    from .support.fuzzing import mpii_annolist

    gt, pred = tmp_path / "groups_gt.json", tmp_path / "groups_pred.json"
    gt.write_text(json.dumps({"annolist": mpii_annolist(False)}))
    pred.write_text(json.dumps({"annolist": mpii_annolist(True)}))
    code, out, err = _evaluate(capsys, "--gt", gt, "--pred", pred)
    assert code == 0, err
    assert "--task multi" in err and "MPII multi-person AP" in out
