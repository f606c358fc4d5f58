"""Which files a PoseTrack folder holds, in which order (the order decides how AP breaks ties)."""

from __future__ import annotations

import glob
import os
from pathlib import Path

from ...errors import InputError


def sequence_files(path: str | Path, order: str = "sorted") -> list[Path]:
    """The ``*.json`` files of a folder (or the one file given).

    ``order="filesystem"`` is poseval's: ``glob(dir + "/*.json")``, i.e. the order the file
    system lists the folder in (it decides how AP breaks ties between equal scores, NaN
    included); ``"sorted"`` is by file name, the same on every machine."""
    path = Path(path)
    if path.is_dir():
        files = [Path(p) for p in glob.glob(os.path.join(glob.escape(str(path)), "*.json"))]
        if order == "sorted":
            files.sort(key=lambda p: p.name)
        if not files:
            raise InputError("holds no .json files", file=path,
                             fix="give a folder with one PoseTrack JSON per sequence")
        return files
    if not path.exists():
        raise InputError("not found", file=path, fix="check the path")
    return [path]
