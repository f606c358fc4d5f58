"""render/latex.py: the one escaping rule and the one standalone document of every LaTeX table prt writes."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from poseval_refine.render.latex import escape, fit_to_line, latex_document

from .conftest import in_ci

#: every character LaTeX gives a meaning to in text, and prt's value marks
AWKWARD = "R&D 50% #1 a_b $5 {x} ~y^2 C:\\dir \u0394 0.3\u2020 [1, 2]\u2021"


def test_every_special_character_is_escaped_once():
    assert escape(AWKWARD) == ("R\\&D 50\\% \\#1 a\\_b \\$5 \\{x\\} \\textasciitilde{}y\\textasciicircum{}2 "
                               "C:\\textbackslash{}dir $\\Delta$ 0.3$^\\dagger$ [1, 2]$^\\ddagger$")
    assert escape("\\{}") == "\\textbackslash{}\\{\\}"  # the braces a backslash becomes are not escaped again
    assert escape(3.5) == "3.5" and escape("2\u20134") == "2--4"  # tied ranks


def _pdflatex(tmp_path, source: str) -> subprocess.CompletedProcess:
    if shutil.which("pdflatex") is None:
        reason = "pdflatex not installed (apt-get install texlive-latex-recommended; .ci/run does)"
        if in_ci():
            pytest.fail(reason)
        pytest.skip(reason)
    (tmp_path / "t.tex").write_text(source)
    return subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "t.tex"], cwd=tmp_path,
                          capture_output=True, timeout=120)


def test_escaped_text_compiles(tmp_path):
    """The former table rule left $, {, }, ~ and ^ as they were: a method named with one broke the document."""
    table = ("\\begin{tabular}{lr}\n\\toprule\n" + escape(AWKWARD) + " & 1.0 \\\\\n\\bottomrule\n\\end{tabular}")
    proc = _pdflatex(tmp_path, latex_document(table))
    assert proc.returncode == 0, proc.stdout[-2000:]


def test_a_table_wider_than_the_line_is_fitted(tmp_path):
    wide = "\\begin{tabular}{" + "r" * 40 + "}\n" + " & ".join(["123.45"] * 40) + " \\\\\n\\end{tabular}\n"
    body = "\\begin{table}[t]\n\\centering\n" + fit_to_line(wide) + "\\end{table}"
    proc = _pdflatex(tmp_path, latex_document(body, landscape=True, fit=True))
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert b"Overfull \\hbox" not in proc.stdout
