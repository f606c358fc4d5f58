"""``prt evaluate``: run a registered evaluation task and print its official table."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from ..errors import ConfigError
from ..evaluators import all_tasks, get_task
from ..io import write_json_atomic
from ..log import setup_cli_logging

#: evaluate options that tasks may accept, with their "not given" value
TASK_OPTIONS = {
    "workers": 1,
    "min_score": None,
    "protocol": "official",
    "motp": None,
    "flavour": "matlab",
    "plot": None,
}


@click.command(help="Evaluate predictions against ground truth and print the official table.\n\n"
                    "Without --gt/--pred, evaluates the small sample benchmark shipped with prt.")
@click.option("--gt", "gt", type=click.Path(path_type=Path), help="GT file or folder (one file per sequence).")
@click.option("--pred", "preds", multiple=True, type=click.Path(path_type=Path),
              help="Prediction file or folder; repeat to compare several (MPII single).")
@click.option("--task", type=click.Choice(sorted(all_tasks())), default=None,
              help="What to evaluate. Default: tracking for PoseTrack data.")
@click.option("--json", "json_path", type=click.Path(path_type=Path), help="Also write the numbers to this JSON file.")
@click.option("--workers", type=click.IntRange(1), default=1, show_default=True,
              help="Evaluate sequences in parallel (identical results).")
@click.option("--min-score", type=float, default=None,
              help="Drop predicted joints with score <= T before evaluation (the paper's tau = 0.7 for tracking).")
@click.option("--protocol", type=click.Choice(["official", "corrected"]), default="official", show_default=True,
              help="official reproduces the kit's quirks; corrected fixes them (see README).")
@click.option("--motp", type=click.Choice(["poseval-mm1.2+", "poseval-mm1.1", "clear"]), default=None,
              help="MOTP definition (which motmetrics version poseval ran with). "
                   "Default: poseval-mm1.2+ (official protocol), clear (corrected protocol).")
@click.option("--flavour", type=click.Choice(["matlab", "hrnet", "mmpose", "bearpaw"]), default="matlab",
              show_default=True, help="MPII single: reproduce a Python port's PCKh conventions.")
@click.option("--plot", type=click.Path(path_type=Path), default=None,
              help="MPII single: write PCKh curves (.png/.pdf).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors on stderr.")
def command(gt, preds, task, json_path, quiet, **options):
    setup_cli_logging(quiet)
    if gt is None and not preds:
        from ..sample import sample_paths

        gt, pred = sample_paths()
        preds = (pred,)
        task = task or "tracking"
        logging.getLogger("prt").info("no --gt/--pred given: evaluating the sample benchmark shipped with prt")
    elif gt is None or not preds:
        raise ConfigError("give both --gt and --pred (or neither, to evaluate the shipped sample)")
    task = task or "tracking"
    t = get_task(task)
    given = {k: v for k, v in options.items() if v != TASK_OPTIONS[k]}
    unsupported = sorted(set(given) - set(t.options))
    if unsupported:
        names = ", ".join("--" + u.replace("_", "-") for u in unsupported)
        accepted = ", ".join("--" + o.replace("_", "-") for o in t.options) or "no options"
        raise ConfigError(f"option {names} does not apply to --task {task}", fix=f"--task {task} accepts: {accepted}")
    kwargs = {k: options[k] for k in t.options if k in options}
    result = t.run(Path(gt), [Path(p) for p in preds], **kwargs)
    click.echo(t.render(result))
    if json_path is not None:
        write_json_atomic(json_path, result, indent=True)
        logging.getLogger("prt").info("wrote %s", json_path)
