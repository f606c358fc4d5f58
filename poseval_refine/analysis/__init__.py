"""Error diagnosis (``prt analyze``): why the number is what it is — Ronchi & Perona's taxonomy.

``poseval_refine.analyze(gt, pred, task=None, **options) -> Analysis`` (docs/analyze.md). COCO is
coco-analyze's diagnosis number for number (``analysis.coco``); PoseTrack ``pose`` the same taxonomy
on head-size distances (``analysis.headsize``, ``analysis.posetrack``); ``tracking`` MOTA decomposed.
This package is named ``analysis`` so that it never shadows the function ``analyze``.
"""

from __future__ import annotations

from .result import Analysis
from .run import analyze

__all__ = ["analyze", "Analysis"]
