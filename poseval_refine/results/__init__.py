"""The leaderboard's back room: result files and their stores (:mod:`.store`), which GT is which benchmark
(:mod:`.benchmarks`), bootstrap intervals (:mod:`.uncertainty`), boards (:mod:`.board`) and the check that
stored numbers still come out of their inputs (:mod:`.verify`).

``python -m poseval_refine.results regenerate`` recomputes every shipped result whose inputs are under the
data root (``PRT_DATA``) and rewrites it.
"""

from __future__ import annotations

from .store import (
    StoredResult,
    load_all,
    load_dir,
    make_result,
    recompute,
    regenerate,
    save_result,
    sha256,
    shipped_dir,
    user_dir,
)

__all__ = ["StoredResult", "load_all", "load_dir", "make_result", "recompute", "regenerate", "save_result",
           "sha256", "shipped_dir", "user_dir"]
