"""The split of a hosted benchmark and the evaluation of one part (poseval_refine.serve.splits), without a
server: deterministic disjoint parts, and a part's numbers (Result.subset of one evaluation, as the server
stores them, and the part evaluated alone) equal to `prt evaluate` on folders holding just those sequences,
for the PoseTrack `pose` and PoseTrack21 `hota` tasks (the server tests cover `tracking`, `coco`, `single`)."""

from __future__ import annotations

import json
import math
import shutil

import pytest

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
