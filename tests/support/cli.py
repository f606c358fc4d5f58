"""``prt`` run in-process as a user runs it: its exit code, what it printed, and any Python warning."""

from __future__ import annotations

import contextlib
import io
import warnings

from poseval_refine.cli import main


def run_cli(argv) -> tuple[int, str, str, list[str]]:
    """(exit code, stdout, stderr, warning messages) of ``prt *argv``."""
    out, err = io.StringIO(), io.StringIO()
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(out), \
            contextlib.redirect_stderr(err):
        warnings.simplefilter("always")
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue(), [str(w.message) for w in caught]


def run_without_warnings(argv) -> tuple[int, str, str]:
    """``run_cli`` for a command that must not raise a Python warning (prt speaks through its own notes)."""
    code, out, err, caught = run_cli(argv)
    assert not caught, caught
    return code, out, err
