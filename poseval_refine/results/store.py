"""Result files: one JSON per (method, benchmark, task) with the numbers, the per-item statistics the
bootstrap resamples, and provenance (input hashes, GT identity, options, prt version, date, command).

Two stores are read: the *shipped* results (the repository's ``results/``, recomputed by prt from registry
methods' released predictions; the wheel carries them as ``poseval_refine.shipped_results``) and the *user*
store, ``--results DIR``, else ``$PRT_RESULTS``, else ``./prt-results``. Saving never replaces another
method's result, nor a result of the same name made from other predictions unless asked to.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
from pathlib import Path

from ..errors import ConfigError, InputError, PrtError
from ..io import check_output_folder, dumps_json, write_bytes_atomic
from ..version import __version__
from . import files
from .files import DAMAGED_FIX, SCHEMA, SOURCES, check_content, check_fields, damaged, pred_sha, read_result  # noqa: F401

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")


def shipped_dir() -> Path:
    """The shipped result files: the repository's top-level ``results/``, installed as the package
    ``poseval_refine.shipped_results`` (as ``baselines/`` is ``poseval_refine.baselines``); from a source
    checkout whose ``poseval_refine/`` shadows an installed prt, the checkout's ``results/``."""
    import importlib.util  # (not importlib.resources: a larger import, which `prt compare`'s quick path avoids)

    try:
        spec = importlib.util.find_spec("poseval_refine.shipped_results")
    except ModuleNotFoundError:
        spec = None
    if spec is None:
        return Path(__file__).resolve().parent.parent.parent / "results"
    if spec.submodule_search_locations:
        return Path(list(spec.submodule_search_locations)[0])
    from importlib import resources

    return Path(str(resources.files("poseval_refine.shipped_results")))


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


class StoredResult:
    """One result file of a store. Read lazily: its key and hashes come from the store's index
    (:mod:`.index`), its content (``data``) is parsed on first use and can be let go again (:meth:`release`),
    so a board of 1,000 results never holds 1,000 parsed files. ``problem``: why the file cannot be used (not
    a result file, damaged), as the error its reader raises."""

    def __init__(self, data: dict | None, path: Path | str, store: str = "user", *, entry: dict | None = None,
                 problem: PrtError | None = None, in_memory: bool = False):
        self._data = data
        self.in_memory = in_memory  # a result's content given as a dict (the Python API): no file behind it
        self._path = path  # made a Path when asked for: a store of 1,000 results lists without 1,000 Paths
        self.store = store  # "shipped" or "user"
        self.entry = entry
        self.problem = problem

    def __repr__(self) -> str:
        return f"StoredResult({self.path.name!r}, store={self.store!r})"

    @property
    def path(self) -> Path:
        if not isinstance(self._path, Path):
            self._path = Path(self._path)
        return self._path

    @property
    def file_name(self) -> str:
        return self._path.name if isinstance(self._path, Path) else os.path.basename(self._path)

    @property
    def data(self) -> dict:
        if self._data is None:
            if self.problem is not None:
                raise self.problem
            self._data = files.read_result(self.path)
        return self._data

    def release(self) -> None:
        """Let go of the parsed content (it is read again when needed)."""
        if not self.in_memory:
            self._data = None

    @property
    def sha256(self) -> str:
        """SHA-256 of the file (from the index when it has one)."""
        if self.entry is not None:
            return self.entry["sha256"]
        if self.in_memory:
            return content_sha256(self._data)
        return sha256(self.path)

    @property
    def key(self) -> tuple[str, str, str]:
        if self.entry is not None and "method" in self.entry:
            return self.entry["method"], self.entry["benchmark"], self.entry["task"]
        if self.problem is not None:  # what its name says: a damaged file is still found by its method name
            parts = self.file_name[: -len(".json")].split("__")
            return (parts + ["", "", ""])[0], (parts + ["", ""])[1], (parts + ["", "", ""])[2]
        return self.data["method"], self.data["benchmark"], self.data["task"]

    @property
    def method(self) -> str:
        return self.key[0]

    @property
    def pred_sha256(self) -> str | None:
        if self.entry is not None and "method" in self.entry:
            return self.entry.get("pred")
        return pred_sha(self.data)

    @property
    def gt_sha256(self) -> str | None:
        if self.entry is not None and "method" in self.entry:
            return self.entry.get("gt")
        gt = self.data["inputs"].get("gt")
        return gt["sha256"] if gt else None

    def task_result(self) -> dict:
        """The evaluator's result dict (numbers and items), as the task's hooks take it."""
        return {**self.data["numbers"], "items": self.data.get("items")}


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
    import platform
    import shlex
    from datetime import datetime, timezone

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
    # from the stores' indexes, trusted by the folders' names (no stat per file): no result file is parsed;
    # save_result checks the one file it would replace; objects only for the results of this name in any case
    existing = load_all(directory, check="names", methods={name.lower()})
    known = listed_benchmarks(directory)
    bench = identify(input_record(inputs["gt"])["sha256"], task, len(result.get("items") or []) or None, benchmark,
                     known)
    opts = {k: v for k, v in options.items() if k != "plot"}
    data = make_result(name, task, result, benchmark=bench, inputs=inputs, options=opts, source=source, root=root,
                       base=base, command=command)
    path = save_result(data, directory, overwrite=overwrite, shipped=[r for r in existing if r.store == "shipped"],
                       stored=[r for r in existing if r.store == "user"])
    from .cache import warm

    warm(StoredResult(None, path, "user"))  # the board's resamples, computed once now rather than at every render
    primary = get_task(task).primary
    value = (data["headline"] or {}).get(primary)
    shown = f"{primary} {value:.2f}" if isinstance(value, float) else ""
    log.info("saved %s on %s (%s) %s: %s", name, bench, task, shown, path)
    if benchmark is not None and bench not in BENCHMARKS and bench not in known:
        guess = close_to(bench, [*BENCHMARKS, *known])
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


def save_result(result: dict, directory: Path, *, overwrite: bool = False, shipped: list[StoredResult] | None = None,
                stored: list[StoredResult] | None = None) -> Path:
    """Write a result into a store; refuses to replace a result of the same name made from other predictions
    (unless ``overwrite``), to shadow a shipped result with other predictions, and a name that differs from a
    stored or shipped one only in case (``Newell`` beside ``newell``: one method to a reader, and one file on
    a case-insensitive file system). ``shipped`` and ``stored``: the stores' results as their indexes list them
    (read when not given); nothing else is parsed, so a save costs the same in a store of 1,000 results."""
    from . import index

    key = (result["method"], result["benchmark"], result["task"])
    new_sha = pred_sha(result)
    where = f"on {key[1]} ({key[2]})"
    for s in shipped if shipped is not None else load_dir(shipped_dir(), "shipped"):
        if s.problem is not None or s.key[0].lower() != key[0].lower() or s.key[1:] != key[1:] or \
                Path(directory).resolve() == s.path.parent.resolve():
            continue  # (the key first: no Path is made for the other results)
        if s.key[0] != key[0]:
            raise ConfigError(f"{key[0]!r} differs only in case from the shipped result {s.key[0]!r} {where}",
                              fix=f"save under another name, e.g. --save {key[0]}-mine")
        shipped_sha = s.pred_sha256 if s.entry is None or index.is_current(s.path, s.entry) else \
            pred_sha(files.read_result(s.path))  # (a "names" listing: the one file used is checked)
        if shipped_sha != new_sha:
            raise ConfigError(f"{key[0]!r} is a shipped result {where} made from other predictions",
                              fix=f"save yours under another name, e.g. --save {key[0]}-mine")
    path = result_path(directory, *key)
    if Path(directory).is_dir():
        names = [r.file_name for r in stored] if stored is not None else \
            [p.name for p in Path(directory).glob("*.json")]
        for other_name in names:
            if other_name.lower() == path.name.lower() and other_name != path.name:
                other = Path(directory) / other_name
                name = other_name.split("__", 1)[0]
                raise ConfigError(f"the store already holds {name!r} {where}; {key[0]!r} differs from it only in "
                                  "case", file=other, fix=f"save under that very name (--save {name}, with "
                                  "--overwrite to replace it), or under another name")
    if path.exists() and not overwrite:
        old = next((r for r in stored or [] if r.file_name == path.name and r.problem is None), None)
        if old is not None and old.entry is not None and not index.is_current(path, old.entry):
            old = None  # rewritten behind the index's back: read it
        old_sha = old.pred_sha256 if old is not None else pred_sha(files.read_result(path))
        if old_sha != new_sha:
            raise ConfigError(f"the store already holds {result['method']!r} {where}, made from "
                              "other predictions", file=path,
                              fix="save under another name, or pass --overwrite to replace it")
    if not Path(directory).is_dir():  # the store's own folder, made on the first save (never its parents)
        check_output_folder(directory, "--results")
        Path(directory).mkdir()
    raw = dumps_result(result)
    write_bytes_atomic(path, raw)
    index.record(Path(directory), path, raw, in_store=_index_in_store(Path(directory), "user"))
    return path


#: a result file's content, its shape checked (the name other modules know it by)
load_stored = read_result


def _index_in_store(directory: Path, store: str) -> bool:
    """A user store that prt can write keeps its index inside; the shipped results' index is in the cache
    (the shipped folder is read-only when installed, and part of the repository in a checkout)."""
    return store != "shipped" and os.access(directory, os.W_OK) and \
        Path(directory).resolve() != shipped_dir().resolve()


def load_dir(directory: Path, store: str = "user", check: str = "stat",
             methods: set[str] | None = None) -> list[StoredResult]:
    """The store's result files, from its index (:mod:`.index`): a file that is not a usable result comes
    back with its ``problem`` set (what reading it raises), so one bad file does not hide the others.
    ``check``: how the index is trusted (:func:`.index.scan`; with ``"names"``, check a file's entry with
    :func:`.index.is_current` before using it). ``methods``: only the results whose method or file name's method
    part, in lower case, is one of these, so that saving and ``prt compare`` make no object for the others."""
    from . import index

    d = Path(directory)
    if not d.is_dir():
        return []
    out = []
    where = str(d)
    for name, entry in index.scan(d, _index_in_store(d, store), check).items():
        if methods is not None and name.split("__", 1)[0].lower() not in methods and \
                str(entry.get("method", "")).lower() not in methods:
            continue
        problem = None
        if "problem" in entry:
            problem = InputError(entry["problem"]["problem"], file=d / name, field=entry["problem"].get("field"),
                                 fix=entry["problem"].get("fix"))
        out.append(StoredResult(None, os.path.join(where, name), store, entry=entry, problem=problem))
    return out


def load_all(user: Path | None = None, *, include_user: bool = True, check: str = "stat",
             methods: set[str] | None = None) -> list[StoredResult]:
    """Shipped results, then the user store's (a user result identical to a shipped one is left out).
    ``check`` and ``methods``: as :func:`load_dir` takes them."""
    shipped = load_dir(shipped_dir(), "shipped", check, methods)
    out = list(shipped)
    if include_user:
        udir = user_dir(user)
        if udir.resolve() != shipped_dir().resolve():
            seen = {(s.key, s.pred_sha256) for s in shipped if s.problem is None}
            out += [r for r in load_dir(udir, "user", check, methods)
                    if r.problem is not None or (r.key, r.pred_sha256) not in seen]
    return out


def listed_benchmarks(user: Path | None = None) -> dict[str, set[str]]:
    """:func:`known_benchmarks` of the shipped and the user store's results, from their indexes' entries (trusted by
    the folders' names, as a save lists them) without an object per result."""
    from . import index

    out: dict[str, set[str]] = {}
    folders = [(shipped_dir(), "shipped")]
    udir = user_dir(user)
    if udir.resolve() != shipped_dir().resolve():
        folders.append((udir, "user"))
    for d, store in folders:
        if not Path(d).is_dir():
            continue
        for entry in index.scan(Path(d), _index_in_store(Path(d), store), "names").values():
            if "problem" not in entry and entry.get("gt"):
                out.setdefault(entry["benchmark"], set()).add(entry["gt"])
    return out


def known_benchmarks(results: list[StoredResult]) -> dict[str, set[str]]:
    """Benchmark id -> GT hashes seen with it in the stores."""
    out: dict[str, set[str]] = {}
    for r in results:
        if r.problem is not None:
            continue
        gt = r.gt_sha256
        if gt:
            out.setdefault(r.key[1], set()).add(gt)
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
    import shlex

    from ..methods import data_root

    directory = Path(directory) if directory else shipped_dir()
    root = data_root(root)
    out = []
    store = "shipped" if directory.resolve() == shipped_dir().resolve() else "user"
    for r in load_dir(directory, store):
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
