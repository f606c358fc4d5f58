"""Leaderboards as text, markdown, LaTeX (booktabs), CSV and JSON, from the boards of
:mod:`poseval_refine.results.board`. pandas holds the frame; CSV and LaTeX are its writers (imported only by
the formats that use it: the HTML page and JSON do without)."""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING

from ..results.board import PAPER, Board, Row
from . import latex

if TYPE_CHECKING:
    import pandas as pd

DAGGER = "\u2020"
#: marks an interval whose resamples are not one lump around the value; the board's footnote says why
NOTE_MARK = "\u2021"


def _f(v, digits: int = 2, sign: bool = False) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return ""
    return f"{v:+.{digits}f}" if sign else f"{v:.{digits}f}"


def _value(r: Row, v: float | None, dagger: str) -> str:
    if r.source == "quoted":
        return _f(v, 1) + (dagger if v is not None and math.isfinite(v) else "")
    return _f(v)


def ci_text(ci) -> str:
    return f"[{ci[0]:.2f}, {ci[1]:.2f}]" if ci else ""


def delta_text(r: Row, dagger: str) -> str:
    d = r.delta
    if not d:
        return ""
    if d.get("quoted"):
        return _f(d["value"], 1, sign=True) + dagger
    text = _f(d["value"], sign=True)
    if d.get("ci95"):
        lo, hi = d["ci95"]
        text += f" [{lo:+.2f}, {hi:+.2f}]"
    if d.get("p_value") is not None:
        text += f", p={d['p_value']:.3f}" if d["p_value"] >= 0.001 else ", p<0.001"
    return text


def short_source(r: Row) -> str:
    if r.source == "quoted":
        return "quoted, " + r.provenance["quoted_from"].rsplit(", ", 1)[-1]
    if r.source == "recomputed":
        files = ", ".join(v["file"] for k, v in r.provenance["inputs"].items() if k.startswith("pred"))
        return f"recomputed ({files})"
    # a table may go into a paper: the store's name is not in it (boards carry no path: board.published_provenance)
    return "user (shipped)" if r.provenance.get("store") == "shipped" else "user"


#: the column that marks statistical ties: the ranks a row shares with the rows it is tied with
TIES_COLUMN = "Tied ranks"
EN_DASH = "\u2013"


def has_ties(board: Board) -> bool:
    """The board's rows were paired (some row has resamples to compare), so tie marks mean something."""
    return any(r.tied_with is not None for r in board.rows) and board.resamples > 0


def tie_cell(r: Row) -> str:
    """"2–5": the row is statistically tied with rows ranked from 2 to 5 (itself included)."""
    return f"{r.tie_ranks[0]}{EN_DASH}{r.tie_ranks[1]}" if r.tie_ranks else ""


def ties_note(b: Board) -> str:
    return (f"{TIES_COLUMN}: the ranks a row shares with the rows it is statistically tied with (their paired "
            "bootstrap 95% interval of the difference holds 0); pairwise, not corrected for multiple comparisons "
            "(docs/leaderboard.md); empty: tied with no row")


def display_frame(board: Board, dagger: str = DAGGER) -> pd.DataFrame:
    """One board as a frame of formatted cells (what text, markdown and LaTeX show)."""
    import pandas as pd

    return pd.DataFrame.from_records(display_records(board, dagger))


def display_records(board: Board, dagger: str = DAGGER) -> list[dict]:
    """One board's rows of formatted cells (the rank an int)."""
    has_delta = any(r.delta for r in board.rows)
    has_ci = any(r.ci95 for r in board.rows)
    ties = has_ties(board)
    records = []
    for r in board.rows:
        rec = {"#": r.rank, "Method": r.name, board.metric: _value(r, r.value, dagger)}
        if has_ci:
            rec["95% CI"] = ci_text(r.ci95) + (NOTE_MARK if r.ci95 and r.ci95_note else "")
        if ties:
            rec[TIES_COLUMN] = tie_cell(r)
        if has_delta:
            rec["\u0394 " + board.metric] = delta_text(r, dagger)
        for m in board.metrics[1:]:
            rec[m] = _value(r, r.metrics.get(m), dagger)
        rec["Source"] = short_source(r)
        records.append(rec)
    return records


def text_table(records: list[dict]) -> str:
    """``DataFrame.from_records(records).to_string(index=False)``, character for character, without importing
    pandas (a second of a board's time): every column right-justified to its widest cell or header, an integer
    column at least two wide, one space between columns."""
    cols = list(records[0])
    cells = [[str(r[c]) for c in cols] for r in records]
    ints = [all(isinstance(r[c], int) and not isinstance(r[c], bool) for r in records) for c in cols]
    widths = [max(len(c), 2 if ints[i] else 0, *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    lines = [" ".join(c.rjust(w) for c, w in zip(cols, widths))]
    lines += [" ".join(v.rjust(w) for v, w in zip(row, widths)) for row in cells]
    return "\n".join(lines)


def frame(boards: list[Board]) -> pd.DataFrame:
    """All boards as one numeric frame (one row per board row), the CSV's content."""
    records = []
    for b in boards:
        for r in b.rows:
            rec = {"benchmark": b.benchmark, "task": b.task, "protocol": b.protocol, "rank": r.rank,
                   "method": r.method, "name": r.name, "source": r.source, "metric": b.metric, "value": r.value,
                   "ci95_lo": r.ci95[0] if r.ci95 else None, "ci95_hi": r.ci95[1] if r.ci95 else None,
                   "ci95_note": r.ci95_note if r.ci95 else None,
                   "delta": r.delta["value"] if r.delta else None,
                   "delta_ci95_lo": r.delta["ci95"][0] if r.delta and r.delta.get("ci95") else None,
                   "delta_ci95_hi": r.delta["ci95"][1] if r.delta and r.delta.get("ci95") else None,
                   "delta_p": r.delta.get("p_value") if r.delta else None,
                   "tied_with": ";".join(r.tied_with) if r.tied_with is not None else None,
                   "tie_ranks_lo": r.tie_ranks[0] if r.tie_ranks else None,
                   "tie_ranks_hi": r.tie_ranks[1] if r.tie_ranks else None, "note": r.note}
            for m, v in r.metrics.items():
                if m != b.metric:
                    rec[m] = v
            records.append(rec)
    import pandas as pd

    df = pd.DataFrame.from_records(records)
    for c in ("tie_ranks_lo", "tie_ranks_hi"):  # ranks, written as integers beside empty cells
        if c in df:
            df[c] = df[c].astype("Int64")
    return df


def _caption(b: Board) -> str:
    proto = "" if b.protocol == "official" else f" [{b.protocol}]"
    return f"{b.benchmark} / {b.task}{proto}: ranked by {b.metric} - {b.title}"


def _footnote(b: Board, dagger: str = DAGGER) -> str:
    notes = []
    if any(r.source == "quoted" for r in b.rows):
        notes.append(f"{dagger} quoted from {PAPER} (no interval: the per-item statistics are not published)")
    if any(r.ci95 for r in b.rows):
        plural = "people" if b.unit == "person" else f"{b.unit}s"
        unit = f"{b.items} {plural}" if b.items else f"the {plural}"
        notes.append(f"95% CI: percentile bootstrap over {unit} ({b.resamples} resamples, seed {b.seed})")
    if single_item(b):
        notes.append(f"no interval: the benchmark has one {b.unit or 'item'}, and resampling it gives it back")
    if any(r.delta and not r.delta.get("quoted") and r.delta.get("ci95") for r in b.rows):
        notes.append("\u0394: refined minus its base, paired bootstrap interval and two-sided p-value")
    if has_ties(b):
        notes.append(ties_note(b))
    return "; ".join(notes) + "".join(f"\n{NOTE_MARK} {names}: {note}." for note, names in interval_notes(b))


def single_item(b: Board) -> bool:
    """A board of recomputed results on a one-item benchmark (no interval can be drawn)."""
    return b.items == 1 and b.resamples > 0 and any(r.source != "quoted" for r in b.rows)


def interval_notes(b: Board) -> list[tuple[str, str]]:
    """(note, the names of the rows it is about) for the board's rows whose interval has a shape note."""
    by_note: dict[str, list[str]] = {}
    for r in b.rows:
        if r.ci95 and r.ci95_note:
            by_note.setdefault(r.ci95_note, []).append(r.name)
    return [(note, ", ".join(names)) for note, names in by_note.items()]


def render_text(boards: list[Board]) -> str:
    out = []
    for b in boards:
        out.append(_caption(b) + "\n" + text_table(display_records(b)) + "\n" + _footnote(b))
    return "\n\n".join(out)


def render_markdown(boards: list[Board]) -> str:
    out = []
    for b in boards:
        df = display_frame(b)
        # the cells are already written (44.30 stays 44.30, not tabulate's 44.3); text columns left, numbers right
        align = ["left" if c in ("Method", "Source") else "right" for c in df.columns]
        out.append(f"**{_caption(b)}**\n\n" + df.to_markdown(index=False, disable_numparse=True, colalign=align)
                   + "\n\n"
                   + _footnote(b).replace("\n", "\n\n"))
    return "\n\n".join(out)


def render_latex(boards: list[Board], fit: bool = False) -> str:
    """booktabs tables; ``fit`` scales a table wider than the line down to the line width (needs graphicx
    and the ``\\prtbox`` save box that ``latex_document(..., fit=True)`` declares)."""
    out = []
    for b in boards:
        df = display_frame(b)
        df = df.map(latex.escape)
        df.columns = [latex.escape(c) for c in df.columns]
        body = df.to_latex(index=False, escape=False, column_format="r" + "l" + "r" * (len(df.columns) - 3) + "l")
        if fit:
            body = latex.fit_to_line(body)
        out.append("\\begin{table}[t]\n\\centering\n\\caption{" + latex.escape(_caption(b)) + "}\n" + body
                   + "\\par\\smallskip{\\footnotesize " + latex.escape(_footnote(b)).replace("\n", "\\par ")
                   + "}\n\\end{table}")
    return "\n\n".join(out)


def render_latex_document(boards: list[Board]) -> str:
    """A complete document of the boards (landscape pages; a table wider than the line is scaled to it)."""
    return latex.latex_document(render_latex(boards, fit=True), landscape=True, fit=True)


def render_csv(boards: list[Board]) -> str:
    return frame(boards).to_csv(index=False)


def render_json(boards: list[Board]) -> str:
    return json.dumps({"boards": [b.as_dict() for b in boards]}, indent=1, allow_nan=False)


RENDERERS = {"text": render_text, "markdown": render_markdown, "latex": render_latex, "csv": render_csv,
             "json": render_json}
