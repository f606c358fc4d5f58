"""Optional dependencies: without torch (extra ``refine``) or motmetrics (extra ``parity``) the commands that
need them stop with one clear error naming the extra, and everything else works.

A missing package is simulated in a child process by ``sys.modules[name] = None``, which makes
``import name`` raise ModuleNotFoundError exactly as when it is not installed.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from poseval_refine.optional import EXTRAS, missing, require

pytest.importorskip("numpy")


def run_without(blocked: list[str], args: list[str], cwd) -> subprocess.CompletedProcess:
    code = ("import sys\n"
            f"for m in {blocked!r}: sys.modules[m] = None\n"
            "from poseval_refine.cli import main\n"
            f"rc = main({args!r})\n"
            "print('loaded:', sorted(m for m in ('torch', 'motmetrics') if sys.modules.get(m) is not None))\n"
            "sys.exit(rc)\n")
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("args", [
    ["refine", "--pred", "p.json", "--images", "scenes", "--checkpoint", "c.pt", "--out", "r.json"],
    ["train", "--dataset", "synthetic", "--out", "c.pt", "--steps", "1"],
])
def test_refiner_without_torch_names_the_extra(tmp_path, args):
    (tmp_path / "p.json").write_text("{}")
    (tmp_path / "scenes").mkdir()
    r = run_without(["torch"], args, tmp_path)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert lines[0] == f"prt: error: prt {args[0]} needs torch, which is not installed (prt's extra 'refine')"
    assert lines[1] == ("  fix: pip install torch==2.13.0 'poseval-refine[refine]' "
                        "(in a checkout: pip install torch==2.13.0 -e '.[refine]')")
    assert "Traceback" not in r.stderr and len(lines) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.json", "scenes"]  # nothing written


def test_motmetrics_backend_without_motmetrics_names_the_extra(tmp_path):
    r = run_without(["motmetrics"], ["evaluate", "--task", "tracking", "--mot-backend", "motmetrics"], tmp_path)
    assert r.returncode == 2, r.stderr
    assert ("prt: error: --mot-backend motmetrics needs motmetrics, which is not installed (prt's extra 'parity')\n"
            "  fix: pip install 'poseval-refine[parity]' (in a checkout: pip install -e '.[parity]'), "
            "or use the default --mot-backend prt") in r.stderr
    assert "Traceback" not in r.stderr


def test_evaluation_needs_neither(tmp_path):
    """The shipped sample's tracking evaluation runs with torch and motmetrics both absent."""
    r = run_without(["torch", "motmetrics"], ["evaluate", "--task", "tracking", "--json", "r.json"], tmp_path)
    assert r.returncode == 0, r.stderr
    assert "loaded: []" in r.stdout
    assert (tmp_path / "r.json").is_file()


def test_require_and_missing():
    assert require("json", "anything").__name__ == "json"
    assert set(EXTRAS) == {"torch", "motmetrics", "torchmetrics"}
    assert missing("torchmetrics", "the metric classes").message.startswith(
        "the metric classes needs torchmetrics, which is not installed (prt's extra 'torchmetrics')")
    e = missing("motmetrics", "this")
    assert e.message == ("this needs motmetrics, which is not installed (prt's extra 'parity')\n"
                         "  fix: pip install 'poseval-refine[parity]' (in a checkout: pip install -e '.[parity]')")


def test_an_unrelated_missing_module_is_not_disguised(tmp_path):
    """A ModuleNotFoundError for a module that is not an optional dependency stays a real error."""
    code = ("import sys; sys.modules['poseval_refine.commands.methods'] = None\n"
            "from poseval_refine.cli import main\nmain(['methods'])\n")
    r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert r.returncode == 1 and "ModuleNotFoundError" in r.stderr
