"""The documentation site builds without a warning, and the code is ruff-clean.

These run in the test suite so that the README's one test command (and CI, which runs exactly it) builds
the docs site with ``mkdocs build --strict`` and lints with ``ruff check``. Without mkdocs or ruff
installed a local run skips them, saying which extra to install; under CI they fail.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import in_ci

ROOT = Path(__file__).resolve().parent.parent


def _need(module: str, extra: str):
    if importlib.util.find_spec(module) is None:
        message = f"{module} is not installed: pip install -e \".[{extra}]\""
        if in_ci():
            pytest.fail(f"CI is set, so a missing tool is an error: {message}", pytrace=False)
        pytest.skip(message)


def _run(args: list[str], **kw) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=600, **kw)


def test_docs_site_builds_strict(tmp_path):
    """`mkdocs build --strict`: a broken link, a page missing from the nav, or a bad API reference fails."""
    _need("mkdocs", "docs")
    _need("material", "docs")
    _need("mkdocstrings", "docs")
    r = _run(["mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")])
    assert r.returncode == 0, f"mkdocs build --strict failed:\n{r.stdout}\n{r.stderr}"
    assert (tmp_path / "site" / "index.html").is_file()
    assert (tmp_path / "site" / "protocol" / "index.html").is_file()


def test_ruff_clean():
    """`ruff check poseval_refine tests benchmarks` (configuration in pyproject.toml)."""
    _need("ruff", "test")
    r = _run(["ruff", "check", "--no-cache", "poseval_refine", "tests", "benchmarks"])
    assert r.returncode == 0, f"ruff check found problems:\n{r.stdout}\n{r.stderr}"


def _readme_links() -> set[str]:
    import re

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return {m.split("#")[0] for m in re.findall(r"\]\(([^)\s]+)\)", text) if "://" not in m}


def test_readme_is_a_short_guide_that_links_every_docs_page():
    """README.md: at most 300 lines, every page of docs/ linked, every relative link pointing at a file."""
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 300, f"README.md has {len(lines)} lines; move material into docs/"
    links = _readme_links()
    pages = {f"docs/{p.name}" for p in (ROOT / "docs").glob("*.md")}
    assert pages - links == set(), f"README.md does not link these docs pages: {sorted(pages - links)}"
    broken = sorted(link for link in links if not (ROOT / link).exists())
    assert broken == [], f"README.md links missing files: {broken}"


def _readme_examples() -> list[tuple[str, int, str]]:
    """The README's ``console`` and ``pycon`` blocks: (kind, line number, text), in document order."""
    import re

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return [(m.group(1), text.count("\n", 0, m.start()) + 2, m.group(2))
            for m in re.finditer(r"^```(console|pycon)\n(.*?)^```", text, re.S | re.M)]


def _localized(text: str) -> str:
    """Paths as the README writes them (from the repository root, ../shared beside it) made absolute."""
    from .conftest import SHARED, missing_data

    if "../shared/data" in text:
        if SHARED is None:
            missing_data("shared test data (the README's examples use ../shared/data)")
        text = text.replace("../shared/data", str(SHARED / "data"))
    return text.replace("docs/examples/", f"{ROOT / 'docs' / 'examples'}/")


def _run_console(block: str, line: int, cwd: Path):
    import shlex

    commands: list[tuple[str, list[str]]] = []
    for row in block.splitlines():
        if row.startswith("$ "):
            commands.append((row[2:], []))
        else:
            commands[-1][1].append(row)
    for command, expected in commands:
        args = shlex.split(_localized(command))
        assert args[0] == "prt", f"README line {line}: only prt commands are run: {command}"
        r = subprocess.run([sys.executable, "-m", "poseval_refine.cli", *args[1:]], cwd=cwd, capture_output=True,
                           text=True, timeout=600, env={**os.environ, "COLUMNS": "120"})
        got = [row.rstrip() for row in (r.stderr + r.stdout).splitlines()]
        want = [_localized(row).rstrip() for row in expected]
        assert r.returncode == 0, f"README line {line}: `{command}` exited {r.returncode}:\n{r.stderr}"
        assert _lines_match(got, want), f"README line {line}: `{command}` printed something else:\n" + "\n".join(got)


def _lines_match(got: list[str], want: list[str]) -> bool:
    """``want`` line by line, where a line ``...`` stands for any number of lines (the README shortens a
    long table that way)."""
    import re

    pattern = "".join(r"(?:[^\n]*\n)*?" if row == "..." else re.escape(row) + r"\n" for row in want)
    return re.fullmatch(pattern, "".join(row + "\n" for row in got)) is not None


def test_lines_match():
    assert _lines_match(["a", "b", "c"], ["a", "...", "c"]) and _lines_match(["a", "c"], ["a", "...", "c"])
    assert _lines_match(["a", "b"], ["a", "b"]) and not _lines_match(["a", "b"], ["a"])
    assert not _lines_match(["a", "b", "c"], ["a", "...", "d"]) and not _lines_match(["x", "a"], ["a", "..."])


def test_readme_examples_print_what_the_readme_shows(tmp_path, monkeypatch):
    """Every ``console`` block of README.md (its `$ prt ...` lines run in one scratch folder, stderr then
    stdout compared line by line) and every ``pycon`` block (run as a doctest there) gives exactly the
    output the README shows."""
    import doctest

    examples = _readme_examples()
    assert {kind for kind, _, _ in examples} == {"console", "pycon"}
    monkeypatch.chdir(tmp_path)
    for kind, line, block in examples:
        if kind == "console":
            _run_console(block, line, tmp_path)
            continue
        test = doctest.DocTestParser().get_doctest(_localized(block), {}, f"README.md line {line}", "README.md",
                                                   line)
        runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
        report: list[str] = []
        runner.run(test, out=report.append)
        assert runner.failures == 0, "".join(report)
