"""``--mot-backend motmetrics``: CLEAR-MOT counts from motmetrics' MOTAccumulator itself, as poseval computes them.

Both backends must give poseval's numbers on every shared case with tracking numbers, agree with each
other on random benchmarks in both protocols, refuse the same input with the same error, and the default
path must not import motmetrics (or pandas).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from poseval_refine.cli import main
from poseval_refine.errors import InputError
from poseval_refine.evaluators.posetrack import evaluate_posetrack
from poseval_refine.formats.posetrack import read_sequence, sequence_files, write_posetrack
from poseval_refine.metrics import mota, mota_motmetrics
from poseval_refine.metrics.posetrack import dummy_update
from poseval_refine.synthetic import make_benchmark, write_odd_benchmark

from . import dummy_cases
from .ptbuild import frame, person, write_case
from .test_mota import random_sequence
from .test_posetrack_golden import AP_KEYS, MOT_KEYS, assert_close

STATS = ("num_objects", "num_matches", "num_switches", "num_misses", "num_false_positives",
         "sum_d_matched", "sum_d_raw", "sum_d_extra")
#: every case of shared/data/posetrack_cases whose expected_poseval.json has tracking numbers (case5: AP only)
TRACKING_CASES = ["case1", "case2", "case3", "case4", "all", "case2_18", "case3_18", "case4_18", "quirks"]
LARGE_CASES = ["synth24", "bonn_test"]  # motmetrics takes 10-40 s on these


def test_every_case_with_tracking_numbers_is_listed(shared_data):
    cases = {p.parent.name for p in (shared_data / "posetrack_cases").glob("*/expected_poseval.json")
             if "mota_joint" in json.loads(p.read_text())}
    assert cases == set(TRACKING_CASES + LARGE_CASES)


def _check_case(shared_data, case, workers=1):
    root = shared_data / "posetrack_cases" / case
    expected = json.loads((root / "expected_poseval.json").read_text())
    got = evaluate_posetrack(root / "gt", [root / "pred"], tracking=True, mot_backend="motmetrics", workers=workers)
    assert got["mot_backend"].startswith(f"motmetrics {mota_motmetrics.version()}")
    assert_close(got, expected, AP_KEYS + MOT_KEYS, tol=1e-9)
    prt = evaluate_posetrack(root / "gt", [root / "pred"], tracking=True)
    assert prt["mot_backend"] == "prt"
    assert_close(prt, expected, AP_KEYS + MOT_KEYS, tol=1e-9)
    _assert_same_items(got["items"], prt["items"])


def _assert_same_items(a: list[dict], b: list[dict]) -> None:
    """Per-sequence statistics (the bootstrap's items): counts exactly, distance sums to 1e-9."""
    assert [x["sequence"] for x in a] == [x["sequence"] for x in b]
    for x, y in zip(a, b):
        for f in STATS:
            u, v = np.array(x["mot"][f]), np.array(y["mot"][f])
            if f.startswith("num_"):
                np.testing.assert_array_equal(u, v, err_msg=f"{x['sequence']} {f}")
            else:
                np.testing.assert_allclose(u, v, rtol=0, atol=1e-9, err_msg=f"{x['sequence']} {f}")


@pytest.mark.parametrize("case", TRACKING_CASES)
def test_motmetrics_backend_gives_poseval_numbers(shared_data, case):
    _check_case(shared_data, case)


@pytest.mark.slow
@pytest.mark.parametrize("case", LARGE_CASES)
def test_motmetrics_backend_gives_poseval_numbers_large(shared_data, case):
    _check_case(shared_data, case, workers=2)


# ----------------------------------------------------------------------------- random benchmarks
@pytest.mark.parametrize("seed", [3, 4])
@pytest.mark.parametrize("protocol", ["official", "corrected"])
def test_backends_agree_on_random_benchmarks(tmp_path, seed, protocol):
    gt, pred = make_benchmark(3, 14, seed=seed, people=(1, 6))
    write_posetrack(gt, tmp_path / "gt", "posetrack2017")
    write_posetrack(pred, tmp_path / "pred", "posetrack2017")
    for f in (tmp_path / "pred").iterdir():  # frames without predictions: poseval's dummy (official protocol)
        data = json.loads(f.read_text())
        for t in (2, 5):
            data["annolist"][t]["annorect"] = []
        f.write_text(json.dumps(data))
    runs = {b: evaluate_posetrack(tmp_path / "gt", [tmp_path / "pred"], tracking=True, protocol=protocol,
                                  mot_backend=b) for b in ("prt", "motmetrics")}
    assert_close(runs["motmetrics"], runs["prt"], AP_KEYS + MOT_KEYS, tol=1e-9)
    _assert_same_items(runs["motmetrics"]["items"], runs["prt"]["items"])
    c = runs["prt"]["counts"]
    assert c["frames_tracking"] > 30
    if protocol == "official":
        assert c["dummy_frames"] > 0, "no frame without predictions: the dummy path is not exercised"
    else:
        assert c["dummy_frames"] == 0
    switches = sum(sum(it["mot"]["num_switches"]) for it in runs["prt"]["items"])
    assert switches > 0  # identity switches are there to be counted


@pytest.mark.parametrize("seed", range(3))
def test_accumulators_agree_on_tie_heavy_sequences_with_dummy_frames(seed):
    """Distances from {0.1, 0.2, 0.3} make equal-cost assignments common; poseval's dummy frames in between."""
    rng = np.random.default_rng(500 + seed)
    K = 3
    for _ in range(8):
        frames = random_sequence(rng, K, int(rng.integers(2, 12)))
        for f in frames:
            fin = np.isfinite(f[2])
            f[2][fin] = rng.choice([0.1, 0.2, 0.3], int(fin.sum()))
        for t in sorted(rng.choice(len(frames), 2), reverse=True):
            frames.insert(int(t), dummy_update(K))
        a, b = mota.accumulate_sequence(frames, K), mota_motmetrics.accumulate_sequence(frames, K)
        for f in STATS:
            np.testing.assert_allclose(getattr(b, f), getattr(a, f), rtol=0, atol=1e-12, err_msg=f)


# ----------------------------------------------------------------------------- repeated GT ids
A, B = (100, 100), (300, 100)


def test_repeated_gt_id_crash_is_the_same_clear_error(tmp_path, capsys):
    gt = [frame([person(*A, track=0), person(*B, track=0)]) for _ in range(3)]  # one id for two people
    pred = [frame([person(*A, track=5, score=0.9), person(*B, track=6, score=0.8)]) for _ in range(3)]
    gt, pred = write_case(tmp_path, gt, pred)
    errs = []
    for backend in ("prt", "motmetrics"):
        code = main(["evaluate", "--gt", str(gt), "--pred", str(pred), "--task", "tracking", "--mot-backend",
                     backend])
        err = capsys.readouterr().err
        assert code != 0 and "Traceback" not in err and "track ids unique" in err and "seq.json" in err
        errs.append(err)
    assert errs[0] == errs[1]


@pytest.mark.parametrize("backend", ["prt", "motmetrics"])
def test_repeated_gt_id_after_a_dummy_frame_is_counted_as_poseval_does(tmp_path, backend):
    """poseval feeds its dummy (object 0) to the accumulator, so GT id 0 repeated in a later frame does not
    crash motmetrics: per joint, frame 0 is the dummy (1 object, 1 miss, 1 FP), frame 1 pairs both people
    with id 0: a MATCH, then a SWITCH of the same object (frame 2, the last labeled one, is dropped)."""
    gt = [frame([person(*A, track=0)])] + [frame([person(*A, track=0), person(*B, track=0)]) for _ in range(2)]
    pred = [frame([])] + [frame([person(*A, track=5, score=0.9), person(*B, track=6, score=0.8)])
                          for _ in range(2)]
    gt, pred = write_case(tmp_path, gt, pred)
    r = evaluate_posetrack(gt, [pred], tracking=True, mot_backend=backend)
    (item,) = r["items"]
    for f, v in (("num_objects", 3), ("num_matches", 1), ("num_switches", 1), ("num_misses", 1),
                 ("num_false_positives", 1)):
        assert item["mot"][f] == [v] * 15, f
    assert r["mota_total"] == 0.0
    np.testing.assert_allclose([r["pre_total"], r["rec_total"]], [200 / 3, 200 / 3], rtol=0, atol=1e-12)


DUMMY_CASES = json.loads((Path(__file__).parent / "data" / "poseval_dummy_cases.json").read_text())


def test_dummy_cases_recorded_as_listed():
    assert sorted(DUMMY_CASES["accepted"]) == sorted(dummy_cases.ACCEPTED)
    assert sorted(DUMMY_CASES["crashed"]) == sorted(dummy_cases.CRASHING)
    assert all(v.startswith("KeyError") for v in DUMMY_CASES["crashed"].values())  # motmetrics' crash


@pytest.mark.parametrize("backend", ["prt", "motmetrics"])
@pytest.mark.parametrize("case", dummy_cases.ACCEPTED)
def test_dummy_frames_and_repeated_gt_ids_give_the_official_numbers(tmp_path, case, backend):
    """Numbers the official poseval printed (tests/dummy_cases.py; index 15 is its Total)."""
    dummy_cases.write_case(tmp_path, case)
    r = evaluate_posetrack(tmp_path / "gt", [tmp_path / "pred"], tracking=True, mot_backend=backend)
    official = DUMMY_CASES["accepted"][case]
    expected = {}
    for ours, theirs in (("mota", "mota"), ("motp", "motp"), ("pre", "pre"), ("rec", "rec")):
        expected[f"{ours}_joint"], expected[f"{ours}_total"] = official[theirs][:15], official[theirs][15]
    assert_close(r, expected, ["mota_joint", "motp_joint", "pre_joint", "rec_joint", "mota_total", "motp_total",
                               "pre_total", "rec_total"], tol=1e-9)
    assert r["counts"]["dummy_frames"] > 0 or case == "upper_joints_seen"


@pytest.mark.parametrize("backend", ["prt", "motmetrics"])
@pytest.mark.parametrize("case", dummy_cases.CRASHING)
def test_repeated_gt_ids_poseval_crashes_on_are_one_clear_error(tmp_path, capsys, case, backend):
    files = dummy_cases.write_case(tmp_path, case)
    code = main(["evaluate", "--gt", str(tmp_path / "gt"), "--pred", str(tmp_path / "pred"), "--task", "tracking",
                 "--mot-backend", backend])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert err.startswith(f"prt: error: {files['bad']}: ") and "track ids unique" in err


@pytest.mark.parametrize("backend", ["prt", "motmetrics"])
def test_poseval_position_of_the_sequence_reaches_the_worker_processes(tmp_path, capsys, backend):
    """With --workers each process gets a chunk of sequences; the dummy of the second one is still -10000."""
    dummy_cases.write_case(tmp_path / "ok", "two_sequences")
    r = evaluate_posetrack(tmp_path / "ok" / "gt", [tmp_path / "ok" / "pred"], tracking=True, mot_backend=backend,
                           workers=2)
    assert r["mota_total"] == pytest.approx(DUMMY_CASES["accepted"]["two_sequences"]["mota"][15], abs=1e-9)
    files = dummy_cases.write_case(tmp_path / "bad", "id_0_in_second_sequence")
    code = main(["evaluate", "--gt", str(tmp_path / "bad" / "gt"), "--pred", str(tmp_path / "bad" / "pred"),
                 "--task", "tracking", "--mot-backend", backend, "--workers", "2"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith(f"prt: error: {files['bad']}: labeled frame 0 (counted from 0), joint 0: ")
    code = main(["evaluate", "--gt", str(tmp_path / "bad" / "gt"), "--pred", str(tmp_path / "bad" / "pred"),
                 "--task", "tracking", "--mot-backend", backend])
    assert code == 2 and capsys.readouterr().err == err  # the same words with one process or two


def _random_dummy_case(rng, root: Path, n_seq: int = 2) -> None:
    """Sequences with few GT ids (repeated within frames), frames without predictions, joints left out."""
    anchors = [(100, 100), (300, 100), (500, 100), (100, 400)]
    files = {}
    for s in range(n_seq):
        ids = [0, 1, -10000 * s] if s else [0, 1]
        gt_frames, pred_frames = [], []
        for _ in range(int(rng.integers(3, 8))):
            n = int(rng.integers(1, 4))
            where = rng.permutation(len(anchors))[:n]
            gt_frames.append(frame([person(*anchors[a], track=int(rng.choice(ids)),
                                           joints=range(15) if rng.random() < 0.6 else range(8)) for a in where]))
            if rng.random() < 0.3:
                pred_frames.append(frame([]))
                continue
            m = int(rng.integers(1, 4))
            where = rng.permutation(len(anchors))[:m]
            tracks = rng.permutation(5)[:m]
            pred_frames.append(frame([person(*anchors[a], track=int(t), score=0.5,
                                             shift=tuple(rng.integers(-6, 7, 2).tolist()),
                                             joints=range(15) if rng.random() < 0.7 else range(4, 15))
                                      for a, t in zip(where, tracks)]))
        files["-" if s == 0 else f"s{s}"] = (gt_frames, pred_frames)
    dummy_cases.write(root, files)


def test_backends_agree_on_random_dummy_and_repeated_id_cases(tmp_path):
    """motmetrics is fed poseval's dummies as updates, prt marks the dummy's track as seen: same numbers,
    or the same refusal, on random cases (each backend checked against poseval on the recorded ones)."""
    rng = np.random.default_rng(1111)
    outcome = {"counted": 0, "refused": 0}
    switches = 0
    for i in range(16):
        root = tmp_path / str(i)
        _random_dummy_case(rng, root)
        runs = {}
        for b in ("prt", "motmetrics"):
            try:
                runs[b] = evaluate_posetrack(root / "gt", [root / "pred"], tracking=True, mot_backend=b)
            except InputError as e:
                runs[b] = str(e)
        if isinstance(runs["prt"], str) or isinstance(runs["motmetrics"], str):
            assert runs["prt"] == runs["motmetrics"], i
            outcome["refused"] += 1
            continue
        assert_close(runs["motmetrics"], runs["prt"], AP_KEYS + MOT_KEYS, tol=1e-9)
        _assert_same_items(runs["motmetrics"]["items"], runs["prt"]["items"])
        outcome["counted"] += 1
        switches += sum(sum(it["mot"]["num_switches"]) for it in runs["prt"]["items"])
    assert outcome["counted"] >= 6 and outcome["refused"] >= 3, outcome
    assert switches > 0


def test_backends_agree_on_the_parity_benchmark_with_repeated_gt_ids(tmp_path):
    """``benchmarks/poseval_parity.py --repeated-gt-ids`` writes this (there compared with poseval itself)."""
    write_odd_benchmark(tmp_path, 4, 12, seed=3, repeated_gt_ids=True)
    gts = sequence_files(tmp_path / "gt", "filesystem")
    repeats = 0
    for i, f in enumerate(gts):
        g = read_sequence(f, records=False)
        order = np.lexsort((g.track_id, g.person_frame))
        same = (np.diff(g.person_frame[order]) == 0) & (np.diff(g.track_id[order]) == 0)
        assert set(g.track_id[order][1:][same].tolist()) <= {-10000 * i}, f  # only the id the dummy stands for
        repeats += int(same.sum())
    assert repeats >= 4
    runs = {b: evaluate_posetrack(tmp_path / "gt", [tmp_path / "pred"], tracking=True, mot_backend=b)
            for b in ("prt", "motmetrics")}
    assert_close(runs["motmetrics"], runs["prt"], AP_KEYS + MOT_KEYS, tol=1e-9)
    _assert_same_items(runs["motmetrics"]["items"], runs["prt"]["items"])
    assert runs["prt"]["counts"]["dummy_frames"] >= 4


# ----------------------------------------------------------------------------- CLI, imports, store
def test_default_tracking_does_not_import_motmetrics_or_pandas():
    repo = str(Path(__file__).resolve().parents[1])
    check = ("import sys; from poseval_refine.cli import main; assert main(['evaluate', '-q'{extra}]) == 0; "
             "print(sorted(m for m in ('motmetrics', 'pandas') if m in sys.modules))")
    out = {}
    for name, extra in (("prt", ""), ("motmetrics", ", '--mot-backend', 'motmetrics'")):
        proc = subprocess.run([sys.executable, "-c", check.format(extra=extra)], capture_output=True, text=True,
                              env={"PYTHONPATH": repo, "PATH": "/usr/bin:/bin"})
        assert proc.returncode == 0, proc.stderr
        out[name] = proc.stdout.strip().splitlines()
    assert out["prt"][-1] == "[]"
    assert out["motmetrics"][-1] == "['motmetrics', 'pandas']"  # the option really runs motmetrics
    assert out["prt"][:-1] == out["motmetrics"][:-1]  # the same table


def test_pose_task_refuses_the_option(shared_data, capsys):
    root = shared_data / "posetrack_cases" / "case2"
    code = main(["evaluate", "--gt", str(root / "gt"), "--pred", str(root / "pred"), "--task", "pose",
                 "--mot-backend", "motmetrics"])
    err = capsys.readouterr().err
    assert code == 2 and "--mot-backend does not apply to --task pose" in err


def test_save_and_verify_with_the_motmetrics_backend(shared_data, tmp_path, capsys):
    root = shared_data / "posetrack_cases" / "case3"
    store = tmp_path / "store"
    assert main(["evaluate", "--gt", str(root / "gt"), "--pred", str(root / "pred"), "--task", "tracking",
                 "--mot-backend", "motmetrics", "--save", "ref-net", "--benchmark", "case3",
                 "--results", str(store)]) == 0
    (path,) = store.glob("ref-net__case3__tracking.json")
    data = json.loads(path.read_text())
    assert data["options"]["mot_backend"] == "motmetrics"
    assert data["numbers"]["mot_backend"].startswith("motmetrics ")
    capsys.readouterr()
    assert main(["verify", "--results", str(store)]) == 0  # evaluated again, with motmetrics again
    out = capsys.readouterr().out
    assert "ref-net" in out and "1 matched, 0 drifted" in out  # (the shipped results lack --data-root here)


def test_missing_motmetrics_is_one_clear_error(shared_data, capsys, monkeypatch):
    def absent():
        raise ModuleNotFoundError("No module named 'motmetrics'", name="motmetrics")  # as when not installed

    monkeypatch.setattr(mota_motmetrics, "version", absent)
    root = shared_data / "posetrack_cases" / "case2"
    code = main(["evaluate", "--gt", str(root / "gt"), "--pred", str(root / "pred"), "--mot-backend", "motmetrics"])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err and "needs motmetrics" in err and "[parity]" in err
