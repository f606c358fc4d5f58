"""Uploads: one prediction file, or a folder sent as one archive (zip or tar, optionally gzip'd).

An archive is checked before it is stored and again, while it is unpacked, by the worker: no absolute
path or ``..``, no link, device or other special entry, at most ``MAX_ENTRIES`` entries, and at most
``max_bytes`` unpacked in total, counted on the bytes actually written (a zip's declared sizes can lie) —
so neither a "zip slip" nor a "zip bomb" reaches the disk. Never ``extractall``.
"""

from __future__ import annotations

import io
import stat
import tarfile
import zipfile
from pathlib import Path, PurePosixPath

from ..errors import InputError

MAX_ENTRIES = 10000
#: an archive may unpack to at most this many times the upload limit
EXPANSION = 20
_CHUNK = 1 << 16


class ArchiveError(InputError):
    """An archive refused for safety (path, link, entry count, size)."""


def kind(data: bytes) -> str | None:
    """``zip``, ``tar``, ``tar.gz`` or None (a plain file), from the first bytes."""
    if data[:4] == b"PK\x03\x04" or data[:4] == b"PK\x05\x06":
        return "zip"
    if data[:2] == b"\x1f\x8b":
        return "tar.gz"
    if len(data) > 262 and data[257:262] == b"ustar":
        return "tar"
    return None


def _safe_name(name: str, archive: str) -> PurePosixPath | None:
    """The entry's relative path, or an ArchiveError for absolute and ``..`` paths (None: a folder entry)."""
    if "\\" in name or "\x00" in name:
        raise ArchiveError(f"entry {name!r} has a backslash or NUL in its path", file=archive,
                           fix="pack the folder with plain relative paths")
    p = PurePosixPath(name)
    if p.is_absolute() or name.startswith("/") or (len(p.parts) and ":" in p.parts[0]):
        raise ArchiveError(f"entry {name!r} has an absolute path", file=archive,
                           fix="pack the folder with relative paths (prt submit FOLDER does)")
    if ".." in p.parts:
        raise ArchiveError(f"entry {name!r} leaves the folder ('..' in its path)", file=archive,
                           fix="pack the folder with relative paths (prt submit FOLDER does)")
    parts = [x for x in p.parts if x not in ("", ".")]
    return PurePosixPath(*parts) if parts else None


def _entries(data: bytes, archive: str):
    """(relative path or None for a folder, opener of its bytes) per entry, checked for type and name."""
    k = kind(data)
    if k == "zip":
        try:
            zf = zipfile.ZipFile(io.BytesIO(data))
            infos = zf.infolist()
        except (zipfile.BadZipFile, ValueError, OSError) as e:
            raise ArchiveError(f"is not a readable zip archive ({e})", file=archive, fix="send a valid zip") from None
        if len(infos) > MAX_ENTRIES:
            raise ArchiveError(f"has {len(infos)} entries, more than {MAX_ENTRIES}", file=archive,
                               fix="send fewer files")
        for info in infos:
            ftype = stat.S_IFMT(info.external_attr >> 16)  # Unix file type bits (0: not recorded)
            if ftype and ftype not in (stat.S_IFREG, stat.S_IFDIR):
                raise ArchiveError(f"entry {info.filename!r} is a link or special file", file=archive,
                                   fix="pack regular files only")
            name = _safe_name(info.filename, archive)
            if info.is_dir() or name is None:
                yield None, None
                continue
            yield name, (lambda info=info: zf.open(info))
        return
    try:
        tf = tarfile.open(fileobj=io.BytesIO(data), mode="r:*")
    except (tarfile.TarError, OSError, EOFError) as e:
        raise ArchiveError(f"is not a readable tar archive ({e})", file=archive,
                           fix="send a valid tar or zip") from None
    count = 0
    while True:
        try:
            member = tf.next()
        except (tarfile.TarError, OSError, EOFError) as e:
            raise ArchiveError(f"is a damaged tar archive ({e})", file=archive, fix="send a valid archive") from None
        if member is None:
            break
        count += 1
        if count > MAX_ENTRIES:
            raise ArchiveError(f"has more than {MAX_ENTRIES} entries", file=archive, fix="send fewer files")
        if not (member.isfile() or member.isdir()):
            raise ArchiveError(f"entry {member.name!r} is a link or special file", file=archive,
                               fix="pack regular files only")
        name = _safe_name(member.name, archive)
        if member.isdir() or name is None:
            yield None, None
            continue
        yield name, (lambda member=member: tf.extractfile(member))


def check_archive(data: bytes, archive: str, max_bytes: int) -> None:
    """Refuse an unsafe archive before it is stored (reads every entry, writes nothing)."""
    _walk(data, archive, max_bytes, None)


def extract(data: bytes, archive: str, out: Path, max_bytes: int) -> None:
    """Unpack a checked archive into ``out`` entry by entry, counting the bytes written."""
    _walk(data, archive, max_bytes, Path(out))


def _walk(data: bytes, archive: str, max_bytes: int, out: Path | None) -> None:
    total = 0
    seen: set[PurePosixPath] = set()
    for name, opener in _entries(data, archive):
        if name is None:
            continue
        if name in seen:
            raise ArchiveError(f"entry {str(name)!r} appears twice", file=archive, fix="pack each file once")
        seen.add(name)
        target = None
        if out is not None:
            target = out.joinpath(*name.parts)
            if out.resolve() not in target.resolve().parents:
                raise ArchiveError(f"entry {str(name)!r} leaves the folder", file=archive, fix="use relative paths")
            target.parent.mkdir(parents=True, exist_ok=True)
        try:
            src = opener()
            dst = open(target, "xb") if target is not None else None
            try:
                while True:
                    chunk = src.read(_CHUNK)
                    if not chunk:
                        break
                    total += len(chunk)
                    if total > max_bytes:
                        raise ArchiveError(f"unpacks to more than {max_bytes / 1e6:g} MB (a zip bomb?)",
                                           file=archive, fix="send smaller predictions")
                    if dst is not None:
                        dst.write(chunk)
            finally:
                if dst is not None:
                    dst.close()
        except ArchiveError:
            raise
        except (zipfile.BadZipFile, tarfile.TarError, OSError, EOFError, NotImplementedError, RuntimeError) as e:
            raise ArchiveError(f"entry {str(name)!r} cannot be read ({e})", file=archive,
                               fix="send a valid archive") from None
