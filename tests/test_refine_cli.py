"""`prt synth`, `prt train`, `prt refine` end to end on tiny synthetic data (seconds, not minutes)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from poseval_refine.cli import main
from poseval_refine.refiner.encode import EncodeConfig
from poseval_refine.refiner.synth import SynthConfig
from poseval_refine.refiner.train import TrainConfig, train

from .support.refiner import MOVE_ALL, SCALE


def refine(args, capsys=None):
    code = main(["refine", *map(str, args)])
    return code


def test_synth_writes_posetrack18_layout(tiny):
    _, scenes, _ = tiny
    data = json.loads((scenes / "annotations.json").read_text())
    assert len(data["images"]) == 4 and all((scenes / im["file_name"]).is_file() for im in data["images"])
    assert data["categories"][0]["keypoints"][1] == "head_bottom"
    ann = data["annotations"][0]
    assert len(ann["keypoints"]) == 51 and len(ann["bbox_head"]) == 4 and "track_id" in ann
    assert ann["keypoints"][9:15] == [0, 0, 0, 0, 0, 0]  # ears are never annotated


def test_scores_track_ids_and_other_fields_preserved(tiny, tmp_path, capsys):
    _, scenes, ckpt = tiny
    out = tmp_path / "refined.json"
    assert refine(["--pred", scenes / "predictions.json", "--images", scenes, "--checkpoint", ckpt, "--out", out,
                   *MOVE_ALL]) == 0
    err = capsys.readouterr().err
    summary = [line for line in err.splitlines() if "refined" in line and "people" in line]
    assert len(summary) == 1, err
    a = json.loads((scenes / "predictions.json").read_text())
    b = json.loads(out.read_text())
    assert a["images"] == b["images"] and a["categories"] == b["categories"]
    moved = recovered = 0
    ears = [3, 4]  # not in PoseTrack-15: never predicted
    for x, y in zip(a["annotations"], b["annotations"], strict=True):
        assert x["scores"] == y["scores"] and x["track_id"] == y["track_id"]
        assert {k: v for k, v in x.items() if k != "keypoints"} == {k: v for k, v in y.items() if k != "keypoints"}
        kx, ky = np.array(x["keypoints"]).reshape(17, 3), np.array(y["keypoints"]).reshape(17, 3)
        absent = (kx == 0).all(1)
        assert (ky[ears] == 0).all() and absent[ears].all()
        # official semantics: every other joint is predicted, missing ones included
        assert not (ky[[j for j in range(17) if j not in ears]] == 0).all(1).any()
        recovered += int(absent.sum()) - 2
        moved += int((kx[~absent, :2] != ky[~absent, :2]).any())
    assert moved > 0 and recovered > 0
    assert f"{recovered} recovered" in summary[0]
    # score tokens are byte-identical: a recovered joint gets the input's score for its slot (0 here)
    token = re.compile(r'"scores":\[[^\]]*\]')
    assert token.findall(out.read_text()) == token.findall((scenes / "predictions.json").read_text())


def test_recovered_joint_scores_and_input_joints_only(tiny, tmp_path):
    _, scenes, ckpt = tiny
    data = json.loads((scenes / "predictions.json").read_text())
    ann = data["annotations"][0]
    ann["keypoints"][3 * 7: 3 * 7 + 3] = [0, 0, 0]  # left elbow absent ...
    ann["scores"][7] = 0.25  # ... but the file lists a score for its slot, as 2018 files may
    ann["keypoints"][3 * 8: 3 * 8 + 3] = [0, 0, 0]  # right elbow absent, slot score 0
    ann["scores"][8] = 0
    src = tmp_path / "p.json"
    src.write_text(json.dumps(data))
    base = ["--pred", src, "--images", scenes, "--checkpoint", ckpt]
    outs = {}
    for name, extra in (("official", []), ("refiner", ["--recovered-score", "refiner"]),
                        ("only", ["--input-joints-only"])):
        outs[name] = tmp_path / f"{name}.json"
        assert refine([*base, "--out", outs[name], *extra]) == 0
    off = json.loads(outs["official"].read_text())["annotations"][0]
    assert off["scores"][7] == 0.25 and off["scores"][8] == 0  # the input's slot score, else 0
    assert off["keypoints"][3 * 7 + 2] == 1 and off["keypoints"][3 * 8 + 2] == 1  # both predicted
    ref = json.loads(outs["refiner"].read_text())["annotations"][0]
    assert 0 < ref["scores"][7] < 1 and ref["scores"][7] != 0.25 and 0 < ref["scores"][8] < 1
    assert ref["keypoints"][3 * 7: 3 * 7 + 2] == off["keypoints"][3 * 7: 3 * 7 + 2]
    only = json.loads(outs["only"].read_text())["annotations"][0]
    assert only["keypoints"][3 * 7: 3 * 9] == [0] * 6 and only["scores"] == ann["scores"]


def test_prediction_boxes_are_ignored_unless_asked_for(tiny, tmp_path):
    """A method's output has no GT head boxes; adding them must not change the default result."""
    _, scenes, ckpt = tiny
    pred = json.loads((scenes / "predictions.json").read_text())
    gt = json.loads((scenes / "annotations.json").read_text())
    assert not any("bbox_head" in a for a in pred["annotations"])  # prt synth writes no GT boxes
    for a, g in zip(pred["annotations"], gt["annotations"], strict=True):
        a["bbox_head"] = g["bbox_head"]
    with_boxes = tmp_path / "boxes.json"
    with_boxes.write_text(json.dumps(pred))
    base = ["--images", scenes, "--checkpoint", ckpt, *MOVE_ALL]
    assert refine(["--pred", scenes / "predictions.json", "--out", tmp_path / "a.json", *base]) == 0
    assert refine(["--pred", with_boxes, "--out", tmp_path / "b.json", *base]) == 0
    assert refine(["--pred", with_boxes, "--out", tmp_path / "c.json", *base, "--scale-from", "head-box"]) == 0
    kp = {n: [a["keypoints"] for a in json.loads((tmp_path / f"{n}.json").read_text())["annotations"]] for n in "abc"}
    assert kp["a"] == kp["b"]
    assert kp["a"] != kp["c"]  # the boxes are used only when asked for by name


def test_2017_scores_are_byte_identical(tiny, tmp_path):
    from poseval_refine.formats import read_poses, write_poses

    _, scenes, ckpt = tiny
    write_poses(read_poses(scenes / "predictions.json"), tmp_path / "p17.json", "posetrack2017")
    out = tmp_path / "r17.json"
    assert refine(["--pred", tmp_path / "p17.json", "--images", scenes, "--checkpoint", ckpt, "--out", out]) == 0
    src, dst = json.loads((tmp_path / "p17.json").read_text()), json.loads(out.read_text())
    for fa, fb in zip(src["annolist"], dst["annolist"], strict=True):
        for ra, rb in zip(fa["annorect"], fb["annorect"], strict=True):
            assert ra["track_id"] == rb["track_id"]
            a, b = ({p["id"][0]: p["score"] for p in r["annopoints"][0]["point"]} for r in (ra, rb))
            assert {j: b[j] for j in a} == a  # the very tokens read
            assert set(b) == set(range(15)) and all(b[j] == [0] for j in set(b) - set(a))  # recovered: 0


def _folder(scenes: Path, dst: Path, n: int) -> Path:
    from poseval_refine.formats.posetrack import read_sequence, write_sequence
    from poseval_refine.refiner.corrupt import corrupt_sequence

    dst.mkdir()
    gt = read_sequence(scenes / "annotations.json")
    for i in range(n):
        write_sequence(corrupt_sequence(gt, "heavy", 100 + i), dst / f"seq{i}.json")
    return dst


def test_folder_equals_files_one_by_one_and_shards_merge(tiny, tmp_path):
    _, scenes, ckpt = tiny
    folder = _folder(scenes, tmp_path / "preds", 3)
    base = ["--images", scenes, "--checkpoint", ckpt]
    assert refine(["--pred", folder, "--out", tmp_path / "all", *base, "--batch-size", "3"]) == 0
    for f in sorted(folder.iterdir()):
        one = tmp_path / f"one_{f.name}"
        assert refine(["--pred", f, "--out", one, *base, "--batch-size", "3"]) == 0
        assert one.read_bytes() == (tmp_path / "all" / f.name).read_bytes()
    merged = {}
    for i in range(2):  # shard 0 takes two of the three files, shard 1 one
        assert refine(["--pred", folder, "--out", tmp_path / f"shard{i}", *base, "--shard", f"{i}/2"]) == 0
        for f in (tmp_path / f"shard{i}").iterdir():
            assert f.name not in merged
            merged[f.name] = f.read_bytes()
    assert merged == {f.name: f.read_bytes() for f in (tmp_path / "all").iterdir()}


def test_min_score_drops_low_confidence_joints(tiny, tmp_path):
    _, scenes, ckpt = tiny
    out = tmp_path / "tau.json"
    assert refine(["--pred", scenes / "predictions.json", "--images", scenes, "--checkpoint", ckpt, "--out", out,
                   "--min-score", "1.0"]) == 0  # a sigmoid confidence never exceeds 1: every joint goes
    data = json.loads(out.read_text())
    assert all(all(v == 0 for v in a["keypoints"]) for a in data["annotations"])


def test_bad_inputs(tiny, tmp_path, capsys):
    _, scenes, ckpt = tiny
    pred = scenes / "predictions.json"
    # an image that cannot be found
    code = refine(["--pred", pred, "--images", tmp_path, "--checkpoint", ckpt, "--out", tmp_path / "x.json"])
    err = capsys.readouterr().err
    assert code == 2 and "image not found" in err and "000000.jpg" in err and not (tmp_path / "x.json").exists()
    # an image that cannot be read, in the main process and in a DataLoader worker
    broken = tmp_path / "broken"
    shutil.copytree(scenes, broken)
    (broken / "images" / "000001.jpg").write_bytes(b"not a jpeg")
    for workers in ("0", "1"):
        out = tmp_path / f"y{workers}.json"
        code = refine(["--pred", pred, "--images", broken, "--checkpoint", ckpt, "--out", out, "--workers", workers])
        err = capsys.readouterr().err
        lines = [ln for ln in err.splitlines() if ln.startswith("prt: error:")]
        assert code == 2 and len(lines) == 1 and "000001.jpg" in lines[0] and "cannot be read" in lines[0], err
        assert "Traceback" not in err and "TypeError" not in err and not out.exists()
    # a checkpoint of another joint set / architecture
    ck = torch.load(ckpt, weights_only=False)
    ck["model_config"]["num_joints"], ck["skeleton"] = 17, "coco17"
    torch.save(ck, tmp_path / "coco.ckpt")
    code = refine(["--pred", pred, "--images", scenes, "--checkpoint", tmp_path / "coco.ckpt", "--out", tmp_path / "z"])
    assert code == 2 and "coco17" in capsys.readouterr().err
    ck = torch.load(ckpt, weights_only=False)
    ck["model_config"]["arch"] = "resnet50"
    torch.save(ck, tmp_path / "arch.ckpt")
    code = refine(["--pred", pred, "--images", scenes, "--checkpoint", tmp_path / "arch.ckpt", "--out", tmp_path / "w"])
    err = capsys.readouterr().err
    assert code == 2 and "resnet50" in err and "arch.ckpt" in err and "Traceback" not in err
    # the input is never overwritten
    assert refine(["--pred", pred, "--images", scenes, "--checkpoint", ckpt, "--out", pred]) != 0


class _Foreign:  # a pickled object of a class: never executed by prt
    pass


@pytest.mark.parametrize("kind", ["garbage", "empty", "text", "pickle", "tensor", "no-model", "folder", "missing"])
def test_foreign_checkpoints_give_one_clear_error(tiny, tmp_path, capsys, kind):
    import pickle

    _, scenes, _ = tiny
    path = tmp_path / f"{kind}.ckpt"
    if kind == "garbage":
        path.write_bytes(bytes(range(256)) * 4)
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "text":
        path.write_text('{"model": 1}')
    elif kind == "pickle":
        path.write_bytes(pickle.dumps({"model": _Foreign(), "model_config": {}}))
    elif kind == "tensor":
        torch.save(torch.zeros(3), path)
    elif kind == "no-model":
        torch.save({"weights": torch.zeros(3)}, path)
    elif kind == "folder":
        path.mkdir()
    for argv in (["refine", "--pred", scenes / "predictions.json", "--images", scenes, "--checkpoint", path, "--out",
                  tmp_path / "out.json"],
                 ["train", "--steps", "1", "--resume", "--out", path, "--calibration-scenes", "0"]):
        if kind == "missing" and argv[0] == "train":
            continue  # --resume without a checkpoint starts a new run
        code = main([str(a) for a in argv])
        err = capsys.readouterr().err
        lines = [ln for ln in err.splitlines() if ln.startswith("prt: error:")]
        assert code == 2 and len(lines) == 1 and str(path) in lines[0], err
        assert "Traceback" not in err and not (tmp_path / "out.json").exists()


def test_resume_keeps_the_architecture_and_the_schedule(tiny, tmp_path, capsys):
    _, _, ckpt = tiny
    mine = tmp_path / "r.ckpt"
    shutil.copy(ckpt, mine)
    code = main(["train", "--steps", "4", "--resume", "--out", str(mine), "--arch", "resnet34"])
    err = capsys.readouterr().err
    assert code == 2 and "--arch resnet34 (checkpoint: resnet18)" in err and str(mine) in err
    assert torch.load(mine, weights_only=True)["step"] == 2  # untouched
    # with a time budget the schedule continues where the checkpoint left it
    ck = torch.load(mine, weights_only=True)
    ck["seconds"] = 1.0
    torch.save(ck, mine)
    kw = dict(out=mine, minutes=2.0 / 60, width=8, batch_size=2, checkpoint_every=0, calibration_scenes=0, resume=True,
              encode=EncodeConfig(scale=SCALE, canvas_factor=0.8), synth=SynthConfig(scale=SCALE))
    res = train(TrainConfig(**kw))
    assert 0.49 <= res["start_progress"] < 0.75
    ck["seconds"] = 5.0  # more than the whole budget: nothing left to train
    torch.save(ck, mine)
    res = train(TrainConfig(**kw))
    assert res["steps"] == 2 and res["start_progress"] == 1.0


def test_people_without_joints_pass_through_and_outliers_are_refined(tiny, tmp_path, capsys):
    _, scenes, ckpt = tiny
    data = json.loads((scenes / "predictions.json").read_text())
    data["annotations"][0]["keypoints"] = [0] * 51
    kp = data["annotations"][1]["keypoints"]
    far = next(j for j in range(5, 17) if kp[3 * j + 2] != 0)
    kp[3 * far] += 5000.0  # one joint thrown far off: the person must still be refined
    (tmp_path / "odd.json").write_text(json.dumps(data))
    out = tmp_path / "odd_out.json"
    assert refine(["--pred", tmp_path / "odd.json", "--images", scenes, "--checkpoint", ckpt, "--out", out,
                   *MOVE_ALL]) == 0
    err = capsys.readouterr().err
    assert "1 people passed through unchanged (no joints)" in err and "1 far-off joints replaced" in err
    res = json.loads(out.read_text())
    assert res["annotations"][0]["keypoints"] == [0] * 51
    assert len(res["annotations"]) == len(data["annotations"])
    new = np.array(res["annotations"][1]["keypoints"]).reshape(17, 3)
    old = np.array(kp).reshape(17, 3)
    others = [j for j in range(5, 17) if j != far and old[j, 2] != 0]
    assert (new[others, :2] != old[others, :2]).any()  # refined, not passed through
    centre = np.median(old[others, :2], axis=0)
    assert np.hypot(*(new[far, :2] - centre)) < 1000  # the far-off joint was brought back to the person


def test_ddp_two_gloo_ranks_end_identical(tmp_path):
    import socket

    with socket.socket() as sock:  # a free port: a fixed one collides with any other run on the machine
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", str(port),
           "-m", "poseval_refine.cli", "train", "--steps", "3", "--width", "8", "--batch-size", "2",
           "--scale", str(SCALE), "--canvas", "0.8", "--device", "cpu", "--checkpoint-every", "0",
           "--calibration-scenes", "0",
           "--out", str(tmp_path / "ddp.ckpt"), "--save-all-ranks"]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    a = torch.load(tmp_path / "ddp.ckpt.rank0", weights_only=True)
    b = torch.load(tmp_path / "ddp.ckpt.rank1", weights_only=True)
    init = torch.load(tmp_path / "ddp.ckpt", weights_only=False)["model"]
    params = [k for k in a if not k.endswith(("running_mean", "running_var", "num_batches_tracked"))]
    assert len(params) > 50
    for k in params:  # batch-norm statistics are per rank (DDP broadcasts rank 0's before each step)
        torch.testing.assert_close(a[k], b[k], rtol=0, atol=0)
        torch.testing.assert_close(a[k], init[k], rtol=0, atol=0)
    assert torch.load(tmp_path / "ddp.ckpt", weights_only=False)["step"] == 3


# ------------------------------------------------------------------------------- dataset readers
def test_training_readers_on_tiny_fixtures(tiny, tmp_path):
    import scipy.io
    from PIL import Image

    from poseval_refine.refiner.data import RecordDataset, coco_records, mpii_records, posetrack_records

    _, scenes, _ = tiny
    enc, syn = EncodeConfig(scale=SCALE, canvas_factor=0.8), SynthConfig(scale=SCALE)
    recs = posetrack_records(scenes / "annotations.json", scenes)
    assert len(recs) == 4 and recs[0].keypoints.shape[1:] == (15, 2)
    # COCO: one image, one person
    Image.fromarray(np.full((120, 160, 3), 90, np.uint8)).save(tmp_path / "c.jpg")
    kp = []
    for x, y in [(80, 20), (76, 16), (84, 16), (70, 18), (90, 18), (65, 40), (95, 40), (60, 60), (100, 60),
                 (58, 80), (102, 80), (70, 80), (90, 80), (70, 100), (90, 100), (70, 118), (90, 118)]:
        kp += [x, y, 2]
    coco = {"images": [{"id": 1, "file_name": "c.jpg", "width": 160, "height": 120}],
            "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "keypoints": kp, "num_keypoints": 17,
                             "iscrowd": 0, "area": 5000, "bbox": [55, 10, 50, 110]}],
            "categories": [{"id": 1, "name": "person"}]}
    (tmp_path / "coco.json").write_text(json.dumps(coco))
    c = coco_records(tmp_path / "coco.json", tmp_path)
    np.testing.assert_allclose(c[0].keypoints[0, 12], [80, 40])  # head bottom = shoulder midpoint
    np.testing.assert_allclose(c[0].keypoints[0, 14], [80, 16 + 0.6 * (16 - 40)])  # head top above the eyes
    # MPII: the official annotation struct
    rect = {"x1": 70.0, "y1": 5.0, "x2": 90.0, "y2": 30.0,
            "annopoints": {"point": np.array([{"id": j, "x": 60.0 + j, "y": 10.0 + 6 * j, "is_visible": 1}
                                              for j in range(16)], dtype=object)}}
    annolist = np.empty((1, 1), dtype=object)
    annolist[0, 0] = {"image": {"name": "c.jpg"}, "annorect": np.array([rect], dtype=object)}
    single = np.empty((1, 1), dtype=object)
    single[0, 0] = np.array([1.0])
    scipy.io.savemat(tmp_path / "mpii.mat", {"RELEASE": {"annolist": annolist, "img_train": np.array([1]),
                                                         "single_person": single}})
    m = mpii_records(tmp_path / "mpii.mat", tmp_path)
    np.testing.assert_allclose(m[0].keypoints[0, 13], [(69 + 68) / 2, (64 + 58) / 2])  # nose: head top / neck
    for records in (recs, c, m):
        sample = RecordDataset(records, enc, syn)[0]
        assert sample["input"].shape == (18, enc.canvas, enc.canvas) and sample["heat"].shape[0] == 15


def test_calibrated_rules_from_the_checkpoint_apply_by_default(tiny, tmp_path, capsys):
    _, scenes, ckpt = tiny
    ck = torch.load(ckpt, weights_only=True)
    assert set(ck["refine"]) >= {"keep_below", "min_move", "calibration"}  # written by prt train
    ck["refine"]["keep_below"], ck["refine"]["min_move"] = 0.0, 1000.0  # every refined move is "too small"
    torch.save(ck, tmp_path / "still.ckpt")
    base = ["--pred", scenes / "predictions.json", "--images", scenes, "--checkpoint", tmp_path / "still.ckpt"]
    assert refine([*base, "--out", tmp_path / "a.json"]) == 0
    err = capsys.readouterr().err
    assert ": 0 joints moved" in err and "moved < 1000 head sizes" in err
    src = json.loads((scenes / "predictions.json").read_text())["annotations"]
    out = json.loads((tmp_path / "a.json").read_text())["annotations"]
    for x, y in zip(src, out, strict=True):
        present = [i for i in range(17) if x["keypoints"][3 * i + 2] != 0]
        assert all(x["keypoints"][3 * i: 3 * i + 2] == y["keypoints"][3 * i: 3 * i + 2] for i in present)
    assert refine([*base, "--out", tmp_path / "b.json", "--min-move", "0"]) == 0  # an explicit option wins
    assert ": 0 joints moved" not in capsys.readouterr().err


def test_evaluate_refinement_options_need_refined(tiny, capsys):
    _, scenes, _ = tiny
    code = main(["evaluate", "--gt", str(scenes / "annotations.json"), "--pred", str(scenes / "predictions.json"),
                 "--task", "pckh", "--keep-below", "0.5"])
    assert code == 2 and "refinement options go with --method and --refined" in capsys.readouterr().err


def test_existing_out_is_refused_before_any_work(tiny, tmp_path, capsys):
    _, scenes, _ = tiny
    out = tmp_path / "taken.json"
    out.write_text("mine")
    # the checkpoint does not exist: the output path is checked first, before minutes of refinement
    code = refine(["--pred", scenes / "predictions.json", "--images", scenes, "--checkpoint", tmp_path / "none.ckpt",
                   "--out", out])
    err = capsys.readouterr().err
    assert code == 2 and "exists already" in err and "taken.json" in err and out.read_text() == "mine"


# ------------------------------------------------------------------------- provenance and --calibrate-on
def _real_looking(scenes: Path, tmp_path: Path) -> Path:
    """The scenes without the marker prt synth leaves: to prt they are a user's own images."""
    mine = tmp_path / "mine"
    shutil.copytree(scenes, mine)
    (mine / "prt_synth.json").unlink()
    return mine


def test_checkpoint_records_what_it_was_trained_on(tiny):
    _, _, ckpt = tiny
    ck = torch.load(ckpt, weights_only=True)
    assert ck["train"]["stages"] == [{"dataset": "synthetic", "steps": 2, "profile": "cpu"}]
    assert ck["refine"]["calibration"]["on"] == "synthetic"


def test_synthetic_only_checkpoint_on_real_images_says_so_once(tiny, tmp_path, capsys):
    _, scenes, ckpt = tiny
    mine = _real_looking(scenes, tmp_path)
    assert refine(["--pred", mine / "predictions.json", "--images", mine, "--checkpoint", ckpt, "--out",
                   tmp_path / "a.json"]) == 0
    lines = [ln for ln in capsys.readouterr().err.splitlines() if "synthetic scenes only" in ln]
    assert len(lines) == 1 and "docs/refiner.md" in lines[0] and "--calibrate-on" in lines[0], lines
    assert "60.6 to 46.6" in lines[0] and "2 steps" in lines[0]
    # prt synth's own scenes are what the checkpoint was trained on: no warning
    assert refine(["--pred", scenes / "predictions.json", "--images", scenes, "--checkpoint", ckpt, "--out",
                   tmp_path / "b.json"]) == 0
    assert "synthetic scenes only" not in capsys.readouterr().err
    # a checkpoint that has seen real data: no warning either
    ck = torch.load(ckpt, weights_only=True)
    ck["train"]["stages"].append({"dataset": "posetrack", "steps": 5, "profile": "cpu"})
    torch.save(ck, tmp_path / "real.ckpt")
    assert refine(["--pred", mine / "predictions.json", "--images", mine, "--checkpoint", tmp_path / "real.ckpt",
                   "--out", tmp_path / "c.json"]) == 0
    assert "synthetic scenes only" not in capsys.readouterr().err


def test_refined_file_names_checkpoint_and_rules(tiny, tmp_path):
    _, scenes, ckpt = tiny
    out = tmp_path / "r.json"
    assert refine(["--pred", scenes / "predictions.json", "--images", scenes, "--checkpoint", ckpt, "--out", out,
                   "--keep-below", "0.25"]) == 0
    meta = json.loads(out.read_text())["prt_refine"]
    assert meta["checkpoint"] == str(ckpt) and meta["trained_on"][0]["dataset"] == "synthetic"
    stored = torch.load(ckpt, weights_only=True)["refine"]
    assert meta["rules"] == {"keep_below": 0.25, "min_move": stored["min_move"], "move_nothing": False,
                             "source": "options"}
    assert meta["calibrated_on"] is None and meta["options"]["recover_missing"] is True
    # and the file still evaluates as before (the field is ignored by readers)
    assert main(["evaluate", "--gt", str(scenes / "annotations.json"), "--pred", str(out), "--task", "pckh",
                 "-q"]) == 0


def test_calibrate_on_labeled_frames(tiny, tmp_path, capsys):
    _, scenes, ckpt = tiny
    gt = json.loads((scenes / "annotations.json").read_text())
    first = {im["id"] for im in gt["images"][:2]}  # GT for 2 of the 4 frames
    half = dict(gt, images=[dict(im, is_labeled=im["id"] in first) for im in gt["images"]],
                annotations=[a for a in gt["annotations"] if a["image_id"] in first])
    (tmp_path / "half.json").write_text(json.dumps(half))
    out = tmp_path / "cal.json"
    args = ["--pred", scenes / "predictions.json", "--images", scenes, "--checkpoint", ckpt, "--out", out]
    assert refine([*args, "--calibrate-on", tmp_path / "half.json"]) == 0
    err = capsys.readouterr().err
    line = [ln for ln in err.splitlines() if "calibrated on" in ln]
    assert len(line) == 1 and "not held-out" in line[0] and "paired bootstrap" in line[0], err
    meta = json.loads(out.read_text())["prt_refine"]
    cal = meta["calibrated_on"]
    assert cal["gt_frames"] == sorted(im["file_name"] for im in gt["images"][:2])
    assert cal["held_out"] is False and cal["gt"] == str(tmp_path / "half.json")
    assert cal["people"] <= cal["gt_people"] == len(half["annotations"])
    assert meta["rules"]["source"] == "calibrate-on"
    # the figure printed for the chosen rules is what `prt evaluate` gives on the written file, those frames
    pred = json.loads((scenes / "predictions.json").read_text())
    if cal["people"] == cal["gt_people"]:  # every labeled person paired: the same people as the pckh task's
        sub = dict(pred, annotations=[a for a in pred["annotations"] if a["image_id"] in first])
        (tmp_path / "sub_in.json").write_text(json.dumps(sub))
        assert main(["evaluate", "--gt", str(tmp_path / "half.json"), "--pred", str(tmp_path / "sub_in.json"),
                     "--task", "pckh", "--json", str(tmp_path / "in.json"), "-q"]) == 0
        assert abs(json.loads((tmp_path / "in.json").read_text())["pckh_total"] - cal["pckh_input"]) < 1e-9
    # --calibrate-on chooses keep-below and min-move: giving them too is one clear error
    code = refine([*args[:-1], tmp_path / "x.json", "--calibrate-on", tmp_path / "half.json", "--min-move", "0"])
    assert code == 2 and "--calibrate-on" in capsys.readouterr().err
    # GT of other images: one error naming the GT file
    other = dict(half, images=[dict(im, file_name="elsewhere/" + im["file_name"]) for im in half["images"]])
    (tmp_path / "other.json").write_text(json.dumps(other))
    code = refine([*args[:-1], tmp_path / "y.json", "--calibrate-on", tmp_path / "other.json"])
    err = capsys.readouterr().err
    assert code == 2 and "labels none of the predicted images" in err and "other.json" in err
    assert not (tmp_path / "y.json").exists()


def test_fine_tuning_on_real_data_records_both_stages_and_calibrates_on_held_out_images(tiny, tmp_path, capsys):
    _, scenes, ckpt = tiny
    out = tmp_path / "ft.ckpt"
    code = main(["train", "--dataset", "posetrack", "--annotations", str(scenes / "annotations.json"), "--images",
                 str(scenes), "--init", str(ckpt), "--steps", "1", "--batch-size", "2", "--checkpoint-every", "0",
                 "--holdout", "0.25", "--calibration-scenes", "1", "--out", str(out)])
    err = capsys.readouterr()
    assert code == 0, err.err
    assert "people of held-out real images" in err.out
    ck = torch.load(out, weights_only=True)
    first, second = ck["train"]["stages"]
    assert first == {"dataset": "synthetic", "steps": 2, "profile": "cpu", "checkpoint": str(ckpt)}
    assert second["dataset"] == "posetrack" and second["steps"] == 1
    assert second["images_used"] == 3 and second["images_held_out"] == 1  # the last of the 4 frames
    assert second["annotations"] == str((scenes / "annotations.json").resolve())
    cal = ck["refine"]["calibration"]
    assert cal["on"] == "held-out real images" and cal["scenes"] == 1
    gt = json.loads((scenes / "annotations.json").read_text())
    last = gt["images"][-1]["id"]
    assert cal["people"] == sum(1 for a in gt["annotations"] if a["image_id"] == last)
    assert ck["model_config"] == torch.load(ckpt, weights_only=True)["model_config"]  # the network it started from
    names = [im["file_name"] for im in gt["images"]]
    assert second["trained_images"] == sorted("/".join(Path(n).parts[-2:]) for n in names[:3])
    # --calibrate-on leaves out the labeled frames the checkpoint was trained on
    args = ["--pred", scenes / "predictions.json", "--images", scenes, "--checkpoint", out]
    assert refine([*args, "--out", tmp_path / "a.json", "--calibrate-on", scenes / "annotations.json"]) == 0
    cal = json.loads((tmp_path / "a.json").read_text())["prt_refine"]["calibrated_on"]
    assert cal["gt_frames"] == names[3:] and cal["left_out_trained_frames"] == sorted(names[:3])
    assert "3 labeled frames the checkpoint was trained on left out" in capsys.readouterr().err
    trained_only = dict(gt, annotations=[a for a in gt["annotations"] if a["image_id"] != last])
    (tmp_path / "trained.json").write_text(json.dumps(trained_only))
    assert refine([*args, "--out", tmp_path / "b.json", "--calibrate-on", tmp_path / "trained.json"]) == 2
    err = capsys.readouterr().err
    assert "labels only frames the checkpoint was trained on (3)" in err and "trained.json" in err


def test_calibrate_on_half_the_real_frames_protects_the_other_half(tiny, tmp_path, shared_data, capsys):
    """Iqbal et al.'s real frames with near-perfect predictions: the tiny model spoils them when it moves
    every joint; calibrated on the GT of frames 1-10, refinement leaves frames 21-30 as good as they were
    (predictions for those 20 frames only, to keep the test short)."""
    from poseval_refine.formats.posetrack import read_sequence, write_sequence
    from poseval_refine.refiner.corrupt import corrupt_sequence

    _, _, ckpt = tiny
    images = shared_data / "bonn_posetrack" / "videos"
    gt_path = tmp_path / "gt.json"
    assert main(["convert", "--to", "posetrack2018", str(shared_data / "posetrack_cases" / "bonn_test" / "gt" /
                                                           "060470979.json"), str(gt_path)]) == 0
    seq = read_sequence(gt_path)
    seq = seq.select_persons((seq.person_frame < 10) | ((seq.person_frame >= 20) & (seq.person_frame < 30)))
    write_sequence(corrupt_sequence(seq, "light", 3), tmp_path / "pred.json", "posetrack2018")
    gt = json.loads(gt_path.read_text())
    halves = {}
    for name, keep in (("first", lambda i: i < 10), ("second", lambda i: 20 <= i < 30)):
        halves[name] = tmp_path / f"gt_{name}.json"
        halves[name].write_text(json.dumps(dict(
            gt, images=[dict(im, is_labeled=keep(im["frame_id"])) for im in gt["images"]],
            annotations=[a for a in gt["annotations"] if keep(a["image_id"])])))

    def second_half(pred: Path) -> float:
        out = pred.with_suffix(".pckh.json")
        assert main(["evaluate", "--gt", str(halves["second"]), "--pred", str(pred), "--task", "pckh", "--json",
                     str(out), "-q"]) == 0
        return json.loads(out.read_text())["pckh_total"]

    before = second_half(tmp_path / "pred.json")
    base = ["--pred", tmp_path / "pred.json", "--images", images, "--checkpoint", ckpt]
    assert refine([*base, "--out", tmp_path / "all.json", *MOVE_ALL]) == 0
    assert second_half(tmp_path / "all.json") < before - 5  # the tiny model does harm when it moves joints
    assert refine([*base, "--out", tmp_path / "cal.json", "--calibrate-on", halves["first"]]) == 0
    assert second_half(tmp_path / "cal.json") >= before - 0.2
    meta = json.loads((tmp_path / "cal.json").read_text())["prt_refine"]
    assert len(meta["calibrated_on"]["gt_frames"]) == 10 and meta["calibrated_on"]["people"] == 40
    assert "synthetic scenes only" in capsys.readouterr().err  # real images, synthetic-only checkpoint
