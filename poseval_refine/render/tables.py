"""The paper's Tables 1-4 and the recomputed MPII validation table, as markdown or LaTeX (booktabs).

Tables are built as data first (rows of cells, each a value with its provenance), then rendered.
A value quoted from the paper carries a dagger; a value recomputed by prt from ``results/`` does
not, and the footnote says which is which.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..methods import Method

DAGGER = "\u2020"


@dataclass
class Cell:
    value: float | None
    quoted: bool = True

    def text(self, fmt: str = "markdown", delta: bool = False) -> str:
        if self.value is None:
            return ""
        s = f"{self.value:+.1f}" if delta else f"{self.value:.1f}"
        if self.quoted and not delta:
            s += "$^\\dagger$" if fmt == "latex" else DAGGER
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

VARIANT_LABELS = {
    "base": "", "refined": "+ Refinement", "refined_t1_only": "+ Refinement (T1 only)",
    "base_without_nose": "(without nose)", "base_with_nose": "(with nose)",
    "refined_without_nose": "+ Refinement (without nose)", "refined_with_nose": "+ Refinement (with nose)",
}


def _base_of(variant: str) -> str:
    if variant.startswith("refined"):
        rest = variant[len("refined"):]
        return "base" + rest if rest in ("_without_nose", "_with_nose") else "base"
    return variant


def paper_table(number: int, methods: list[Method], recomputed: dict | None = None) -> Table:
    """One of the paper's tables; ``recomputed[(key, benchmark, task, variant)][metric]`` replaces quotes."""
    title, metrics = PAPER_TABLES[number]
    cols = [name for _, name in metrics]
    t = Table(key=f"table{number}", title=title, columns=cols)
    recomputed = recomputed or {}
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
                base = (shown.get(_base_of(v)) or shown.get("base")) if v.startswith("refined") else None
                if base is not None:
                    now = shown[v]
                    cells += [Cell(now[k] - base[k] if k in now and k in base else None) for k, _ in metrics]
                else:
                    cells += [Cell(None) for _ in metrics]
                name = label if not v.startswith("refined") else ""
                suffix = VARIANT_LABELS.get(v, v)
                t.rows.append(((name + " " + suffix).strip() if name else suffix, cells))
        t.groups.append(len(t.rows))
    t.columns = cols + [f"\u0394 {c}" for c in cols]
    return t


def mpii_validation_table(results: list[dict], methods: dict[str, Method]) -> Table:
    """Every method with a recomputed MPII validation single-person result."""
    cols = ["Head", "Shoulder", "Elbow", "Wrist", "Hip", "Knee", "Ankle", "UBody", "Total", "AUC"]
    t = Table(key="mpii-val", title="MPII validation (recomputed by prt, 2958 people)", columns=cols, deltas=False)
    for r in sorted(results, key=lambda r: -r["numbers"]["pckh"]["Total"] if "pckh" in r["numbers"] else 0):
        if r["task"] != "single" or "pckh" not in r["numbers"]:
            continue
        m = methods.get(r["method"].split("+")[0])
        name = (m.name if m else r["method"]) + (" + Refinement" if "+refined" in r["method"] else "")
        n = r["numbers"]
        t.rows.append((name, [Cell(n["pckh"][c], quoted=False) for c in cols[:-1]] + [Cell(n["auc"], quoted=False)]))
    return t


FOOTNOTE = (f"{DAGGER} quoted from Fieraru et al., Learning to Refine Human Pose Estimation, CVPRW 2018; "
            "values without a dagger are recomputed by prt from the result files in results/.")


def render_markdown(t: Table) -> str:
    n = len(t.columns)
    half = n // 2 if t.deltas else n
    lines = [f"**{t.title}**", "", "| Method | " + " | ".join(t.columns) + " |",
             "|---|" + "|".join(["---:"] * n) + "|"]
    for name, cells in t.rows:
        texts = [c.text("markdown", delta=t.deltas and i >= half) for i, c in enumerate(cells)]
        lines.append(f"| {name} | " + " | ".join(texts) + " |")
    if any(c.quoted and c.value is not None for _, cells in t.rows for c in cells):
        lines += ["", FOOTNOTE]
    return "\n".join(lines)


def _latex_escape(s: str) -> str:
    return (s.replace("\\", "\\textbackslash{}").replace("&", "\\&").replace("%", "\\%").replace("_", "\\_")
            .replace("#", "\\#").replace("\u0394", "$\\Delta$").replace(DAGGER, "$^\\dagger$"))


def render_latex(t: Table) -> str:
    n = len(t.columns)
    half = n // 2 if t.deltas else n
    caption = _latex_escape(re.sub(r"^Table \d+: ", "", t.title))  # LaTeX numbers the table itself
    lines = ["\\begin{table}[t]", "\\centering", f"\\caption{{{caption}}}",
             f"\\label{{tab:{t.key}}}", "\\begin{tabular}{l" + "r" * n + "}", "\\toprule",
             "Method & " + " & ".join(_latex_escape(c) for c in t.columns) + " \\\\", "\\midrule"]
    for i, (name, cells) in enumerate(t.rows):
        texts = [c.text("latex", delta=t.deltas and k >= half) for k, c in enumerate(cells)]
        lines.append(_latex_escape(name) + " & " + " & ".join(texts) + " \\\\")
        if i + 1 in t.groups and i + 1 < len(t.rows):
            lines.append("\\midrule")
    lines.append("\\bottomrule")
    lines.append("\\end{tabular}")
    if any(c.quoted and c.value is not None for _, cells in t.rows for c in cells):
        lines.append("\\par\\smallskip{\\footnotesize " + _latex_escape(FOOTNOTE) + "}")
    lines.append("\\end{table}")
    return "\n".join(lines)


def latex_document(body: str) -> str:
    return ("\\documentclass{article}\n\\usepackage{booktabs}\n\\usepackage[T1]{fontenc}\n"
            "\\begin{document}\n" + body + "\n\\end{document}\n")


RENDERERS = {"markdown": render_markdown, "latex": render_latex}
