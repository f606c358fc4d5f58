"""``prt evaluate``: run a registered evaluation task and print its official table."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from ..errors import ConfigError
from ..evaluators import all_tasks, get_task
from ..io import write_json_atomic
from ..log import setup_cli_logging
from .refine import pop_refine_options, refinement_options

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
              help="Drop joints whose score IN THE PREDICTION FILE is <= T before evaluation. The paper's tau = 0.7 "
                   "is applied to the refiner's own confidence during refinement: `prt refine --min-score`, or "
                   "--refine-min-score with --refined.")
@click.option("--protocol", type=click.Choice(["official", "corrected"]), default="official", show_default=True,
              help="official reproduces the kit's quirks; corrected fixes them (see README).")
@click.option("--motp", type=click.Choice(["poseval-mm1.2+", "poseval-mm1.1", "clear"]), default=None,
              help="MOTP definition (which motmetrics version poseval ran with). "
                   "Default: poseval-mm1.2+ (official protocol), clear (corrected protocol).")
@click.option("--flavour", type=click.Choice(["matlab", "hrnet", "mmpose", "bearpaw"]), default="matlab",
              show_default=True, help="MPII single: reproduce a Python port's PCKh conventions.")
@click.option("--plot", type=click.Path(path_type=Path), default=None,
              help="MPII single: write PCKh curves (.png/.pdf).")
@click.option("--method", default=None, help="A registered method (see `prt methods`): GT and predictions come from "
              "its baselines/ entry under the data root, and the result is saved under results/recomputed/.")
@click.option("--data-root", type=click.Path(path_type=Path), default=None, envvar="PRT_DATA",
              help="Folder of the benchmark files for --method (default: $PRT_DATA).")
@click.option("--refined", type=click.Path(path_type=Path), default=None,
              help="With --method: refine the predictions with this checkpoint first (with the refinement "
                   "options below, as `prt refine`).")
@refinement_options("--refine-min-score")
@click.option("--results-dir", type=click.Path(path_type=Path), default=Path("results/recomputed"), show_default=True,
              help="Where --method saves its result file.")
@click.option("-q", "--quiet", is_flag=True, help="Only errors on stderr.")
def command(gt, preds, task, json_path, quiet, method, data_root, refined, results_dir, **options):
    setup_cli_logging(quiet)
    refine_opts = pop_refine_options(options)
    if method is not None:
        return _evaluate_method(method, task, data_root, refined, results_dir, json_path, options, refine_opts)
    if refined is not None:
        raise ConfigError("--refined goes with --method", fix="or refine first with `prt refine`, then evaluate")
    if refine_opts != type(refine_opts)():
        raise ConfigError("refinement options go with --method and --refined", fix="or use them with `prt refine`")
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


def _evaluate_method(name, task, data_root, refined, results_dir, json_path, options, refine_opts=None):
    import tempfile

    from ..methods import resolve
    from ..results import make_result, save_result

    if task is None:
        raise ConfigError("--method needs --task", fix="e.g. prt evaluate --method newell --task single")
    m, gt, pred = resolve(name, task, data_root)
    t = get_task(task)
    kwargs = {k: options[k] for k in t.options if k in options}
    with tempfile.TemporaryDirectory() as tmp:
        key = m.key
        if refined is not None:
            spec = m.tasks[task]
            if "images" not in spec:
                raise ConfigError(f"the {m.name} entry names no images for --task {task}, which refinement needs",
                                  fix="add 'images' (relative to the data root) to its baselines/ entry")
            from ..formats import detect_format
            from ..refine.infer import Refiner

            fmt = detect_format(pred)
            out = Path(tmp) / ("refined" + (pred.suffix if pred.is_file() else ""))
            result = Refiner(refined).refine_set(fmt.read(pred), Path(data_root) / spec["images"], refine_opts)
            logging.getLogger("prt").info("%s", result.meta["refine_summary"])
            fmt.write(result, out)
            pred, key = out, f"{m.key}+refined"
        result = t.run(gt, [pred], **kwargs)
        click.echo(t.render(result))
        inputs = {"gt": gt, "pred": pred if refined is None else resolve(name, task, data_root)[2]}
        opts = dict(kwargs, task=task, refined=str(refined) if refined else None)
        if refined is not None:
            opts["refine_options"] = dict(vars(refine_opts))
        saved = save_result(make_result(key, task, result, inputs, opts, Path(data_root)), results_dir)
    logging.getLogger("prt").info("saved %s", saved)
    if json_path is not None:
        write_json_atomic(json_path, result, indent=True)
