"""``prt verify``: evaluate every stored and shipped result again and fail on any drift."""

from __future__ import annotations

from pathlib import Path

import click


@click.command(help="Recompute every shipped and stored result whose inputs are present and compare every number "
                    "with the stored one. Prints what matched, what drifted (method, benchmark, metric, stored and "
                    "new value) and what could not be checked; exits 1 on any drift (with --strict also when a "
                    "result could not be checked). A headline number (a board's columns) edited in a result file is "
                    "caught even without the inputs, from the result's own per-item statistics; the other numbers "
                    "(per-joint values, curves) are checked when the inputs are present.")
@click.option("--results", "results_dir", type=click.Path(path_type=Path), default=None, envvar="PRT_RESULTS",
              help="The results store (default: $PRT_RESULTS, else ./prt-results).")
@click.option("--data-root", type=click.Path(path_type=Path), default=None, envvar="PRT_DATA",
              help="Folder that relative input paths (the shipped results') are under (default: $PRT_DATA).")
@click.option("--tol", type=float, default=1e-9, show_default=True, help="Largest accepted absolute difference.")
@click.option("--strict", is_flag=True, help="Also fail when a result could not be checked (CI).")
@click.option("--shipped-only", is_flag=True, help="Only the results shipped with prt.")
def command(results_dir, data_root, tol, strict, shipped_only):
    from tabulate import tabulate

    from ..results.store import load_all
    from ..results.verify import DRIFTED, UNCHECKED, verify

    results = load_all(results_dir, include_user=not shipped_only)
    checks = verify(results, data_root, tol)
    rows = []
    for c in checks:
        rows.append([*c.result.key, c.result.store, c.status, c.detail])
    click.echo(tabulate(rows, headers=["method", "benchmark", "task", "store", "status", "detail"],
                        tablefmt="simple", maxcolwidths=[None, None, None, None, None, 70]))
    drifted = [c for c in checks if c.status == DRIFTED]
    for c in drifted:
        click.echo(f"\nDRIFT {c.label} ({c.result.path}):", err=False)
        for metric, stored, new in c.drifts[:20]:
            click.echo(f"  {metric}: stored {stored}, new {new}")
        if len(c.drifts) > 20:
            click.echo(f"  ... and {len(c.drifts) - 20} more")
    unchecked = [c for c in checks if c.status == UNCHECKED]
    n_match = len(checks) - len(drifted) - len(unchecked)
    click.echo(f"\n{n_match} matched, {len(drifted)} drifted, {len(unchecked)} not checked")
    if drifted or (strict and unchecked) or (strict and not checks):
        raise click.exceptions.Exit(1)
