"""``prt results list`` and ``prt results rm``: what the stores hold, and removing a stored result."""

from __future__ import annotations

import json
from pathlib import Path

import click

_RESULTS = click.option("--results", "results_dir", type=click.Path(path_type=Path), default=None,
                        envvar="PRT_RESULTS", help="The results store (default: $PRT_RESULTS, else ./prt-results).")


@click.group(help="Manage the results store: list what it holds (beside the shipped results), remove a result.")
def command():
    pass


@command.command("list", help="Every shipped and stored result: method, benchmark, task, store, file, and whether it "
                              "can be ranked (a file that is not a readable result is marked damaged). With --check, "
                              "also each result's per-file check (its headline against its numbers, its numbers "
                              "against its per-item statistics), as the boards run it.")
@_RESULTS
@click.option("--benchmark", default=None, help="Only this benchmark's results.")
@click.option("--task", default=None, help="Only this task's results.")
@click.option("--check", is_flag=True, help="Run each result's per-file check (cached once computed).")
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True)
def list_results(results_dir, benchmark, task, check, fmt):
    from ..results.benchmarks import normalize
    from ..results.store import load_all, user_dir

    wanted = normalize(benchmark) if benchmark else None
    rows = []
    for r in load_all(results_dir):
        method, bench, t = r.key
        if (wanted is not None and bench != wanted) or (task is not None and t != task):
            continue
        status = "ok" if r.problem is None else f"damaged: {r.problem.problem}"
        if check and r.problem is None:
            from ..results.cache import row_entry
            from ..results.uncertainty import RESAMPLES, SEED

            entry = row_entry(r, SEED, RESAMPLES)
            if entry.problem is not None:
                status = f"fails its check: {entry.problem['problem']}"
        rows.append({"method": method, "benchmark": bench, "task": t, "store": r.store, "file": str(r.path),
                     "status": status})
    if fmt == "json":
        click.echo(json.dumps({"results": rows}, indent=1))
        return
    if not rows:
        click.echo(f"prt: no results (results store: {user_dir(results_dir)})", err=True)
        return
    from ..render.compare import simple_table

    cells = [[x["method"], x["benchmark"], x["task"], x["store"], Path(x["file"]).name, x["status"]] for x in rows]
    click.echo(simple_table(cells, ["method", "benchmark", "task", "store", "file", "status"], ("left",) * 6))
    bad = sum(x["status"] != "ok" for x in rows)
    click.echo(f"\n{len(rows)} results ({sum(x['store'] == 'user' for x in rows)} in {user_dir(results_dir)})"
               + (f"; {bad} cannot be ranked (`prt verify` shows why, `prt results rm` removes one)" if bad else ""))


@command.command("rm", help="Remove the stored result of method NAME on a benchmark and task from the results "
                            "store (its file and its index entry). Shipped results are not removed.")
@click.argument("name")
@click.option("--benchmark", required=True, help="Its benchmark (e.g. mpii-val).")
@click.option("--task", required=True, help="Its task (e.g. single).")
@_RESULTS
def remove(name, benchmark, task, results_dir):
    from ..errors import ConfigError
    from ..results import index
    from ..results.benchmarks import normalize
    from ..results.store import load_all, user_dir

    bench = normalize(benchmark)
    every = load_all(results_dir)
    found = [r for r in every if r.key == (name, bench, task)]
    mine = [r for r in found if r.store == "user"]
    if not mine:
        if found:
            raise ConfigError(f"{name!r} on {bench} ({task}) is a result shipped with prt, not one of the results "
                              "store's: prt does not remove shipped results",
                              fix="`prt results rm` removes results of your store (`prt results list` shows each "
                                  "result's store)")
        same = sorted({f"{r.key[0]} --benchmark {r.key[1]} --task {r.key[2]}" for r in every
                       if r.store == "user" and r.key[0].lower() == name.lower()})
        raise ConfigError(f"the results store ({user_dir(results_dir)}) holds no result {name!r} on {bench} ({task})",
                          fix=(f"its results: {'; '.join(same)}" if same else
                               "`prt results list` shows what it holds"))
    for r in mine:
        try:
            r.path.unlink()
        except OSError as e:
            raise ConfigError(f"cannot remove {r.path} ({e.strerror})") from None
        index.forget(r.path.parent, r.path.name)
        click.echo(f"removed {r.path}")
