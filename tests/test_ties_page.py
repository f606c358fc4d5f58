"""The leaderboard page with a hundred near-identical results, in headless Chromium: it fits a 1400 px
window, a filter box keeps the rows that match, hovering a row shows every other row's paired difference
to it (the interval `prt compare` gives), tie groups are marked, and no folder of the saving machine is
published."""

from __future__ import annotations

import json
import re
import time

import h5py
import numpy as np
import pytest

from poseval_refine.evaluators import get_task
from poseval_refine.render.html import render_page
from poseval_refine.render.leaderboard import render_json
from poseval_refine.results.board import build_boards
from poseval_refine.results.compare import compare
from poseval_refine.results.store import load_all, make_result, save_result

from .support.browser import open_page as _open

RESAMPLES = 200


@pytest.fixture(scope="module")
def many(shared_data, tmp_path_factory):
    """100 results on MPII validation: 90 copies of the released PRM predictions with 0.5 px of Gaussian
    noise (near-identical), 10 with 3 px (weaker); every tenth name is long."""
    tmp = tmp_path_factory.mktemp("many")
    root = shared_data / "mpii_val"
    task = get_task("single")
    with h5py.File(root / "pyranet-prm.h5") as f:
        preds = np.asarray(f["preds"], dtype=np.float64)
    store = tmp / "store"
    t0 = time.perf_counter()
    for s in range(100):
        pred = tmp / f"jitter-{s:03d}.h5"
        with h5py.File(pred, "w") as f:
            f["preds"] = preds + np.random.default_rng(100 + s).normal(0, 3.0 if s % 10 == 0 else 0.5, preds.shape)
        name = f"prm-jitter-{s:03d}" + ("-with-a-long-experiment-name" if s % 10 == 5 else "")
        result = task.run(root / "valid.h5", [pred])
        save_result(make_result(name, "single", result, benchmark="mpii-val", source="user",
                                inputs={"gt": root / "valid.h5", "pred": pred}, options={"flavour": "matlab"},
                                command=["prt", "evaluate", "--gt", str(root / "valid.h5"), "--pred", str(pred),
                                         "--save", name]), store)
    print(f"{time.perf_counter() - t0:.2f} s for the results")
    t0 = time.perf_counter()
    boards = build_boards(load_all(store), benchmark="mpii-val", resamples=RESAMPLES)
    print(f"{time.perf_counter() - t0:.2f} s for the board")
    page = tmp / "board.html"
    page.write_text(render_page(boards))
    return store, page, json.loads(render_json(boards))["boards"][0], tmp


BOARD = "section[data-benchmark='mpii-val']"


def test_a_hundred_rows_fit_a_1400px_window(browser, many):  # noqa: F811
    _, page_file, board, _ = many
    page, _ = _open(browser, page_file)
    assert page.locator(f"{BOARD} tr.row").count() == len(board["rows"]) == 106
    table = page.locator(f"{BOARD} table.lb")
    scroll, client = table.evaluate("t => [t.scrollWidth, t.parentElement.clientWidth]")
    assert scroll <= client <= 1400, (scroll, client)
    right = page.locator(f"{BOARD} thead th").last.evaluate("th => th.getBoundingClientRect().right")
    assert right <= 1400
    page.close()


def test_the_filter_box_keeps_the_rows_that_match(browser, many):  # noqa: F811
    _, page_file, board, _ = many
    page, _ = _open(browser, page_file)
    box = page.locator(f"{BOARD} input.filter")
    box.fill("long-experiment")
    visible = page.locator(f"{BOARD} tr.row:visible")
    expected = [r["name"] for r in board["rows"] if "long-experiment" in r["name"]]
    assert len(expected) == 10 and visible.count() == 10
    assert sorted(r.get_attribute("data-name") for r in visible.all()) == sorted(expected)
    assert page.locator(f"{BOARD} .tools .count").inner_text() == "10 of 106 rows"
    box.fill("")
    assert page.locator(f"{BOARD} tr.row:visible").count() == 106
    page.close()


def _pair_text(text: str) -> tuple[float, float, float]:
    nums = [float(x.replace("\u2212", "-")) for x in re.findall(r"[+\u2212]\d+\.\d+", text)]
    assert len(nums) == 3, text
    return nums[0], nums[1], nums[2]


def test_hovering_a_row_shows_each_pair_s_paired_interval(browser, many):  # noqa: F811
    store, page_file, board, _ = many
    page, _ = _open(browser, page_file)
    rows = {r["method"]: r for r in board["rows"]}
    hovered, near, weak = "prm-jitter-001", "prm-jitter-002", "prm-jitter-010"
    page.locator(f"{BOARD} tr.row[data-name='{hovered}']").hover()
    assert page.locator(f"{BOARD} th.ties").inner_text().startswith("\u0394 vs. prm-jitter-001")
    assert page.locator(f"{BOARD} tr.row[data-name='{hovered}'] td.ties").inner_text() == "this row"
    for other in (near, weak):
        cell = page.locator(f"{BOARD} tr.row[data-name='{other}'] td.ties")
        d, lo, hi = _pair_text(cell.inner_text())
        c = compare(other, hovered, results=store, resamples=RESAMPLES)
        assert (d, lo, hi) == (round(c.delta, 2), round(c.ci95[0], 2), round(c.ci95[1], 2))
        assert ("tie" in cell.get_attribute("class").split()) == c.tied == (hovered in rows[other]["tied_with"])
    assert compare(near, hovered, results=store, resamples=RESAMPLES).tied
    assert not compare(weak, hovered, results=store, resamples=RESAMPLES).tied
    # leaving the table puts the tie ranks back
    page.mouse.move(5, 5)
    cell = page.locator(f"{BOARD} tr.row[data-name='{near}'] td.ties")
    lo, hi = rows[near]["tie_ranks"]
    assert cell.inner_text() == f"{lo}\u2013{hi}"
    page.close()


def test_tie_groups_are_marked_and_no_folder_is_published(browser, many):  # noqa: F811
    _, page_file, board, tmp = many
    page, _ = _open(browser, page_file)
    marked = page.locator(f"{BOARD} td.rank.tg0, {BOARD} td.rank.tg1").count()
    assert marked >= 90  # the near-identical copies are tied with the row leading their group
    text = page_file.read_text()
    assert str(tmp) not in text and "/work/" not in text and str(tmp.parent) not in text
    title = page.locator(f"{BOARD} tr.row[data-name='prm-jitter-003']").get_attribute("title")
    assert "pred: jitter-003.h5 (sha256 " in title and "--pred jitter-003.h5" in title and "gt: valid.h5" in title
    page.close()
