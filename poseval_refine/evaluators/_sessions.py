"""What the per-sequence evaluation sessions (``poseval_refine.Evaluator`` on PoseTrack and PoseTrack21)
share: GT sequences known by file name, predictions matched to them by name, and statistics kept per GT
position until every sequence has been given, so the combined result does not depend on the parts."""

from __future__ import annotations

from pathlib import Path

from ..errors import MismatchError


def sequence_stem(name: str) -> str:
    """A sequence's name without ``.json``: how GT and prediction files are paired."""
    return name[:-5] if name.lower().endswith(".json") else name


class SequenceSession:
    """Subclasses set ``names`` (GT file names, in the order results combine) and ``index`` (stem ->
    position) and compute per-sequence statistics into ``stats``."""

    names: list[str]
    index: dict[str, int]

    def reset(self) -> None:
        self.stats: dict[int, object] = {}
        self.given: dict[str, object] = {}

    def match(self, name: str, n_part: int, pending=()) -> int:
        """The GT position of prediction sequence ``name`` (one of ``n_part`` given together); a lone
        sequence for a one-sequence GT matches whatever its name."""
        i = self.index.get(sequence_stem(Path(name).name))
        if i is None and len(self.names) == 1 and n_part == 1:
            i = 0
        if i is None:
            raise MismatchError(f"predictions for sequence {sequence_stem(name)!r}, which the GT lacks", file=name,
                                fix="name every prediction sequence as its GT file (e.g. 000342_mpii_test.json)")
        if i in self.stats or i in pending:
            raise MismatchError(f"sequence {sequence_stem(name)!r} is given twice", file=name,
                                fix="give every sequence once (reset() to start over)")
        return i

    def predictions(self) -> dict:
        return {name: self.given[name] for name in self.names if name in self.given}

    def stats_in_order(self) -> list:
        """Every GT sequence's statistics in GT order; a sequence without predictions is an error."""
        missing = [n for i, n in enumerate(self.names) if i not in self.stats]
        if missing:
            raise MismatchError(f"GT sequence {sequence_stem(missing[0])} has no prediction"
                                + (f" (nor {len(missing) - 1} more)" if len(missing) > 1 else ""), file=missing[0],
                                fix="give predictions for every GT sequence, named as the GT file")
        return [self.stats[i] for i in range(len(self.names))]
