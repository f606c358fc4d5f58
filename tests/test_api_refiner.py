"""poseval_refine.refine and .train mirror `prt refine` and `prt train` (tiny synthetic data, seconds)."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("torch")

import poseval_refine as prt  # noqa: E402
from poseval_refine.cli import main  # noqa: E402
from poseval_refine.formats import read_poses  # noqa: E402
from tests.support.refiner import MOVE_ALL  # noqa: E402


def test_refine_in_memory_equals_the_command(tiny, tmp_path, monkeypatch):
    _, scenes, ckpt = tiny
    out = tmp_path / "refined.json"
    assert main(["refine", "--pred", str(scenes / "predictions.json"), "--images", str(scenes), "--checkpoint",
                 str(ckpt), "--out", str(out), *MOVE_ALL]) == 0
    pred = json.loads((scenes / "predictions.json").read_text())
    monkeypatch.chdir(tmp_path / "..")
    before = sorted(p.name for p in tmp_path.iterdir())
    got = prt.refine(pred, scenes, ckpt, format="posetrack2018", keep_below=0, min_move=0)
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written
    want = next(iter(read_poses(out)))
    np.testing.assert_array_equal(next(iter(got)).keypoints[..., :2], want.keypoints[..., :2])
    assert "refined" in got.meta["refine_summary"]


def test_train_mirrors_the_command(tmp_path):
    res = prt.train(tmp_path / "c.ckpt", steps=1, width=8, batch_size=2, scale=0.15, checkpoint_every=0,
                    calibration_scenes=0)
    assert res["steps"] == 1 and (tmp_path / "c.ckpt").is_file() and res["checkpoint"] == str(tmp_path / "c.ckpt")
    with pytest.raises(prt.ConfigError, match="give a budget"):
        prt.train(tmp_path / "d.ckpt")
