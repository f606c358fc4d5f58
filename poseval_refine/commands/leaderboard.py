"""``prt leaderboard``: every stored, shipped and quoted result ranked per benchmark and task."""

from __future__ import annotations

import click

from ..evaluators import task_names
from ._options import task_option
from ._paths import Folder, OutputFile

FORMATS = ("text", "markdown", "latex", "csv", "json", "html")


@click.command(help="Rank every result per benchmark and task by the task's primary metric (--task lists them), "
                    "with 95% bootstrap intervals and, for refined "
                    "methods, the paired difference to their base. Reads the shipped results, the results store "
                    "and the paper's quoted numbers (marked with a dagger).")
@task_option(task_names(), default=None, ranked=True, help="Only this task's boards.")
@click.option("--benchmark", default=None, help="Only this benchmark's boards (e.g. mpii-val).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option("--out", type=OutputFile(example="leaderboard.html"), default=None,
              help="Write to this file instead of stdout.")
@click.option("--results", "results_dir", type=Folder(), default=None, envvar="PRT_RESULTS",
              help="The results store (default: $PRT_RESULTS, else ./prt-results).")
@click.option("--resamples", type=click.IntRange(0), default=1000, show_default=True,
              help="Bootstrap resamples per board (0: no intervals).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the bootstrap draws.")
@click.option("--no-quoted", is_flag=True, help="Leave out the numbers quoted from the paper.")
@click.option("--standalone", is_flag=True, help="LaTeX: a complete document (landscape, booktabs; a table wider "
              "than the page is scaled to it) instead of tables to paste into a paper.")
@click.option("--strict", is_flag=True, help="Fail (exit 2) when a stored result fails its check (damaged, or a "
              "headline that is not what its numbers give) instead of leaving it out with a warning.")
def command(task, benchmark, fmt, out, results_dir, resamples, seed, no_quoted, standalone, strict):
    from ..errors import ConfigError
    from ..evaluators import get_task
    from ..io import write_bytes_atomic
    from ..results.board import build_boards
    from ..results.store import load_all, user_dir

    if task is not None:
        get_task(task)
    if standalone and fmt != "latex":
        raise ConfigError("--standalone goes with --format latex")
    results = load_all(results_dir)
    skipped: list = []
    boards = build_boards(results, task=task, benchmark=benchmark, resamples=resamples, seed=seed,
                          quoted=not no_quoted, skipped=skipped)
    report_skipped(skipped, strict)
    empty = None
    if not boards:
        selection = " ".join(f"--{k} {v}" for k, v in (("task", task), ("benchmark", benchmark)) if v)
        empty = (f"no results for {selection or 'this selection'}{' without the quoted numbers' if no_quoted else ''}"
                 f" (results store: {user_dir(results_dir)})")
        click.echo(f"prt: {empty}; add one with `prt evaluate --gt GT --pred PRED"
                   f"{' --task ' + task if task else ''} --save NAME`", err=True)
    if fmt == "html":
        from ..render.html import render_page

        text = render_page(boards, empty=empty)
    else:
        from ..render.leaderboard import RENDERERS, render_latex_document

        text = render_latex_document(boards) if standalone else RENDERERS[fmt](boards)
    if out is not None:
        write_bytes_atomic(out, text.encode() if text.endswith("\n") else (text + "\n").encode())
    else:
        click.echo(text)


def report_skipped(skipped: list, strict: bool) -> None:
    """One warning line per stored result left out of the boards (naming its file); under ``--strict`` an
    error instead (exit 2)."""
    from ..errors import InputError

    for sr, error in skipped:
        click.echo(f"prt: warning: {sr.path}: {error.problem}; left out (`prt verify` shows what differs, "
                   "`prt results rm` removes it)", err=True)
    if strict and skipped:
        names = ", ".join(sr.path.name for sr, _ in skipped)
        raise InputError(f"{len(skipped)} stored result{'s' if len(skipped) > 1 else ''} failed "
                         f"{'their' if len(skipped) > 1 else 'its'} check ({names}), and --strict refuses to "
                         "leave them out", fix="repair or remove them (`prt results rm NAME --benchmark B --task T`)")
