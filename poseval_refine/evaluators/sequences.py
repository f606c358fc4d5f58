"""What the per-sequence sessions (PoseTrack, PoseTrack21) share: GT sequences known by file name, predictions
matched to them by name, statistics kept per sequence (the item), combined in GT order, and how a prediction
file or folder is cut into parts for ``Task.run``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..errors import InputError, MismatchError
from .base import Session


def sequence_stem(name: str) -> str:
    """A sequence's name without ``.json``: how GT and prediction files are paired (and the item's key)."""
    return name[:-5] if name.lower().endswith(".json") else name


class SequenceSession(Session):
    """A subclass's ``read_gt`` sets ``names`` (GT file names, in the order results combine) and calls
    ``name_keys``; ``keys`` are the sequences' stems."""

    names: list[str]

    def name_keys(self) -> None:
        self.keys = [sequence_stem(n) for n in self.names]
        self.name_of = dict(zip(self.keys, self.names))

    def describe(self, key: Any) -> str:
        return f"sequence {key!r}"

    def match(self, name: str, n_part: int) -> str:
        """The GT key of prediction sequence ``name`` (one of ``n_part`` given together); a lone sequence for a
        one-sequence GT matches whatever its name."""
        key = sequence_stem(Path(name).name)
        if key not in self.index_of_key() and len(self.keys) == 1 and n_part == 1:
            key = self.keys[0]
        if key not in self.index_of_key():
            raise MismatchError(f"predictions for sequence {sequence_stem(name)!r}, which the GT lacks", file=name,
                                fix="name every prediction sequence as its GT file (e.g. 000342_mpii_test.json)")
        return key

    def match_part(self, sources: list[tuple[str, Any]]) -> list[str]:
        keys = [self.match(name, len(sources)) for name, _ in sources]
        if len(set(keys)) != len(keys):
            dup = next(k for k in keys if keys.count(k) > 1)
            raise MismatchError(f"sequence {self.name_of[dup]!r} is given twice in this part", file="pred",
                                fix="give every sequence once")
        return keys

    def missing(self, keys: list) -> None:
        first = self.name_of[keys[0]]
        raise MismatchError(f"GT sequence {sequence_stem(first)} has no prediction"
                            + (f" (nor {len(keys) - 1} more)" if len(keys) > 1 else ""), file=first,
                            fix="give predictions for every GT sequence, named as the GT file")

    def parts(self, pred: Any, size: int) -> list:
        """A prediction folder as {GT file name: its file} parts of ``size`` sequences in GT order (a GT sequence
        without its file is an error); a file for a one-sequence GT; predictions in memory as one part."""
        if not isinstance(pred, (str, os.PathLike)):
            return [pred]
        pred = Path(pred)
        if pred.is_dir():
            pairs = {}
            for name in self.names:
                p = pred / name
                if not p.is_file():
                    raise MismatchError(f"GT sequence {name} has no prediction file", file=p,
                                        fix=f"write predictions for every GT sequence, named as the GT file, "
                                            f"into {pred}")
                pairs[name] = p
            items = list(pairs.items())
            return [dict(items[i:i + size]) for i in range(0, len(items), size)]
        if not pred.exists():
            raise InputError("not found", file=pred, fix="check the --pred path")
        if len(self.names) != 1:
            raise MismatchError(f"--gt has {len(self.names)} sequences but --pred is a single file", file=pred,
                                fix="give a prediction folder with one file per GT sequence")
        return [{self.names[0]: pred}]

    def predictions(self):
        return {self.name_of[k]: self.given[k] for k in self.keys if k in self.given}
