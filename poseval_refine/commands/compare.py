"""``prt compare A B``: is A really better than B? A - B with a paired bootstrap interval and p-value."""

from __future__ import annotations

import json
import math
from pathlib import Path

import click


@click.command(help="A - B on one benchmark: the difference of the primary metric (and of every headline "
                    "number) with a paired bootstrap 95% interval (the same resampled people, images or sequences "
                    "for both, from their stored per-item statistics) and a two-sided p-value. A and B are method "
                    "names in the shipped results or the results store, or result files. Refuses results on "
                    "different benchmarks, GT files, tasks or protocols, and numbers quoted from the paper (no "
                    "per-item statistics). See docs/leaderboard.md.")
@click.argument("a")
@click.argument("b")
@click.option("--benchmark", default=None, help="The benchmark, when a name has results on several.")
@click.option("--task", default=None, help="The task, when a name has results on several.")
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True)
@click.option("--fail-if-worse", is_flag=True,
              help="Exit 1 when A is significantly worse than B (the interval of A - B lies below 0): a CI check "
                   "that a new result did not regress from a stored one.")
@click.option("--results", "results_dir", type=click.Path(path_type=Path), default=None, envvar="PRT_RESULTS",
              help="The results store (default: $PRT_RESULTS, else ./prt-results).")
@click.option("--resamples", type=click.IntRange(0), default=1000, show_default=True,
              help="Bootstrap resamples (0: no interval).")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seed of the bootstrap draws (the leaderboard's, so both show the same interval).")
def command(a, b, benchmark, task, fmt, fail_if_worse, results_dir, resamples, seed):
    from ..results.compare import compare

    if task is not None:
        from ..evaluators import get_task

        get_task(task)
    c = compare(a, b, benchmark=benchmark, task=task, results=results_dir, resamples=resamples, seed=seed)
    if fail_if_worse and c.verdict == "no interval":
        from ..errors import ConfigError

        raise ConfigError(f"--fail-if-worse cannot decide: {c.metric} has no interval ({c.items} {_units(c)}, "
                          f"{c.resamples} resamples)",
                          fix="compare on a benchmark of more than one item, with --resamples > 0")
    if fmt == "json":
        click.echo(json.dumps(c.as_dict(), indent=1, allow_nan=False))
    else:
        click.echo(render_text(c))
    if fail_if_worse and c.verdict == "worse":
        click.echo(f"prt: {c.a} is significantly worse than {c.b} on {c.benchmark} ({c.metric} {_signed(c.delta)}, "
                   f"95% interval {_interval(c.ci95)})", err=True)
        return 1
    return 0


def _signed(v) -> str:
    return "" if v is None or not math.isfinite(v) else f"{v:+.2f}"


def _interval(ci) -> str:
    return f"[{ci[0]:+.2f}, {ci[1]:+.2f}]" if ci else "none"


def _p(p, resamples: int) -> str:
    """The p-value; at its floor 2 / (R + 1) (no resample on the other side of 0) it is an upper bound."""
    if p is None:
        return ""
    return f"<={p:.3f}" if p <= 2 / (resamples + 1) + 1e-12 else f"{p:.3f}"


def _units(c) -> str:
    return c.unit if c.items == 1 else "people" if c.unit == "person" else f"{c.unit}s"


def simple_table(rows: list[list[str]], headers: list[str], colalign: tuple[str, ...]) -> str:
    """tabulate's "simple" table of ready-made cells, character for character (a column is as wide as its
    widest cell, or its header plus two; two spaces between columns; lines without trailing blanks), without
    importing tabulate: ``prt compare`` is a command people run in loops and CI, and tabulate's imports cost
    more than the comparison."""
    cols = list(zip(*([headers] + rows)))
    widths = [max(max((len(c) for c in col[1:]), default=0), len(col[0]) + 2) for col in cols]

    def line(cells) -> str:
        return "  ".join(c.ljust(w) if a == "left" else c.rjust(w) for c, w, a in zip(cells, widths, colalign)).rstrip()

    return "\n".join([line(headers), "  ".join("-" * w for w in widths)] + [line(r) for r in rows])


def render_text(c) -> str:
    units = _units(c)
    head = (f"{c.a} - {c.b} on {c.benchmark} / {c.task}"
            + ("" if c.protocol == "official" else f" [{c.protocol}]")
            + f": paired bootstrap over {c.items} {units} ({c.resamples} resamples, seed {c.seed})")
    rows = [[m.metric, f"{m.value_a:.2f}", f"{m.value_b:.2f}", _signed(m.delta), _interval(m.ci95),
             _p(m.p_value, c.resamples), "tied" if m.tied else ""] for m in c.metrics.values()]
    table = simple_table(rows, ["", c.a, c.b, "A - B", "95% CI", "p", ""],
                         ("left", "right", "right", "right", "right", "right", "left"))
    if c.verdict == "no interval":
        verdict = f"{c.metric}: no interval (one {c.unit}, or --resamples 0)"
    elif c.verdict == "tied":
        verdict = (f"{c.metric}: {c.a} and {c.b} are statistically tied (the 95% interval of the difference "
                   "holds 0)")
    else:
        verdict = (f"{c.metric}: {c.a} is {c.verdict} than {c.b} (the 95% interval of the difference lies "
                   f"{'above' if c.verdict == 'better' else 'below'} 0)")
    return (f"{head}\n{table}\n{verdict}. Each row is its own test: with several metrics, one of them excluding 0 by "
            "chance is likely (docs/leaderboard.md).")
