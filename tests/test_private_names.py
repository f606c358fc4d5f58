"""No module of the package imports another module's private (``_name``) name: what a module keeps private
may change without notice, so a module that needs it should find it public (issue 26)."""

from __future__ import annotations

import ast
from pathlib import Path

import poseval_refine

PACKAGE = Path(poseval_refine.__file__).parent


def private_imports(source: str) -> list[tuple[int, str]]:
    """(line, name) of every ``from M import _name`` in a module's source (``__dunder__`` names aside)."""
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    out.append((node.lineno, alias.name))
    return out


def test_the_check_finds_a_private_import():
    assert private_imports("from .board import _stored_row, protocol_of\nfrom . import __version__\n") == \
        [(1, "_stored_row")]
    assert private_imports("from .board import stored_row as _stored_row\n") == []  # a public name, kept local


def test_no_module_imports_a_private_name():
    found = [f"{path.relative_to(PACKAGE.parent)}:{line}: {name}" for path in sorted(PACKAGE.rglob("*.py"))
             for line, name in private_imports(path.read_text())]
    assert not found, "\n".join(found)
