"""Optional dependencies: which extra installs each, and the one clear error when it is missing.

prt's core (every evaluator, the leaderboard) needs neither PyTorch nor motmetrics. The refiner needs
torch (extra ``refine``), ``--mot-backend motmetrics`` needs motmetrics (extra ``parity``) and
``poseval_refine.integrations.torchmetrics`` needs torchmetrics (extra ``torchmetrics``); see the install
commands in README.md.
"""

from __future__ import annotations

import importlib

from .errors import ConfigError

#: importable module -> (the extra that installs it, what pip is given before it). torch's version is named
#: because an unpinned torch pulls a multi-GB CUDA build, while torch==2.13.0 takes the CPU wheel.
EXTRAS = {
    "torch": ("refine", "torch==2.13.0 "),
    "motmetrics": ("parity", ""),
    "torchmetrics": ("torchmetrics", "torch==2.13.0 "),
}


def missing(module: str, purpose: str) -> ConfigError:
    """The error for ``purpose`` (e.g. "prt refine") when ``module`` is not installed."""
    extra, pin = EXTRAS[module]
    return ConfigError(f"{purpose} needs {module}, which is not installed (prt's extra '{extra}')",
                       fix=f"pip install {pin}'poseval-refine[{extra}]' "
                           f"(in a checkout: pip install {pin}-e '.[{extra}]')")


def require(module: str, purpose: str):
    """Import ``module`` or raise the clear error of :func:`missing`."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as e:
        if (e.name or "").split(".")[0] != module:
            raise
        raise missing(module, purpose) from None


def missing_from(error: ModuleNotFoundError, purpose: str) -> ConfigError | None:
    """The clear error when ``error`` is an optional dependency not being installed, else None."""
    module = (error.name or "").split(".")[0]
    return missing(module, purpose) if module in EXTRAS else None
