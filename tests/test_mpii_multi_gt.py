"""MPII multi-person GT without a single annotated person: an error naming the file, never AP 0."""

from __future__ import annotations

import json

from poseval_refine.cli import main

from .fuzzing import _annolist


def test_annolist_without_people_is_refused(tmp_path, capsys):
    pred = _annolist(True)
    gt = [{"image": e["image"], "annorect": []} for e in pred]  # the images, nobody annotated
    (tmp_path / "gt.json").write_text(json.dumps({"annolist": gt}))
    (tmp_path / "pred.json").write_text(json.dumps({"annolist": pred}))
    code = main(["evaluate", "--gt", str(tmp_path / "gt.json"), "--pred", str(tmp_path / "pred.json"),
                 "--task", "multi"])
    out, err = capsys.readouterr()
    assert code == 2, out
    assert "gt.json" in err and "no annotated people" in err and "Traceback" not in err
    assert "AP" not in out
