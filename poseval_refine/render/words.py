"""Counted nouns for messages and footnotes: "1 sequence", "2 sequences", "1 person", "3 people"."""

from __future__ import annotations

IRREGULAR = {"person": "people"}


def plural(noun: str) -> str:
    return IRREGULAR.get(noun, noun + "s")


def counted(n: int, noun: str) -> str:
    """``n`` and the noun in the number ``n`` takes."""
    return f"{n} {noun if n == 1 else plural(noun)}"
