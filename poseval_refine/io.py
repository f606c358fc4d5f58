"""File helpers shared by adapters and result writers: JSON with clear errors, atomic writes."""

from __future__ import annotations

import gc
import os
import shutil
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

from .errors import InputError


@contextmanager
def no_gc():
    """Pause the cyclic garbage collector: parsing creates millions of acyclic objects, and the
    collector's passes over them cost 5x the parse itself."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def load_json(path: str | Path):
    """Parse a JSON file; a broken file raises :class:`InputError` with line and column."""
    with no_gc():
        return parse_json(read_bytes(path), path)


def read_bytes(path: str | Path) -> bytes:
    """A file's bytes; a missing or unreadable file raises :class:`InputError`."""
    path = Path(path)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise InputError("file not found", file=path, fix="check the path") from None
    except IsADirectoryError:
        inside = sorted(p.name for p in path.glob("*.json"))
        holds = f" (the folder holds {', '.join(inside[:3])}{', ...' if len(inside) > 3 else ''})" if inside else ""
        raise InputError("is a folder, expected a file", file=path, fix=f"give the file itself{holds}") from None
    except OSError as e:
        raise InputError(f"cannot be read ({e.strerror})", file=path) from None


def parse_json(data: bytes, path: str | Path):
    """Parse a file's bytes; a broken file raises :class:`InputError` with line and column."""
    try:
        import orjson  # (imported where used: prt compare's quick path reads JSON without it, see loads_own)

        return orjson.loads(data)
    except orjson.JSONDecodeError:
        pass
    import json  # only for files orjson refuses

    try:  # the standard parser accepts NaN/Infinity and gives a precise position
        return json.loads(data)
    except UnicodeDecodeError:
        raise InputError("is not UTF-8 text", file=path, fix="give a JSON file") from None
    except json.JSONDecodeError as e:
        if not data.strip():
            raise InputError("is empty" + (" (0 bytes)" if not data else " (only white space)"), file=path,
                             fix="write the file again, or give another one") from None
        what = "ends early (truncated?)" if e.pos >= len(data.rstrip()) else "is not valid JSON"
        # json's messages may end in a preposition ("Unterminated string starting at"): a colon, as Python puts it
        raise InputError(f"{what}: {e.msg}: line {e.lineno}, column {e.colno}", file=path,
                         fix="repair or re-export the file") from None


def loads_own(raw: bytes):
    """JSON that prt wrote itself (a store's index, a cache entry's header): parsed by orjson when it is loaded,
    else by the standard library (the same values for such JSON). ``prt compare``'s quick path reads an index
    and two headers, and importing orjson (with the datetime, uuid, dataclasses and json modules it loads) costs
    it more than those parses. Raises ValueError on anything but JSON."""
    fast = sys.modules.get("orjson")
    if fast is not None:
        return fast.loads(raw)
    import json

    return json.loads(raw)


def _default(obj):
    np = sys.modules.get("numpy")  # not imported here: a numpy value exists only once numpy is loaded
    if np is None:
        raise TypeError(f"not JSON serializable: {type(obj).__name__}")
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"not JSON serializable: {type(obj).__name__}")


def dumps_json(obj, indent: bool = False) -> bytes:
    """JSON bytes; NaN becomes null (orjson's rule), numpy scalars and arrays are accepted."""
    import orjson

    opt = orjson.OPT_SERIALIZE_NUMPY
    if indent:
        opt |= orjson.OPT_INDENT_2
    return orjson.dumps(obj, default=_default, option=opt)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _named(option: str | None, what: str) -> str:
    return f"{option} names {what}" if option else f"is {what}"


def check_output_parent(path: str | Path, option: str | None = None) -> Path:
    """``path``'s folder exists (an output that may be a file or a folder: the writer decides)."""
    _check_parent(Path(path), os.fspath(path), option)
    return Path(path)


def _check_parent(path: Path, raw: str, option: str | None) -> None:
    parent = path.parent
    if not parent.exists():
        why = f" ({option} writes into an existing folder)" if option else ""
        raise InputError(f"the folder {parent} does not exist{why}", file=raw,
                         fix=f"create it first (mkdir -p {parent}) or give a path in an existing folder")
    if not parent.is_dir():
        raise InputError(f"{parent} is a file, not a folder", file=raw,  # e.g. out.json/x.json
                         fix="give a path in an existing folder")


def check_output_file(path: str | Path, option: str | None = None, example: str = "result.json") -> Path:
    """``path`` as a file prt may write: not a folder (nor a name ending in a separator), in a folder that
    exists. Refused with one :class:`InputError` naming ``option`` (e.g. ``--json``) before any work is
    done and before anything is written: prt writes files, it does not make folders behind the user's back."""
    raw = os.fspath(path)
    p = Path(raw)
    if raw.endswith(("/", os.sep)) or p.is_dir():
        where = raw.rstrip("/" + os.sep) or raw
        raise InputError(_named(option, "a folder") + ", but a file is written there", file=raw,
                         fix=f"give a file name, e.g. {Path(where) / example}")
    _check_parent(p, raw, option)
    return p


def check_output_folder(path: str | Path, option: str | None = None) -> Path:
    """``path`` as a folder prt creates (its parent must exist) or replaces: not a file."""
    raw = os.fspath(path)
    p = Path(raw)
    if p.exists() and not p.is_dir():
        raise InputError(_named(option, "a file") + ", but a folder is written there", file=raw,
                         fix="give a folder path (a new one, or --overwrite to replace a folder prt wrote)")
    _check_parent(p, raw, option)
    return p


def check_folder_option(path: str | Path, option: str, example: str = "prt-results") -> Path:
    """A folder option (``--results``, ``--data-root``): a folder or a path where one may be made, never a file."""
    raw = os.fspath(path)
    p = Path(raw)
    if p.exists() and not p.is_dir():
        raise InputError(f"{option} names a file; it takes a folder", file=raw,
                         fix=f"give a folder (e.g. {option} {example}), or leave {option} out for the default")
    return p


@contextmanager
def atomic_path(path: str | Path, *, overwrite: bool = True):
    """Yield a temporary path beside ``path``; it replaces ``path`` only when the block succeeds."""
    path = check_output_file(path)
    if path.exists() and not overwrite:
        raise InputError("exists already", file=path, fix="choose a new output path or pass --overwrite")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600 files; give the usual permissions
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_bytes_atomic(path: str | Path, data: bytes, *, overwrite: bool = True) -> None:
    with atomic_path(path, overwrite=overwrite) as tmp:
        tmp.write_bytes(data)


def write_json_atomic(path: str | Path, obj, *, indent: bool = False, overwrite: bool = True) -> None:
    write_bytes_atomic(path, dumps_json(obj, indent=indent), overwrite=overwrite)


@contextmanager
def atomic_dir(path: str | Path, *, overwrite: bool = False):
    """Yield a temporary folder that becomes ``path`` only when the block succeeds."""
    path = check_output_folder(path)
    if path.exists() and not overwrite:
        raise InputError("exists already", file=path, fix="choose a new output folder")
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~_umask())
        if path.exists():
            shutil.rmtree(path)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
