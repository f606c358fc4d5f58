"""prt analyze on MPII single-person: ``good`` is the MATLAB kit's hits (per joint), the baseline its PCKh table."""

from __future__ import annotations

import csv

import numpy as np
import pytest

import poseval_refine as prt


def test_good_is_the_kits_hits_per_joint(shared_data):
    root = shared_data / "mpii_val"
    d = prt.analyze(root / "valid.h5", root / "newell.h5").to_dict()
    assert d["task"] == "single"
    official = next(r for r in csv.DictReader((root / "expected_official.csv").open()) if r["name"] == "newell.h5")
    for col, key in (("Head", "head"), ("Shoulder", "sho"), ("Wrist", "wri"), ("Total", "total")):
        assert d["pckh"]["baseline"][col] == pytest.approx(float(official[key]), abs=1e-5)
    pckh_joint = prt.evaluate(root / "valid.h5", root / "newell.h5").to_dict()["pckh_joint"]
    for name, counts, want in zip(d["per_joint"], d["per_joint"].values(), pckh_joint):
        if want is None:  # pelvis, thorax: not evaluated
            continue
        assert 100 * counts["good"] / sum(counts.values()) == pytest.approx(want, abs=1e-9), name
    assert d["pckh"]["jitter"]["Total"] == pytest.approx(100.0)
    assert all(d["keypoints"][k] > 0 for k in d["keypoints"])


def test_compare_repaired_inversions(shared_data, tmp_path):
    import h5py

    root = shared_data / "mpii_val"
    a = prt.analyze(root / "valid.h5", root / "newell.h5")
    labels = a.arrays["labels"]
    d = a.to_dict()
    with h5py.File(root / "valid.h5") as f:
        gt = np.array(f["part"], dtype=float)
    with h5py.File(root / "newell.h5") as f:
        preds = np.array(f["preds"], dtype=float)
    # put every joint labelled an inversion back on its GT joint
    inv = np.array(labels) == 3
    fixed = preds.copy()
    fixed[inv] = gt[inv]
    with h5py.File(tmp_path / "fixed.h5", "w") as f:
        f["preds"] = fixed
    moved = prt.analyze(root / "valid.h5", tmp_path / "fixed.h5", compare=None).to_dict()
    assert moved["keypoints"]["inversion"] == 0
    assert moved["keypoints"]["good"] == d["keypoints"]["good"] + d["keypoints"]["inversion"]
    both = prt.analyze(root / "valid.h5", root / "newell.h5", compare=tmp_path / "fixed.h5").to_dict()
    changed = {(x, y): n for x, row in both["moved"].items() for y, n in row.items() if x != y}
    assert changed == {("inversion", "good"): d["keypoints"]["inversion"]}
