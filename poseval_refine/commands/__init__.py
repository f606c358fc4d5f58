"""One module per ``prt`` sub-command; each defines ``command``. See ``poseval_refine.cli``."""

from __future__ import annotations

import sys


def invocation() -> list[str]:
    """The command line of the running ``prt`` (``cli.main`` hands it to click as the context object),
    stored in result provenance."""
    import click

    ctx = click.get_current_context(silent=True)
    obj = ctx.find_root().obj if ctx is not None else None
    if isinstance(obj, dict) and obj.get("argv"):
        return list(obj["argv"])
    return ["prt", *sys.argv[1:]]
