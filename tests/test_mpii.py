"""MPII single-person PCKh/AUC against the official MATLAB kit's numbers, flavours, multi-person mAP."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from poseval_refine.cli import main
from poseval_refine.evaluators.mpii import evaluate_multi, evaluate_single
from poseval_refine.metrics.pckh import EVAL_JOINTS, FLAVOURS, finalize_pckh, pckh_stats

COLS = {"head": "Head", "sho": "Shoulder", "elb": "Elbow", "wri": "Wrist", "hip": "Hip", "knee": "Knee",
        "ank": "Ankle", "ubody": "UBody", "total": "Total"}


def _expected(shared_data):
    with open(shared_data / "mpii_val" / "expected_official.csv") as fh:
        return list(csv.DictReader(fh))


def test_every_shared_model_matches_the_matlab_kit(shared_data):
    rows = _expected(shared_data)
    assert len(rows) >= 3
    root = shared_data / "mpii_val"
    res = evaluate_single(root / "valid.h5", [root / r["name"] for r in rows])
    for row, e in zip(rows, res["entries"]):
        for col, key in COLS.items():
            assert abs(e["pckh"][key] - float(row[col])) <= 1e-6, (row["name"], key)
        assert abs(e["auc"] - float(row["auc"])) <= 1e-4, row["name"]


def test_tompson_gt_mat_agrees_with_valid_h5(shared_data):
    root = shared_data / "mpii_val"
    a = evaluate_single(root / "valid.h5", [root / "newell.h5"])
    b = evaluate_single(root / "gt_valid_detections_our_format.mat", [root / "newell.h5"])
    for k in COLS.values():  # head sizes from head boxes differ from 'normalize' in the 7th digit only
        assert abs(a["pckh"][k] - b["pckh"][k]) < 0.05


#: the MPII single-person vector of docs/protocol.md §6.3 (normalized distances, the kit's 14-joint order)
PROTOCOL_VECTOR = [
    [.105, .205, .305, .405, .505, .605, .055, .155, .255, .355, .455, .555, .025, .705],
    [.015, .095, .195, np.nan, .295, .395, .495, np.inf, .045, .145, .245, .345, .445, .545],
]


def _vector_result(flavour):
    d = np.full((2, 16), np.nan)
    d[:, list(EVAL_JOINTS)] = PROTOCOL_VECTOR
    fl = FLAVOURS[flavour]
    return finalize_pckh(pckh_stats(d, fl), fl)


def test_protocol_vector_matlab():
    r = _vector_result("matlab")
    joint14 = [r["pckh_joint"][j] for j in EVAL_JOINTS]
    assert joint14 == [100, 100, 100, 100, 50, 50, 100, 50, 100, 100, 100, 50, 100, 0]
    expected = {"Head": 50, "Shoulder": 100, "Elbow": 75, "Wrist": 75, "Hip": 100, "Knee": 75, "Ankle": 75,
                "UBody": 250 / 3, "Total": 2100 / 27}
    for k, v in expected.items():
        assert r["pckh"][k] == pytest.approx(v, abs=1e-9), k
    assert r["auc"] == pytest.approx(40.4815, abs=1e-4)
    assert r["pckh_joint"][6] is None and r["pckh_joint"][7] is None
    assert r["pckh_at_0.1"] == pytest.approx(500 / 27, abs=1e-9)  # true @0.1 = 18.5185


def test_protocol_vector_flavours():
    hrnet = _vector_result("hrnet")
    assert hrnet["pckh"]["Total"] == pytest.approx(77.7778, abs=1e-4)
    assert hrnet["pckh"]["Head"] == 0.0
    assert hrnet["pckh_at_0.1"] == pytest.approx(22.2222, abs=1e-4)  # the off-by-one 'Mean@0.1' (t = 0.11)
    bearpaw = _vector_result("bearpaw")
    assert bearpaw["pckh"]["Total"] == pytest.approx(78.5714, abs=1e-4)  # strict '<', unweighted mean
    mmpose = _vector_result("mmpose")
    assert mmpose["pckh"]["Head"] == 0.0 and mmpose["pckh"]["Total"] == pytest.approx(77.7778, abs=1e-4)


def test_strict_flavours_differ_at_exact_threshold():
    d = np.full((1, 16), np.nan)
    d[0, list(EVAL_JOINTS)] = 0.5
    assert _run(d, "matlab") == 100.0 and _run(d, "mmpose") == 0.0 and _run(d, "bearpaw") == 0.0


def _run(d, flavour):
    fl = FLAVOURS[flavour]
    return finalize_pckh(pckh_stats(d, fl), fl)["pckh"]["Total"]


def test_cli_json_and_plot(shared_data, tmp_path, capsys):
    root = shared_data / "mpii_val"
    out, png = tmp_path / "r.json", tmp_path / "curves.png"
    preds = [root / r["name"] for r in _expected(shared_data)][:3]
    args = ["evaluate", "--gt", str(root / "valid.h5"), "--task", "single", "--json", str(out), "--plot", str(png)]
    for p in preds:
        args += ["--pred", str(p)]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "Total" in text and "AUC" in text
    res = json.loads(out.read_text())
    assert len(res["entries"]) == 3
    e = res["entries"][0]
    assert set(e["pckh"]) == set(COLS.values()) and len(e["pckh_joint"]) == 16 and e["pckh_joint"][6] is None
    assert len(e["curve"]["thresholds"]) == 51 and e["curve"]["total"][-1] == pytest.approx(e["pckh"]["Total"])
    assert png.stat().st_size > 10000 and png.read_bytes()[:4] == b"\x89PNG"
    assert png.with_suffix(".csv").read_text().startswith("threshold,")
    # one prediction: the keys are at the top level
    out1 = tmp_path / "one.json"
    assert main(["evaluate", "--gt", str(root / "valid.h5"), "--pred", str(preds[0]), "--task", "single",
                 "--json", str(out1), "-q"]) == 0
    one = json.loads(out1.read_text())
    assert {"pckh", "auc", "pckh_joint", "curve"} <= set(one)


@pytest.mark.parametrize("flavour", ["hrnet", "mmpose", "bearpaw"])
def test_cli_flavours_run(shared_data, flavour, capsys):
    root = shared_data / "mpii_val"
    assert main(["evaluate", "--gt", str(root / "valid.h5"), "--pred", str(root / "newell.h5"), "--task", "single",
                 "--flavour", flavour, "-q"]) == 0
    assert flavour in capsys.readouterr().out


# ----------------------------------------------------------------------------- bad input
def _err(capsys, *args):
    code = main(["evaluate", "--task", "single", *args])
    err = capsys.readouterr().err
    assert code != 0 and "Traceback" not in err and err.count("prt: error:") == 1
    return err


def test_bad_inputs(shared_data, tmp_path, capsys):
    import h5py

    gt = shared_data / "mpii_val" / "valid.h5"
    wrong = tmp_path / "wrong.h5"
    with h5py.File(wrong, "w") as h:
        h["preds"] = np.zeros((10, 15, 2))
    assert "wrong.h5" in _err(capsys, "--gt", str(gt), "--pred", str(wrong))
    short = tmp_path / "short.h5"
    with h5py.File(short, "w") as h:
        h["preds"] = np.zeros((10, 16, 2))
    err = _err(capsys, "--gt", str(gt), "--pred", str(short))
    assert "short.h5" in err and "10 people" in err and "2958" in err
    nokey = tmp_path / "nokey.h5"
    with h5py.File(nokey, "w") as h:
        h["something"] = np.zeros((3,))
    assert "'preds'" in _err(capsys, "--gt", str(gt), "--pred", str(nokey))
    txt = tmp_path / "preds.txt"
    txt.write_text("1 2 3")
    assert "preds.txt" in _err(capsys, "--gt", str(gt), "--pred", str(txt))
    nan_gt = tmp_path / "gt.h5"
    with h5py.File(nan_gt, "w") as h:
        part = np.ones((4, 16, 2))
        part[2, 3] = np.nan
        h["part"] = part
        h["normalize"] = np.ones(4)
    err = _err(capsys, "--gt", str(nan_gt), "--pred", str(short))
    assert "gt.h5" in err and "person 2" in err and "NaN" in err


# ----------------------------------------------------------------------------- other readers
def test_pose_tensorflow_predictions_mat(tmp_path, shared_data):
    import h5py
    import scipy.io

    from poseval_refine.formats import read_poses

    with h5py.File(shared_data / "mpii_val" / "newell.h5") as h:
        preds = h["preds"][:5]
    cells = np.empty((1, 5), dtype=object)
    for i in range(5):
        cells[0, i] = np.column_stack([preds[i, list(EVAL_JOINTS)], np.full(14, 0.5)])
    path = tmp_path / "predictions.mat"
    scipy.io.savemat(path, {"joints": cells})
    seq = next(iter(read_poses(path)))
    assert seq.meta["source"]["format"] == "pose-tensorflow"
    np.testing.assert_array_equal(seq.keypoints[:, list(EVAL_JOINTS), :2], preds[:, list(EVAL_JOINTS)])
    assert np.isnan(seq.keypoints[:, [6, 7]]).all()
    assert (seq.keypoints[:, list(EVAL_JOINTS), 2] == 0.5).all()


def test_prediction_layouts_and_writer_round_trip(tmp_path, shared_data):
    import h5py
    import scipy.io

    from poseval_refine.formats import read_poses, write_poses

    with h5py.File(shared_data / "mpii_val" / "newell.h5") as h:
        preds = h["preds"][:7]
    scipy.io.savemat(tmp_path / "t.mat", {"preds": preds.transpose(2, 1, 0)})  # 2 x 16 x N (MATLAB)
    a = next(iter(read_poses(tmp_path / "t.mat")))
    np.testing.assert_array_equal(a.keypoints[..., :2], preds)
    write_poses(read_poses(tmp_path / "t.mat"), tmp_path / "out.h5", "mpii")
    with h5py.File(tmp_path / "out.h5") as h:
        np.testing.assert_array_equal(h["preds"][()], preds)


def test_release_annotation_subset(tmp_path):
    import scipy.io

    from poseval_refine.formats.mpii import read_release, single_person_subset

    def rect(x, with_points=True):
        r = {"x1": x, "y1": 10.0, "x2": x + 30.0, "y2": 50.0, "scale": 2.0, "objpos": {"x": x, "y": 100.0}}
        if with_points:
            r["annopoints"] = {"point": np.array([{"id": 0, "x": x, "y": 200.0, "is_visible": 1},
                                                  {"id": 9, "x": x + 5, "y": 20.0, "is_visible": 1}], dtype=object)}
        return r

    annolist = np.empty((1, 2), dtype=object)
    annolist[0, 0] = {"image": {"name": "a.jpg"}, "annorect": np.array([rect(100.0), rect(300.0)], dtype=object)}
    annolist[0, 1] = {"image": {"name": "b.jpg"}, "annorect": np.array([rect(50.0, False)], dtype=object)}
    single = np.empty((2, 1), dtype=object)
    single[0, 0] = np.array([2.0])
    single[1, 0] = np.array([1.0])
    scipy.io.savemat(tmp_path / "rel.mat", {"RELEASE": {"annolist": annolist, "img_train": np.array([1, 0]),
                                                        "single_person": single}})
    seq = next(iter(read_release(tmp_path / "rel.mat")))
    assert seq.num_frames == 2 and seq.num_persons == 3
    assert seq.meta["single_person"].tolist() == [False, True, True]
    np.testing.assert_allclose(seq.keypoints[1, 9, :2], [305.0, 20.0])
    sub = single_person_subset(seq, train=True)
    assert sub.num_persons == 1 and sub.image_names == ["a.jpg"]
    np.testing.assert_allclose(sub.head_sizes(), [0.6 * np.hypot(30, 40)])


# ----------------------------------------------------------------------------- multi-person
TEMPLATE16 = np.array([(0, 200), (0, 150), (0, 100), (20, 100), (20, 150), (20, 200), (10, 90), (10, 40), (10, 20),
                       (10, -15), (-30, 90), (-25, 60), (-10, 30), (30, 30), (45, 60), (50, 90)], float)


def _person(ax, ay, score=None, skip=(), head=True):
    pts = [{"id": j, "x": float(ax + dx), "y": float(ay + dy), **({"score": score} if score is not None else {})}
           for j, (dx, dy) in enumerate(TEMPLATE16) if j not in skip and j not in (6, 7)]
    r = {"annopoints": [{"point": pts}]}
    if head:
        r.update(x1=ax, y1=ay - 30, x2=ax + 30, y2=ay + 10)  # head size 30 px
    return r


def test_multi_person_hand_derived(tmp_path):
    gt = {"annolist": [{"image": [{"name": "g1.jpg"}], "annorect": [_person(100, 100), _person(300, 100, skip=(5,))]}]}
    pred = {"annolist": [{"image": [{"name": "g1.jpg"}], "annorect": [
        _person(100, 100, score=0.9, head=False),   # matched to A, every joint a hit
        _person(700, 400, score=0.8, head=False),   # matches nobody
    ]}]}  # B is not predicted at all
    (tmp_path / "gt.json").write_text(json.dumps(gt))
    (tmp_path / "pred.json").write_text(json.dumps(pred))
    r = evaluate_multi(tmp_path / "gt.json", [tmp_path / "pred.json"])
    # joints annotated twice: TP .9, FP .8 with 2 GT -> AP 50; left ankle (B lacks it): 1 GT -> AP 100
    assert r["ap"]["Ankle"] == pytest.approx(75.0) and r["ap"]["Head"] == pytest.approx(50.0)
    assert r["ap"]["Total"] == pytest.approx((13 * 50 + 100) / 14)
    assert r["ap_joint"][5] == pytest.approx(100.0) and r["ap_joint"][0] == pytest.approx(50.0)
    assert r["ap_joint"][6] is None


def test_multi_person_agrees_with_posetrack_path(tmp_path):
    from poseval_refine.formats.mpii import read_annolist
    from poseval_refine.metrics.mpii_multi import finalize_multi, multi_person_stats
    from poseval_refine.metrics.posetrack import finalize, sequence_stats
    from poseval_refine.protocols import OFFICIAL
    from poseval_refine.skeletons import MPII16, POSETRACK15

    rng = np.random.default_rng(5)
    gt_entries, pred_entries = [], []
    for _ in range(6):
        people = [(rng.uniform(0, 800), rng.uniform(0, 300)) for _ in range(3)]
        gt_entries.append({"annorect": [_person(x, y) for x, y in people]})
        rects = []
        for x, y in people:
            if rng.random() < 0.8:
                r = _person(x + rng.normal(0, 6), y + rng.normal(0, 6), score=float(rng.random()), head=False)
                for pt in r["annopoints"][0]["point"]:
                    pt["x"] += float(rng.normal(0, 8))
                    pt["score"] = float(rng.random())
                rects.append(r)
        rects.append(_person(rng.uniform(0, 800), rng.uniform(0, 300), score=float(rng.random()), head=False))
        pred_entries.append({"annorect": rects})
    (tmp_path / "g.json").write_text(json.dumps({"annolist": gt_entries}))
    (tmp_path / "p.json").write_text(json.dumps({"annolist": pred_entries}))
    g = next(iter(read_annolist(tmp_path / "g.json")))
    p = next(iter(read_annolist(tmp_path / "p.json")))
    mpii = finalize_multi(multi_person_stats(g, p))
    pt = finalize(sequence_stats(g.to_skeleton(POSETRACK15), p.to_skeleton(POSETRACK15), OFFICIAL, tracking=False),
                  OFFICIAL)
    for j, name in enumerate(MPII16.joints):
        if j in (6, 7):
            continue
        assert mpii["ap_joint"][j] == pytest.approx(pt["ap_joint"][POSETRACK15.index(name)], abs=1e-9), name
