"""The leaderboard page in a real headless Chromium (Debian's chromium driven by playwright)."""

from __future__ import annotations

import io

import numpy as np
import pytest

from poseval_refine.cli import main

from .support.browser import open_page as _open


@pytest.fixture(scope="module")
def page_file(tmp_path_factory, shared_data):
    from .support.mpiibuild import perturbed_predictions

    tmp = tmp_path_factory.mktemp("html")
    root = shared_data / "mpii_val"
    store = tmp / "store"
    for name, src, seed in (("alpha-net", "newell.h5", 1), ("beta-net", "pyranet-prm.h5", 2)):
        pred = perturbed_predictions(root / src, tmp / f"{name}.h5", seed=seed, sigma=2.0)
        assert main(["evaluate", "--gt", str(root / "valid.h5"), "--pred", str(pred), "--task", "single",
                     "--save", name, "--results", str(store)]) == 0
    # a result whose interval carries a note (its MOTA's resamples split: see test_interval_notes)
    bonn = shared_data / "posetrack_cases" / "bonn_test"
    assert main(["evaluate", "--gt", str(bonn / "gt"), "--pred", str(bonn / "pred"), "--task", "tracking",
                 "--save", "track-net", "--results", str(store)]) == 0
    out = tmp / "board.html"
    assert main(["leaderboard", "--format", "html", "--out", str(out), "--results", str(store),
                 "--resamples", "200"]) == 0
    return out


def _column(page, board, header):
    heads = [h.strip().rstrip("\u25b2\u25bc ").strip() for h in page.locator(f"{board} thead th").all_inner_texts()]
    i = heads.index(header)
    return page.locator(f"{board} tbody tr.row").evaluate_all(
        f"rows => rows.map(r => r.children[{i}].getAttribute('data-v') || r.children[{i}].textContent.trim())")


def test_page_renders_boards_with_the_saved_results(browser, page_file):
    text = page_file.read_text()
    assert "http://" not in text and "https://" not in text and "<link" not in text and " src=" not in text
    page, requests = _open(browser, page_file)
    assert requests == [page_file.as_uri()]  # nothing but the page itself is fetched
    board = "section[data-benchmark='mpii-val']"
    body = page.locator(board).inner_text()
    for name in ("alpha-net", "beta-net", "Stacked Hourglass (8 stacks)", "Pyramid Residual Module"):
        assert name in body
    # the saved values as evaluated, with their intervals drawn as error bars
    rows = page.locator(f"{board} tbody tr.row")
    assert rows.count() == 8
    for name in ("alpha-net", "beta-net"):
        row = page.locator(f"{board} tr.row", has_text=name)
        value = float(row.locator("td.value").get_attribute("data-v"))
        assert 80 < value < 92 and f"{value:.2f}" in row.inner_text()
        assert row.locator("svg line.ci").count() == 1
        assert "sha256" in row.get_attribute("title") and "prt evaluate" in row.get_attribute("title")
    assert page.locator(f"{board} svg.curves polyline").count() == 8
    assert page.locator("section[data-benchmark='mpii-test'] tr.row").count() == 10
    page.close()


def test_sorting_a_column_reorders_the_rows_and_a_click_shows_the_joints(browser, page_file):
    page, _ = _open(browser, page_file)
    board = "section[data-benchmark='mpii-val']"
    ranked = [float(v) for v in _column(page, board, "PCKh@0.5")]
    assert ranked == sorted(ranked, reverse=True)
    page.locator(f"{board} thead th", has_text="AUC").click()
    auc = [float(v) for v in _column(page, board, "AUC")]
    assert auc == sorted(auc, reverse=True)
    assert [float(v) for v in _column(page, board, "PCKh@0.5")] != ranked  # the order changed
    page.locator(f"{board} thead th", has_text="AUC").click()
    assert [float(v) for v in _column(page, board, "AUC")] == sorted(auc)
    page.locator(f"{board} thead th", has_text="Method").click()
    names = _column(page, board, "Method")
    assert names == sorted(names, key=str.lower)
    row = page.locator(f"{board} tr.row", has_text="beta-net")
    detail = row.locator("xpath=following-sibling::tr[1]")
    assert detail.is_hidden()
    row.click()
    assert detail.is_visible() and "right ankle" in detail.inner_text() and "head top" in detail.inner_text()
    page.close()


def test_screenshot_is_not_empty(browser, page_file, tmp_path):
    from PIL import Image

    page, _ = _open(browser, page_file)
    png = page.screenshot(full_page=False)
    img = np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=np.float64)
    ink = (img < 200).mean()  # share of dark pixels: text, rules, bars
    assert img.shape[0] >= 900 and 0.02 < ink < 0.6, ink
    page.close()


def test_every_column_is_in_view_on_a_laptop_screen(browser, page_file):
    """At 1400 px the MPII board (14 columns, user rows from a store in a temporary folder) needs no
    horizontal scrolling: the Source column is not cut off (as it was in the README's screenshot)."""
    page, _ = _open(browser, page_file)
    table = page.locator("section[data-benchmark='mpii-val'] table.lb")
    widths = table.evaluate("t => [t.scrollWidth, t.parentElement.clientWidth]")
    assert widths[0] <= widths[1], widths
    page.close()


def test_an_interval_note_shows_on_hover_and_below_its_board(browser, page_file):
    page, _ = _open(browser, page_file)
    board = "section[data-benchmark='bonn-multiperson-test'][data-task='tracking']"
    row = page.locator(f"{board} tr.row", has_text="track-net")
    mark = row.locator(".ci-note")
    assert mark.count() == 1 and mark.is_visible() and mark.inner_text() == "\u2021"
    title = mark.get_attribute("title")
    assert "nose has no MOTA in" in title and "of 200 resamples" in title
    foot = page.locator(f"{board} p.foot", has_text="track-net:")
    assert foot.count() == 1 and title in foot.inner_text()
    # the MPII rows' intervals are one lump around their values: no mark, no note
    assert page.locator("section[data-benchmark='mpii-val'] .ci-note").count() == 0
    page.close()
