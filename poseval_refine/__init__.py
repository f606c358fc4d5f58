"""prt: pose-estimation evaluation identical to the official kits (PoseTrack, MPII, COCO), a leaderboard
with uncertainty, and a pose refiner.

The Python API (docs/python.md)::

    import poseval_refine as prt
    result = prt.evaluate("gt_folder/", "pred_folder/", task="tracking")
    result.headline["MOTA"]

Importing the package is cheap: the API module and the evaluators load on first use.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from .errors import ConfigError, InputError, MismatchError, PrtError
from .version import __version__

if TYPE_CHECKING:
    from .analysis import Analysis, analyze
    from .api import Evaluator, Result, evaluate, leaderboard, load, refine, train
    from .results.compare import compare

__all__ = ["evaluate", "Evaluator", "Result", "load", "refine", "train", "leaderboard", "compare", "analyze",
           "Analysis",
           "PrtError", "InputError", "MismatchError", "ConfigError", "__version__"]

_API = ("evaluate", "Evaluator", "Result", "load", "refine", "train", "leaderboard")
#: public names that live outside the API module
_ELSEWHERE = {"compare": "results.compare", "analyze": "analysis", "Analysis": "analysis"}

# a library's notes reach the application's logging configuration, not stderr by default (the CLI
# installs its own `prt:` handler)
logging.getLogger("prt").addHandler(logging.NullHandler())


def __getattr__(name: str) -> Any:
    if name in _API:
        from . import api

        return getattr(api, name)
    if name in _ELSEWHERE:
        import importlib

        return getattr(importlib.import_module(f".{_ELSEWHERE[name]}", __name__), name)
    raise AttributeError(f"module 'poseval_refine' has no attribute {name!r}")


def __dir__() -> list[str]:
    """The public API (``__all__``), not the helpers this module imports (``logging``, ``Any``)."""
    return sorted(__all__)
