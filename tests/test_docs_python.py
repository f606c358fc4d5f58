"""docs/python.md runs: its ```python blocks are executed in order, in one namespace, in an empty working
folder, and each block's printed output must be the ```text block that follows it on the page."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "python.md"
BLOCK = re.compile(r"```(python|text)\n(.*?)```", re.S)


def blocks() -> list[tuple[str, str | None]]:
    """(code, expected output or None) of every python block of the page."""
    found = BLOCK.findall(DOC.read_text())
    out = []
    for i, (kind, body) in enumerate(found):
        if kind == "python":
            nxt = found[i + 1] if i + 1 < len(found) else None
            out.append((body, nxt[1] if nxt is not None and nxt[0] == "text" else None))
    return out


def test_the_python_page_runs_and_prints_what_it_shows(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    found = blocks()
    assert len(found) >= 5
    namespace: dict = {"__name__": "docs_python"}
    for code, expected in found:
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            exec(compile(code, str(DOC), "exec"), namespace)
        if expected is not None:
            assert buf.getvalue() == expected, code
    assert list(tmp_path.iterdir()) == []  # nothing written
