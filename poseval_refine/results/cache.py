"""What a board needs of one stored result, computed once: its headline numbers, per-joint values, curve,
protocol, the bootstrap resamples of its headline metrics and the note on their shape, and the verdict of its
per-file check (does its ``headline`` agree with its numbers, and its numbers with its per-item statistics?).

Resampling a result is the costly part of a board (MPII: 1000 draws of 2958 people, about 50 ms a result);
it depends only on the result file, the seed, the number of resamples and the code that computes it. So an
entry is kept on disk under the SHA-256 of those: the file's SHA-256 (from the store's index), seed,
resamples, the prt version and a fingerprint of prt's code and numpy's version (:func:`code_fingerprint`),
and any change of one of them is another key. Saving a result computes its entry (:func:`warm`), so the
first board after a save reads it rather than resampling; a result saved otherwise gets its entry the first
time a board reads it. Reading an entry checks it again: its resamples must have the CRC-32 written with
them and its all-ones resample must give the headline numbers it holds, or the entry is computed afresh.

Entries live in prt's cache folder, ``$PRT_CACHE``, else ``$XDG_CACHE_HOME/prt``, else ``~/.cache/prt``
(never beside the shipped results: an installed prt's package folder is read-only). A cache that cannot be
written only costs time: entries are then computed in memory at every run.
"""

from __future__ import annotations

import array
import hashlib
import math
import os
import struct
import sys
import zlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import InputError, PrtError
from ..io import loads_own
from ..version import __version__

if TYPE_CHECKING:
    import numpy as np

# numpy is imported where arrays are made (building, writing and reading entries), not by this module: `prt compare`
# reads entries' headers and resamples without it (results.quick)

ENTRY_VERSION = 1
_MAGIC = b"PRTROW1\n"
#: largest difference between a stored number and its per-item statistics' all-ones resample (bit for bit
#: when the file is as prt wrote it; prt verify's default tolerance)
CONSISTENCY_TOL = 1e-9
#: what a task's hooks raise on numbers or per-item statistics that are not what the evaluator wrote
DAMAGE = (KeyError, TypeError, ValueError, IndexError, AttributeError, ZeroDivisionError)
#: PoseTrack headline names that result files saved before the boards took one name per joint group
#: (evaluators.GROUP_COLUMNS) hold: read as the new names
LEGACY_HEADLINE_NAMES = {"Shou": "Shoulder", "Elb": "Elbow", "Wri": "Wrist", "Ankl": "Ankle"}


def cache_dir() -> Path:
    """prt's cache folder: ``$PRT_CACHE``, else ``$XDG_CACHE_HOME/prt``, else ``~/.cache/prt``."""
    if os.environ.get("PRT_CACHE"):
        return Path(os.environ["PRT_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "prt"


#: the code an entry is computed by (relative to the package): the tasks' hooks (evaluators, metrics, protocols,
#: skeletons) and this module's helpers; the boards, renderers and commands that only read entries are not in it
ENTRY_CODE = ("evaluators", "metrics", "protocols.py", "skeletons.py", "blas.py", "version.py", "results/cache.py",
              "results/files.py", "results/provenance.py", "results/uncertainty.py")


def numpy_version_file() -> Path | None:
    """numpy's ``version.py`` (its version and git revision), found without importing numpy."""
    import importlib.util

    try:
        spec = importlib.util.find_spec("numpy")
    except (ImportError, ValueError):
        return None
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    return Path(locations[0]) / "version.py" if locations else None


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """prt's version, numpy's (the content of its ``version.py``, read without importing numpy, so that ``prt
    compare`` finds its entries without numpy), and the name, size and modification time of every module that
    computes an entry (:data:`ENTRY_CODE`): a changed evaluator (a development checkout) gives other keys, so no
    entry outlives the code that made it."""
    h = hashlib.sha256(f"{__version__}|{ENTRY_VERSION}|".encode())
    version_file = numpy_version_file()
    try:
        h.update(version_file.read_bytes() if version_file is not None else b"no numpy")
    except OSError:
        h.update(b"numpy version unknown")
    root = Path(__file__).resolve().parent.parent
    for part in ENTRY_CODE:
        for rel, st in _modules(root, part):
            h.update(f"{rel}|{st.st_size}|{st.st_mtime_ns}".encode())
    return h.hexdigest()


def _modules(root: Path, part: str) -> list[tuple[str, os.stat_result]]:
    """(path relative to the package, stat) of a module, or of every ``*.py`` under a folder, sorted by path
    (os.scandir: no Path per file)."""
    top = os.path.join(root, part)
    if os.path.isfile(top):
        return [(part, os.stat(top))]
    out = []
    stack = [top]
    while stack:
        folder = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for e in entries:
            if e.is_dir():
                stack.append(e.path)
            elif e.name.endswith(".py") and e.is_file():
                out.append((os.path.relpath(e.path, root).replace(os.sep, "/"), e.stat()))
    return sorted(out)


def entry_key(file_sha256: str, seed: int, resamples: int) -> str:
    return hashlib.sha256(f"{file_sha256}|{seed}|{resamples}|{code_fingerprint()}".encode()).hexdigest()


@dataclass
class RowEntry:
    """One stored result as a board row needs it (see the module docstring)."""
    #: the result file without its items and numbers (method, benchmark, task, source, base, inputs, options,
    #: provenance)
    head: dict
    protocol: str
    metrics: dict[str, float]
    joints: dict[str, float] | None
    curve: dict | None
    n_items: int
    #: SHA-256 of the items' names (a PoseTrack sequence, a COCO image; the position otherwise)
    item_ids: str
    ci95_note: str | None
    #: headline metric -> (R,) resampled values (None: no resamples, or one item)
    resampled: dict[str, np.ndarray] | None
    #: why the result cannot be ranked: {"problem", "field"}, None when it passed its check
    problem: dict | None = None
    #: headline metric -> its all-ones resample (the stored numbers again; checked when the entry is read)
    ones: dict[str, float] | None = None
    #: the stored command line with every path cut to its file name (provenance.command_with_file_names)
    published_command: str | None = None
    #: headline metric -> its 95% percentile interval (uncertainty.interval of ``resampled``)
    metrics_ci95: dict[str, list[float] | None] | None = None
    #: the task's primary metric, what one item is, whether it resamples (``prt compare`` needs no evaluator)
    primary: str | None = None
    unit: str | None = None
    resamples_items: bool = False

    def error(self, path: Path) -> InputError:
        from .files import DAMAGED_FIX

        return InputError(f"is a damaged prt result file: {self.problem['problem']}", file=path,
                          field=self.problem.get("field"), fix=DAMAGED_FIX)


def item_ids(items: list) -> list:
    """What names an item, where the per-item statistics say (a PoseTrack sequence, a COCO image); the
    position otherwise (MPII people: the GT's order, which one GT SHA-256 fixes)."""
    out = []
    for i, it in enumerate(items):
        if isinstance(it, dict):
            out.append(it.get("sequence", it.get("image_id", i)))
        else:
            out.append(i)
    return out


def _nan(v) -> float:
    return float("nan") if v is None else float(v)


def _same(a: float, b: float, tol: float = CONSISTENCY_TOL) -> bool:
    return (math.isnan(a) and math.isnan(b)) or abs(a - b) <= tol


def _damaged(head, problem: str, field: str | None = None) -> RowEntry:
    return RowEntry(head=head, protocol="", metrics={}, joints=None, curve=None, n_items=0,
                    item_ids="", ci95_note=None, resampled=None, problem={"problem": problem, "field": field})


def build_entry(sr, seed: int, resamples: int) -> RowEntry:
    """Compute a stored result's entry from its file: its numbers, the per-file check, and its resamples with
    the board's draws (row 0 weighs every item once and must give the stored numbers)."""
    import numpy as np

    from ..evaluators import get_task
    from .provenance import command_with_file_names
    from .uncertainty import board_salt, draw_weights, interval, resample_result, shape_note

    d = sr.data
    head = {k: v for k, v in d.items() if k not in ("items", "numbers", "headline")}
    command = (d.get("provenance") or {}).get("command")
    published = command_with_file_names(command) if isinstance(command, str) else None
    task = get_task(d["task"])
    result = sr.task_result()
    try:
        protocol = task.board_protocol(d["numbers"])
        metrics = {k: _nan(v) for k, v in task.headline(result).items()} if task.headline else {}
        joints = task.per_joint(result) if task.per_joint else None
        curve = task.curve(result) if task.curve else None
    except DAMAGE as e:
        return _damaged(head, f"its numbers cannot be read ({type(e).__name__}: {e})")
    stored = d.get("headline")
    if isinstance(stored, dict):
        for k, v in stored.items():
            k = LEGACY_HEADLINE_NAMES.get(k, k)
            if k not in metrics:
                continue
            if not isinstance(v, (int, float, type(None))) or isinstance(v, bool) or \
                    not _same(_nan(v), metrics[k]):
                return _damaged(head, f"its headline {k} {v!r} is not what its numbers give ({metrics[k]!r})",
                                "headline")
    items = d.get("items") or []
    import orjson

    ids = hashlib.sha256(orjson.dumps(item_ids(items), option=orjson.OPT_SERIALIZE_NUMPY,
                                      default=str)).hexdigest() if items else ""
    entry = RowEntry(head=head, protocol=protocol, metrics=metrics, joints=joints, curve=curve, n_items=len(items),
                     item_ids=ids, ci95_note=None, resampled=None, primary=task.primary, unit=task.unit,
                     resamples_items=task.resample is not None, published_command=published)
    if task.resample is None:
        return entry
    if not items:
        return _damaged(head, "it has no per-item statistics ('items'), which its task stores", "items")
    n = len(items)
    weights = np.vstack([np.ones((1, n), dtype=np.int64),
                         draw_weights(n, resamples, seed, salt=board_salt(d["benchmark"], d["task"], protocol))])
    try:
        resampled = resample_result(task, result, weights)
    except DAMAGE as e:
        return _damaged(head, f"its per-item statistics cannot be read ({type(e).__name__}: {e})", "items")
    for k, v in resampled.items():
        have, again = metrics.get(k, float("nan")), float(v[0])
        if not _same(have, again):
            return _damaged(head, f"its {k} {have!r} is not what its per-item statistics give ({again!r})")
    if resamples > 0 and n > 1:  # one item drawn again and again has no spread: no interval
        entry.ones = {k: float(v[0]) for k, v in resampled.items()}
        entry.resampled = {k: np.ascontiguousarray(v[1:]) for k, v in resampled.items()}
        entry.metrics_ci95 = {k: interval(v) for k, v in entry.resampled.items()}
        values = entry.resampled.get(task.primary)
        if values is not None:
            try:
                missing = task.missing_joints(result, weights[1:]) if task.missing_joints else None
            except DAMAGE as e:
                return _damaged(head, f"its per-item statistics cannot be read ({type(e).__name__}: {e})", "items")
            entry.ci95_note = shape_note(task.primary, metrics.get(task.primary, float("nan")), values,
                                         task.unit or "item",
                                         {j.replace("_", " "): m for j, m in (missing or {}).items()},
                                         {j.replace("_", " "): v for j, v in (joints or {}).items()})
    return entry


# ----------------------------------------------------------------------------- the entries on disk
def _path(key: str) -> Path:
    return cache_dir() / "rows" / key[:2] / f"{key}.bin"


def _dumps(entry: RowEntry) -> bytes:
    import numpy as np
    import orjson

    names = list(entry.resampled or {})
    arrays = np.vstack([np.concatenate([[entry.ones[n]], entry.resampled[n]]) for n in names]).astype("<f8") \
        if names else np.zeros((0, 0))
    header = orjson.dumps({"head": entry.head, "protocol": entry.protocol, "metrics": entry.metrics,
                           "joints": entry.joints, "curve": entry.curve, "n_items": entry.n_items,
                           "item_ids": entry.item_ids, "ci95_note": entry.ci95_note, "problem": entry.problem,
                           "primary": entry.primary, "unit": entry.unit, "resamples_items": entry.resamples_items,
                           "metrics_ci95": entry.metrics_ci95, "published_command": entry.published_command,
                           "arrays": names, "shape": list(arrays.shape),
                           "crc32": zlib.crc32(arrays.tobytes())},
                          option=orjson.OPT_SERIALIZE_NUMPY, default=str)
    return _MAGIC + struct.pack("<Q", len(header)) + header + arrays.tobytes()


def _loads(raw: bytes, python_arrays: bool = False) -> RowEntry | None:
    if not raw.startswith(_MAGIC):
        return None
    (n,) = struct.unpack_from("<Q", raw, len(_MAGIC))
    start = len(_MAGIC) + 8
    if python_arrays:  # prt compare's quick path: no numpy, no orjson
        h = loads_own(raw[start:start + n])
    else:
        import orjson

        h = orjson.loads(raw[start:start + n])
    names, shape = h["arrays"], tuple(h["shape"])
    metrics = {k: _nan(v) for k, v in h["metrics"].items()}
    resampled = ones = None
    if zlib.crc32(memoryview(raw)[start + n:]) != h["crc32"]:
        return None  # damaged: computed again
    if names:
        rows, cols = shape
        if python_arrays:
            flat = array.array("d")
            flat.frombytes(raw[start + n:start + n + 8 * rows * cols])
            if sys.byteorder != "little":
                flat.byteswap()
            block = [flat[i * cols:(i + 1) * cols] for i in range(rows)]
        else:
            import numpy as np

            block = np.frombuffer(raw, dtype="<f8", offset=start + n).reshape(shape)
        ones = {name: float(block[i][0]) for i, name in enumerate(names)}
        if any(not _same(metrics.get(k, float("nan")), v) for k, v in ones.items()):
            return None  # the entry is not that result's: computed again
        resampled = {name: block[i][1:] for i, name in enumerate(names)}
    return RowEntry(head=h["head"], protocol=h["protocol"], metrics=metrics, joints=h["joints"], curve=h["curve"],
                    n_items=h["n_items"], item_ids=h["item_ids"], ci95_note=h["ci95_note"], resampled=resampled,
                    problem=h["problem"], ones=ones, primary=h["primary"], unit=h["unit"],
                    resamples_items=h["resamples_items"], metrics_ci95=h["metrics_ci95"],
                    published_command=h["published_command"])


def _read(key: str, python_arrays: bool = False) -> RowEntry | None:
    try:
        raw = _path(key).read_bytes()
    except OSError:
        return None
    try:
        return _loads(raw, python_arrays)
    except (ValueError, KeyError, TypeError, struct.error):
        return None  # a damaged cache entry is computed again


def cached_entry(file_sha256: str, seed: int, resamples: int) -> RowEntry | None:
    """The kept entry of a result file (by its SHA-256) for these draws, its resamples as ``array.array("d")``
    rather than numpy arrays, or None when the cache holds no sound one: what ``prt compare`` reads without
    importing numpy (:mod:`.quick`); :func:`row_entry` computes what is missing."""
    return _read(entry_key(file_sha256, seed, resamples), python_arrays=True)


def _write(key: str, entry: RowEntry) -> None:
    from ..io import write_bytes_atomic

    path = _path(key)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_bytes_atomic(path, _dumps(entry))
    except (OSError, PrtError):
        pass  # no cache: computed again next time


def row_entry(sr, seed: int, resamples: int) -> RowEntry:
    """The entry of a stored result: from the cache when it holds one for this file, seed and number of
    resamples, else computed (and kept). The file's content is let go again after computing, so a board
    holds no parsed result file."""
    key = entry_key(sr.sha256, seed, resamples)
    entry = _read(key)
    if entry is not None:
        return entry
    entry = build_entry(sr, seed, resamples)
    _write(key, entry)
    sr.release()
    return entry


def warm(sr, seed: int | None = None, resamples: int | None = None) -> None:
    """Compute and keep a just-saved result's entry for the boards' default draws (best effort: a problem
    with it is reported by the board that reads it)."""
    from .uncertainty import RESAMPLES, SEED

    try:
        row_entry(sr, SEED if seed is None else seed, RESAMPLES if resamples is None else resamples)
    except (PrtError, *DAMAGE):
        pass
