"""``prt methods``: the registered methods and which of their inputs are available locally."""

from __future__ import annotations

import click

from ._paths import Folder


@click.command(help="List the methods of baselines/ with their formats and which evaluations can run locally "
                    "(inputs found under --data-root / $PRT_DATA).")
@click.option("--data-root", type=Folder(example="../shared/data"), default=None, envvar="PRT_DATA")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def command(data_root, as_json):
    from tabulate import tabulate

    from ..io import dumps_json
    from ..methods import all_methods

    rows = []
    for m in all_methods().values():
        local = [t for t in m.tasks if m.available(t, data_root)]
        rows.append({"method": m.key, "name": m.name, "aliases": list(m.aliases), "format": m.native_format,
                     "joints": m.joint_set, "tables": sorted({r["table"] for r in m.paper}),
                     "tasks": sorted(m.tasks), "available": local})
    if as_json:
        click.echo(dumps_json(rows, indent=True).decode())
        return
    click.echo(tabulate([[r["method"], r["name"], r["format"], ",".join(map(str, r["tables"])) or "-",
                          ",".join(r["available"]) or ("-" if data_root else "(no data root)")] for r in rows],
                        headers=["method", "name", "format", "paper tables", "available here"]))
