"""Method registry, `prt evaluate --method`, `prt tables` and the stored-results regression."""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from poseval_refine.cli import main
from poseval_refine.methods import all_methods, get_method

from .conftest import in_ci

ROOT = Path(__file__).resolve().parent.parent


def _paper_rows():
    from .conftest import SHARED, missing_data

    spec = (SHARED / "spec" / "paper_tables.csv") if SHARED else None
    if spec is None or not spec.is_file():
        missing_data("shared/spec/paper_tables.csv", rel="spec/paper_tables.csv")
    return list(csv.DictReader(open(spec)))


def test_every_method_of_the_paper_has_an_entry_with_its_numbers():
    rows = _paper_rows()
    methods = all_methods()
    published = {(int(r["table"]), r["method"], r["metric"], r["variant"], float(r["value"])) for r in rows}
    registered = {(p["table"], p["label"], p["metric"], p["variant"], p["value"]) for m in methods.values()
                  for p in m.paper}
    assert published == registered
    for alias in ("artrack", "deepercut", "paf", "detect-and-track", "newell", "ief", "prm", "butd", "ml-lab"):
        assert get_method(alias).key


@pytest.mark.parametrize("fmt", ["markdown", "latex"])
def test_tables_show_every_published_number(fmt, capsys, tmp_path):
    assert main(["tables", "--format", fmt, "--results", str(tmp_path), "--resamples", "0"]) == 0
    out = capsys.readouterr().out
    for r in _paper_rows():
        v = f"{float(r['value']):.1f}"
        assert v in out, (r["method"], r["variant"], v)
    dagger = "$^\\dagger$" if fmt == "latex" else "\u2020"
    assert dagger in out and "quoted from Fieraru et al." in out
    if fmt == "latex":
        assert "\\toprule" in out and "\\midrule" in out and "\\bottomrule" in out
        for env in ("table", "tabular"):
            assert out.count(f"\\begin{{{env}}}") == out.count(f"\\end{{{env}}}") == 5
        # every row has as many cells as the header
        for block in out.split("\\begin{tabular}")[1:]:
            ncols = len(re.match(r"\{(l r*)\}|\{(lr*)\}", block).group(0)) - 2
            for line in block.split("\\bottomrule")[0].splitlines():
                if line.endswith("\\\\"):
                    assert line.count("&") == ncols - 1, line
    else:
        assert "| + Refinement |" in out and "Δ" in out


def test_mpii_validation_table_recomputed(capsys, tmp_path, monkeypatch):
    """The shipped results are shown from any folder, with no store and no data."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PRT_RESULTS", raising=False)
    assert main(["tables", "--table", "mpii-val"]) == 0
    out = capsys.readouterr().out
    expected = (("Stacked Hourglass (8 stacks)", "88.4", "56.3"), ("Pyramid Residual Module", "90.7", "63.6"),
                ("Iterative Error Feedback", "81.7", "50.1"))
    for name, total, auc in expected:
        line = next(line for line in out.splitlines() if line.startswith(f"| {name} |"))
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert cells[9] == total and cells[11] == auc and "\u2020" not in line
        lo, hi = (float(x) for x in cells[10].strip("[]").split(","))
        assert lo < float(total) < hi and 0.3 < hi - lo < 3


def test_latex_compiles_when_tex_is_installed(tmp_path, capsys):
    if shutil.which("pdflatex") is None:
        reason = "pdflatex not installed (apt-get install texlive-latex-recommended; .ci/run does)"
        if in_ci():
            pytest.fail(reason)
        pytest.skip(reason)
    assert main(["tables", "--format", "latex", "--standalone", "--results", str(tmp_path), "--resamples", "20"]) == 0
    (tmp_path / "t.tex").write_text(capsys.readouterr().out)
    proc = subprocess.run(["pdflatex", "-interaction=nonstopmode", "t.tex"], cwd=tmp_path, capture_output=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stdout[-2000:]


def test_evaluate_method_with_data_root(shared_data, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PRT_DATA", str(shared_data))
    assert main(["evaluate", "--method", "newell", "--task", "single", "--results", str(tmp_path)]) == 0
    assert "88.4" in capsys.readouterr().out
    res = json.loads((tmp_path / "newell__mpii-val__single.json").read_text())
    assert res["inputs"]["pred"]["path"] == "mpii_val/newell.h5" and len(res["inputs"]["gt"]["sha256"]) == 64
    assert res["provenance"]["prt_version"] and res["options"]["flavour"] == "matlab"
    assert res["source"] == "recomputed" and res["benchmark"] == "mpii-val"
    assert res["provenance"]["command"].startswith("prt evaluate")
    assert abs(res["numbers"]["pckh"]["Total"] - 88.425709) < 1e-6
    assert res["headline"]["PCKh@0.5"] == res["numbers"]["pckh"]["Total"] and len(res["items"]) == 2958


def test_evaluate_method_explains_what_is_missing(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("PRT_DATA", raising=False)
    assert main(["evaluate", "--method", "newell", "--task", "single", "--results", str(tmp_path)]) != 0
    err = capsys.readouterr().err
    assert "PRT_DATA" in err and "mpii_val/newell.h5" in err and "Traceback" not in err
    monkeypatch.setenv("PRT_DATA", str(tmp_path))
    assert main(["evaluate", "--method", "newell", "--task", "single", "--results", str(tmp_path)]) != 0
    assert "missing" in capsys.readouterr().err
    assert main(["evaluate", "--method", "artrack", "--task", "tracking"]) != 0
    assert "PoseTrack 2017 val submission" in capsys.readouterr().err


def test_methods_lists_local_availability(shared_data, capsys):
    assert main(["methods", "--data-root", str(shared_data), "--json"]) == 0
    rows = {r["method"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["newell"]["available"] == ["single"] and rows["artrack"]["available"] == []


def test_shipped_results_are_reproduced(shared_data, capsys):
    """CI guard: every shipped result is evaluated again from its inputs and must not change."""
    from poseval_refine.results.store import load_dir, shipped_dir

    assert len(load_dir(shipped_dir())) >= 6
    assert main(["verify", "--shipped-only", "--data-root", str(shared_data), "--strict"]) == 0
    out = capsys.readouterr().out
    assert "6 matched, 0 drifted, 0 not checked" in out


def test_refined_variant_without_its_own_base_compares_with_the_plain_base():
    """Table 4: ArtTrack has one base row and two refined variants (with / without nose)."""
    from poseval_refine.render.tables import paper_table

    t = paper_table(4, list(all_methods().values()))
    i = [k for k, (name, _) in enumerate(t.rows) if name.startswith("ArtTrack")][0]
    without = t.rows[i + 1][1]
    assert t.rows[i + 1][0] == "+ Refinement (without nose)"
    assert [round(c.value, 6) for c in without[2:]] == [round(66.5 - 66.7, 6), round(53.3 - 50.2, 6)]
