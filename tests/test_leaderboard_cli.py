"""What a user gets wrong with ``prt leaderboard`` and ``--save --benchmark``: an empty selection, typos."""

from __future__ import annotations

import json
import shutil

import pytest

from poseval_refine.cli import main
from poseval_refine.sample import sample_paths


def _run(capsys, *args):
    capsys.readouterr()
    code = main([*map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("fmt", ["text", "json", "csv", "markdown", "latex"])
def test_empty_selection_says_so_on_stderr(tmp_path, capsys, fmt):
    code, out, err = _run(capsys, "leaderboard", "--task", "coco", "--results", tmp_path / "none", "--format", fmt)
    assert code == 0
    assert "no results" in err and "--task coco" in err and "--save" in err, err
    if fmt == "json":
        assert json.loads(out) == {"boards": []}  # still data a script can read


def test_empty_page_says_so(tmp_path, capsys):
    page = tmp_path / "board.html"
    code, out, err = _run(capsys, "leaderboard", "--task", "coco", "--results", tmp_path / "none", "--format", "html",
                          "--out", page)
    assert code == 0 and "no results" in err
    assert "No results" in page.read_text()


def test_benchmark_typo_suggests_the_name(tmp_path, capsys):
    code, out, err = _run(capsys, "leaderboard", "--benchmark", "mpii-vall", "--results", tmp_path / "none")
    assert code == 2
    assert "mpii-vall" in err and "did you mean mpii-val" in err, err


def test_benchmark_is_case_insensitive_as_when_saving(tmp_path, capsys):
    code, out, err = _run(capsys, "leaderboard", "--benchmark", "MPII-Val", "--results", tmp_path / "none",
                          "--resamples", "0")
    assert code == 0, err
    assert out.startswith("mpii-val / single")


def _two_sequences(tmp_path):
    """Two of the shipped sample's sequences: GT that is no known benchmark."""
    gt, pred = sample_paths()
    for sub, src in (("gt", gt), ("pred", pred)):
        (tmp_path / sub).mkdir()
        for f in sorted(src.glob("*.json"))[:2]:
            shutil.copy(f, tmp_path / sub / f.name)
    return tmp_path / "gt", tmp_path / "pred"


def test_save_on_a_new_benchmark_close_to_a_known_one_says_so(tmp_path, capsys):
    gt, pred = _two_sequences(tmp_path)
    store = tmp_path / "store"
    code, out, err = _run(capsys, "evaluate", "--gt", gt, "--pred", pred, "--task", "pose", "--save", "net",
                          "--benchmark", "posetrack17-vall", "--results", store)
    assert code == 0, err
    assert "new benchmark" in err and "did you mean posetrack17-val" in err, err
    # a name far from every known benchmark is only announced as new
    code, out, err = _run(capsys, "evaluate", "--gt", gt, "--pred", pred, "--task", "pose", "--save", "net",
                          "--benchmark", "lab-split-b", "--results", tmp_path / "store2")
    assert code == 0, err
    assert "new benchmark" in err and "did you mean" not in err
    # saving again on a benchmark the store already has is not news
    code, out, err = _run(capsys, "evaluate", "--gt", gt, "--pred", pred, "--task", "tracking", "--save", "net",
                          "--benchmark", "lab-split-b", "--results", tmp_path / "store2")
    assert code == 0, err
    assert "new benchmark" not in err


def test_quoted_differences_are_the_quoted_numbers_difference(tmp_path, capsys):
    """92.1 - 91.9 is written 0.2 (the paper's precision), not 0.19999999999998863, in CSV and JSON."""
    import csv
    import io

    code, out, err = _run(capsys, "leaderboard", "--benchmark", "mpii-test", "--format", "csv",
                          "--results", tmp_path / "none")
    assert code == 0, err
    rows = {r["method"]: r for r in csv.DictReader(io.StringIO(out))}
    assert rows["Adversarial PoseNet + Refinement (T1 only)"]["delta"] == "0.2"
    code, out, err = _run(capsys, "leaderboard", "--benchmark", "mpii-test", "--format", "json",
                          "--results", tmp_path / "none")
    deltas = {r["method"]: r["delta"]["value"] for r in json.loads(out)["boards"][0]["rows"] if r["delta"]}
    assert deltas["Adversarial PoseNet + Refinement (T1 only)"] == 0.2
    assert deltas["Iterative Error Feedback + Refinement"] == 4.3


def test_verify_without_inputs_claims_only_what_the_items_show(tmp_path, capsys):
    """Inputs gone: an edited headline number is a drift; an edited per-joint number cannot be seen from the
    per-item statistics, and verify does not claim that it agrees."""
    gt, pred = _two_sequences(tmp_path)
    store = tmp_path / "store"
    code, out, err = _run(capsys, "evaluate", "--gt", gt, "--pred", pred, "--task", "tracking", "--save", "net",
                          "--results", store)
    assert code == 0, err
    shutil.rmtree(pred)
    path = next(store.glob("net__*.json"))
    data = json.loads(path.read_text())

    def verify_edited(edit):
        d = json.loads(json.dumps(data))
        edit(d)
        path.write_text(json.dumps(d))
        return _run(capsys, "verify", "--results", store)

    code, out, err = verify_edited(lambda d: d["numbers"].__setitem__("mota_total", d["numbers"]["mota_total"] + 0.01))
    assert code == 1 and "drifted" in out and "net" in out
    code, out, err = verify_edited(lambda d: d["numbers"]["ap_pre"].__setitem__(0, 0.123))
    assert code == 0
    line = " ".join(out.split())
    assert "not checked" in line and "headline numbers agree" in line and "other numbers need the inputs" in line


@pytest.mark.parametrize("fmt", ["text", "markdown", "latex", "html"])
def test_tables_do_not_print_the_local_store_path(tmp_path, capsys, fmt):
    """A user row's Source cell says 'user' (a LaTeX table pasted into a paper must not carry /home/...;
    the path is in the row's provenance: JSON, CSV note, the page's hover)."""
    gt, pred = _two_sequences(tmp_path)
    store = tmp_path / "my-private-store"
    code, out, err = _run(capsys, "evaluate", "--gt", gt, "--pred", pred, "--task", "pose", "--save", "net",
                          "--results", store)
    assert code == 0, err
    code, out, err = _run(capsys, "leaderboard", "--task", "pose", "--no-quoted", "--results", store,
                          "--resamples", "10", "--format", fmt)
    assert code == 0, err
    table = out.split("<script>")[0]
    if fmt == "html":  # the hover text (provenance) may name the store; the cells may not
        import re
        table = re.sub(r'title="[^"]*"', "", table)
        table = re.sub(r'<div class="prov">.*?</div>', "", table, flags=re.S)
    assert "net" in table
    assert "my-private-store" not in table, table[:2000]


def test_leaderboard_latex_standalone_compiles_without_overfull_tables(tmp_path, capsys):
    """`prt leaderboard --format latex --standalone > board.tex && pdflatex board.tex`: a document, every
    board within the page (the MPII board's 14 columns are scaled down to the line width)."""
    import subprocess

    from .conftest import in_ci

    if shutil.which("pdflatex") is None:
        reason = "pdflatex not installed (apt-get install texlive-latex-recommended; .ci/run does)"
        if in_ci():
            pytest.fail(reason)
        pytest.skip(reason)
    code, out, err = _run(capsys, "leaderboard", "--format", "latex", "--standalone", "--results", tmp_path / "none",
                          "--resamples", "20")
    assert code == 0, err
    (tmp_path / "board.tex").write_text(out)
    proc = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "board.tex"], cwd=tmp_path,
                          capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-2000:]
    log = (tmp_path / "board.log").read_text(errors="replace")
    assert "Overfull \\hbox" not in log, [line for line in log.splitlines() if "Overfull" in line]
    # the fragment (no --standalone) is unchanged: tables to paste into a paper with booktabs
    code, fragment, err = _run(capsys, "leaderboard", "--format", "latex", "--results", tmp_path / "none",
                               "--resamples", "20")
    assert "\\documentclass" not in fragment and "\\begin{tabular}" in fragment


def test_standalone_is_for_latex(tmp_path, capsys):
    code, out, err = _run(capsys, "leaderboard", "--format", "csv", "--standalone", "--results", tmp_path / "none")
    assert code == 2 and "--standalone" in err and "latex" in err


def test_the_page_and_json_do_without_pandas(tmp_path):
    """pandas (half a second to import) is for the formats it writes: the page and JSON do not load it."""
    import subprocess
    import sys

    code = ("import sys; from poseval_refine.cli import main; "
            f"main(['leaderboard', '--results', {str(tmp_path)!r}, '--resamples', '5', '--format', sys.argv[1], "
            f"'--out', {str(tmp_path / 'out')!r}]); print('pandas' in sys.modules)")
    for fmt, loads in (("html", "False"), ("json", "False"), ("csv", "True")):
        proc = subprocess.run([sys.executable, "-c", code, fmt], capture_output=True, text=True, timeout=120)
        assert proc.stdout.strip().splitlines()[-1] == loads, (fmt, proc.stdout, proc.stderr[-2000:])
