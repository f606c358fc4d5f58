"""An option declared once: its name, type, default, allowed values and help. The command line's flag
(``poseval_refine.commands._options.click_option``) and the check of the Python keyword argument
(:meth:`Option.check`) both come from the one declaration, so a flag and its keyword cannot drift apart.

Two registries are made of them: the evaluation options (``evaluators.OPTIONS``: ``prt evaluate``,
``poseval_refine.evaluate``) and the refinement options (``refine_options.REFINE_OPTIONS``: ``prt
refine``, ``prt evaluate --refined``, ``poseval_refine.refine``). This module imports nothing heavy: the
command line builds its flags from it before any evaluator or torch is loaded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ConfigError

__all__ = ["Option", "check_names"]


@dataclass(frozen=True)
class Option:
    """An option of a command (``--min-score``) and of the Python function mirroring it (``min_score=``)."""

    name: str
    help: str
    #: int, float, str, bool or Path: what the value is (the CLI converts to it, the API checks it)
    type: type = str
    #: the value when the option is not given; a task that does not take the option sees no other value
    default: Any = None
    #: the values allowed (None: any value of ``type``); a callable gives them when first asked (a registry
    #: defined elsewhere, imported late)
    choices_from: Callable[[], tuple[str, ...]] | tuple[str, ...] | None = None
    #: the smallest and largest values allowed (numbers)
    minimum: float | None = None
    maximum: float | None = None
    #: the attribute of a Task naming the values that task takes, when tasks narrow the choices (``protocols``)
    task_choices: str | None = None
    #: the command line's spelling when it is not ``--name-with-dashes``: a boolean's ``--on/--off`` pair,
    #: or the one flag that sets the value opposite to the default (``--no-flip``)
    cli: str | None = None

    @property
    def choices(self) -> tuple[str, ...] | None:
        c = self.choices_from
        return c() if callable(c) else c

    @property
    def flag(self) -> str:
        """The flag that gives the option a value (the first of a ``--on/--off`` pair)."""
        return (self.cli or "--" + self.name.replace("_", "-")).split("/")[0]

    def check(self, value: Any, choices: tuple[str, ...] | None = None) -> Any:
        """The value as the callee takes it, or a ConfigError naming the option (for keyword arguments).
        ``choices``: the caller's own allowed values (a task's protocols), else the option's."""
        if value is None and self.default is None:
            return None
        fix = f"{self.name}: {self.help}"
        if self.type is bool and self.cli and "/" not in self.cli:  # the help says what the one flag does
            fix = f"{self.name}: {self.default} unless {self.cli} ({self.help})"
        if self.type is bool:
            ok = isinstance(value, bool)
        else:
            ok = isinstance(value, self.type) and not isinstance(value, bool)
        if self.type is float and isinstance(value, int) and not isinstance(value, bool):
            value, ok = float(value), True
        if self.type is Path and isinstance(value, str):
            value, ok = Path(value), True
        if not ok:
            raise ConfigError(f"option {self.name}={value!r} is not {TYPE_WORDS.get(self.type, self.type.__name__)}",
                              fix=fix)
        choices = choices if choices is not None else self.choices
        if choices is not None and value not in choices:
            raise ConfigError(f"option {self.name}={value!r} is not one of: {', '.join(choices)}",
                              fix=fix)
        if self.minimum is not None and value < self.minimum:
            raise ConfigError(f"option {self.name}={value!r} is below {self.minimum:g}",
                              fix=fix)
        if self.maximum is not None and value > self.maximum:
            raise ConfigError(f"option {self.name}={value!r} is above {self.maximum:g}",
                              fix=fix)
        return value


#: how a message names a type
TYPE_WORDS = {int: "an integer", float: "a number", str: "a string", Path: "a path", bool: "True or False"}


def check_names(given, known: dict[str, Option], caller: str) -> None:
    """A ConfigError naming the keyword arguments ``given`` that are not options in ``known``."""
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise ConfigError(f"unknown option {', '.join(unknown)}", fix=f"{caller} takes: {', '.join(known)}")
