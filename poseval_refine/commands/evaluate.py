"""``prt evaluate``: run a registered evaluation task and print its official table."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from ..errors import ConfigError
from ..evaluators import get_task, task_for_gt, task_names
from ..io import write_json_atomic
from ..log import setup_cli_logging
from .refine import REFINE_PARAMS, pop_refine_options, refinement_options

#: evaluate options that tasks may accept, with their "not given" value
TASK_OPTIONS = {
    "workers": 1,
    "min_score": None,
    "protocol": "official",
    "motp": None,
    "mot_backend": "prt",
    "flavour": "matlab",
    "plot": None,
    "engine": "prt",
    "sigmas": "coco",
}


@click.command(help="Evaluate predictions against ground truth and print the official table.\n\n"
                    "Without --gt/--pred, evaluates the small sample benchmark shipped with prt.")
@click.option("--gt", "gt", type=click.Path(path_type=Path), help="GT file or folder (one file per sequence).")
@click.option("--pred", "preds", multiple=True, type=click.Path(path_type=Path),
              help="Prediction file or folder; repeat to compare several (MPII single).")
@click.option("--task", type=click.Choice(task_names()), default=None,
              help="What to evaluate. Default: from the GT: COCO keypoint annotations -> coco, MPII "
                   ".h5/.mat arrays -> single, an MPII annolist -> multi, PoseTrack files or folders -> "
                   "tracking (stderr says which).")
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
@click.option("--mot-backend", type=click.Choice(["prt", "motmetrics"]), default="prt", show_default=True,
              help="Tracking: who accumulates the CLEAR-MOT counts: prt's vectorized accumulator or motmetrics' "
                   "MOTAccumulator, as poseval (same numbers, several times slower; see README).")
@click.option("--flavour", type=click.Choice(["matlab", "hrnet", "mmpose", "bearpaw"]), default="matlab",
              show_default=True, help="MPII single: reproduce a Python port's PCKh conventions.")
@click.option("--plot", type=click.Path(path_type=Path), default=None,
              help="MPII single: write PCKh curves (.png/.pdf).")
@click.option("--engine", type=click.Choice(["prt", "pycocotools"]), default="prt", show_default=True,
              help="COCO: prt's vectorized COCOeval (same numbers, bit for bit) or pycocotools' own COCOeval.")
@click.option("--sigmas", default="coco", show_default=True,
              help="COCO: OKS sigmas: coco, crowdpose, or one per joint as a comma list (0.026,0.025,...); "
                   "the GT's keypoints must have that many joints.")
@click.option("--method", default=None, help="A registered method (see `prt methods`): GT and predictions come from "
              "its baselines/ entry under the data root, and the result is saved in the results store.")
@click.option("--data-root", type=click.Path(path_type=Path), default=None, envvar="PRT_DATA",
              help="Folder of the benchmark files for --method (default: $PRT_DATA).")
@click.option("--refined", type=click.Path(path_type=Path), default=None,
              help="With --method: refine the predictions with this checkpoint first (with the refinement "
                   "options below, as `prt refine`).")
@refinement_options("--refine-min-score")
@click.option("--save", "save", default=None, metavar="NAME",
              help="Store the result under method NAME in the results store, for `prt leaderboard`.")
@click.option("--results", "--results-dir", "results_dir", type=click.Path(path_type=Path), default=None,
              envvar="PRT_RESULTS", help="The results store --save and --method write to "
              "(default: $PRT_RESULTS, else ./prt-results).")
@click.option("--benchmark", default=None, help="With --save: the benchmark your GT is (e.g. posetrack17-val), or a "
              "name for your own split. Default: recognised from the GT's SHA-256, else gt-<hash>.")
@click.option("--base", default=None, metavar="NAME",
              help="With --save: the stored method this result is a refinement of (the leaderboard's paired Δ).")
@click.option("--overwrite", is_flag=True, help="With --save: replace NAME's stored result even if it was made from "
              "other predictions.")
@click.option("-q", "--quiet", is_flag=True, help="Only errors on stderr.")
def command(gt, preds, task, json_path, quiet, method, data_root, refined, results_dir, save, benchmark, base,
            overwrite, **options):
    setup_cli_logging(quiet)
    ctx = click.get_current_context()
    refine_given = [k for k in REFINE_PARAMS if ctx.get_parameter_source(k) != click.core.ParameterSource.DEFAULT]
    # RefineOptions lives beside the network (torch): built only when refining, so evaluation never loads torch
    refine_opts = pop_refine_options(options) if refined is not None else [options.pop(k) for k in REFINE_PARAMS]
    if refine_given and refined is None:
        names = ", ".join("--" + k.replace("_", "-") for k in refine_given)
        raise ConfigError(f"{names}: refinement options go with --method and --refined",
                          fix="or use them with `prt refine`")
    store = {"name": save, "dir": results_dir, "benchmark": benchmark, "base": base, "overwrite": overwrite}
    if method is not None:
        return _evaluate_method(method, task, data_root, refined, store, json_path, options, refine_opts)
    if save is None and any(v for k, v in store.items() if k not in ("name", "dir")):
        raise ConfigError("--benchmark, --base and --overwrite go with --save NAME")
    if refined is not None:
        raise ConfigError("--refined goes with --method", fix="or refine first with `prt refine`, then evaluate")
    if gt is None and not preds:
        from ..sample import sample_paths

        gt, pred = sample_paths()
        preds = (pred,)
        task = task or "tracking"
        logging.getLogger("prt").info("no --gt/--pred given: evaluating the sample benchmark shipped with prt")
    elif gt is None or not preds:
        raise ConfigError("give both --gt and --pred (or neither, to evaluate the shipped sample)")
    if task is None:
        task, what = task_for_gt(Path(gt))
        logging.getLogger("prt").info("no --task given: the GT %s is %s, so --task %s", Path(gt).name, what, task)
    t = get_task(task)
    kwargs = task_options(t, options)
    if save is not None and len(preds) != 1:
        raise ConfigError("--save stores one result: give exactly one --pred")
    if save is not None and t.headline is None:
        raise ConfigError(f"--task {task} results cannot be ranked yet, so --save does not apply")
    result = t.run(Path(gt), [Path(p) for p in preds], **kwargs)
    click.echo(t.render(result))
    if json_path is not None:
        write_json_atomic(json_path, result, indent=True)
        logging.getLogger("prt").info("wrote %s", json_path)
    if save is not None:
        _save(save, task, result, {"gt": Path(gt), "pred": Path(preds[0])}, kwargs, "user", None, store)


def task_options(t, options: dict) -> dict:
    """The options the task takes; one it does not take but was given is an error, never dropped."""
    given = {k: v for k, v in options.items() if v != TASK_OPTIONS[k]}
    unsupported = sorted(set(given) - set(t.options))
    if unsupported:
        names = ", ".join("--" + u.replace("_", "-") for u in unsupported)
        accepted = ", ".join("--" + o.replace("_", "-") for o in t.options) or "no options"
        raise ConfigError(f"option {names} does not apply to --task {t.name}",
                          fix=f"--task {t.name} accepts: {accepted}")
    return {k: options[k] for k in t.options if k in options}


def _save(name, task, result, inputs, options, source, root, store):
    """Store a result under NAME (see results.store), naming its benchmark from the GT's hash."""
    from ..results.benchmarks import BENCHMARKS, close_to, identify
    from ..results.store import check_name, known_benchmarks, load_all, make_result, save_result, sha256, user_dir

    check_name(name)
    directory = user_dir(store["dir"])
    existing = load_all(directory)
    bench = identify(sha256(inputs["gt"]), task, len(result.get("items") or []) or None, store["benchmark"],
                     known_benchmarks(existing))
    opts = {k: v for k, v in options.items() if k != "plot"}
    base = store["base"]
    data = make_result(name, task, result, benchmark=bench, inputs=inputs, options=opts, source=source, root=root,
                       base=base)
    path = save_result(data, directory, overwrite=store["overwrite"],
                       shipped=[r for r in existing if r.store == "shipped"])
    primary = get_task(task).primary
    value = (data["headline"] or {}).get(primary)
    shown = f"{primary} {value:.2f}" if isinstance(value, float) else ""
    logging.getLogger("prt").info("saved %s on %s (%s) %s: %s", name, bench, task, shown, path)
    if store["benchmark"] is not None and bench not in BENCHMARKS and bench not in known_benchmarks(existing):
        guess = close_to(bench, [*BENCHMARKS, *known_benchmarks(existing)])
        logging.getLogger("prt").warning("%s is a new benchmark: a board of its own%s", bench,
                                         f" (did you mean {guess}?)" if guess else "")
    return path


def _evaluate_method(name, task, data_root, refined, store, json_path, options, refine_opts=None):
    import tempfile

    from ..methods import resolve

    if task is None:
        raise ConfigError("--method needs --task", fix="e.g. prt evaluate --method newell --task single")
    t = get_task(task)
    kwargs = task_options(t, options)
    m, gt, pred = resolve(name, task, data_root)
    with tempfile.TemporaryDirectory() as tmp:
        key = m.key
        if refined is not None:
            spec = m.tasks[task]
            if "images" not in spec:
                raise ConfigError(f"the {m.name} entry names no images for --task {task}, which refinement needs",
                                  fix="add 'images' (relative to the data root) to its baselines/ entry")
            from ..formats import detect_format
            from ..refine.infer import RefineOptions, Refiner

            refine_opts = refine_opts or RefineOptions()

            fmt = detect_format(pred)
            out = Path(tmp) / ("refined" + (pred.suffix if pred.is_file() else ""))
            result = Refiner(refined).refine_set(fmt.read(pred), Path(data_root) / spec["images"], refine_opts)
            logging.getLogger("prt").info("%s", result.meta["refine_summary"])
            fmt.write(result, out)
            pred, key = out, f"{m.key}+refined"
        result = t.run(gt, [pred], **kwargs)
        click.echo(t.render(result))
        inputs = {"gt": gt, "pred": pred if refined is None else resolve(name, task, data_root)[2]}
        opts = dict(kwargs, refined=str(refined) if refined else None)
        if refined is not None:
            opts["refine_options"] = dict(vars(refine_opts))
        if refined is not None and store["base"] is None:
            store = dict(store, base=m.key)
        _save(store["name"] or key, task, result, inputs, opts, "recomputed", Path(data_root), store)
    if json_path is not None:
        write_json_atomic(json_path, result, indent=True)
