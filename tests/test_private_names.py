"""No module imports another module's private (``_name``) name: what a module keeps private may change without
notice, so a module that needs it should find it public (issue 26). The package, its tests and the benchmark
scripts alike; a private *module* (``formats/_pointbytes.py``) is the package's internals, whose public names
its own modules and tests may use."""

from __future__ import annotations

import ast
from pathlib import Path

import poseval_refine

PACKAGE = Path(poseval_refine.__file__).parent
ROOT = PACKAGE.parent
#: the package's private modules and packages (their public names are the package's to use)
PRIVATE_MODULES = {p.stem for p in PACKAGE.rglob("_*.py") if not p.stem.startswith("__")} | \
    {p.name for p in PACKAGE.rglob("_*") if p.is_dir() and not p.name.startswith("__")}


def private_imports(source: str) -> list[tuple[int, str]]:
    """(line, name) of every ``from M import _name`` (a private module aside) and every ``m._name`` read off a
    module the source imported (``__dunder__`` names aside)."""
    tree = ast.parse(source)
    out, modules = [], set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if alias.name.startswith("_") and not alias.name.startswith("__") \
                        and alias.name not in PRIVATE_MODULES:
                    out.append((node.lineno, alias.name))
                modules.add(alias.asname or alias.name)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__") \
                and isinstance(node.value, ast.Name) and node.value.id in modules:
            out.append((node.lineno, node.attr))
    return sorted(out)


def test_the_check_finds_a_private_import():
    assert private_imports("from .board import _stored_row, protocol_of\nfrom . import __version__\n") == \
        [(1, "_stored_row")]
    assert private_imports("from .board import stored_row as _stored_row\n") == []  # a public name, kept local
    assert private_imports("from poseval_refine.formats import _pointbytes\n") == []  # a private module
    assert private_imports("from poseval_refine import api\nx = api._fmt(1)\n") == [(2, "_fmt")]
    assert private_imports("import numpy as np\nnp._NoValue\nself._x\n") == [(2, "_NoValue")]


def test_no_module_imports_a_private_name():
    files = [*PACKAGE.rglob("*.py"), *(ROOT / "tests").rglob("*.py"), *(ROOT / "benchmarks").rglob("*.py")]
    found = [f"{path.relative_to(ROOT)}:{line}: {name}" for path in sorted(files)
             for line, name in private_imports(path.read_text())]
    assert not found, "\n".join(found)



def imported_test_modules(source: str) -> list[str]:
    """The test modules (``test_*``) a source imports from: fixtures and helpers belong in conftest.py or
    tests/support, never in another test module."""
    out = []
    for node in ast.walk(ast.parse(source)):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
            [node.module or ""] + ([a.name for a in node.names] if node.module in (None, "tests") else []) \
            if isinstance(node, ast.ImportFrom) else []
        out += [n.split(".")[-1] for n in names if n.split(".")[-1].startswith("test_")]
    return out


def test_the_check_finds_an_imported_test_module():
    assert imported_test_modules("from .test_api import gt\nimport tests.test_cli\nfrom .support import x\n"
                                 "from . import test_io\n") == ["test_api", "test_cli", "test_io"]


def test_no_test_module_imports_another():
    found = [f"{path.name}: {m}" for path in sorted((ROOT / "tests").rglob("*.py"))
             for m in imported_test_modules(path.read_text())]
    assert not found, "\n".join(found)
