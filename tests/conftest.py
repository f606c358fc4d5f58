"""Shared fixtures. Real test data lives in ../shared/data beside the checkout (never copied here)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

_HERE = Path(__file__).resolve().parent


def _find_shared() -> Path | None:
    env = os.environ.get("PRT_SHARED")
    candidates = [Path(env)] if env else []
    for parent in [_HERE.parent, *_HERE.parent.parents]:
        candidates.append(parent / "shared")
        candidates.append(parent.parent / "shared")
    for c in candidates:
        if (c / "data").is_dir():
            return c
    return None


SHARED = _find_shared()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data``; tests using it are skipped with the reason when it is absent."""
    if SHARED is None:
        pytest.skip("shared test data not found: put the 'shared' folder beside the checkout "
                    "or set PRT_SHARED=/path/to/shared")
    return SHARED / "data"
