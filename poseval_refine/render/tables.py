"""The paper's Tables 1-4 and the recomputed MPII validation table, as markdown or LaTeX (booktabs).

Tables are built as data first (rows of cells, each a value with its provenance), then rendered.
A value quoted from the paper carries a dagger; a value recomputed by prt from ``results/`` does
not, and the footnote says which is which.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..methods import VARIANT_LABELS, Method
from ..methods import base_variant as _base_of
from .latex import escape

DAGGER = "\u2020"


@dataclass
class Cell:
    value: float | None
    quoted: bool = True
    #: a recomputed difference: paired bootstrap interval and p-value (see results.uncertainty)
    ci95: list[float] | None = None
    p_value: float | None = None
    #: a ready-made text (e.g. an interval column)
    label: str | None = None

    def text(self, fmt: str = "markdown", delta: bool = False) -> str:
        if self.label is not None:
            return self.label
        if self.value is None:
            return ""
        s = f"{self.value:+.1f}" if delta else f"{self.value:.1f}"
        if self.quoted:  # a difference of quoted numbers is quoted too
            s += "$^\\dagger$" if fmt == "latex" else DAGGER
        if self.ci95 is not None:
            s += f" [{self.ci95[0]:+.1f}, {self.ci95[1]:+.1f}]"
        if self.p_value is not None:
            s += f", p={self.p_value:.3f}" if self.p_value >= 0.001 else ", p<0.001"
        return s


@dataclass
class Table:
    key: str
    title: str
    columns: list[str]
    rows: list[tuple[str, list[Cell]]] = field(default_factory=list)
    deltas: bool = True
    groups: list[int] = field(default_factory=list)  # row indices after which a rule is drawn


#: table number -> (title, [(metric, column name)])
PAPER_TABLES = {
    1: ("Table 1: MPII single-person test set", [("pckh", "PCKh@0.5"), ("auc", "AUC")]),
    2: ("Table 2: MPII multi-person test set", [("map", "mAP")]),
    3: ("Table 3: PoseTrack 2017 validation set, per-frame pose estimation", [("map", "mAP")]),
    4: ("Table 4: PoseTrack 2017 validation set, tracking", [("map", "mAP"), ("mota", "MOTA")]),
}

def paper_table(number: int, methods: list[Method], recomputed: dict | None = None,
                resampled: dict | None = None) -> Table:
    """One of the paper's tables; ``recomputed[(key, benchmark, task, variant)][metric]`` replaces quotes, and
    ``resampled`` (same keys) holds their bootstrap values, which give a recomputed difference its paired
    interval and p-value."""
    from ..results.uncertainty import paired_difference

    title, metrics = PAPER_TABLES[number]
    cols = [name for _, name in metrics]
    t = Table(key=f"table{number}", title=title, columns=cols)
    recomputed = recomputed or {}
    resampled = resampled or {}
    # methods in the paper's row order
    first_row = {m.key: min((r.get("row", 0) for r in m.paper if r["table"] == number), default=None) for m in methods}
    for m in sorted((m for m in methods if first_row[m.key] is not None), key=lambda m: first_row[m.key]):
        rows = sorted((r for r in m.paper if r["table"] == number), key=lambda r: r.get("row", 0))
        by_label: dict[str, dict[str, dict[str, float]]] = {}
        for r in rows:
            by_label.setdefault(r["label"], {}).setdefault(r["variant"], {})[r["metric"]] = r["value"]
        for label, variants in by_label.items():
            ordered = sorted(variants, key=lambda v: v.startswith("refined"))  # base rows first, paper order
            # shown values: recomputed where a result file exists, quoted otherwise; deltas use the shown values
            shown = {
                v: {**variants[v], **recomputed.get((m.key, rows[0]["benchmark"], rows[0]["task"], v), {})}
                for v in ordered
            }
            for v in ordered:
                vals = variants[v]
                rec = recomputed.get((m.key, rows[0]["benchmark"], rows[0]["task"], v), {})
                cells = [Cell(rec[k], quoted=False) if k in rec else Cell(vals.get(k)) for k, _ in metrics]
                # a refined variant (e.g. "with nose") compares with its own base, else with the plain base
                bv = (_base_of(v) if _base_of(v) in shown else "base") if v.startswith("refined") else None
                base = shown.get(bv) if bv else None
                if base is not None:
                    now = shown[v]
                    key = (m.key, rows[0]["benchmark"], rows[0]["task"])
                    rec_base = recomputed.get((*key, bv), {})
                    for k, _ in metrics:
                        if k not in now or k not in base:
                            cells.append(Cell(None))
                            continue
                        quoted = k not in rec or k not in rec_base
                        a, b = resampled.get((*key, v), {}).get(k), resampled.get((*key, bv), {}).get(k)
                        if not quoted and a is not None and b is not None and len(a) == len(b):
                            d = paired_difference(now[k], base[k], a, b)
                            cells.append(Cell(d.value, quoted=False, ci95=d.ci95, p_value=d.p_value))
                        else:
                            cells.append(Cell(now[k] - base[k], quoted=quoted))
                else:
                    cells += [Cell(None) for _ in metrics]
                name = label if not v.startswith("refined") else ""
                suffix = VARIANT_LABELS.get(v, v)
                t.rows.append(((name + " " + suffix).strip() if name else suffix, cells))
        t.groups.append(len(t.rows))
    t.columns = cols + [f"\u0394 {c}" for c in cols]
    return t


#: the board the recomputed MPII validation table is drawn from: (benchmark, task, protocol)
MPII_VALIDATION_BOARD = ("mpii-val", "single", "official")


def mpii_validation_table(board) -> Table:
    """Every result on the MPII validation board (results.board.Board of mpii-val, single)."""
    cols = ["Head", "Shoulder", "Elbow", "Wrist", "Hip", "Knee", "Ankle", "UBody", "Total", "95% CI", "AUC"]
    rows = board.rows if board is not None else []
    if any(r.delta for r in rows):
        cols.append("\u0394 Total")
    people = f", {board.items} people" if board is not None and board.items else ""
    t = Table(key="mpii-val", title=f"MPII validation (recomputed by prt{people})", columns=cols, deltas=False)
    for r in rows:
        m = r.metrics
        ci = f"[{r.ci95[0]:.1f}, {r.ci95[1]:.1f}]" if r.ci95 else ""
        cells = [Cell(m.get(c), quoted=False) for c in cols[:7]] + [Cell(m.get("UBody"), quoted=False),
                                                                    Cell(r.value, quoted=False), Cell(None, label=ci),
                                                                    Cell(m.get("AUC"), quoted=False)]
        if len(cols) > 11:
            d = r.delta
            cells.append(Cell(d["value"], quoted=False, ci95=d.get("ci95"), p_value=d.get("p_value")) if d
                         else Cell(None))
        name = r.name + ("" if r.source == "recomputed" else f" ({r.source})")
        t.rows.append((name, cells))
    return t


FOOTNOTE = (f"{DAGGER} quoted from Fieraru et al., Learning to Refine Human Pose Estimation, CVPRW 2018 (a "
            "difference with a quoted operand is quoted too); values without a dagger are recomputed by prt from "
            "stored results, differences between two of them with a paired bootstrap 95% interval and p-value.")


def render_markdown(t: Table) -> str:
    n = len(t.columns)
    half = n // 2 if t.deltas else n
    lines = [f"**{t.title}**", "", "| Method | " + " | ".join(t.columns) + " |",
             "|---|" + "|".join(["---:"] * n) + "|"]
    for name, cells in t.rows:
        texts = [c.text("markdown", delta=(t.deltas and i >= half) or t.columns[i].startswith("\u0394"))
                 for i, c in enumerate(cells)]
        lines.append(f"| {name} | " + " | ".join(texts) + " |")
    if any(c.quoted and c.value is not None for _, cells in t.rows for c in cells):
        lines += ["", FOOTNOTE]
    return "\n".join(lines)


def render_latex(t: Table) -> str:
    n = len(t.columns)
    half = n // 2 if t.deltas else n
    caption = escape(re.sub(r"^Table \d+: ", "", t.title))  # LaTeX numbers the table itself
    lines = ["\\begin{table}[t]", "\\centering", f"\\caption{{{caption}}}",
             f"\\label{{tab:{t.key}}}", "\\begin{tabular}{l" + "r" * n + "}", "\\toprule",
             "Method & " + " & ".join(escape(c) for c in t.columns) + " \\\\", "\\midrule"]
    for i, (name, cells) in enumerate(t.rows):
        texts = [c.text("latex", delta=(t.deltas and k >= half) or t.columns[k].startswith("\u0394"))
                 for k, c in enumerate(cells)]
        lines.append(escape(name) + " & " + " & ".join(texts) + " \\\\")
        if i + 1 in t.groups and i + 1 < len(t.rows):
            lines.append("\\midrule")
    lines.append("\\bottomrule")
    lines.append("\\end{tabular}")
    if any(c.quoted and c.value is not None for _, cells in t.rows for c in cells):
        lines.append("\\par\\smallskip{\\footnotesize " + escape(FOOTNOTE) + "}")
    lines.append("\\end{table}")
    return "\n".join(lines)


RENDERERS = {"markdown": render_markdown, "latex": render_latex}
