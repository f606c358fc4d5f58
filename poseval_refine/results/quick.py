"""``prt compare A B`` of two stored results without numpy: from the stores' indexes and the two results'
cached entries, or not at all (None), and then :func:`.compare.compare` answers.

Importing numpy takes longer than everything else ``prt compare`` does once its two results' entries are
cached (they are when the results were saved, or first ranked or compared), so the command takes this path
first (:mod:`poseval_refine.commands.quick`):

- the stores are listed from their indexes, trusted by the folders' file names (:func:`.index.scan` with
  ``check="names"``: no stat per stored file);
- each of the two results is checked by its own stat signature against its index entry, so its SHA-256
  (the key of its cached entry) is that of the file as it is now;
- their entries are read with their resamples as Python floats (:func:`.cache.cached_entry`: the CRC-32 of the
  resamples and the all-ones resample against the stored numbers are checked as on every read);
- the differences, intervals and p-values are computed in plain Python, bit for bit numpy's
  (:mod:`.paired`), and the :class:`~.compare.Comparison` is the one :func:`.compare.compare` builds.

Anything else (a file given by path, a name not found, a result changed behind the index's back, an entry not
cached or damaged, a result that fails its per-file check, two results that cannot be paired) returns None
and the full path runs: it computes and keeps what was missing, and refuses with its error. So the output is
the same characters either way; tests/test_compare_fast.py checks that.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import PrtError
from .paired import RESAMPLES, SEED


class _NotQuick(Exception):
    """This comparison needs the full path."""


def _give_up(*_args) -> None:
    raise _NotQuick


def quick_compare(a, b, *, benchmark: str | None = None, task: str | None = None,
                  results: str | Path | None = None, resamples: int = RESAMPLES, seed: int = SEED):
    """:func:`.compare.compare` of two stored results named ``a`` and ``b`` from their cached entries, without
    numpy; None when it cannot answer that way (see the module docstring)."""
    if not all(isinstance(x, str) and not x.lower().endswith(".json") for x in (a, b)):
        return None  # result files given by path: the full path reads and checks them
    from . import index
    from .cache import cached_entry
    from .compare import check_comparable, comparison_of, resolve_pair
    from .paired import paired_difference
    from .store import load_all

    entries: dict[str, object] = {}

    def entry(r):
        if str(r.path) not in entries:
            if r.problem is not None or r.entry is None or not index.is_current(r.path, r.entry):
                raise _NotQuick
            e = cached_entry(r.entry["sha256"], seed, resamples)
            if e is None or e.problem is not None:
                raise _NotQuick
            entries[str(r.path)] = e
        return entries[str(r.path)]

    try:
        # only the results named a or b (in any case: the full path's fallback) are made objects of
        stored = load_all(Path(results) if results is not None else None, check="names",
                          methods={a.lower(), b.lower()})
        ra, rb = resolve_pair(a, b, stored, benchmark, task, entry, not_found=_give_up)
        ea, eb = entry(ra), entry(rb)
        if ea.item_ids != eb.item_ids or ea.n_items != eb.n_items:
            return None
        check_comparable(ra, rb, ea, eb)
        if any(len(v) != resamples for e in (ea, eb) for v in (e.resampled or {}).values()):
            return None
        return comparison_of(ra, rb, ea, eb, resamples, seed, paired_difference)
    except (_NotQuick, PrtError, OSError):
        return None
