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


def write_poses(poses: PoseSet, path: str | Path, fmt: str, **kw) -> None:
    f = get_format(fmt)
    if f.write is None:
        raise InputError(f"format {f.name} can be read but not written", file=path)
    f.write(poses, Path(path), **kw)
