"""``prt tables``: the paper's Tables 1-4 and the recomputed MPII validation table."""

from __future__ import annotations

from pathlib import Path

import click


@click.command(help="Render the paper's Tables 1-4 (values quoted from the paper carry a dagger; values with a "
                    "recomputed result in --results are replaced) and the table of recomputed MPII validation "
                    "results.")
@click.option("--format", "fmt", type=click.Choice(["markdown", "latex"]), default="markdown", show_default=True)
@click.option("--table", "which", type=click.Choice(["1", "2", "3", "4", "mpii-val", "all"]), default="all",
              show_default=True)
@click.option("--results", "results_dir", type=click.Path(path_type=Path), default=Path("results/recomputed"),
              show_default=True, help="Folder of result files written by `prt evaluate --method`.")
@click.option("--standalone", is_flag=True, help="LaTeX: a complete document (\\documentclass ... booktabs).")
def command(fmt, which, results_dir, standalone):
    from ..methods import all_methods
    from ..render.tables import RENDERERS, latex_document, mpii_validation_table, paper_table
    from ..results import load_results

    methods = all_methods()
    results = load_results(results_dir)
    out = []
    numbers = [1, 2, 3, 4] if which == "all" else ([int(which)] if which.isdigit() else [])
    for n in numbers:
        out.append(RENDERERS[fmt](paper_table(n, list(methods.values()))))
    if which in ("all", "mpii-val"):
        out.append(RENDERERS[fmt](mpii_validation_table(results, methods)))
    text = "\n\n".join(out)
    click.echo(latex_document(text) if fmt == "latex" and standalone else text)
