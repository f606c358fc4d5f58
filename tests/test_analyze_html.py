"""The ``prt analyze --html`` page in a real headless Chromium: self-contained, curves, bars, table, overlays."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

from poseval_refine.cli import main

from .support.browser import open_page


def _open(browser, path):
    """The page (the ``browser`` fixture of conftest.py) and the URLs it requested beyond the file itself."""
    page, requests = open_page(browser, path)
    return page, [r for r in requests if not r.startswith(("file:", "data:"))]


def _coco_case(shared_data, tmp_path):
    """Real COCO GT (4 val2017 images, 14 people) and detections made from it with planted errors; one of
    the images (000000000785.jpg) is in the shared data."""
    gt = json.loads((shared_data / "coco_sample" / "mmpose_test_coco.json").read_text())
    rng = np.random.default_rng(0)
    dets = []
    for a in gt["annotations"]:
        kp = np.array(a["keypoints"], dtype=float).reshape(17, 3)
        scale = np.sqrt(a["area"])
        kp[:, :2] += rng.normal(0, 0.02 * scale, (17, 2))
        kp[[9, 10], :2] = kp[[10, 9], :2]  # wrists inverted
        kp[15, :2] += 0.4 * scale  # an ankle missed
        kp[:, 2] = 0.9
        dets.append({"image_id": a["image_id"], "category_id": 1, "keypoints": kp.ravel().tolist(),
                     "score": float(rng.uniform(0.5, 1))})
    gt_file, dt_file = tmp_path / "gt.json", tmp_path / "dt.json"
    gt_file.write_text(json.dumps(gt))
    dt_file.write_text(json.dumps(dets))
    return gt_file, dt_file


@pytest.fixture(scope="module")
def pages(tmp_path_factory, shared_data):
    tmp = tmp_path_factory.mktemp("analyze_html")
    gt, dt = _coco_case(shared_data, tmp)
    coco = tmp / "coco.html"
    assert main(["analyze", "--gt", str(gt), "--pred", str(dt), "--html", str(coco),
                 "--images", str(shared_data / "coco_sample")]) == 0
    bonn = shared_data / "posetrack_cases" / "bonn_test"
    pose = tmp / "pose.html"
    assert main(["analyze", "--gt", str(bonn / "gt"), "--pred", str(bonn / "pred"), "--html", str(pose),
                 "--images", str(shared_data / "bonn_posetrack" / "videos")]) == 0
    return {"coco": coco, "pose": pose}


def test_coco_page_renders_curves_bars_table_and_an_overlay(browser, pages):
    page, external = _open(browser, pages["coco"])
    assert external == []  # no network
    text = page.inner_text("body")
    assert "Precision–recall after each correction" in text and "Error kinds per joint" in text
    assert page.locator("polyline").count() == 16  # 8 corrections x 2 OKS thresholds
    rows = page.locator("table tr").count()
    assert rows >= 2
    overlays = page.locator("figure svg image")
    assert overlays.count() == 1  # the one image of the four that is in the shared data
    box = page.locator("figure svg").first.bounding_box()
    assert box["width"] > 300 and box["height"] > 150
    # the overlay draws the inverted wrists in the inversion colour
    assert page.locator('figure circle[fill="#D96459"]').count() >= 2
    page.close()


def test_pose_page_overlays_the_worst_real_frames(browser, pages, tmp_path):
    from PIL import Image

    page, external = _open(browser, pages["pose"])
    assert external == []
    assert page.locator("figure").count() == 6
    assert "060470979" in page.locator("figcaption").first.inner_text()
    png = page.screenshot(full_page=True)
    img = np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=np.float64)
    assert img.shape[0] > 1500 and img.std() > 20  # photographs drawn, not an empty page
    page.close()
