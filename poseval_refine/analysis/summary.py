"""One-line summaries shared by the text output, the page and ``prt refine``."""

from __future__ import annotations


def moved_text(moved: dict) -> str:
    """One line per changed kind: ``inversion -> good 120`` etc., largest first."""
    pairs = sorted(((n, a, b) for a, row in moved.items() for b, n in row.items() if a != b), reverse=True)
    if not pairs:
        return "moved: no GT joint changed kind"
    return "moved (before -> after, GT joints): " + ", ".join(f"{a} -> {b} {n}" for n, a, b in pairs[:12])
