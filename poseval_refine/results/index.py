"""The index of a results store: per result file its name, SHA-256, key (method, benchmark, task), prediction and
GT hashes, or why the file cannot be read, so that saving a result and listing a store parse no file that did not
change: with 1,000 files what is left is one ``stat`` per file for a board, one ``listdir`` for a save or ``prt
compare`` (docs/benchmarks.md measures them).

Files are trusted by their stat signature (size, mtime and ctime in ns, inode): a file written, replaced, copied
or edited behind the index's back has another signature and is read again; a file removed leaves the index; a
new one joins it. Commands that use every file (boards, ``prt results list``, ``prt verify``) stat every file;
commands that use one or two (saving, ``prt compare``) only compare the folder's names with the index's and
stat the files they use (:func:`scan`'s ``check="names"``, :func:`is_current`): a file added, removed or
renamed is found by both, a file rewritten in place under its old name by whoever uses it, and by the next
board. The index is rewritten atomically whenever an entry changed; two processes saving at once may
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

from ..errors import PrtError
from ..io import loads_own
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


def _read_index(path: Path, quick: bool = False) -> dict:
    """The index's entries ({} when there is none or it is damaged); ``quick``: parsed without importing orjson
    (:func:`..io.loads_own`), for a listing that reads nothing else."""
    try:
        sig = _signature(path.stat())
    except OSError:
        return {}
    memo = _MEMO.get(path)
    if memo is not None and memo[0] == sig:
        return dict(memo[1])
    try:
        if quick:
            data = loads_own(path.read_bytes())
        else:
            import orjson

            data = orjson.loads(path.read_bytes())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("version") != INDEX_VERSION or not isinstance(data.get("files"), dict):
        return {}
    _MEMO[path] = (sig, data["files"])
    return dict(data["files"])


def _write_index(path: Path, files: dict) -> None:
    import orjson

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


def scan(directory: Path, in_store: bool = True, check: str = "stat") -> dict[str, dict]:
    """File name -> index entry of every ``*.json`` of ``directory``, reading only the files the index does not
    know in their present state; the index is rewritten when anything changed.

    ``check``: how the index's entries are trusted. ``"stat"`` (boards, listings, verify: every file is used)
    compares every file's stat signature. ``"names"`` (saving, ``prt compare``: one or two files are used)
    compares only the folder's file names with the index's, one ``listdir`` and no ``stat`` per file: a file
    added, removed or renamed behind the index's back is found all the same (the listing is then made with
    ``"stat"``); a file rewritten in place under its name keeps its old entry here, so whoever uses a file of
    such a listing checks it with :func:`is_current` first."""
    directory = Path(directory)
    where = index_path(directory, in_store)
    known = _read_index(where, quick=check == "names")
    if check == "names" and known:
        try:
            names = {n for n in os.listdir(directory) if n.endswith(".json") and not n.startswith(".")}
        except OSError:
            return {}
        if names == known.keys():
            return dict(sorted(known.items()))
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


def is_current(path: str | Path, entry: dict) -> bool:
    """Whether a file is still as its index entry was made from (its stat signature): what a ``"names"``
    listing (:func:`scan`) leaves to whoever uses the file."""
    try:
        return entry.get("sig") == _signature(os.stat(path))
    except OSError:
        return False


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
