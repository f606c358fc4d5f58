"""MPII multi-person GT without a single annotated person: an error naming the file, never AP 0."""

from __future__ import annotations

import json

from poseval_refine.cli import main


def test_tracking_annolist_read_as_multi_person_gt_is_refused(shared_data, capsys):
    # the Bonn tracking annolist (one entry per sequence, people under 'annopoints' by track) is a .mat
    # annolist without MPII annorects: read as MPII multi-person GT it holds nobody
    bonn = shared_data / "bonn_posetrack" / "annolist" / "test" / "annolist.mat"
    code = main(["evaluate", "--gt", str(bonn), "--pred", str(bonn), "--task", "multi"])
    out, err = capsys.readouterr()
    assert code == 2, out
    assert "annolist.mat" in err and "none of the annolist fields" in err and "Traceback" not in err
    assert "AP" not in out


def test_annolist_without_people_is_refused(tmp_path, capsys):
    entries = {"annolist": [{"image": {"name": f"{i}.jpg"}, "annorect": []} for i in range(3)]}
    gt = tmp_path / "gt.json"
    gt.write_text(json.dumps(entries))
    code = main(["evaluate", "--gt", str(gt), "--pred", str(gt), "--task", "multi"])
    out, err = capsys.readouterr()
    assert code == 2, out
    assert "gt.json" in err and "no annotated people" in err and "Traceback" not in err
    assert "AP" not in out
