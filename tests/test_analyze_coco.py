"""prt analyze on COCO equals coco-analyze (Ronchi & Perona's tool) number for number.

References: ``../shared/data/coco_sample/expected_coco_analyze.json`` (coco-analyze on real
detections) and ``tests/data/coco_analyze_recorded.json`` (coco-analyze's outputs on random
benchmarks drawn by tests/support/analyzebuild.py: crowds, crowds with keypoints, score ties,
empty images, more than 20 detections per image; recorded as docs/analyze.md says).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from poseval_refine.analysis.coco import OKS_KEYS, QUIRKS, coco_inputs, diagnose
from poseval_refine.formats.coco import coco_result_arrays, read_coco_annotations

from .support.analyzebuild import RECORDED, make_analyze_benchmark

RECORDED_FILE = Path(__file__).parent / "data" / "coco_analyze_recorded.json"


def _doc(gt, dt, **options) -> dict:
    ann = read_coco_annotations(gt if isinstance(gt, dict) else Path(gt))
    res = coco_result_arrays(dt, Path("pred"))
    areas = diagnose(coco_inputs(ann, res), **options)
    doc = areas["all"].as_dict()
    doc["by_area"] = {k: areas[k].as_dict() for k in ("medium", "large")}
    return doc


def _differences(got, want, path="") -> list[str]:
    if isinstance(want, dict):
        if set(got) != set(want):
            return [f"{path}: keys {sorted(set(got) ^ set(want))}"]
        return [d for k in want for d in _differences(got[k], want[k], f"{path}/{k}")]
    if isinstance(want, int) and not isinstance(want, bool):
        return [] if got == want else [f"{path}: {got} != {want}"]
    return [] if abs(got - want) <= 1e-9 else [f"{path}: {got!r} != {want!r}"]


def test_real_detections_equal_coco_analyze(shared_data):
    folder = shared_data / "coco_sample"
    want = json.loads((folder / "expected_coco_analyze.json").read_text())
    got = _doc(folder / "gt_dataset.json", json.loads((folder / "dt_dataset.json").read_text()))
    got.pop("by_area")
    assert _differences(got, want) == []


@pytest.mark.parametrize("seed", RECORDED["seed"])
def test_random_benchmarks_equal_recorded_coco_analyze(seed):
    recorded = json.loads(RECORDED_FILE.read_text())
    assert recorded["n_images"] == RECORDED["n_images"]
    want = recorded["outputs"][str(seed)]
    gt, dt = make_analyze_benchmark(seed, RECORDED["n_images"])
    got = _doc(gt, dt)
    assert _differences(got, want) == []
    # the benchmark exercises every error kind and the 'all' range's exclusions
    assert all(want["keypoints"][k] > 0 for k in ("jitter", "inversion", "swap", "miss"))


def test_false_neg_order_fix_puts_each_value_under_its_threshold():
    gt, dt = make_analyze_benchmark(3, 30)
    quirky, fixed = _doc(gt, dt), _doc(gt, dt, fix_false_neg_order=True)
    keys = list(OKS_KEYS)
    for what in ("ap", "recall"):
        assert [quirky[what]["false_neg"][k] for k in keys] == [fixed[what]["false_neg"][k] for k in keys[::-1]]
    assert quirky["ap"]["bckgd_false_pos"] == fixed["ap"]["bckgd_false_pos"]
    # without the removed false negatives, recall can only grow with a lower threshold
    rec = [fixed["recall"]["false_neg"][k] for k in keys]
    assert rec == sorted(rec, reverse=True)


def test_rescore_fix_changes_only_the_rescored_steps():
    gt, dt = make_analyze_benchmark(1, RECORDED["n_images"])
    quirky, fixed = _doc(gt, dt), _doc(gt, dt, fix_rescore_keypoints=True)
    assert quirky["ap"]["score"] != fixed["ap"]["score"]  # this benchmark has detections the quirk rescores
    for step in ("baseline", "miss", "swap", "inversion", "jitter"):
        assert quirky["ap"][step] == fixed["ap"][step]
    # 'large' is the area range whose keypoints coco-analyze uses for all: unchanged there
    assert quirky["by_area"]["large"] == fixed["by_area"]["large"]
    assert set(QUIRKS) >= {"rescore_keypoints", "false_neg_order"}


def test_api_cli_and_compare_on_the_real_sample(shared_data, tmp_path):
    import poseval_refine as prt
    from poseval_refine.cli import main

    folder = shared_data / "coco_sample"
    want = json.loads((folder / "expected_coco_analyze.json").read_text())
    a = prt.analyze(folder / "gt_dataset.json", folder / "dt_dataset.json")
    assert isinstance(a, prt.Analysis) and a.task == "coco"
    d = a.to_dict()
    assert _differences({k: d[k] for k in want}, want) == []
    assert d["quirks"] == {"rescore_keypoints": "reproduced", "false_neg_order": "reproduced"}
    frame = a.to_frame()
    assert frame.sum().to_dict() == d["keypoints"]  # the per-joint counts add up to the totals
    items = d["items"]
    assert [it["errors"] for it in items] == sorted((it["errors"] for it in items), reverse=True)
    assert sum(it["false_pos"] for it in items) == want["false_pos"]["0.50"]
    assert sum(it["false_neg"] for it in items) == want["false_neg"]["0.50"]
    fig = a.plot(tmp_path / "pr.png")
    assert (tmp_path / "pr.png").stat().st_size > 1000 and len(fig.axes[0].lines) == 8
    # the CLI's --json is to_dict(); a prediction compared with itself moves nothing
    out = tmp_path / "a.json"
    assert main(["analyze", "--gt", str(folder / "gt_dataset.json"), "--pred", str(folder / "dt_dataset.json"),
                 "--json", str(out), "--compare", str(folder / "dt_dataset.json")]) == 0
    got = json.loads(out.read_text())
    assert _differences({k: got[k] for k in want}, want) == []
    assert all(a == b for a, row in got["moved"].items() for b in row)
    assert sum(n for row in got["moved"].values() for n in row.values()) > 0


def test_cli_fix_option_and_bad_options(shared_data, tmp_path, capsys):
    from poseval_refine.cli import main

    folder = shared_data / "coco_sample"
    out = tmp_path / "a.json"
    assert main(["analyze", "--gt", str(folder / "gt_dataset.json"), "--pred", str(folder / "dt_dataset.json"),
                 "--json", str(out), "--fix", "false-neg-order"]) == 0
    assert json.loads(out.read_text())["quirks"]["false_neg_order"] == "fixed"
    assert main(["analyze", "--gt", str(folder / "gt_dataset.json"), "--pred", str(folder / "dt_dataset.json"),
                 "--images", str(tmp_path)]) == 2
    assert "--html" in capsys.readouterr().err


def test_rescoring_ties_are_broken_as_coco_analyze_breaks_them():
    """Exact ties of the best OKS: soft-NMS keeps coco-analyze's order (Python's stable sort), and that order
    decides which detection is matched (tests/support/analyzebuild.make_rescoring_tie_case)."""
    from .support.analyzebuild import make_rescoring_tie_case

    want = json.loads(RECORDED_FILE.read_text())["rescoring_tie_case"]
    gt, dt = make_rescoring_tie_case()
    got = _doc(gt, dt)
    assert _differences(got, want) == []
    assert want["false_pos"]["0.50"] == 3  # the order mattered in half the images


def test_compare_with_the_inversions_repaired(tmp_path):
    """Detections whose inverted joints are put back on their GT joints: ``moved`` says exactly those GT joints
    went from inversion to good, and nothing else moved."""
    import copy

    import poseval_refine as prt

    gt, dt = make_analyze_benchmark(2, 30)
    (tmp_path / "gt.json").write_text(json.dumps(gt))
    (tmp_path / "dt.json").write_text(json.dumps(dt))
    before = prt.analyze(tmp_path / "gt.json", tmp_path / "dt.json")
    inp, area = before.arrays["inputs"], before.arrays["areas"]["all"]
    fixed = copy.deepcopy(dt)
    n = 0
    for r in range(len(area.labels)):  # grouped detection r is results[det_row[r]]
        inv = np.flatnonzero(area.labels[r] == 3)
        if not len(inv):
            continue
        kp = fixed[int(inp.det_row[r])]["keypoints"]
        g = area.matched_gt[r]
        for j in inv.tolist():
            kp[3 * j], kp[3 * j + 1] = float(inp.g.x[g, j]), float(inp.g.y[g, j])
        n += len(inv)
    assert n > 0
    (tmp_path / "fixed.json").write_text(json.dumps(fixed))
    d = prt.analyze(tmp_path / "gt.json", tmp_path / "dt.json", compare=tmp_path / "fixed.json").to_dict()
    changed = {(a, b): k for a, row in d["moved"].items() for b, k in row.items() if a != b}
    per_gt_inversions = sum(d["moved"]["inversion"].values())  # GT joints labelled inversion before
    assert changed == {("inversion", "good"): per_gt_inversions} and per_gt_inversions > 0
    assert d["compare"]["keypoints"]["inversion"] == 0
    assert d["compare"]["keypoints"]["good"] == d["keypoints"]["good"] + d["keypoints"]["inversion"]
