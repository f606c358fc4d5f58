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


MPII_IMAGES = ("004645041.jpg", "005808361.jpg", "051423444.jpg", "052475643.jpg", "060754485.jpg")


@pytest.fixture(scope="module")
def mpii_pages(tmp_path_factory, shared_data):
    """MPII single (valid.h5, the Stacked Hourglass predictions) and multi (the validation people grouped by
    image, PyraNet's predictions), the wrists of the people of the 5 shared images inverted."""
    import h5py

    from .support.mpiibuild import valid_annolists

    tmp = tmp_path_factory.mktemp("analyze_mpii_html")
    root = shared_data / "mpii_val"
    images = root / "images"
    with h5py.File(root / "newell.h5") as f:
        preds = np.array(f["preds"], dtype=float)
    preds[:5, [10, 15]] = preds[:5, [15, 10]]  # people 0-4: the people of the 5 images
    with h5py.File(tmp / "single.h5", "w") as f:
        f["preds"] = preds
    single = tmp / "single.html"
    assert main(["analyze", "--gt", str(root / "valid.h5"), "--pred", str(tmp / "single.h5"), "--html", str(single),
                 "--images", str(images)]) == 0
    gt, pred = valid_annolists(root, tmp / "multi", singles=100)
    doc = json.loads(pred.read_text())
    for entry in doc["annolist"]:
        if entry["image"]["name"] in MPII_IMAGES:
            for rect in entry["annorect"]:
                pts = {p["id"]: p for p in rect["annopoints"][0]["point"]}
                for a in ("x", "y"):
                    pts[10][a], pts[15][a] = pts[15][a], pts[10][a]
    pred.write_text(json.dumps(doc))
    multi = tmp / "multi.html"
    assert main(["analyze", "--gt", str(gt), "--pred", str(pred), "--html", str(multi), "--images", str(images)]) == 0
    return {"single": single, "multi": multi}


@pytest.mark.parametrize("task", ["single", "multi"])
def test_mpii_page_overlays_the_real_images(browser, mpii_pages, task):
    from PIL import Image

    page, external = _open(browser, mpii_pages[task])
    assert external == []
    figures = page.locator("figure")
    assert figures.count() == 5  # the 5 images under --images, each with its inverted wrists
    captions = " ".join(page.locator("figcaption").all_inner_texts())
    assert all(name in captions for name in MPII_IMAGES)
    for i in range(5):
        fig = figures.nth(i)
        assert fig.locator("svg image").count() == 1
        assert fig.locator('circle[fill="#D96459"]').count() >= 1  # a wrist in the inversion colour
        box = fig.locator("svg").bounding_box()
        assert box["width"] > 150 and box["height"] > 100
    assert page.locator('figure circle[fill="#D96459"]').count() >= 8  # of the 10 wrists inverted
    png = page.screenshot(full_page=True)
    img = np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=np.float64)
    assert img.std() > 20  # photographs drawn, not an empty page
    page.close()


def test_pose21_page_overlays_the_worst_labeled_frames(browser, shared_data, tmp_path):
    """The PoseTrack21 case with a plain image behind every frame (its ``file_name`` under --images)."""
    from PIL import Image

    root = shared_data / "posetrack21_cases" / "basic"
    images = tmp_path / "images"
    blank = Image.new("RGB", (1920, 1080), (90, 110, 130))
    for f in (root / "gt").glob("*.json"):
        for im in json.loads(f.read_text())["images"]:
            path = images / im["file_name"]
            path.parent.mkdir(parents=True, exist_ok=True)
            blank.save(path)
    out = tmp_path / "pose21.html"
    assert main(["analyze", "--task", "pose21", "--gt", str(root / "gt"), "--pred", str(root / "pred"), "--html",
                 str(out), "--images", str(images)]) == 0
    page, external = _open(browser, out)
    assert external == []
    assert page.locator("figure").count() == 6
    first = page.locator("figcaption").first.inner_text()
    assert first.startswith("images/val/") and "wrong joints" in first
    wrong = int(first.split(": ")[1].split()[0])
    # the worst frame's wrong joints drawn in their kinds' colours, with a line to their GT joint
    colours = ("#8C4646", "#D96459", "#F2AE72", "#d4b106")
    fig = page.locator("figure").first
    drawn_wrong = sum(fig.locator(f'circle[fill="{c}"]').count() for c in colours)
    assert 1 <= drawn_wrong <= wrong  # misses that were not predicted have no dot
    assert fig.locator("line").count() >= 1 and fig.locator("circle[stroke='white']").count() > 10
    page.close()
