"""``prt tables``: the paper's Tables 1-4 and the table of MPII validation results."""

from __future__ import annotations

from pathlib import Path

import click

#: headline metric names -> the metric keys of the paper's tables
TABLE_METRICS = {"PCKh@0.5": "pckh", "AUC": "auc", "mAP": "map", "MOTA": "mota"}


@click.command(help="Render the paper's Tables 1-4 (values quoted from the paper carry a dagger, and so does a "
                    "difference computed from them; a registry method's value is replaced where a result on the "
                    "same benchmark is stored) and the table of MPII validation results (shipped and stored).")
@click.option("--format", "fmt", type=click.Choice(["markdown", "latex"]), default="markdown", show_default=True)
@click.option("--table", "which", type=click.Choice(["1", "2", "3", "4", "mpii-val", "all"]), default="all",
              show_default=True)
@click.option("--results", "results_dir", type=click.Path(path_type=Path), default=None, envvar="PRT_RESULTS",
              help="The results store, read besides the shipped results (default: $PRT_RESULTS, else ./prt-results).")
@click.option("--resamples", type=click.IntRange(0), default=1000, show_default=True,
              help="Bootstrap resamples for intervals and paired differences.")
@click.option("--standalone", is_flag=True, help="LaTeX: a complete document (\\documentclass ... booktabs).")
@click.option("--strict", is_flag=True, help="Fail (exit 2) when a stored result fails its check instead of leaving "
              "it out with a warning.")
def command(fmt, which, results_dir, resamples, standalone, strict):
    from ..methods import all_methods
    from ..render.latex import latex_document
    from ..render.tables import MPII_VALIDATION_BOARD, RENDERERS, mpii_validation_table, paper_table
    from ..results.board import build_boards
    from ..results.store import load_all
    from .leaderboard import report_skipped

    methods = all_methods()
    skipped: list = []
    boards = build_boards(load_all(results_dir), quoted=False, resamples=resamples, skipped=skipped)
    report_skipped(skipped, strict)
    recomputed, resampled = recomputed_values(boards, methods)
    out = []
    numbers = [1, 2, 3, 4] if which == "all" else ([int(which)] if which.isdigit() else [])
    for n in numbers:
        out.append(RENDERERS[fmt](paper_table(n, list(methods.values()), recomputed, resampled)))
    if which in ("all", "mpii-val"):
        board = next((b for b in boards if (b.benchmark, b.task, b.protocol) == MPII_VALIDATION_BOARD), None)
        out.append(RENDERERS[fmt](mpii_validation_table(board)))
    text = "\n\n".join(out)
    click.echo(latex_document(text) if fmt == "latex" and standalone else text)


def recomputed_values(boards, methods) -> tuple[dict, dict]:
    """Stored values of registry methods (``KEY`` -> variant base, ``KEY+refined`` -> refined) on the paper's
    benchmarks under the official protocol: {(key, paper benchmark id, task, variant): {metric: value}} and the
    same keys with their bootstrap values."""
    from ..results.benchmarks import canonical
    from ..results.board import resampled_values

    paper_ids = {canonical(p["benchmark"]): p["benchmark"] for m in methods.values() for p in m.paper}
    values: dict = {}
    resampled: dict = {}
    for b in boards:
        if b.protocol != "official" or b.benchmark not in paper_ids:
            continue
        for r in b.rows:
            key, variant = (r.method[: -len("+refined")], "refined") if r.method.endswith("+refined") \
                else (r.method, "base")
            if key not in methods or r.source == "quoted":
                continue
            k = (key, paper_ids[b.benchmark], b.task, variant)
            values[k] = {TABLE_METRICS[m]: v for m, v in r.metrics.items() if m in TABLE_METRICS}
            res = resampled_values(r) or {}
            resampled[k] = {TABLE_METRICS[m]: v for m, v in res.items() if m in TABLE_METRICS}
    return values, resampled
