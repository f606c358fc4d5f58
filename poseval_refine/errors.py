"""Error families whose messages name the place (file, frame, person, field) and the fix."""

from __future__ import annotations

from pathlib import Path


class PrtError(Exception):
    """Base of every error prt reports to the user as one clear message (no traceback)."""

    def __init__(
        self,
        problem: str,
        *,
        file: str | Path | None = None,
        frame: int | str | None = None,
        person: int | str | None = None,
        field: str | None = None,
        fix: str | None = None,
    ):
        self.problem = problem
        self.file = str(file) if file is not None else None
        self.frame = frame
        self.person = person
        self.field = field
        self.fix = fix
        super().__init__(self.message)

    @property
    def where(self) -> str:
        parts = []
        if self.file is not None:
            parts.append(self.file)
        if self.frame is not None:
            parts.append(f"frame {self.frame}")
        if self.person is not None:
            parts.append(f"person {self.person}")
        if self.field is not None:
            parts.append(f"field '{self.field}'")
        return ", ".join(parts)

    @property
    def message(self) -> str:
        where = self.where
        text = f"{where}: {self.problem}" if where else self.problem
        if self.fix:
            text += f"\n  fix: {self.fix}"
        return text

    def __str__(self) -> str:
        return self.message


class InputError(PrtError, ValueError):
    """A file (or, from the Python API, an object) the user gave cannot be read or does not follow its format.
    A ``ValueError``, as Python users expect of bad arguments."""


class MismatchError(PrtError, ValueError):
    """Ground truth and predictions do not fit together (missing sequence, frame counts)."""


class ConfigError(PrtError):
    """Options that cannot work together, or a resource (checkpoint, data root) that is missing."""
