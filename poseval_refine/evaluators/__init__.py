"""Evaluation tasks (``prt evaluate --task NAME``): a registry filled by the modules of this package.

A task turns files into a JSON-able result dict (``run``) and renders that dict as the
official text table (``render``). Tasks declare which ``prt evaluate`` options they accept,
so the CLI can reject options that would be silently ignored.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass

from ..errors import ConfigError


@dataclass(frozen=True)
class Task:
    name: str
    description: str
    #: run(gt: Path, preds: list[Path], **options) -> dict (numbers as data, NaN allowed)
    run: Callable[..., dict]
    #: render(result: dict) -> str, the official text table
    render: Callable[[dict], str]
    #: names of the ``prt evaluate`` options the task accepts (besides gt and preds)
    options: tuple[str, ...] = ()


TASKS: dict[str, Task] = {}
_loaded = False


def register_task(task: Task) -> Task:
    TASKS[task.name] = task
    return task


def all_tasks() -> dict[str, Task]:
    global _loaded
    if not _loaded:
        for info in pkgutil.iter_modules(__path__):
            if not info.name.startswith("_"):
                importlib.import_module(f"{__name__}.{info.name}")
        _loaded = True
    return TASKS


def get_task(name: str) -> Task:
    tasks = all_tasks()
    if name not in tasks:
        raise ConfigError(f"unknown task {name!r}", fix=f"use --task with one of: {', '.join(sorted(tasks))}")
    return tasks[name]
