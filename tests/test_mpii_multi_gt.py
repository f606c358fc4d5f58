"""MPII multi-person GT without a single annotated person: an error naming the file, never AP 0."""

from __future__ import annotations

import json

from poseval_refine.cli import main


def test_annolist_without_people_is_refused(shared_data, capsys):
    # the Bonn tracking annolist (one entry per sequence, people under 'annopoints' by track) is a .mat
    # annolist without MPII annorects: read as MPII multi-person GT it holds nobody
    bonn = shared_data / "bonn_posetrack" / "annolist" / "test" / "annolist.mat"
    code = main(["evaluate", "--gt", str(bonn), "--pred", str(bonn), "--task", "multi"])
    out, err = capsys.readouterr()
    assert code == 2, out
    # its entries are sequences (name, num_frames, num_persons, annopoints), not images with annorects
    assert "annolist.mat" in err and "frame 0" in err and "none of the annolist fields (image, annorect)" in err
    assert "'num_persons'" in err and "Traceback" not in err and "AP" not in out


def test_annolist_with_empty_annorects_is_refused(tmp_path, capsys):
    (tmp_path / "gt.json").write_text(json.dumps({"annolist": [{"image": {"name": "a.jpg"}, "annorect": []}] * 3}))
    code = main(["evaluate", "--gt", str(tmp_path / "gt.json"), "--pred", str(tmp_path / "gt.json"), "--task",
                 "multi"])
    out, err = capsys.readouterr()
    assert code == 2 and "gt.json" in err and "no annotated people in its 3 entries" in err and "AP" not in out
