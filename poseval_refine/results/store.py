"""Result files: one JSON per (method, benchmark, task) with the numbers, the per-item statistics the
bootstrap resamples, and provenance (input hashes, GT identity, options, prt version, date, command).

Two stores are read: the *shipped* results inside the package (recomputed by prt from registry methods'
released predictions; the wheel carries them) and the *user* store, ``--results DIR``, else
``$PRT_RESULTS``, else ``./prt-results``. Saving never replaces another method's result, nor a result of
the same name made from other predictions unless asked to.
"""

from __future__ import annotations

import hashlib
import os
import platform
import re
import shlex
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib.resources import files
from pathlib import Path

from ..errors import ConfigError, InputError
from ..io import check_output_folder, dumps_json, load_json, write_bytes_atomic
from ..version import __version__

SCHEMA = 2
SOURCES = ("quoted", "recomputed", "user")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")


def shipped_dir() -> Path:
    """The results shipped inside the package (``poseval_refine/data/results``)."""
    return Path(str(files("poseval_refine") / "data" / "results"))


def user_dir(value: str | Path | None = None) -> Path:
    v = value if value is not None else os.environ.get("PRT_RESULTS")
    return Path(v) if v else Path("prt-results")


def sha256(path: Path) -> str:
    """SHA-256 of a file, or of a folder's files (their relative names and contents)."""
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


def check_name(name: str) -> str:
    if not _NAME.match(name or "") or "__" in name:
        raise ConfigError(f"method name {name!r} is not usable in a result file name",
                          fix="use letters, digits, '.', '_', '+' and '-' (no '__'), e.g. --save my-net-v2")
    return name


@dataclass
class StoredResult:
    data: dict
    path: Path
    store: str  # "shipped" or "user"

    @property
    def key(self) -> tuple[str, str, str]:
        return self.data["method"], self.data["benchmark"], self.data["task"]

    @property
    def pred_sha256(self) -> str | None:
        return _pred_sha(self.data)

    def task_result(self) -> dict:
        """The evaluator's result dict (numbers and items), as the task's hooks take it."""
        return {**self.data["numbers"], "items": self.data.get("items")}


def _pred_sha(data: dict) -> str | None:
    preds = [v["sha256"] for k, v in sorted(data.get("inputs", {}).items()) if k.startswith("pred")]
    return ",".join(preds) if preds else None


IN_MEMORY = "<in memory>"


def content_sha256(obj) -> str:
    """SHA-256 of an input given in memory (the Python API): its JSON content, or an array's dtype, shape and
    bytes (a mapping of arrays: by sorted key)."""
    import numpy as np

    from ..io import dumps_json

    h = hashlib.sha256()
    if isinstance(obj, np.ndarray):
        h.update(f"{obj.dtype.str}{obj.shape}".encode())
        h.update(np.ascontiguousarray(obj).tobytes())
    elif isinstance(obj, dict) and obj and all(isinstance(v, np.ndarray) for v in obj.values()):
        for k in sorted(obj):
            h.update(str(k).encode())
            h.update(content_sha256(obj[k]).encode())
    else:
        try:
            h.update(dumps_json(obj))
        except TypeError:  # paths among parsed parts (an Evaluator fed both): their names stand for them
            import orjson

            h.update(orjson.dumps(obj, default=str, option=orjson.OPT_SERIALIZE_NUMPY))
    return h.hexdigest()


def input_record(value, rel=str) -> dict:
    """How a result names one input: a file's path (``rel`` of it) and SHA-256, or ``<in memory>`` and the
    SHA-256 of the content."""
    if isinstance(value, (str, os.PathLike)):
        return {"path": rel(value), "sha256": sha256(Path(value))}
    return {"path": IN_MEMORY, "sha256": content_sha256(value)}


def make_result(method: str, task: str, run_result: dict, *, benchmark: str, inputs: dict,
                options: dict, source: str, root: Path | None = None, base: str | None = None,
                command: list[str] | None = None) -> dict:
    """A result file's content. Input paths are stored relative to ``root`` (the data root of registry
    methods, so shipped results are portable) or absolute (a user's files). ``command``: what made it (the
    ``prt`` command line; default: this Python process's)."""
    from ..evaluators import get_task

    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}")

    def rel(p) -> str:
        p = Path(p)
        if root is not None:
            try:
                return p.resolve().relative_to(Path(root).resolve()).as_posix()
            except ValueError:
                pass
        return str(p.resolve())

    def portable(x):
        """The evaluators echo their input paths; stored like the inputs."""
        if isinstance(x, dict):
            return {k: rel(v) if k in ("gt", "pred") and isinstance(v, str) else portable(v) for k, v in x.items()}
        if isinstance(x, list):
            return [portable(v) for v in x]
        return x

    t = get_task(task)
    numbers = {k: v for k, v in run_result.items() if k != "items"}
    argv = command or [Path(sys.executable).name, *sys.argv]  # the CLI passes its command line
    return {
        "schema": SCHEMA,
        "method": check_name(method),
        "benchmark": benchmark,
        "task": task,
        "source": source,
        "base": base,
        "headline": t.headline(run_result) if t.headline else None,
        "options": options,
        "inputs": {k: input_record(p, rel) for k, p in inputs.items()},
        "provenance": {
            "prt_version": __version__,
            "created": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "command": shlex.join(argv),
            "python": platform.python_version(),
        },
        "numbers": portable(numbers),
        "items": run_result.get("items"),
    }


def store_evaluation(name: str, task: str, result: dict, inputs: dict, options: dict, *,
                     results: str | Path | None = None, benchmark: str | None = None, base: str | None = None,
                     overwrite: bool = False, source: str = "user", root: Path | None = None,
                     command: list[str] | None = None) -> Path:
    """Store an evaluation under method NAME in the user store (``results``), naming its benchmark from the
    GT's hash (or ``benchmark``): what ``prt evaluate --save`` and ``Result.save`` do."""
    import logging

    from ..evaluators import get_task
    from .benchmarks import BENCHMARKS, close_to, identify

    log = logging.getLogger("prt")
    check_name(name)
    if get_task(task).headline is None:
        raise ConfigError(f"--task {task} results cannot be ranked yet, so --save does not apply")
    directory = user_dir(results)
    existing = load_all(directory)
    bench = identify(input_record(inputs["gt"])["sha256"], task, len(result.get("items") or []) or None, benchmark,
                     known_benchmarks(existing))
    opts = {k: v for k, v in options.items() if k != "plot"}
    data = make_result(name, task, result, benchmark=bench, inputs=inputs, options=opts, source=source, root=root,
                       base=base, command=command)
    path = save_result(data, directory, overwrite=overwrite, shipped=[r for r in existing if r.store == "shipped"])
    primary = get_task(task).primary
    value = (data["headline"] or {}).get(primary)
    shown = f"{primary} {value:.2f}" if isinstance(value, float) else ""
    log.info("saved %s on %s (%s) %s: %s", name, bench, task, shown, path)
    if benchmark is not None and bench not in BENCHMARKS and bench not in known_benchmarks(existing):
        guess = close_to(bench, [*BENCHMARKS, *known_benchmarks(existing)])
        log.warning("%s is a new benchmark: a board of its own%s", bench, f" (did you mean {guess}?)" if guess else "")
    return path


def result_path(directory: Path, method: str, benchmark: str, task: str) -> Path:
    return Path(directory) / f"{method}__{benchmark}__{task}.json"


def dumps_result(result: dict) -> bytes:
    """Indented JSON with one line per item, so a result file stays readable and diffs stay small."""
    head = dumps_json({k: v for k, v in result.items() if k != "items"}, indent=True)
    items = result.get("items")
    if items is None:
        return head + b"\n"
    body = b",\n    ".join(dumps_json(it) for it in items)
    return head[:-2] + b',\n  "items": [' + (b"\n    " + body + b"\n  " if items else b"") + b"]\n}\n"


def save_result(result: dict, directory: Path, *, overwrite: bool = False, shipped: list[StoredResult] | None = None
                ) -> Path:
    """Write a result into a store; refuses to replace a result of the same name made from other predictions
    (unless ``overwrite``), to shadow a shipped result with other predictions, and a name that differs from a
    stored or shipped one only in case (``Newell`` beside ``newell``: one method to a reader, and one file on
    a case-insensitive file system)."""
    key = (result["method"], result["benchmark"], result["task"])
    new_sha = _pred_sha(result)
    where = f"on {key[1]} ({key[2]})"
    for s in shipped if shipped is not None else load_dir(shipped_dir(), "shipped"):
        if s.key[0].lower() != key[0].lower() or s.key[1:] != key[1:] or \
                Path(directory).resolve() == s.path.parent.resolve():
            continue
        if s.key[0] != key[0]:
            raise ConfigError(f"{key[0]!r} differs only in case from the shipped result {s.key[0]!r} {where}",
                              fix=f"save under another name, e.g. --save {key[0]}-mine")
        if s.pred_sha256 != new_sha:
            raise ConfigError(f"{key[0]!r} is a shipped result {where} made from other predictions",
                              fix=f"save yours under another name, e.g. --save {key[0]}-mine")
    path = result_path(directory, *key)
    if Path(directory).is_dir():
        for other in Path(directory).glob("*.json"):
            if other.name.lower() == path.name.lower() and other.name != path.name:
                name = other.name.split("__", 1)[0]
                raise ConfigError(f"the store already holds {name!r} {where}; {key[0]!r} differs from it only in "
                                  "case", file=other, fix=f"save under that very name (--save {name}, with "
                                  "--overwrite to replace it), or under another name")
    if path.exists() and not overwrite:
        old = load_stored(path)
        if _pred_sha(old) != new_sha:
            raise ConfigError(f"the store already holds {result['method']!r} {where}, made from "
                              "other predictions", file=path,
                              fix="save under another name, or pass --overwrite to replace it")
    if not Path(directory).is_dir():  # the store's own folder, made on the first save (never its parents)
        check_output_folder(directory, "--results")
        Path(directory).mkdir()
    write_bytes_atomic(path, dumps_result(result))
    return path


_REQUIRED = ("method", "benchmark", "task", "numbers", "inputs")


def load_stored(path: Path) -> dict:
    d = load_json(path)
    if not isinstance(d, dict) or any(k not in d for k in _REQUIRED) or d.get("schema") != SCHEMA:
        raise InputError("is not a prt result file (schema 2: method, benchmark, task, numbers, inputs, items)",
                         file=path, fix="remove it from the results folder, or save it again with "
                                        "`prt evaluate ... --save NAME`")
    check_fields(d, path)
    return d


DAMAGED_FIX = ("save the result again (`prt evaluate ... --save NAME --overwrite`) or remove the file; "
               "`prt verify` shows what differs")


def damaged(path: Path, problem: str, field: str | None = None) -> InputError:
    """The error for a result file whose content cannot be what prt wrote."""
    return InputError(f"is a damaged prt result file: {problem}", file=path, field=field, fix=DAMAGED_FIX)


def check_fields(d: dict, path: Path) -> None:
    """The shape of a result file, so that a damaged one is one error naming it, never a traceback later."""
    from ..evaluators import all_tasks

    for key in ("method", "benchmark", "task"):
        if not isinstance(d[key], str) or not d[key]:
            raise damaged(path, f"{key!r} is {d[key]!r}, not a name", key)
    if d["task"] not in all_tasks():
        raise damaged(path, f"it names task {d['task']!r}, which prt does not know "
                            f"(tasks: {', '.join(sorted(all_tasks()))})", "task")
    for key in ("numbers", "inputs"):
        if not isinstance(d[key], dict):
            raise damaged(path, f"{key!r} is not a JSON object", key)
    for key, v in d["inputs"].items():
        if not (isinstance(v, dict) and isinstance(v.get("path"), str) and isinstance(v.get("sha256"), str)):
            raise damaged(path, f"input {key!r} has no 'path' and 'sha256'", f"inputs.{key}")
    for key in ("options", "provenance", "headline"):
        if d.get(key) is not None and not isinstance(d[key], dict):
            raise damaged(path, f"{key!r} is not a JSON object", key)
    if d.get("items") is not None and not isinstance(d["items"], list):
        raise damaged(path, "'items' is not a list", "items")
    if d.get("source") not in SOURCES:
        raise damaged(path, f"'source' is {d.get('source')!r}, not one of {', '.join(SOURCES)}", "source")
    if d.get("base") is not None and not isinstance(d["base"], str):
        raise damaged(path, f"'base' is {d['base']!r}, not a method name", "base")


def load_dir(directory: Path, store: str = "user") -> list[StoredResult]:
    d = Path(directory)
    if not d.is_dir():
        return []
    return [StoredResult(load_stored(p), p, store) for p in sorted(d.glob("*.json"))]


def load_all(user: Path | None = None, *, include_user: bool = True) -> list[StoredResult]:
    """Shipped results, then the user store's (a user result identical to a shipped one is left out)."""
    shipped = load_dir(shipped_dir(), "shipped")
    out = list(shipped)
    if include_user:
        udir = user_dir(user)
        if udir.resolve() != shipped_dir().resolve():
            seen = {(s.key, s.pred_sha256) for s in shipped}
            out += [r for r in load_dir(udir, "user") if (r.key, r.pred_sha256) not in seen]
    return out


def known_benchmarks(results: list[StoredResult]) -> dict[str, set[str]]:
    """Benchmark id -> GT hashes seen with it in the stores."""
    out: dict[str, set[str]] = {}
    for r in results:
        gt = r.data["inputs"].get("gt")
        if gt:
            out.setdefault(r.data["benchmark"], set()).add(gt["sha256"])
    return out


def input_paths(data: dict, root: Path | None) -> dict[str, Path | None]:
    """Where a result's inputs are now: absolute paths as stored, relative ones under the data root."""
    out = {}
    for k, v in data["inputs"].items():
        p = Path(v["path"])
        out[k] = p if p.is_absolute() else (Path(root) / p if root is not None else None)
    return out


def recompute(data: dict, root: Path | None) -> dict:
    """Evaluate again from the inputs named in a stored result."""
    from ..evaluators import get_task

    task = get_task(data["task"])
    paths = input_paths(data, root)
    preds = [paths[k] for k in sorted(paths) if k.startswith("pred")]
    opts = {k: v for k, v in data["options"].items() if k in task.options and k != "plot"}
    return task.run(paths["gt"], preds, **opts)


def regenerate(directory: Path | None = None, root: Path | None = None) -> list[Path]:
    """Recompute every result of a store (default: the shipped one) whose inputs are under ``root``."""
    from ..methods import data_root

    directory = Path(directory) if directory else shipped_dir()
    root = data_root(root)
    out = []
    for r in load_dir(directory):
        d = r.data
        paths = input_paths(d, root)
        if any(p is None or not p.exists() for p in paths.values()):
            print(f"skipped {d['method']} {d['benchmark']} {d['task']}: inputs not found", file=sys.stderr)
            continue
        numbers = recompute(d, root)
        new = make_result(d["method"], d["task"], numbers, benchmark=d["benchmark"], inputs=paths,
                          options=d["options"], source=d["source"], root=root, base=d.get("base"),
                          command=shlex.split(d["provenance"]["command"]))
        write_bytes_atomic(r.path, dumps_result(new))
        out.append(r.path)
    return out
