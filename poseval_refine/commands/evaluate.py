"""``prt evaluate``: run a registered evaluation task and print its official table."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from ..api import evaluate_checked
from ..errors import ConfigError, InputError
from ..evaluators import OPTIONS, get_task, named_task, task_for_gt, task_names
from ..formats.roles import refuse_swapped, with_swap_hint
from ..io import write_bytes_atomic
from ..log import setup_cli_logging
from . import invocation
from ._options import option_flags, task_option
from ._paths import Folder, OutputFile
from .refine import REFINE_PARAMS, pop_refine_options, refinement_options


def task_option_flags(f):
    """One click option per registered task option (``evaluators.OPTIONS``, which the tasks name in their
    declarations): the flags of every task; the chosen task refuses those it does not take and checks the
    values (``Task.take_options``, once, when it runs)."""
    return option_flags(OPTIONS.values())(f)


@click.command(help="Evaluate predictions against ground truth and print the official table.\n\n"
                    "Without --gt/--pred, evaluates the small sample benchmark shipped with prt.")
@click.option("--gt", "gt", type=click.Path(path_type=Path), help="GT file or folder (one file per sequence).")
@click.option("--pred", "preds", multiple=True, type=click.Path(path_type=Path),
              help="Prediction file or folder; repeat to compare several (MPII single).")
@task_option(task_names(), default=None,
             help="What to evaluate. Default: the task of the GT's format (COCO keypoint annotations, MPII "
                  ".h5/.mat arrays or annolist, PoseTrack files or folders; stderr says which).")
@click.option("--json", "json_path", type=OutputFile(), help="Also write the numbers to this JSON file.")
@task_option_flags
@click.option("--method", default=None, help="A registered method (see `prt methods`): GT and predictions come from "
              "its baselines/ entry under the data root, or from --gt/--pred (read in the method's native format); "
              "the result is saved in the results store as the method's recomputed row.")
@click.option("--data-root", type=Folder(example="../shared/data"), default=None, envvar="PRT_DATA",
              help="Folder of the benchmark files for --method (default: $PRT_DATA).")
@click.option("--refined", type=click.Path(path_type=Path), default=None,
              help="With --method: refine the predictions with this checkpoint first (with the refinement "
                   "options below, as `prt refine`).")
@refinement_options("--refine-min-score")
@click.option("--save", "save", default=None, metavar="NAME",
              help="Store the result under method NAME in the results store, for `prt leaderboard`.")
@click.option("--results", "--results-dir", "results_dir", type=Folder(), default=None,
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
    refine_opts = pop_refine_options(options)
    if refine_given and refined is None:
        names = ", ".join(_flag_given(ctx, k) for k in refine_given)
        raise ConfigError(f"{names}: refinement options go with --method and --refined",
                          fix="or use them with `prt refine`")
    store = {"name": save, "dir": results_dir, "benchmark": benchmark, "base": base, "overwrite": overwrite}
    if method is not None:
        return _evaluate_method(method, task, gt, preds, data_root, refined, store, json_path, options, refine_opts)
    if save is None and any(v for k, v in store.items() if k not in ("name", "dir")):
        raise ConfigError("--benchmark, --base and --overwrite go with --save NAME")
    if refined is not None:
        raise ConfigError("--refined goes with --method", fix="or refine first with `prt refine`, then evaluate")
    if gt is None and not preds:
        from ..sample import SAMPLE_TASK, sample_paths

        task = task or SAMPLE_TASK
        gt, pred = sample_paths(posetrack21=named_task(task, options).sample != "posetrack")
        preds = (pred,)
        logging.getLogger("prt").info("no --gt/--pred given: evaluating the sample benchmark shipped with prt")
    elif gt is None or not preds:
        raise ConfigError("give both --gt and --pred (or neither, to evaluate the shipped sample)")
    refuse_swapped(gt, preds)  # small files, before any work
    try:
        if task is None:
            task, what = task_for_gt(Path(gt))
            logging.getLogger("prt").info("no --task given: the GT %s is %s, so --task %s", Path(gt).name, what, task)
        t, kwargs = get_task(task).resolve(options)
        if save is not None and len(preds) != 1:
            raise ConfigError("--save stores one result: give exactly one --pred")
        if save is not None and t.headline is None:
            raise ConfigError(f"--task {task} results cannot be ranked yet, so --save does not apply")
        result = evaluate_checked(t, kwargs, Path(gt), [Path(p) for p in preds])
    except InputError as e:  # a large --gt of predictions, a --pred of GT: the error says to swap them
        raise with_swap_hint(e, gt, preds) from None
    _show(result, json_path)
    if save is not None:
        _save(save, result, {"gt": Path(gt), "pred": Path(preds[0])}, result.options, "user", None, store)


def _flag_given(ctx, name: str) -> str:
    """The flag the user typed for parameter ``name``: ``--input-joints-only``, not ``--recover-missing``."""
    param = next(p for p in ctx.command.params if p.name == name)
    if getattr(param, "secondary_opts", None) and ctx.params.get(name) is False:
        return param.secondary_opts[0]
    return next((o for o in param.opts if o.startswith("--")), param.opts[0])


def _show(result, json_path) -> None:
    click.echo(result.render())
    if json_path is not None:
        write_bytes_atomic(json_path, result.to_json(indent=True))
        logging.getLogger("prt").info("wrote %s", json_path)


def _save(name, result, inputs, options, source, root, store):
    """Store a result under NAME (see results.store.store_evaluation)."""
    from ..results.store import store_evaluation

    return store_evaluation(name, result.task, result.to_dict(), inputs, options, results=store["dir"],
                            benchmark=store["benchmark"], base=store["base"], overwrite=store["overwrite"],
                            source=source, root=root, command=invocation())


def _evaluate_method(name, task, gt, preds, data_root, refined, store, json_path, options, refine_opts=None):
    """``--method NAME``: the method's files from its baselines/ entry under the data root, or the user's
    --gt/--pred read in the method's native format; the result is stored as its recomputed row."""
    if task is None:
        task = _method_task(name)
    t, kwargs = get_task(task).resolve(options)
    if gt is not None or preds:
        if gt is None or len(preds) != 1:
            raise ConfigError("with --method, give both --gt and one --pred (or neither: the files of its "
                              "baselines/ entry under the data root)")
        if refined is not None:
            raise ConfigError("--refined with --method refines the files of its baselines/ entry",
                              fix="refine your files with `prt refine`, then evaluate them with --method")
        return _evaluate_method_files(name, t, Path(gt), Path(preds[0]), store, json_path, kwargs)
    import tempfile

    from ..methods import resolve

    m, gt, pred = resolve(name, task, data_root)
    with tempfile.TemporaryDirectory() as tmp:
        key = m.key
        if refined is not None:
            spec = m.tasks[task]
            if "images" not in spec:
                raise ConfigError(f"the {m.name} entry names no images for --task {task}, which refinement needs",
                                  fix="add 'images' (relative to the data root) to its baselines/ entry")
            from ..formats import detect_format
            from ..refiner.infer import Refiner

            fmt = detect_format(pred)
            out = Path(tmp) / ("refined" + (pred.suffix if pred.is_file() else ""))
            refined_set = Refiner(refined).refine_set(fmt.read(pred), Path(data_root) / spec["images"], refine_opts)
            logging.getLogger("prt").info("%s", refined_set.meta["refine_summary"])
            fmt.write(refined_set, out)
            pred, key = out, f"{m.key}+refined"
        result = evaluate_checked(t, kwargs, gt, [pred])
        click.echo(result.render())
        inputs = {"gt": gt, "pred": pred if refined is None else resolve(name, task, data_root)[2]}
        opts = dict(result.options, refined=str(refined) if refined else None)
        if refined is not None:
            opts["refine_options"] = dict(vars(refine_opts))
        if refined is not None and store["base"] is None:
            store = dict(store, base=m.key)
        _save(store["name"] or key, result, inputs, opts, "recomputed", Path(data_root), store)
    if json_path is not None:
        write_bytes_atomic(json_path, result.to_json(indent=True))


def _method_task(name: str) -> str:
    """The task of a method that has one (its registered inputs', else its paper numbers'); else an error."""
    from ..methods import get_method

    m = get_method(name)
    tasks = sorted(set(m.tasks) or {p["task"] for p in m.paper})
    if len(tasks) != 1:
        raise ConfigError(f"--method {name} needs --task: it has {len(tasks)} tasks ({', '.join(tasks)})" if tasks
                          else f"--method {name} needs --task: it has no task registered",
                          fix=f"e.g. prt evaluate --method {name} --task {tasks[0] if tasks else 'single'}")
    logging.getLogger("prt").info("no --task given: %s has one task, so --task %s", name, tasks[0])
    return tasks[0]


def _evaluate_method_files(name, t, gt: Path, pred: Path, store, json_path, kwargs):
    """A registry method's predictions given by the user: read in the method's native format (its baselines/
    entry says which), evaluated, stored as the method's recomputed row, on the benchmark of the paper's
    numbers for this task unless --benchmark says otherwise."""
    from ..formats import get_format
    from ..methods import get_method
    from ..results.benchmarks import canonical

    m = get_method(name)
    fmt = get_format(m.native_format)
    if not pred.exists():
        raise InputError("not found", file=pred, fix="check the --pred path")
    if fmt.sniff is not None and not fmt.sniff(pred):
        raise InputError(f"is not in {m.name}'s native format {fmt.name} ({fmt.description})", file=pred,
                         fix=f"give {m.name}'s own prediction files, or evaluate converted files without --method")
    # the task reads the native format itself, or is given the poses the format's reader makes
    source = pred if t.reads is None or fmt.name in t.reads else fmt.read(pred)
    result = evaluate_checked(t, kwargs, gt, source)
    click.echo(result.render())
    if store["benchmark"] is None:
        papers = {canonical(p["benchmark"]) for p in m.paper if p["task"] == t.name}
        if len(papers) == 1:
            store = dict(store, benchmark=papers.pop())
    _save(store["name"] or m.key, result, {"gt": gt, "pred": pred}, dict(result.options, native_format=fmt.name),
          "recomputed", None, store)
    if json_path is not None:
        write_bytes_atomic(json_path, result.to_json(indent=True))
