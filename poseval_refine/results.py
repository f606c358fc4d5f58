"""Result files: the numbers of one (method, task) evaluation with the inputs' hashes, the protocol
options and the prt version, so tables are built from files and CI can recompute and compare.

``python -m poseval_refine.results regenerate`` recomputes every stored result whose inputs are
available under the data root (``PRT_DATA``) and rewrites it.
"""

from __future__ import annotations

import hashlib
import json
import sys
from datetime import datetime, timezone
from pathlib import Path

from . import __version__
from .io import write_json_atomic

RESULTS_DIR = Path("results") / "recomputed"


def sha256(path: Path) -> str:
    path = Path(path)
    h = hashlib.sha256()
    if path.is_dir():
        for f in sorted(p for p in path.rglob("*") if p.is_file()):
            h.update(f.relative_to(path).as_posix().encode())
            h.update(sha256(f).encode())
        return h.hexdigest()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def make_result(method: str, task: str, numbers: dict, inputs: dict[str, Path], options: dict,
                root: Path | None = None) -> dict:
    def rel(p: Path) -> str:
        try:
            return Path(p).resolve().relative_to(Path(root).resolve()).as_posix() if root else str(p)
        except ValueError:
            return str(p)

    def portable(x):
        """The evaluators echo their input paths; stored relative to the data root, results are portable."""
        if isinstance(x, dict):
            return {k: rel(v) if k in ("gt", "pred") and isinstance(v, str) else portable(v) for k, v in x.items()}
        if isinstance(x, list):
            return [portable(v) for v in x]
        return x

    return {
        "method": method, "task": task, "options": options,
        "inputs": {k: {"path": rel(p), "sha256": sha256(p)} for k, p in inputs.items()},
        "numbers": portable(numbers), "prt_version": __version__,
        "created": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def result_path(method: str, task: str, results_dir: Path = RESULTS_DIR) -> Path:
    return Path(results_dir) / f"{method}__{task}.json"


def save_result(result: dict, results_dir: Path = RESULTS_DIR) -> Path:
    path = result_path(result["method"], result["task"], results_dir)
    write_json_atomic(path, result, indent=True)
    return path


def load_results(results_dir: Path = RESULTS_DIR) -> list[dict]:
    d = Path(results_dir)
    return [json.loads(p.read_text()) for p in sorted(d.glob("*.json"))] if d.is_dir() else []


def recompute(result: dict, root: Path) -> dict:
    """Evaluate again from the inputs named in a stored result (paths relative to ``root``)."""
    from .evaluators import get_task

    task = get_task(result["task"])
    gt = root / result["inputs"]["gt"]["path"]
    preds = [root / result["inputs"][k]["path"] for k in sorted(result["inputs"]) if k.startswith("pred")]
    opts = {k: v for k, v in result["options"].items() if k in task.options}
    return task.run(gt, preds, **opts)


def regenerate(results_dir: Path = RESULTS_DIR, root: Path | None = None) -> list[Path]:
    from .methods import data_root

    root = data_root(root)
    out = []
    for r in load_results(results_dir):
        paths = {k: root / v["path"] for k, v in r["inputs"].items()} if root else {}
        if not root or not all(p.exists() for p in paths.values()):
            print(f"skipped {r['method']} {r['task']}: inputs not under the data root", file=sys.stderr)
            continue
        numbers = recompute(r, root)
        out.append(save_result(make_result(r["method"], r["task"], numbers, paths, r["options"], root), results_dir))
    return out


if __name__ == "__main__":
    if sys.argv[1:2] == ["regenerate"]:
        for p in regenerate():
            print(p)
    else:
        print("usage: PRT_DATA=DIR python -m poseval_refine.results regenerate", file=sys.stderr)
        sys.exit(2)
