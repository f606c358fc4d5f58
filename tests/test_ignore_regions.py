"""Ignore regions: prt's point-in-region test against shapely's ``Polygon.contains(Point)``, poseval's.

Rectangles are compared directly (x0 < x < x1 and y0 < y < y1), other regions go through shapely;
both must give shapely's answer for every point, on the edges and corners too.
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from poseval_refine.metrics.posetrack import in_ignore_regions, region_rectangle


def _shapely_inside(regions, frames, xy, frame):
    out = np.zeros(len(xy), bool)
    for i, ((x, y), f) in enumerate(zip(xy, frame)):
        if np.isnan(x):
            continue
        out[i] = any(shapely.Polygon(r).contains(shapely.Point(x, y)) for r in regions[f]) if f in frames else False
    return out


def _corners(rng):
    x0, y0 = rng.integers(0, 50, 2).astype(float)
    x1, y1 = x0 + rng.integers(1, 30), y0 + rng.integers(1, 30)
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]


@pytest.mark.parametrize("seed", range(6))
def test_regions_agree_with_shapely_on_edges_and_corners(seed):
    rng = np.random.default_rng(seed)
    n_frames = 8
    regions = [[] for _ in range(n_frames)]
    for f in range(n_frames):
        for _ in range(int(rng.integers(0, 3))):
            c = _corners(rng)
            kind = rng.integers(0, 6)
            if kind == 1:
                c = c[::-1]  # clockwise
            elif kind == 2:
                c = c + [c[0]]  # closed ring
            elif kind == 3:
                c = [c[0], c[2], c[1], c[3]]  # a bow tie over the same corners: no rectangle
            elif kind == 4:
                c = [c[0], c[1], c[2]]  # a triangle
            elif kind == 5:
                cx, cy = np.mean(c, axis=0)
                c = [[cx, cy - 10], [cx + 10, cy], [cx, cy + 10], [cx - 10, cy]]  # a diamond
            regions[f].append(np.array(c, dtype=float))
    frames = [f for f in range(n_frames) if regions[f]]
    # points on a grid that hits edges and corners exactly, plus random ones and absent ones
    grid = np.array([[x, y] for x in range(0, 90, 1) for y in range(0, 90, 3)], dtype=float)
    pts = np.concatenate([grid, rng.uniform(0, 90, (300, 2)), [[np.nan, np.nan]]])
    frame = rng.integers(0, n_frames, len(pts))
    got = in_ignore_regions(regions, frames, pts, frame)
    want = _shapely_inside(regions, set(frames), pts, frame)
    assert np.array_equal(got, want)
    assert got.any() and (~got).any()


def test_rectangle_recognition():
    assert region_rectangle(np.array([[0, 0], [2, 0], [2, 1], [0, 1]], float)) == (0, 0, 2, 1)
    assert region_rectangle(np.array([[0, 0], [0, 1], [2, 1], [2, 0], [0, 0]], float)) == (0, 0, 2, 1)
    assert region_rectangle(np.array([[0, 0], [2, 1], [2, 0], [0, 1]], float)) is None  # bow tie
    assert region_rectangle(np.array([[0, 0], [2, 0], [2, 1], [0, np.nan]], float)) is None
    assert region_rectangle(np.array([[0, 0], [2, 0], [2, 0], [0, 0]], float)) is None  # degenerate
    assert region_rectangle(np.array([[0, 0], [2, 0], [2, 1], [0, 1], [0, 0.5]], float)) is None
