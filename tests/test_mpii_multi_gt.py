"""MPII multi-person GT without a single annotated person: an error naming the file, never AP 0."""

from __future__ import annotations

from poseval_refine.cli import main


def test_annolist_without_people_is_refused(shared_data, capsys):
    # the Bonn tracking annolist (one entry per sequence, people under 'annopoints' by track) is a .mat
    # annolist without MPII annorects: read as MPII multi-person GT it holds nobody
    bonn = shared_data / "bonn_posetrack" / "annolist" / "test" / "annolist.mat"
    code = main(["evaluate", "--gt", str(bonn), "--pred", str(bonn), "--task", "multi"])
    out, err = capsys.readouterr()
    assert code == 2, out
    assert "annolist.mat" in err and "no annotated people" in err and "Traceback" not in err
    assert "AP" not in out
