"""Commands that answer before click and numpy load, when their command line is a plain one: ``prt compare A B``
(from cached entries, :mod:`poseval_refine.results.quick`). Anything this parser does not know for certain
(help, an unknown or malformed option, a value click would convert or refuse) returns None, and ``prt`` runs the
click command, which prints the same output or the error."""

from __future__ import annotations

import os
import re
import sys

#: ``prt compare``'s options that take a value (see commands/compare.py)
_COMPARE_VALUES = {"--benchmark", "--task", "--format", "--results", "--resamples", "--seed"}
_COUNT = re.compile(r"[0-9]+")
_INT = re.compile(r"-?[0-9]+")


def compare(args: list[str]) -> int | None:
    """``prt compare`` from its arguments (after the command name): the exit code, or None to use click."""
    positional: list[str] = []
    options: dict[str, str | bool] = {}
    i = 0
    while i < len(args):
        arg = args[i]
        if arg.startswith("-"):
            name, eq, value = arg.partition("=")
            if name == "--fail-if-worse" and not eq:
                options[name] = True
            elif name in _COMPARE_VALUES:
                if not eq:
                    i += 1
                    if i == len(args):
                        return None
                    value = args[i]
                options[name] = value
            else:
                return None  # --help, a short option, "--", an unknown option: click's
        else:
            positional.append(arg)
        i += 1
    fmt = options.get("--format", "text")
    resamples, seed = options.get("--resamples", "1000"), options.get("--seed", "0")
    if len(positional) != 2 or fmt not in ("text", "json") or not _COUNT.fullmatch(resamples) or \
            not _INT.fullmatch(seed):
        return None
    results = options.get("--results")
    if results is None:
        results = os.environ.get("PRT_RESULTS") or None  # click's envvar: an empty one is unset
    if results is not None and (results == "" or not os.path.isdir(results)):
        return None  # a file or a folder still to be made: the option's own check (commands._paths.Folder)
    from ..results.quick import quick_compare

    c = quick_compare(*positional, benchmark=options.get("--benchmark"), task=options.get("--task"),
                      results=results, resamples=int(resamples), seed=int(seed))
    if c is None or (options.get("--fail-if-worse") and c.verdict == "no interval"):
        return None
    from ..render.compare import render_json, render_text, worse_message

    sys.stdout.write((render_json(c) if fmt == "json" else render_text(c)) + "\n")
    sys.stdout.flush()
    if options.get("--fail-if-worse") and c.verdict == "worse":
        sys.stderr.write(worse_message(c) + "\n")
        return 1
    return 0


#: command name -> its quick path
QUICK = {"compare": compare}
