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
    ``dest`` (default: the option's name), type, default and help. An option whose values each task narrows
    (``--protocol``) lists each task's values in its help."""
    dest = dest or o.name
    if o.type is bool:
        decl = flag or o.cli or o.flag
        if "/" in decl:  # --on/--off
            return click.option(decl, dest, default=o.default, show_default=True, help=o.help)
        return click.option(decl, dest, is_flag=True, flag_value=not o.default, default=o.default, help=o.help)
    per_task = {"cls": PerTaskChoicesOption, "declared": o} if o.task_choices is not None else {}
    return click.option(flag or o.flag, dest, type=click_type(o), default=o.default,
                        show_default=o.default is not None, help=o.help, **per_task)


def option_flags(options, flags: dict[str, str] | None = None, prefix: str = ""):
    """A decorator adding one click option per Option of ``options`` (in their order); ``flags``: other
    spellings by name, ``prefix``: of the parameter names (``refine_min_score``)."""
    flags = flags or {}

    def wrap(f):
        for o in reversed(list(options)):
            f = click_option(o, flags.get(o.name), prefix + o.name)(f)
        return f

    return wrap


def _help_block(title: str, entries: list[tuple[str, str]], width: int = 46) -> str:
    """A paragraph click keeps as written (``\\b``): the title, then one ``name: text`` entry per line, wrapped
    to ``width`` with a hanging indent."""
    import textwrap

    lines = [title]
    for name, text in entries:
        lines += textwrap.wrap(f"{name}: {text}", width, subsequent_indent="    ", break_on_hyphens=False)
    return "\b\n" + "\n".join(lines)


class TaskChoiceOption(click.Option):
    """``--task``: its help lists each task it offers with the task's one-line ``description`` (and, with
    ``ranked``, the primary metric it is ranked by): the task declarations, imported only when the help is
    shown."""

    def __init__(self, *args, ranked: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.ranked = ranked

    def get_help_record(self, ctx):
        record = super().get_help_record(ctx)
        if record is None:
            return None
        from ..evaluators import get_task

        def line(task) -> str:
            if not self.ranked:
                return task.description
            return f"{task.description}; ranked by {task.primary}" if task.primary else \
                f"{task.description}; not ranked yet"

        entries = [(name, line(get_task(name))) for name in self.type.choices]
        return record[0], f"{record[1]}\n\n{_help_block('Tasks:', entries)}"


class PerTaskChoicesOption(click.Option):
    """An option whose values each task narrows (``--protocol``: ``Option.task_choices`` names the Task
    attribute, ``Task.protocols``): its help lists the values of every task that takes it, from the task
    declarations, imported only when the help is shown."""

    def __init__(self, *args, declared: Option, **kwargs):
        super().__init__(*args, **kwargs)
        self.declared = declared

    def get_help_record(self, ctx):
        record = super().get_help_record(ctx)
        if record is None:
            return None
        from ..evaluators import all_tasks

        o = self.declared
        entries = [(f"--task {t.name}", ", ".join(getattr(t, o.task_choices) or o.choices))
                   for t in sorted(all_tasks().values(), key=lambda t: t.name) if o.name in t.options]
        return record[0], f"{record[1]}\n\n{_help_block('Each task takes:', entries)}"


def task_option(names, help: str, ranked: bool = False, **kwargs):
    """The ``--task`` option of a command offering the tasks ``names`` (a click Choice), its help listing them
    with their descriptions (``ranked``: and the metric each is ranked by)."""
    return click.option("--task", type=click.Choice(list(names)), cls=TaskChoiceOption, help=help, ranked=ranked,
                        **kwargs)
