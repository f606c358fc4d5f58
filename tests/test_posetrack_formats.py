"""PoseTrack 2017/2018 readers and writers: what was read is written back unchanged."""

from __future__ import annotations

import json

import numpy as np
import pytest

from poseval_refine.formats import detect_format, read_poses, write_poses
from poseval_refine.formats.posetrack import read_sequence, write_sequence
from poseval_refine.poses import NO_TRACK

from .conftest import missing_data


def _json(path):
    return json.loads(path.read_text())


@pytest.mark.parametrize("rel", [
    "posetrack18_test_predictions/024573_mpii_test.json",
    "posetrack18_val_sample/annotations/val/009473_mpii_test.json",
    "posetrack18_val_sample/gt_as_pred/003418_mpii_test.json",
    "posetrack_cases/case3/gt/seq3.json",
    "posetrack_cases/case4/pred/seq4.json",
    "posetrack_cases/case4_18/pred/000001_mpii_test.json",
])
def test_write_back_is_identical(shared_data, tmp_path, rel):
    src = shared_data / rel
    if not src.exists():
        missing_data(rel, rel=f"data/{rel}")
    seq = read_sequence(src)
    out = tmp_path / src.name
    write_sequence(seq, out)
    assert _json(out) == _json(src)


def test_real_submission_file_parses(shared_data):
    seq = read_sequence(shared_data / "posetrack18_test_predictions" / "024573_mpii_test.json")
    assert seq.num_frames == 119 and seq.num_persons == 2472
    assert len(np.unique(seq.track_id)) == 25 and (seq.track_id != NO_TRACK).all()
    present = ~np.isnan(seq.keypoints[..., 0])
    assert present.any() and not np.isnan(seq.keypoints[..., 2][present]).any()


def test_2018_layout_maps_names_and_head_boxes(shared_data):
    seq = read_sequence(shared_data / "posetrack18_val_sample" / "annotations" / "val" / "009473_mpii_test.json")
    raw = _json(shared_data / "posetrack18_val_sample" / "annotations" / "val" / "009473_mpii_test.json")
    ann = raw["annotations"][0]
    x, y, w, h = ann["bbox_head"]
    np.testing.assert_allclose(seq.head_box[0], [x, y, x + w, y + h])
    kp = np.array(ann["keypoints"], float).reshape(17, 3)
    for j in range(17):
        if kp[j, 0] == 0 and kp[j, 1] == 0 and kp[j, 2] == 0:
            assert np.isnan(seq.keypoints[0, j, 0])
        else:
            np.testing.assert_allclose(seq.keypoints[0, j, :2], kp[j, :2])
    assert np.isnan(seq.keypoints[..., 2]).all()  # scores: []
    assert sum(len(r) for r in seq.ignore_regions) == 2


def test_2017_and_2018_versions_read_the_same(shared_data):
    from poseval_refine.skeletons import POSETRACK15

    for case in ("case2", "case3", "case4"):
        a = read_poses(shared_data / "posetrack_cases" / case / "pred")
        b = read_poses(shared_data / "posetrack_cases" / f"{case}_18" / "pred")
        sa, sb = next(iter(a)), next(iter(b)).to_skeleton(POSETRACK15)
        np.testing.assert_array_equal(sa.keypoints, sb.keypoints)
        np.testing.assert_array_equal(sa.track_id, sb.track_id)


def test_convert_2017_to_2018_and_back(shared_data, tmp_path):
    src = shared_data / "posetrack_cases" / "synth24" / "pred"
    a = read_poses(src)
    write_poses(a, tmp_path / "p18", "posetrack2018")
    assert detect_format(tmp_path / "p18").name == "posetrack2018"
    b = read_poses(tmp_path / "p18")
    write_poses(b, tmp_path / "p17", "posetrack2017")
    c = read_poses(tmp_path / "p17")
    for name in a.names():
        np.testing.assert_array_equal(a[name].keypoints, c[name].keypoints)
        np.testing.assert_array_equal(a[name].track_id, c[name].track_id)
        assert a[name].num_frames == c[name].num_frames


def test_writer_never_overwrites_by_default(shared_data, tmp_path):
    seq = read_sequence(shared_data / "posetrack_cases" / "case2" / "gt" / "seq2.json")
    out = tmp_path / "x.json"
    out.write_text("keep me")
    from poseval_refine.errors import InputError

    with pytest.raises(InputError, match="exists already"):
        write_sequence(seq, out)
    assert out.read_text() == "keep me"


def test_changed_values_are_written_unchanged_ones_keep_their_token(tmp_path):
    src = tmp_path / "s.json"
    src.write_text(json.dumps({"annolist": [{"image": [{"name": "a.jpg"}], "annorect": [
        {"track_id": [3], "extra": "kept", "annopoints": [{"point": [
            {"id": [0], "x": [10], "y": [20], "score": [1], "is_visible": [1]},
            {"id": [5], "x": [11.5], "y": [21.25], "score": [0.5]}]}]}]}]}))
    seq = read_sequence(src)
    kp = seq.keypoints.copy()
    kp[0, 5, 0] = 99.0
    out = tmp_path / "o.json"
    write_sequence(seq.with_keypoints(kp), out)
    text = out.read_text()
    data = json.loads(text)
    pts = data["annolist"][0]["annorect"][0]["annopoints"][0]["point"]
    assert pts[0] == {"id": [0], "x": [10], "y": [20], "score": [1], "is_visible": [1]}
    assert pts[1]["x"] == [99.0] and pts[1]["y"] == [21.25] and pts[1]["score"] == [0.5]
    assert data["annolist"][0]["annorect"][0]["extra"] == "kept"
    assert '"x":[10]' in text.replace(" ", "")
