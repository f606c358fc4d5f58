"""Format registry: one module per file format, each registering a :class:`Format`.

Adapters parse and write; they never compute scores. Every convention fix an adapter makes
(joint remaps, 1-based pixels, synthesized joints) is recorded in ``meta['conversions']``.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError
from ..poses import PoseSet


@dataclass(frozen=True)
class Format:
    name: str
    description: str
    read: Callable[..., PoseSet]
    write: Callable[..., None] | None = None
    #: returns True when the path looks like this format (cheap: reads at most one file)
    sniff: Callable[[Path], bool] | None = None
    aliases: tuple[str, ...] = field(default_factory=tuple)
    #: keyword options ``write`` takes besides ``overwrite`` (``prt convert`` refuses others)
    write_options: tuple[str, ...] = ()
    #: read_data(content) -> PoseSet: the same content held in memory (parsed JSON, arrays), as ``read``
    #: reads it from a file (the Python API); sniff_data(content) -> bool says whether it is this format's
    read_data: Callable[[object], PoseSet] | None = None
    sniff_data: Callable[[object], bool] | None = None
    #: gt_task(path) -> (task, what the file is) or None: the task ``prt evaluate`` runs on a ground truth in
    #: this format when none is named (``evaluators.task_for_gt``); None: the format holds no ground truth
    gt_task: Callable[[Path], tuple[str, str] | None] | None = None


FORMATS: dict[str, Format] = {}
_loaded = False


def register(fmt: Format) -> Format:
    FORMATS[fmt.name] = fmt
    return fmt


def _load() -> None:
    global _loaded
    if _loaded:
        return
    # every module of this package registers its formats; imported on first use (fast CLI start)
    for info in pkgutil.iter_modules(__path__):
        if not info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{info.name}")
    _loaded = True


def all_formats() -> dict[str, Format]:
    _load()
    return FORMATS


def get_format(name: str) -> Format:
    _load()
    for fmt in FORMATS.values():
        if name == fmt.name or name in fmt.aliases:
            return fmt
    raise InputError(f"unknown format {name!r}", fix=f"use one of: {', '.join(sorted(FORMATS))}")


def detect_format(path: str | Path) -> Format:
    _load()
    path = Path(path)
    if not path.exists():
        raise InputError("not found", file=path, fix="check the path")
    for fmt in FORMATS.values():
        if fmt.sniff is not None and fmt.sniff(path):
            return fmt
    raise InputError("is in no format prt knows", file=path,
                     fix=f"give a file in one of: {', '.join(sorted(FORMATS))}, or convert it to one of them")


def read_poses(path: str | Path, fmt: str | None = None, **kw) -> PoseSet:
    f = get_format(fmt) if fmt else detect_format(path)
    return f.read(Path(path), **kw)


def read_data(obj, fmt: str | None = None) -> PoseSet:
    """The canonical form of content held in memory (the Python API's ``load``): what a format's file holds,
    parsed (a PoseTrack sequence's JSON or ``{sequence file name: JSON}``, a list of COCO result dicts, an
    MPII N x 16 x 2|3 array or ``{variable name: array}``). ``fmt``: the format, when the content does not
    say it (``Format.sniff_data``)."""
    _load()
    if fmt:
        f = get_format(fmt)
        if f.read_data is None:
            raise InputError(f"format {f.name} is read from files only", file="input",
                             fix=f"give a path, or content of a format read in memory: {', '.join(_in_memory())}")
        return f.read_data(obj)
    for f in FORMATS.values():
        if f.sniff_data is not None and f.read_data is not None and f.sniff_data(obj):
            return f.read_data(obj)
    raise InputError(f"is {type(obj).__name__}, which prt cannot read in memory", file="input",
                     fix="give parsed PoseTrack JSON (a sequence or {file name: sequence}), a list of COCO "
                         "result dicts, or an MPII N x 16 x 2|3 array")


def _in_memory() -> list[str]:
    return sorted(f.name for f in FORMATS.values() if f.read_data is not None)


def write_poses(poses: PoseSet, path: str | Path, fmt: str, **kw) -> None:
    f = get_format(fmt)
    if f.write is None:
        raise InputError(f"format {f.name} can be read but not written", file=path)
    f.write(poses, Path(path), **kw)
