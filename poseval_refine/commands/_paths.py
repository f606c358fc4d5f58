"""Click parameter types for the paths ``prt`` writes, so every command refuses a bad output path the
same way (one ``prt: error:`` with a ``fix:`` line, exit 2) when its options are parsed: before minutes of
evaluation, refinement or training, and before anything is written. The checks themselves live in
``poseval_refine.io``, which applies them again when it writes (the Python API's path)."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import ConfigError
from ..io import check_folder_option, check_output_file, check_output_folder, check_output_parent


def _flag(param) -> str:
    if param is None:
        return "the output"
    if isinstance(param, click.Argument):
        return (param.metavar or param.name or "OUT").upper()
    return next((o for o in param.opts if o.startswith("--")), param.opts[0])  # the first long flag


class OutputFile(click.ParamType):
    """A file the command writes (``--json``, ``--out``, ``--plot``): refused when it names a folder or its
    folder does not exist (prt makes no folders for a file)."""

    name = "file"

    def __init__(self, example: str = "result.json", suffixes: tuple[str, ...] = ()):
        self.example, self.suffixes = example, suffixes

    def convert(self, value, param, ctx) -> Path:
        path = check_output_file(value, _flag(param), self.example)
        if self.suffixes and path.suffix.lower() not in self.suffixes:
            raise ConfigError(f"{_flag(param)} writes {' or '.join(self.suffixes)} files", file=value,
                              fix=f"give a path ending in {' or '.join(self.suffixes)}, e.g. {self.example}")
        return path


class OutputFolder(click.ParamType):
    """A folder the command creates itself (``prt synth --out``): refused when it names a file or its parent
    folder does not exist."""

    name = "folder"

    def convert(self, value, param, ctx) -> Path:
        return check_output_folder(value, _flag(param))


class OutputFileOrFolder(click.ParamType):
    """What a format writer makes, a file or a folder (``prt convert OUT``, ``prt refine --out``): its parent
    folder must exist; the writer refuses the rest (a file format given a folder)."""

    name = "path"

    def convert(self, value, param, ctx) -> Path:
        return check_output_parent(value, _flag(param))


class Folder(click.ParamType):
    """A folder option that prt reads and may create (``--results``, ``--data-root``): refused when it names a
    file."""

    name = "folder"

    def __init__(self, example: str = "prt-results"):
        self.example = example

    def convert(self, value, param, ctx) -> Path:
        return check_folder_option(value, _flag(param), self.example)
