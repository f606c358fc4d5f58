"""`prt compare A B` and the boards' statistical ties, pinned against a bootstrap written here: per-person
PCKh hits computed from the arrays with numpy, resampled with the board's draws (exact agreement) and with
draws of this file's own (the same width within Monte Carlo error)."""

from __future__ import annotations

import json
import shlex
import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest

from poseval_refine.cli import main
from poseval_refine.results.compare import Comparison, compare
from poseval_refine.results.uncertainty import draw_weights, paired_difference, pairwise_differences

from .test_leaderboard import _perturbed

#: the 14 joints of the MATLAB kit's Total (MPII ids; pelvis and thorax left out)
TOTAL_JOINTS = [0, 1, 2, 3, 4, 5, 10, 11, 12, 13, 14, 15, 8, 9]
SALT = "mpii-val/single/official"  # a board's draws: benchmark/task/protocol


def _hits(root: Path, pred: Path) -> tuple[np.ndarray, np.ndarray]:
    """Per person: PCKh@0.5 hits and annotated joints over the Total's joints (the kit's definition,
    written out: a hit is distance / head size <= 0.5; (0, 0) in the GT is not annotated)."""
    with h5py.File(root / "valid.h5") as g:
        part, head = np.asarray(g["part"], np.float64), np.asarray(g["normalize"], np.float64)
    with h5py.File(pred) as f:
        p = np.asarray(f["preds"], np.float64)[..., :2]
    annotated = ~(part == 0).all(-1)
    hit = annotated & (np.linalg.norm(p - part, axis=-1) / head[:, None] <= 0.5)
    return hit[:, TOTAL_JOINTS].sum(1).astype(np.float64), annotated[:, TOTAL_JOINTS].sum(1).astype(np.float64)


def _pckh(h, n, w=None):
    return 100.0 * h.sum() / n.sum() if w is None else 100.0 * (w @ h) / (w @ n)


def _run(capsys, *args):
    capsys.readouterr()
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(scope="module")
def store(shared_data, tmp_path_factory):
    """MPII validation predictions prt never saw: the released PRM predictions with Gaussian noise (a),
    a near-identical copy of a (0.05 px more noise), the very same file as a under another name, and a
    clearly weaker model (4 px of noise)."""
    tmp = tmp_path_factory.mktemp("compare")
    root = shared_data / "mpii_val"
    a = _perturbed(root / "pyranet-prm.h5", tmp / "a.h5", seed=21, sigma=1.0)
    near = _perturbed(a, tmp / "near.h5", seed=22, sigma=0.05)
    same = tmp / "same.h5"
    shutil.copyfile(a, same)
    weak = _perturbed(root / "pyranet-prm.h5", tmp / "weak.h5", seed=23, sigma=4.0)
    s = tmp / "store"
    preds = {"net-a": a, "net-near": near, "net-same": same, "net-weak": weak}
    for name, pred in preds.items():
        assert main(["evaluate", "--gt", str(root / "valid.h5"), "--pred", str(pred), "--task", "single",
                     "--save", name, "--results", str(s)]) == 0
    return s, root, preds


def _compare_json(capsys, s, a, b, *extra):
    code, out, err = _run(capsys, "compare", a, b, "--results", s, "--format", "json", *extra)
    assert code == 0, err
    return json.loads(out)


def test_delta_is_the_pckh_difference_and_the_interval_a_paired_bootstrap_over_people(store, capsys):
    s, root, preds = store
    c = _compare_json(capsys, s, "net-a", "net-weak")
    ha, na = _hits(root, preds["net-a"])
    hb, nb = _hits(root, preds["net-weak"])
    assert c["value_a"] == pytest.approx(_pckh(ha, na), abs=1e-12)
    assert c["value_b"] == pytest.approx(_pckh(hb, nb), abs=1e-12)
    assert c["delta"] == c["value_a"] - c["value_b"]
    assert (c["metric"], c["unit"], c["items"], c["resamples"], c["seed"]) == ("PCKh@0.5", "person", 2958, 1000, 0)
    assert c["benchmark"] == "mpii-val" and c["task"] == "single" and c["a"] == "net-a" and c["b"] == "net-weak"
    # the same draws as the board (its seed and salt), the statistic computed here: equal to the last bit
    w = draw_weights(2958, 1000, 0, SALT)
    d = _pckh(ha, na, w) - _pckh(hb, nb, w)
    lo, hi = np.percentile(d, [2.5, 97.5])
    assert c["ci95"] == pytest.approx([lo, hi], abs=1e-9)
    low = min(np.count_nonzero(d <= 0), np.count_nonzero(d >= 0))
    assert c["p_value"] == pytest.approx(min(1.0, 2 * (1 + low) / 1001), abs=1e-12)
    # draws of this test's own (people drawn with replacement): the same width within Monte Carlo error
    rng = np.random.default_rng(2024)
    idx = rng.integers(0, 2958, size=(4000, 2958))
    mine = 100 * ha[idx].sum(1) / na[idx].sum(1) - 100 * hb[idx].sum(1) / nb[idx].sum(1)
    width = np.subtract(*np.percentile(mine, [97.5, 2.5]))
    assert abs((hi - lo) - width) < 0.08 * width, (hi - lo, width)
    # a clearly weaker model: not tied, the difference far from 0
    assert c["ci95"][0] > 0 and not c["tied"] and c["verdict"] == "better" and c["p_value"] < 0.01


def test_the_interval_is_paired_not_two_independent_ones(store, capsys):
    """Unpaired (each result its own draws) the interval of a near-identical pair is about as wide as one
    result's; paired it is a small fraction of it."""
    s, root, preds = store
    c = _compare_json(capsys, s, "net-a", "net-near")
    ha, na = _hits(root, preds["net-a"])
    hn, nn = _hits(root, preds["net-near"])
    w = draw_weights(2958, 1000, 0, SALT)
    v = np.random.default_rng(5).permutation(w)  # other draws for the second result
    unpaired = np.subtract(*np.percentile(_pckh(ha, na, w) - _pckh(hn, nn, v), [97.5, 2.5]))
    paired = c["ci95"][1] - c["ci95"][0]
    assert paired < 0.25 * unpaired, (paired, unpaired)


def test_identical_predictions_give_zero_an_interval_holding_it_and_p_one(store, capsys):
    s, *_ = store
    for a, b in (("net-a", "net-same"), ("net-a", "net-a")):
        c = _compare_json(capsys, s, a, b)
        assert c["delta"] == 0.0 and c["ci95"] == [0.0, 0.0] and c["p_value"] == 1.0
        assert c["tied"] and c["verdict"] == "tied"
        assert all(m["delta"] == 0.0 and m["p_value"] == 1.0 for m in c["metrics"].values())


def test_a_near_identical_copy_is_tied_and_a_weaker_model_is_not_on_the_board_as_in_compare(store, capsys):
    s, *_ = store
    code, out, err = _run(capsys, "leaderboard", "--results", s, "--benchmark", "mpii-val", "--format", "json")
    assert code == 0, err
    board = json.loads(out)["boards"][0]
    rows = {r["method"]: r for r in board["rows"]}
    assert "net-near" in rows["net-a"]["tied_with"] and "net-a" in rows["net-near"]["tied_with"]
    assert "net-weak" not in rows["net-a"]["tied_with"] and "net-a" not in rows["net-weak"]["tied_with"]
    assert "pairwise" in board["ties"] and "not corrected" in board["ties"]
    # every pair on the board: tied there exactly when compare says tied
    names = sorted(rows)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            c = _compare_json(capsys, s, a, b)
            assert (b in rows[a]["tied_with"]) == c["tied"] == (a in rows[b]["tied_with"]), (a, b)
    # the shared rank range covers the ranks of the row and of the rows it is tied with
    for r in board["rows"]:
        if r["tied_with"]:
            ranks = [r["rank"]] + [rows[m]["rank"] for m in r["tied_with"]]
            assert r["tie_ranks"] == [min(ranks), max(ranks)]
        else:
            assert r["tie_ranks"] is None


def test_the_per_result_interval_is_a_95_percent_percentile_bootstrap(store, capsys):
    """Each row's own interval, against the same draws and the statistic computed here (a 97.5% interval,
    or any other level, fails)."""
    s, root, preds = store
    code, out, err = _run(capsys, "leaderboard", "--results", s, "--benchmark", "mpii-val", "--format", "json")
    rows = {r["method"]: r for r in json.loads(out)["boards"][0]["rows"]}
    w = draw_weights(2958, 1000, 0, SALT)
    for name in ("net-a", "net-weak"):
        h, n = _hits(root, preds[name])
        assert rows[name]["ci95"] == pytest.approx(list(np.percentile(_pckh(h, n, w), [2.5, 97.5])), abs=1e-9)


def test_fail_if_worse_fails_only_a_significant_regression(store, capsys):
    s, *_ = store
    code, out, err = _run(capsys, "compare", "net-weak", "net-a", "--results", s, "--fail-if-worse")
    assert code == 1 and "net-weak is significantly worse than net-a" in err
    assert "net-weak is worse than net-a" in out
    for a, b in (("net-a", "net-weak"), ("net-near", "net-a")):
        code, out, err = _run(capsys, "compare", a, b, "--results", s, "--fail-if-worse")
        assert code == 0, err
    assert "statistically tied" in out
    # without an interval it cannot decide, and says so instead of passing
    code, out, err = _run(capsys, "compare", "net-weak", "net-a", "--results", s, "--fail-if-worse",
                          "--resamples", "0")
    assert code == 2 and "--fail-if-worse cannot decide" in err, err


def test_the_python_function_returns_what_the_command_prints(store, capsys):
    s, *_ = store
    import poseval_refine as prt

    assert prt.compare is compare and "compare" in prt.__all__
    c = prt.compare("net-a", "net-weak", results=s)
    assert isinstance(c, Comparison) and c.as_dict() == _compare_json(capsys, s, "net-a", "net-weak")
    # a result file's path works as well as a name, and B - A is the mirror of A - B
    back = compare(s / "net-weak__mpii-val__single.json", "net-a", results=s)
    assert back.delta == -c.delta and back.ci95 == pytest.approx([-c.ci95[1], -c.ci95[0]], abs=1e-9)
    assert back.p_value == c.p_value and back.verdict == "worse"


def test_refuses_results_on_other_benchmarks_gt_or_without_items(store, capsys, shared_data, tmp_path):
    s, root, preds = store
    bonn = shared_data / "posetrack_cases" / "bonn_test"
    assert main(["evaluate", "--gt", str(bonn / "gt"), "--pred", str(bonn / "pred"), "--task", "tracking",
                 "--save", "track-net", "--results", str(tmp_path / "s2")]) == 0
    other = tmp_path / "s2" / "track-net__bonn-multiperson-test__tracking.json"
    code, out, err = _run(capsys, "compare", s / "net-a__mpii-val__single.json", other)
    assert code == 2 and "different benchmarks (mpii-val and bonn-multiperson-test)" in err, err
    # the same benchmark name, another GT file
    d = json.loads((s / "net-weak__mpii-val__single.json").read_text())
    d["inputs"]["gt"]["sha256"] = "0" * 64
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(d))
    code, out, err = _run(capsys, "compare", "net-a", forged, "--results", s)
    assert code == 2 and "different GT files" in err and "000000000000" in err, err
    # no per-item statistics
    d = json.loads((s / "net-weak__mpii-val__single.json").read_text())
    d["items"] = None
    bare = tmp_path / "bare.json"
    bare.write_text(json.dumps(d))
    code, out, err = _run(capsys, "compare", bare, "net-a", "--results", s)
    assert code == 2 and "bare.json" in err and "no per-item statistics" in err, err
    assert "Traceback" not in err


def test_refuses_quoted_rows_and_names_unknown_ones(store, capsys):
    s, *_ = store
    code, out, err = _run(capsys, "compare", "deepercut", "net-a", "--results", s)
    assert code == 2 and "quoted from the paper" in err and "per-item statistics" in err, err
    code, out, err = _run(capsys, "compare", "net-a", "DeeperCut + Refinement", "--results", s)
    assert code == 2 and "quoted from the paper" in err, err
    code, out, err = _run(capsys, "compare", "net-aa", "net-a", "--results", s)
    assert code == 2 and "no result named 'net-aa'" in err and "did you mean net-a?" in err, err


def test_text_output_states_the_verdict_and_every_metric(store, capsys):
    s, *_ = store
    code, out, err = _run(capsys, "compare", "net-a", "net-near", "--results", s)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("net-a - net-near on mpii-val / single: paired bootstrap over 2958 people")
    assert any(x.startswith("PCKh@0.5") and x.rstrip().endswith("tied") for x in lines)
    assert any(x.startswith("AUC") for x in lines) and any(x.startswith("UBody") for x in lines)


# ----------------------------------------------------------------------------- the vectorized pairs
def test_pairwise_differences_equal_one_pair_at_a_time():
    rng = np.random.default_rng(0)
    k, R = 7, 300
    resampled = rng.normal(50, 1, (k, R)) + rng.normal(0, 0.3, (1, R))
    resampled[3, 5] = np.nan  # a row with a resample without a value: its pairs use the finite ones
    values = resampled[:, 0] + 0.01
    pw = pairwise_differences(values, resampled, block=4)
    for i in range(k):
        for j in range(k):
            if i == j:
                assert pw.low[i, j] == pw.high[i, j] == 0 and pw.p[i, j] == 1 and not pw.tied[i, j]
                continue
            one = paired_difference(values[i], values[j], resampled[i], resampled[j])
            assert pw.delta[i, j] == values[i] - values[j]
            assert [pw.low[i, j], pw.high[i, j]] == pytest.approx(one.ci95, abs=1e-12)
            assert pw.p[i, j] == pytest.approx(one.p_value, abs=1e-12)
            assert pw.tied[i, j] == (one.ci95[0] <= 0 <= one.ci95[1])


@pytest.mark.parametrize("fmt", ["json", "csv", "html"])
def test_published_boards_name_files_not_folders(store, capsys, fmt):
    """The result files keep the paths (prt verify needs them); the boards publish file names and SHA-256s."""
    s, root, preds = store
    folder = str(preds["net-a"].parent)
    stored = json.loads((s / "net-a__mpii-val__single.json").read_text())
    assert stored["inputs"]["pred"]["path"] == str(preds["net-a"].resolve())
    code, out, err = _run(capsys, "leaderboard", "--results", s, "--benchmark", "mpii-val", "--format", fmt,
                          "--resamples", "20")
    assert code == 0, err
    assert folder not in out and str(root) not in out and str(s) not in out
    if fmt == "json":
        row = next(r for r in json.loads(out)["boards"][0]["rows"] if r["method"] == "net-a")
        sha = stored["inputs"]["pred"]["sha256"]
        assert row["provenance"]["inputs"]["pred"] == {"file": "a.h5", "sha256": sha}
        assert row["provenance"]["inputs"]["gt"]["file"] == "valid.h5"
        assert row["provenance"]["command"].startswith("prt evaluate --gt valid.h5 --pred a.h5 --task single")
        assert row["provenance"]["file"] == "net-a__mpii-val__single.json"


def test_command_lines_are_published_with_file_names():
    from poseval_refine.results.board import command_with_file_names

    assert command_with_file_names("prt evaluate --gt /home/me/data/valid.h5 --pred=/tmp/x/my\\ net.h5 --task "
                                   "single --save n") == "prt evaluate --gt valid.h5 '--pred=my net.h5' --task " \
                                                        "single --save n"
    # stored as shlex.join writes it (make_result): a Windows path is quoted, its backslashes kept
    windows = shlex.join(["prt", "evaluate", "--gt", "C:\\data\\gt\\", "--pred", "rel/dir/p.json"])
    assert command_with_file_names(windows) == "prt evaluate --gt gt --pred p.json"


def test_text_markdown_and_latex_mark_the_tie_ranks(store, capsys):
    s, *_ = store
    code, out, err = _run(capsys, "leaderboard", "--results", s, "--benchmark", "mpii-val", "--format", "json")
    rows = {r["method"]: r for r in json.loads(out)["boards"][0]["rows"]}
    lo, hi = rows["net-a"]["tie_ranks"]
    assert hi > lo
    for fmt, cell in (("text", f"{lo}\u2013{hi}"), ("markdown", f"{lo}\u2013{hi}"), ("latex", f"{lo}--{hi}")):
        code, out, err = _run(capsys, "leaderboard", "--results", s, "--benchmark", "mpii-val", "--format", fmt)
        assert code == 0, err
        assert "Tied ranks" in out and "not corrected for multiple comparisons" in out
        line = next(x for x in out.splitlines() if "net-a" in x and "net-a" == x.replace("|", " ").replace(
            "&", " ").split()[1])
        assert cell in line, (fmt, line)
        weak = next(x for x in out.splitlines() if "net-weak" in x)
        assert "\u2013" not in weak and "--" not in weak.replace("--pred", "")
    code, out, err = _run(capsys, "leaderboard", "--results", s, "--benchmark", "mpii-val", "--format", "csv")
    import csv
    import io

    by = {r["method"]: r for r in csv.DictReader(io.StringIO(out))}
    assert set(by["net-a"]["tied_with"].split(";")) == set(rows["net-a"]["tied_with"])
    assert (by["net-a"]["tie_ranks_lo"], by["net-a"]["tie_ranks_hi"]) == (str(lo), str(hi))
    assert by["net-weak"]["tied_with"] == "" and by["net-weak"]["tie_ranks_lo"] == ""
