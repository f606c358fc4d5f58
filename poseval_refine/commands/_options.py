"""Click options made from declarations (``poseval_refine.options.Option``): a command never spells an option
that a registry declares (evaluation: ``evaluators.OPTIONS``; refinement: ``refine_options``)."""

from __future__ import annotations

from pathlib import Path

import click

from ..options import Option
from ._paths import OutputFile


def click_type(o: Option):
    """The click type that converts and checks a flag's value as ``Option.check`` checks a keyword's."""
    if o.choices is not None:
        return click.Choice(list(o.choices))
    if o.type in (int, float) and (o.minimum is not None or o.maximum is not None):
        return (click.IntRange if o.type is int else click.FloatRange)(o.minimum, o.maximum)
    if o.type is Path:  # the one Path option, --plot, is a file prt writes
        return OutputFile(example="pckh.png", suffixes=(".png", ".pdf"))
    return o.type


def click_option(o: Option, flag: str | None = None, dest: str | None = None):
    """The click option of ``o``: its flag (or ``flag``, where a command spells it otherwise), its parameter
    ``dest`` (default: the option's name), type, default and help."""
    dest = dest or o.name
    if o.type is bool:
        decl = flag or o.cli or o.flag
        if "/" in decl:  # --on/--off
            return click.option(decl, dest, default=o.default, show_default=True, help=o.help)
        return click.option(decl, dest, is_flag=True, flag_value=not o.default, default=o.default, help=o.help)
    return click.option(flag or o.flag, dest, type=click_type(o), default=o.default,
                        show_default=o.default is not None, help=o.help)


def option_flags(options, flags: dict[str, str] | None = None, prefix: str = ""):
    """A decorator adding one click option per Option of ``options`` (in their order); ``flags``: other
    spellings by name, ``prefix``: of the parameter names (``refine_min_score``)."""
    flags = flags or {}

    def wrap(f):
        for o in reversed(list(options)):
            f = click_option(o, flags.get(o.name), prefix + o.name)(f)
        return f

    return wrap
