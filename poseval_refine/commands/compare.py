"""``prt compare A B``: is A really better than B? A - B with a paired bootstrap interval and p-value."""

from __future__ import annotations

import click

from ..render.compare import render_json, render_text, simple_table, units, worse_message  # noqa: F401
from ._paths import Folder


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
@click.option("--results", "results_dir", type=Folder(), default=None, envvar="PRT_RESULTS",
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

        raise ConfigError(f"--fail-if-worse cannot decide: {c.metric} has no interval ({c.items} {units(c)}, "
                          f"{c.resamples} resamples)",
                          fix="compare on a benchmark of more than one item, with --resamples > 0")
    click.echo(render_json(c) if fmt == "json" else render_text(c))
    if fail_if_worse and c.verdict == "worse":
        click.echo(worse_message(c), err=True)
        return 1
    return 0
