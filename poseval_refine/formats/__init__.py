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
    """The canonical form of content held in memory (the Python API's ``load``): a PoseTrack sequence's parsed
    JSON or ``{sequence file name: parsed JSON}``, a list of COCO result dicts, an MPII N x 16 x 2|3 array or
    ``{variable name: array}``. ``fmt`` names the format when the content's shape does not say it."""
    import numpy as np

    from .coco import coco_results
    from .mpii import mpii_arrays
    from .posetrack import read_sequence_data

    name = get_format(fmt).name if fmt else None
    if name in ("posetrack2017", "posetrack2018") or (name is None and isinstance(obj, dict) and (
            "annolist" in obj or ("images" in obj and "annotations" in obj))):
        if isinstance(obj, dict) and ("annolist" in obj or "images" in obj):
            seq = read_sequence_data(obj, Path("sequence.json"))
            return PoseSet({seq.name: seq}, format=seq.meta["source"]["format"])
    if name in ("posetrack2017", "posetrack2018", None) and isinstance(obj, dict) and obj and \
            all(isinstance(k, str) and isinstance(v, dict) and ("annolist" in v or "images" in v)
                for k, v in obj.items()):
        seqs = {}
        for k, v in sorted(obj.items()):  # in file-name order, as a folder is read
            seq = read_sequence_data(v, Path(k))
            seqs[seq.name] = seq
        fmts = {s.meta["source"]["format"] for s in seqs.values()}
        return PoseSet(seqs, format=fmts.pop() if len(fmts) == 1 else "posetrack-mixed")
    if name == "coco-results" or (name is None and isinstance(obj, list) and obj and isinstance(obj[0], dict)):
        return coco_results(obj, Path("pred"))
    if name == "mpii" or (name is None and isinstance(obj, (np.ndarray, dict))):
        return mpii_arrays(obj if isinstance(obj, dict) else {"preds": obj}, Path("pred"))
    raise InputError(f"is {type(obj).__name__}, which prt cannot read as {name or 'any format'} in memory",
                     file="input", fix="give parsed PoseTrack JSON (a sequence or {file name: sequence}), a list "
                                       "of COCO result dicts, or an MPII N x 16 x 2|3 array")


def write_poses(poses: PoseSet, path: str | Path, fmt: str, **kw) -> None:
    f = get_format(fmt)
    if f.write is None:
        raise InputError(f"format {f.name} can be read but not written", file=path)
    f.write(poses, Path(path), **kw)
