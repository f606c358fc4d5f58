"""The ``prt`` logger: warnings and progress notes for people, on stderr; results go to stdout."""

from __future__ import annotations

import logging
import sys

LOGGER = logging.getLogger("prt")


class _StderrHandler(logging.Handler):
    """Writes to the *current* sys.stderr (so redirections and test capture see it)."""

    def emit(self, record):
        try:
            sys.stderr.write(f"prt: {self.format(record)}\n")
        except Exception:  # pragma: no cover - logging must never break the run
            self.handleError(record)


def setup_cli_logging(quiet: bool = False) -> None:
    for h in list(LOGGER.handlers):
        if isinstance(h, _StderrHandler):
            LOGGER.removeHandler(h)
    LOGGER.addHandler(_StderrHandler())
    LOGGER.setLevel(logging.ERROR if quiet else logging.INFO)
    LOGGER.propagate = False
