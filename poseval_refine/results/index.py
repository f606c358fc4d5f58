"""The index of a results store: per result file its name, SHA-256, key (method, benchmark, task), prediction and
GT hashes, or why the file cannot be read, so that saving a result and listing a store parse no file that did not
change: with 1,000 files what is left is one ``stat`` per file (docs/benchmarks.md measures it).

Files are trusted by their stat signature (size, mtime and ctime in ns, inode): a file written, replaced, copied
or edited behind the index's back has another signature and is read again; a file removed leaves the index; a
new one joins it. The index is rewritten atomically whenever an entry changed; two processes saving at once may
each write it without the other's entry, and the next listing finds that file and adds it back. A user store
keeps its index in the store (``.prt-index``, not a ``*.json``, so nothing takes it for a result); a store prt
cannot write (the shipped results of an installed prt) keeps it in prt's cache folder
(:func:`.cache.cache_dir`). An index that cannot be written is only a lost speed-up: the store is read as
before.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import orjson

from ..errors import PrtError
from . import files

INDEX_NAME = ".prt-index"
INDEX_VERSION = 1


def _signature(st: os.stat_result) -> list[int]:
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]


def index_path(directory: Path, in_store: bool) -> Path:
    """Where the index of ``directory`` is kept: in the store, or in the cache folder keyed by its path."""
    if in_store:
        return directory / INDEX_NAME
    from .cache import cache_dir

    key = hashlib.sha256(str(directory.resolve()).encode()).hexdigest()[:32]
    return cache_dir() / "index" / f"{key}.json"


#: index path -> (the index file's stat signature, its entries) as this process last read or wrote it: a save
#: right after a listing does not parse the index again
_MEMO: dict[Path, tuple[list[int], dict]] = {}


def _read_index(path: Path) -> dict:
    try:
        sig = _signature(path.stat())
    except OSError:
        return {}
    memo = _MEMO.get(path)
    if memo is not None and memo[0] == sig:
        return dict(memo[1])
    try:
        data = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return {}
    if not isinstance(data, dict) or data.get("version") != INDEX_VERSION or not isinstance(data.get("files"), dict):
        return {}
    _MEMO[path] = (sig, data["files"])
    return dict(data["files"])


def _write_index(path: Path, files: dict) -> None:
    from ..io import write_bytes_atomic

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_bytes_atomic(path, orjson.dumps({"version": INDEX_VERSION, "files": files}))
        _MEMO[path] = (_signature(path.stat()), dict(files))
    except (OSError, PrtError):
        pass  # a store prt cannot write to: read without an index


def entry_of(path: Path, raw: bytes, signature: list[int]) -> dict:
    """The index entry of a result file from its bytes: its key and hashes, or the reason it is not usable."""
    entry: dict = {"sig": signature, "sha256": hashlib.sha256(raw).hexdigest()}
    try:
        data = files.check_content(raw, path)
    except PrtError as e:
        entry["problem"] = {"problem": e.problem, "field": e.field, "fix": e.fix}
        return entry
    gt = data["inputs"].get("gt")
    entry.update(method=data["method"], benchmark=data["benchmark"], task=data["task"], pred=files.pred_sha(data),
                 gt=gt["sha256"] if gt else None)
    return entry


def scan(directory: Path, in_store: bool = True) -> dict[str, dict]:
    """File name -> index entry of every ``*.json`` of ``directory``, reading only the files the index does not
    know in their present state; the index is rewritten when anything changed."""
    directory = Path(directory)
    where = index_path(directory, in_store)
    known = _read_index(where)
    out: dict[str, dict] = {}
    changed = False
    try:
        listing = list(os.scandir(directory))
    except OSError:
        return {}
    for e in listing:
        if not e.name.endswith(".json") or e.name.startswith("."):
            continue
        try:
            if not e.is_file():
                continue
            sig = _signature(e.stat())
        except OSError:
            continue
        old = known.get(e.name)
        if old is not None and old.get("sig") == sig:
            out[e.name] = old
            continue
        try:
            raw = Path(e.path).read_bytes()
        except OSError:
            continue
        out[e.name] = entry_of(Path(e.path), raw, sig)
        changed = True
    if changed or set(known) != set(out):
        _write_index(where, out)
    return dict(sorted(out.items()))


def record(directory: Path, path: Path, raw: bytes, in_store: bool = True) -> dict:
    """Add (or replace) the entry of a file prt just wrote with ``raw``: no rescan, no parse of the others."""
    directory = Path(directory)
    where = index_path(directory, in_store)
    files = _read_index(where)
    entry = entry_of(path, raw, _signature(path.stat()))
    files[path.name] = entry
    _write_index(where, files)
    return entry


def forget(directory: Path, name: str, in_store: bool = True) -> None:
    """Drop a removed file's entry."""
    where = index_path(Path(directory), in_store)
    files = _read_index(where)
    if files.pop(name, None) is not None:
        _write_index(where, files)
