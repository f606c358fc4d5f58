"""LaTeX shared by every table prt writes (the paper's tables, leaderboards): escaping text and the
standalone document around booktabs tables."""

from __future__ import annotations

import re

#: what a LaTeX text cell cannot hold as it is, and what it is written as; the marks prt puts on
#: values (Δ for differences, † for quoted values, ‡ for an interval with a note) become math symbols,
#: the en dash of ranges (tied ranks) TeX's ``--``
_TEXT = {
    "\\": "\\textbackslash{}", "&": "\\&", "%": "\\%", "_": "\\_", "#": "\\#", "$": "\\$", "{": "\\{", "}": "\\}",
    "~": "\\textasciitilde{}", "^": "\\textasciicircum{}",
    "\u0394": "$\\Delta$", "\u2020": "$^\\dagger$", "\u2021": "$^\\ddagger$", "\u2013": "--",
}
_SPECIAL = re.compile("|".join(map(re.escape, _TEXT)))


def escape(text) -> str:
    """``text`` as LaTeX source that typesets it (one pass, so nothing is escaped twice)."""
    return _SPECIAL.sub(lambda m: _TEXT[m.group()], str(text))


def fit_to_line(table: str) -> str:
    """A tabular scaled down to the line width when it is wider (needs the preamble of
    ``latex_document(..., fit=True)``: graphicx and the ``\\prtbox`` save box)."""
    return ("\\sbox\\prtbox{" + table.rstrip("\n") + "}\n\\ifdim\\wd\\prtbox>\\linewidth"
            "\\resizebox{\\linewidth}{!}{\\usebox\\prtbox}\\else\\usebox\\prtbox\\fi\n")


def latex_document(body: str, *, landscape: bool = False, fit: bool = False) -> str:
    """A complete document around ``body`` (booktabs tables); ``landscape`` pages for wide boards,
    ``fit`` for tables wrapped by :func:`fit_to_line`."""
    preamble = ["\\documentclass{article}"]
    if landscape:
        preamble.append("\\usepackage[landscape,margin=2cm]{geometry}")
    preamble.append("\\usepackage{booktabs}")
    if fit:
        preamble.append("\\usepackage{graphicx}")
    preamble.append("\\usepackage[T1]{fontenc}")
    if fit:
        preamble.append("\\newsavebox{\\prtbox}")
    return "\n".join(preamble) + "\n\\begin{document}\n" + body + "\n\\end{document}\n"
