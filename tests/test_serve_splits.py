"""The split of a hosted benchmark and the evaluation of one part (poseval_refine.serve.splits), without a
server: deterministic disjoint parts, and a part's numbers (Result.subset of one evaluation, as the server
stores them, and the part evaluated alone) equal to `prt evaluate` on folders holding just those sequences,
for the PoseTrack `pose` and PoseTrack21 `hota` tasks, and on files holding just those people (`pckh`, real
Bonn test GT) or images (`multi`) (the server tests cover `tracking`, `coco`, `single`, `multi`, `pckh`)."""

from __future__ import annotations

import json
import math
import shutil

import pytest

from poseval_refine.errors import MismatchError

from .support.serve import need_serve_extra, prt_here


def _same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(x == y or (math.isnan(x) and math.isnan(y)) for x, y in
                                        ((float("nan") if a[k] is None else a[k], float("nan") if b[k] is None
                                          else b[k]) for k in a))


def test_the_split_is_seeded_disjoint_and_covers_every_item():
    need_serve_extra()
    from poseval_refine.serve.splits import make_split

    items = [f"s{i:02d}" for i in range(24)]
    a, b = make_split(items, 0.25, 5), make_split(items, 0.25, 5)
    assert a == b and len(a["public"]) == 6
    assert sorted(a["public"] + a["private"]) == items and not set(a["public"]) & set(a["private"])
    assert make_split(items, 0.25, 6) != a
    assert len(make_split(items[:2], 0.01, 0)["public"]) == 1  # at least one item in each part


@pytest.mark.parametrize("case,task", [("posetrack_cases/synth24", "pose"), ("posetrack21_cases/basic", "hota")])
def test_a_part_is_prt_evaluate_on_its_sequences_alone(shared_data, tmp_path, case, task):
    need_serve_extra()
    from poseval_refine.evaluators import get_task
    from poseval_refine.serve.splits import evaluate_part, evaluate_parts, list_items, make_split

    gt, pred = shared_data / case / "gt", shared_data / case / "pred"
    items = list_items(task, gt)
    split = make_split(items, 0.5, 11)
    subsets = evaluate_parts(task, {}, gt, pred, split)  # what the server stores: one evaluation, two subsets
    for part in ("public", "private"):
        got = subsets[part].headline
        assert _same(got, evaluate_part(task, {}, gt, pred, split[part]).headline)
        where = tmp_path / part
        for sub, src in (("gt", gt), ("pred", pred)):
            (where / sub).mkdir(parents=True)
            for s in split[part]:
                shutil.copyfile(src / f"{s}.json", where / sub / f"{s}.json")
        code, _ = prt_here("evaluate", "--gt", where / "gt", "--pred", where / "pred", "--task", task, "--json",
                           where / "out.json", "-q")
        assert code == 0
        want = get_task(task).headline(json.loads((where / "out.json").read_text()))
        assert _same(got, want), (part, got, want)


def test_a_pckh_part_is_prt_evaluate_on_its_people_alone(shared_data, tmp_path):
    """Bonn's 30 real test sequences (8,180 GT people), predictions = the GT's people jittered: a part holds
    people of most sequences, and its numbers are `prt evaluate` on sequence files holding only them."""
    need_serve_extra()
    from poseval_refine.evaluators import get_task
    from poseval_refine.serve.splits import (
        check_prediction,
        evaluate_part,
        evaluate_parts,
        list_items,
        make_split,
        posetrack_people,
    )

    from .support.restrict import jittered_people

    gt = shared_data / "posetrack_cases" / "bonn_test" / "gt"
    pred = jittered_people(gt, tmp_path / "pred", seed=28)
    items = list_items("pckh", gt)
    assert len(items) == 8180 and items[0].count("/") == 2
    split = make_split(items, 0.3, 4)
    check_prediction("pckh", gt, pred, items, "pred.zip")
    subsets = evaluate_parts("pckh", {}, gt, pred, split)
    part = split["public"]
    got = subsets["public"].headline
    assert _same(got, evaluate_part("pckh", {}, gt, pred, part).headline)
    where = tmp_path / "public"
    gt_part, pred_part = posetrack_people(gt, where / "gt", part), posetrack_people(pred, where / "pred", part)
    code, _ = prt_here("evaluate", "--gt", gt_part, "--pred", pred_part, "--task", "pckh", "--json",
                       where / "out.json", "-q")
    assert code == 0
    assert _same(got, get_task("pckh").headline(json.loads((where / "out.json").read_text())))
    assert not _same(got, subsets["private"].headline)
    # a sequence the GT lacks names the team's file; nothing says which person is in which part
    (pred / "zz_extra.json").write_bytes(next(pred.glob("*.json")).read_bytes())
    with pytest.raises(MismatchError, match="predictions for sequence 'zz_extra', which the GT lacks"):
        check_prediction("pckh", gt, pred, items, "pred.zip")


def test_every_registered_task_can_be_hosted():
    """Each task's items can be split (its ``Result.subset`` is tested in test_task_contract.py)."""
    need_serve_extra()
    from poseval_refine.evaluators import task_names
    from poseval_refine.serve.splits import SPLIT_TASKS

    assert set(task_names()) <= set(SPLIT_TASKS), sorted(set(task_names()) - set(SPLIT_TASKS))


def test_error_messages_lose_the_workers_temporary_paths():
    need_serve_extra()
    import tempfile

    from poseval_refine.serve.queue import scrub

    t = tempfile.gettempdir()
    assert scrub(f"{t}/prt-part-x1_2/pred/000001.json, frame 2: bad", "p.zip") == "000001.json, frame 2: bad"
    assert scrub(f"{t}/prt-part-ab/pred.json: results[3]", "mine.json") == "mine.json: results[3]"
    assert scrub(f"{t}/prt-sub-q_9/upload/seq/a.json: bad", "p.zip") == "seq/a.json: bad"
    assert scrub(f"{t}/prt-serve-gt-123-ab_c9/4-0123456789abcdef/gt/000001.json: bad", "p.zip") == \
        "GT gt/000001.json: bad"
