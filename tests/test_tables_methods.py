"""Method registry, `prt evaluate --method`, `prt tables` and the stored-results regression."""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from poseval_refine.cli import main
from poseval_refine.methods import all_methods, get_method

ROOT = Path(__file__).resolve().parent.parent


def _paper_rows():
    from .conftest import SHARED, missing_data

    spec = (SHARED / "spec" / "paper_tables.csv") if SHARED else None
    if spec is None or not spec.is_file():
        missing_data("shared/spec/paper_tables.csv")
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
def test_tables_show_every_published_number(fmt, capsys):
    assert main(["tables", "--format", fmt, "--results", str(ROOT / "results" / "recomputed")]) == 0
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


def test_mpii_validation_table_recomputed(capsys):
    assert main(["tables", "--table", "mpii-val", "--results", str(ROOT / "results" / "recomputed")]) == 0
    out = capsys.readouterr().out
    expected = (("Stacked Hourglass (8 stacks)", "88.4", "56.3"), ("Pyramid Residual Module", "90.7", "63.6"),
                ("Iterative Error Feedback", "81.7", "50.1"))
    for name, total, auc in expected:
        line = next(line for line in out.splitlines() if line.startswith(f"| {name} |"))
        assert f"| {total} |" in line and line.rstrip(" |").endswith(auc) and "\u2020" not in line


def test_latex_compiles_when_tex_is_installed(tmp_path, capsys):
    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex not installed (apt-get install texlive-latex-recommended)")
    assert main(["tables", "--format", "latex", "--standalone", "--results", str(ROOT / "results" / "recomputed")]) == 0
    (tmp_path / "t.tex").write_text(capsys.readouterr().out)
    proc = subprocess.run(["pdflatex", "-interaction=nonstopmode", "t.tex"], cwd=tmp_path, capture_output=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stdout[-2000:]


def test_evaluate_method_with_data_root(shared_data, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PRT_DATA", str(shared_data))
    assert main(["evaluate", "--method", "newell", "--task", "single", "--results-dir", str(tmp_path)]) == 0
    assert "88.4" in capsys.readouterr().out
    res = json.loads((tmp_path / "newell__single.json").read_text())
    assert res["inputs"]["pred"]["path"] == "mpii_val/newell.h5" and len(res["inputs"]["gt"]["sha256"]) == 64
    assert res["prt_version"] and res["options"]["flavour"] == "matlab"
    assert abs(res["numbers"]["pckh"]["Total"] - 88.425709) < 1e-6


def test_evaluate_method_explains_what_is_missing(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("PRT_DATA", raising=False)
    assert main(["evaluate", "--method", "newell", "--task", "single", "--results-dir", str(tmp_path)]) != 0
    err = capsys.readouterr().err
    assert "PRT_DATA" in err and "mpii_val/newell.h5" in err and "Traceback" not in err
    monkeypatch.setenv("PRT_DATA", str(tmp_path))
    assert main(["evaluate", "--method", "newell", "--task", "single", "--results-dir", str(tmp_path)]) != 0
    assert "missing" in capsys.readouterr().err
    assert main(["evaluate", "--method", "artrack", "--task", "tracking"]) != 0
    assert "PoseTrack 2017 val submission" in capsys.readouterr().err


def test_methods_lists_local_availability(shared_data, capsys):
    assert main(["methods", "--data-root", str(shared_data), "--json"]) == 0
    rows = {r["method"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["newell"]["available"] == ["single"] and rows["artrack"]["available"] == []


def test_stored_results_are_reproduced(shared_data):
    """CI guard: every stored result whose inputs are present is recomputed and must not change."""
    from poseval_refine.results import load_results, recompute, sha256

    results = load_results(ROOT / "results" / "recomputed")
    assert results, "no stored results: run `PRT_DATA=../shared/data python -m poseval_refine.results regenerate`"
    checked = 0
    for r in results:
        paths = {k: shared_data / v["path"] for k, v in r["inputs"].items()}
        if not all(p.exists() for p in paths.values()):
            continue
        for k, p in paths.items():
            assert sha256(p) == r["inputs"][k]["sha256"], f"input {p} changed"
        new = recompute(r, shared_data)
        _assert_same(new, r["numbers"], f"{r['method']} {r['task']}")
        checked += 1
    assert checked >= 3


def _assert_same(a, b, where):
    if isinstance(b, dict):
        for k in b:
            if k in ("gt", "pred") or k == "plot":
                continue
            _assert_same(a[k], b[k], f"{where}.{k}")
    elif isinstance(b, list):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _assert_same(x, y, f"{where}[{i}]")
    elif isinstance(b, float) or isinstance(a, float):
        assert (a is None and b is None) or np.isclose(a, b, rtol=0, atol=1e-9), where
    else:
        assert a == b or where.endswith((".pred", ".name")), where


def test_refined_variant_without_its_own_base_compares_with_the_plain_base():
    """Table 4: ArtTrack has one base row and two refined variants (with / without nose)."""
    from poseval_refine.render.tables import paper_table

    t = paper_table(4, list(all_methods().values()))
    i = [k for k, (name, _) in enumerate(t.rows) if name.startswith("ArtTrack")][0]
    without = t.rows[i + 1][1]
    assert t.rows[i + 1][0] == "+ Refinement (without nose)"
    assert [round(c.value, 6) for c in without[2:]] == [round(66.5 - 66.7, 6), round(53.3 - 50.2, 6)]
