"""Adapters on small files in their real layouts, with round trips where the format allows."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest

from poseval_refine.cli import main
from poseval_refine.errors import InputError
from poseval_refine.formats import detect_format, read_poses, write_poses
from poseval_refine.skeletons import BODY25, OPENPOSE18, POSETRACK15


def _op_person(n, key, rng):
    kp = np.column_stack([rng.uniform(10, 600, n), rng.uniform(10, 400, n), rng.uniform(0.1, 1, n)]).round(3)
    kp[3] = 0  # a missing joint
    return {"person_id": [-1], key: kp.ravel().tolist()}, kp


@pytest.mark.parametrize("key,n", [("pose_keypoints_2d", 25), ("pose_keypoints_2d", 18), ("pose_keypoints", 18),
                                   ("body_parts", 18)])
def test_openpose_versions_and_round_trip(tmp_path, key, n):
    rng = np.random.default_rng(n)
    src = tmp_path / "op"
    src.mkdir()
    people = []
    for f in range(3):
        ps = [_op_person(n, key, rng) for _ in range(2)]
        people.append([p[1] for p in ps])
        (src / f"video_{f:012d}_keypoints.json").write_text(json.dumps({"version": 1.3, "people": [p[0] for p in ps]}))
    assert detect_format(src).name == "openpose"
    seq = read_poses(src)["video"]
    assert seq.skeleton is (BODY25 if n == 25 else OPENPOSE18) and seq.num_frames == 3 and seq.num_persons == 6
    assert np.isnan(seq.keypoints[0, 3]).all()
    np.testing.assert_allclose(seq.keypoints[1, 0], people[0][1][0])
    write_poses(read_poses(src), tmp_path / "back", "openpose")
    again = read_poses(tmp_path / "back")["video"]
    np.testing.assert_array_equal(np.nan_to_num(again.keypoints), np.nan_to_num(seq.keypoints))
    # to PoseTrack: the neck is OpenPose's neck; the head top does not exist
    pt = seq.to_skeleton(POSETRACK15)
    np.testing.assert_array_equal(pt.keypoints[:, POSETRACK15.index("neck")], seq.keypoints[:, 1])
    assert np.isnan(pt.keypoints[:, POSETRACK15.index("head_top")]).all()


def test_openpose_to_posetrack_cli(tmp_path, capsys):
    rng = np.random.default_rng(0)
    src = tmp_path / "op"
    src.mkdir()
    for f in range(2):
        (src / f"clip_{f:012d}_keypoints.json").write_text(json.dumps({"people": [_op_person(25, "pose_keypoints_2d",
                                                                                              rng)[0]]}))
    assert main(["convert", "--from", "openpose", "--to", "posetrack2018", str(src), str(tmp_path / "pt")]) == 0
    data = json.loads((tmp_path / "pt" / "clip.json").read_text())
    assert len(data["images"]) == 2 and len(data["annotations"]) == 2
    assert main(["convert", "--to", "posetrack2018", str(src), str(src)]) != 0  # never onto the input


def test_coco_results_round_trip(shared_data, tmp_path):
    src = shared_data / "coco_sample" / "dt_dataset.json"
    raw = json.loads(src.read_text())
    if not isinstance(raw, list):
        pytest.skip("dt_dataset.json is not in the results layout")
    assert detect_format(src).name == "coco-results"
    ps = read_poses(src)
    seq = next(iter(ps))
    assert seq.num_persons == len(raw)
    write_poses(ps, tmp_path / "out.json", "coco-results")
    back = json.loads((tmp_path / "out.json").read_text())
    key = lambda d: (d["image_id"], d["score"])  # noqa: E731
    for a, b in zip(sorted(raw, key=key), sorted(back, key=key), strict=True):
        assert a["image_id"] == b["image_id"] and a["score"] == pytest.approx(b["score"])
        np.testing.assert_allclose(a["keypoints"], b["keypoints"])


def test_detect_and_track_pickle(tmp_path):
    rng = np.random.default_rng(1)
    keyps, tracks, boxes = [[], []], [[], []], [[], []]
    for _ in range(3):
        people = []
        for _ in range(2):
            a = np.zeros((4, 17))
            a[0], a[1] = rng.uniform(0, 500, 17), rng.uniform(0, 300, 17)
            a[3] = rng.uniform(0.2, 1, 17)
            people.append(a)
        keyps[1].append(people)
        tracks[1].append(np.array([10, 11]))
        boxes[1].append(np.column_stack([np.zeros((2, 4)), [0.9, 0.8]]))
    path = tmp_path / "detections_withTracks.pkl"
    with open(path, "wb") as fh:
        pickle.dump({"all_keyps": keyps, "all_tracks": tracks, "all_boxes": boxes}, fh, protocol=2)
    seq = next(iter(read_poses(path)))
    assert seq.skeleton is POSETRACK15 and seq.num_persons == 6 and seq.track_id.tolist() == [10, 11] * 3
    coco = keyps[1][0][0]
    rs, ls = coco[:2, 6], coco[:2, 5]
    neck = (rs + ls) / 2
    np.testing.assert_allclose(seq.keypoints[0, POSETRACK15.index("neck"), :2], neck)
    np.testing.assert_allclose(seq.keypoints[0, POSETRACK15.index("head_top"), :2], 2 * coco[:2, 0] - neck)
    np.testing.assert_allclose(seq.keypoints[0, POSETRACK15.index("right_wrist"), 2], coco[3, 10])
    assert any("head_top" in c for c in seq.meta["conversions"])
    write_poses(read_poses(path), tmp_path / "pt17", "posetrack2017")  # and on to PoseTrack 2017
    assert (tmp_path / "pt17" / "detections_withTracks.json").is_file()


def test_detect_and_track_posetrack_source_order(tmp_path):
    """Models trained on PoseTrack emit nose, head_bottom, head_top, ... : the head top is taken as predicted."""
    a = np.zeros((4, 17))
    a[0], a[1], a[3] = np.arange(17) * 10.0, np.arange(17) * 5.0, np.linspace(0.3, 0.9, 17)
    path = tmp_path / "detections_withTracks.pkl"
    with open(path, "wb") as fh:
        pickle.dump({"all_keyps": [[], [[a]]], "all_tracks": [[], [np.array([3])]]}, fh, protocol=2)
    seq = next(iter(read_poses(path, order="posetrack")))
    np.testing.assert_allclose(seq.keypoints[0, POSETRACK15.index("head_top")], [20.0, 10.0, a[3, 2]])
    np.testing.assert_allclose(seq.keypoints[0, POSETRACK15.index("neck"), :2], [55.0, 27.5])  # (50+60)/2, (25+30)/2
    coco = next(iter(read_poses(path)))  # default: COCO order, head top reflected
    np.testing.assert_allclose(coco.keypoints[0, POSETRACK15.index("head_top"), :2], [-55.0, -27.5])
    with pytest.raises(InputError, match="order"):
        read_poses(path, order="mpii")


def test_unknown_file_is_a_clear_error(tmp_path, capsys):
    f = tmp_path / "notes.txt"
    f.write_text("hello")
    assert main(["convert", "--to", "posetrack2017", str(f), str(tmp_path / "o")]) != 0
    err = capsys.readouterr().err
    assert "notes.txt" in err and "no format prt knows" in err and "Traceback" not in err
