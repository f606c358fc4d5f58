"""The task contract (evaluators/base.py, issue 26), for every task:

- ``Result.subset(items)`` equals evaluating a GT and predictions that hold only those items, bit for bit
  (every number of ``to_dict``; the official tie order included: the items keep the GT's order);
- ``Evaluator.state()`` is picklable, and merging the states of any partition of the items (uneven shards,
  any order, a shard padded with a repeat of an item, as a DDP sampler pads) equals one evaluator fed
  everything, bit for bit;
- an item repeated with other content is an error naming it;
- ``--task pose --protocol posetrack21`` is task ``pose21``.
"""

from __future__ import annotations

import ast
import glob
import json
import os
import pickle
from pathlib import Path

import numpy as np
import pytest

import poseval_refine as prt
from poseval_refine.cli import main
from poseval_refine.errors import MismatchError
from poseval_refine.serve.splits import annolist_entries, posetrack_people

from .support import cocobuild
from .support.mpiibuild import annorect_person
from .support.pt21build import CASES as PT21_CASES
from .support.pt21build import write_case
from .support.restrict import jittered_people

SEED = 61  # no other test uses it


def _load_folder(folder: Path) -> dict:
    """{file name: parsed JSON} in the order the file system lists the folder (poseval's glob order)."""
    return {os.path.basename(f): json.loads(Path(f).read_text())
            for f in glob.glob(os.path.join(glob.escape(str(folder)), "*.json"))}


def _without(d: dict, *keys) -> dict:
    return {k: v for k, v in d.items() if k not in keys}


@pytest.fixture(scope="module")
def pt_bench(tmp_path_factory):
    from poseval_refine.formats.posetrack import write_posetrack
    from poseval_refine.synthetic import make_benchmark

    root = tmp_path_factory.mktemp("pt")
    gt, pred = make_benchmark(9, 12, seed=SEED)
    write_posetrack(gt, root / "gt", "posetrack2017")
    write_posetrack(pred, root / "pred", "posetrack2018")
    return root


@pytest.fixture(scope="module")
def pt21_bench(tmp_path_factory):
    return write_case(PT21_CASES["ties"], tmp_path_factory.mktemp("pt21") / "ties")


@pytest.fixture(scope="module")
def coco_bench():
    return cocobuild.make_benchmark(seed=SEED, n_images=24)


def _chosen(keys: list, seed: int) -> list:
    """About half of the items, in a shuffled order (subset keeps the GT's order whatever order it is given)."""
    rng = np.random.default_rng(seed)
    pick = [k for k in keys if rng.random() < 0.5] or keys[:1]
    rng.shuffle(pick)
    return pick


def _shards(keys: list, seed: int) -> list[list]:
    """Three uneven shards of the items in a shuffled order; the last padded with a repeat of the first item."""
    rng = np.random.default_rng(seed)
    order = list(keys)
    rng.shuffle(order)
    a, b = 1, 1 + (len(order) - 1) * 2 // 3
    shards = [order[:a], order[a:b], order[b:]]
    shards[2].append(order[0])
    return shards


# ----------------------------------------------------------------------------- PoseTrack
@pytest.mark.parametrize("task, protocol", [("pose", "official"), ("tracking", "official"),
                                            ("tracking", "corrected")])
def test_posetrack_subset_is_evaluating_only_those_sequences(pt_bench, task, protocol):
    full = prt.evaluate(pt_bench / "gt", pt_bench / "pred", task=task, protocol=protocol, min_score=0.1)
    gt, pred = _load_folder(pt_bench / "gt"), _load_folder(pt_bench / "pred")
    names = full.items
    assert names == full.to_dict()["per_sequence"]
    chosen = _chosen(names, SEED)
    sub = full.subset(chosen).to_dict()
    # the GT of only those sequences, in the order the full GT has them
    keep = [n for n in names if n in chosen]
    only_gt = {f"{n}.json": gt[f"{n}.json"] for n in keep}
    only_pred = {f"{n}.json": pred[f"{n}.json"] for n in keep}
    alone = prt.evaluate(only_gt, only_pred, task=task, protocol=protocol, min_score=0.1).to_dict()
    assert sub == alone and sub["per_sequence"] == keep
    assert sub != full.to_dict()
    assert full.subset(names).to_dict() == full.to_dict()


def test_posetrack_merged_states_equal_one_evaluator(pt_bench):
    pred = _load_folder(pt_bench / "pred")
    whole = prt.evaluate(pt_bench / "gt", pt_bench / "pred", task="tracking").to_dict()
    states = []
    for shard in reversed(_shards(sorted(pred), SEED)):
        ev = prt.Evaluator(pt_bench / "gt", task="tracking")
        for name in shard:
            ev.update({name: pred[name]})
        states.append(pickle.loads(pickle.dumps(ev.state())))
    merged = prt.Evaluator(pt_bench / "gt", task="tracking").merge(states)
    assert merged.compute().to_dict() == whole
    # a state that holds a sequence with other statistics: the item is named
    names = sorted(pred)
    other = prt.Evaluator(pt_bench / "gt", task="tracking").update({names[0]: pred[names[1]]}).state()
    with pytest.raises(MismatchError, match=f"sequence '{names[0][:-5]}' is given twice, with different content"):
        merged.merge([other])
    with pytest.raises(prt.ConfigError, match="cannot merge a state of --task tracking"):
        prt.Evaluator(pt_bench / "gt", task="tracking", protocol="corrected").merge(states)


def test_workers_merge_states_bit_for_bit(pt_bench):
    one = prt.evaluate(pt_bench / "gt", pt_bench / "pred", task="tracking").to_dict()
    assert prt.evaluate(pt_bench / "gt", pt_bench / "pred", task="tracking", workers=2).to_dict() == one


@pytest.fixture(scope="module")
def pckh_cases(request, tmp_path_factory):
    """PCKh benchmarks (GT folder, predictions folder = the GT's people jittered): the shared data's real GT,
    Bonn's 30 test sequences (2017 layout) and PoseTrack 2018 val frames (2018 layout), and a generated one."""
    root = tmp_path_factory.mktemp("pckh")

    def case(name: str) -> tuple[Path, Path]:
        if name == "generated":
            gt = request.getfixturevalue("pt_bench") / "gt"
        else:
            shared = request.getfixturevalue("shared_data")
            gt = {"bonn_test": shared / "posetrack_cases" / "bonn_test" / "gt",
                  "posetrack18": shared / "posetrack18_val_sample" / "annotations" / "val"}[name]
        return gt, jittered_people(gt, root / name, seed=SEED)
    return case


@pytest.mark.parametrize("case", ["bonn_test", "posetrack18", "generated"])
def test_pckh_subset_is_evaluating_only_those_people(pckh_cases, tmp_path, case):
    gt, pred = pckh_cases(case)
    full = prt.evaluate(gt, pred, task="pckh")
    people = full.items
    assert len(people) == len(set(people))  # keys are unique
    assert all(k.count("/") >= 2 for k in people)
    # every person of the GT is an item: the image items' people add up
    assert len(people) > len(full.to_dict()["items"]) > 0
    for seed in range(1 if case == "bonn_test" else 3):  # Bonn's 8,180 people: one draw
        chosen = _chosen(people, SEED + 10 + seed)
        alone = prt.evaluate(posetrack_people(gt, tmp_path / f"gt{seed}", chosen),
                             posetrack_people(pred, tmp_path / f"pred{seed}", chosen), task="pckh").to_dict()
        sub = full.subset(chosen).to_dict()
        assert sub == alone and sub != full.to_dict()
        assert 0 < sub["pckh_total"] < 100
    assert full.subset(people).to_dict() == full.to_dict()
    # a whole sequence by name is all its people
    first = full.to_dict()["items"][0]["image"].rsplit("/", 1)[0]
    assert full.subset([first]).to_dict() == full.subset([k for k in people if k.startswith(first + "/")]).to_dict()
    with pytest.raises(MismatchError, match="person 'nope/0/0' is not in the GT"):
        full.subset(["nope/0/0"])


# ----------------------------------------------------------------------------- PoseTrack21
@pytest.mark.parametrize("task", ["hota", "pose21"])
def test_posetrack21_subset_and_merge(pt21_bench, task):
    d = pt21_bench
    full = prt.evaluate(d / "gt", d / "pred", task=task)
    gt, pred = _load_folder(d / "gt"), _load_folder(d / "pred")
    chosen = _chosen(full.items, SEED + 2)
    keep = [n for n in full.items if n in chosen]
    alone = prt.evaluate({f"{n}.json": gt[f"{n}.json"] for n in keep},
                         {f"{n}.json": pred[f"{n}.json"] for n in keep}, task=task).to_dict()
    assert full.subset(chosen).to_dict() == alone
    states = []
    for shard in _shards(sorted(pred), SEED + 3):
        ev = prt.Evaluator(d / "gt", task=task)
        ev.update({name: pred[name] for name in shard})
        states.append(pickle.loads(pickle.dumps(ev.state())))
    assert prt.Evaluator(d / "gt", task=task).merge(states[::-1]).compute().to_dict() == full.to_dict()


def test_pose21_is_the_old_pose_protocol(pt21_bench, tmp_path, capsys):
    d = pt21_bench
    new, old = tmp_path / "new.json", tmp_path / "old.json"
    assert main(["evaluate", "--gt", str(d / "gt"), "--pred", str(d / "pred"), "--task", "pose21", "--json",
                 str(new)]) == 0
    assert main(["evaluate", "--gt", str(d / "gt"), "--pred", str(d / "pred"), "--task", "pose", "--protocol",
                 "posetrack21", "--json", str(old)]) == 0
    err = capsys.readouterr().err
    assert "--task pose --protocol posetrack21 is --task pose21 now" in err
    assert json.loads(new.read_text()) == json.loads(old.read_text())
    assert json.loads(new.read_text())["task"] == "pose21"
    assert prt.evaluate(d / "gt", d / "pred", task="pose", protocol="posetrack21").task == "pose21"
    with pytest.raises(prt.ConfigError, match="option --min-score does not apply to --task pose21"):
        prt.evaluate(d / "gt", d / "pred", task="pose", protocol="posetrack21", min_score=0.5)


def task_name_comparisons(source: str, names) -> list[tuple[int, str]]:
    """(line, name) of every comparison of a value with a task name (``task == "tracking"``, ``name in ("pose",
    "hota")``): a branch on which task it is."""
    def strings(node) -> set:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return {node.value}
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            return set().union(set(), *(strings(e) for e in node.elts))
        return set()

    return sorted((node.lineno, name) for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Compare)
                  for name in set().union(strings(node.left), *(strings(c) for c in node.comparators)) & set(names))


def test_no_task_name_branches_outside_the_tasks_modules():
    """A task's module may branch on its own tasks' names; nothing else names a task to branch on it. Left out:
    ``analysis/`` (prt analyze keeps a diagnosis per task and dispatches on its name: issue 27's), and the COCO
    protocol called ``coco`` (formats/coco.py compares a protocol, not a task)."""
    from poseval_refine.evaluators import TASK_MODULES

    assert task_name_comparisons('if task == "tracking" or t in ("pose", "x"):\n    pass\n', TASK_MODULES) == \
        [(1, "pose"), (1, "tracking")]
    root = Path(prt.__file__).parent
    for path in [root / "evaluators" / "posetrack.py", *sorted((root / "commands").glob("*.py"))]:
        assert '"posetrack21"' not in path.read_text(), path
    found = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        own = {t for t, m in TASK_MODULES.items() if rel == f"evaluators/{m}.py"}
        allowed = own | ({"coco"} if rel == "formats/coco.py" else set())
        if not rel.startswith("analysis/"):
            found += [f"{rel}:{line}: {name}" for line, name in task_name_comparisons(path.read_text(), TASK_MODULES)
                      if name not in allowed]
    assert not found, "\n".join(found)


# ----------------------------------------------------------------------------- COCO
@pytest.mark.parametrize("engine", ["prt", "pycocotools"])
def test_coco_subset_is_evaluating_only_those_images(coco_bench, engine):
    gt, results = coco_bench
    full = prt.evaluate(gt, results, task="coco", engine=engine)
    chosen = _chosen(full.items, SEED + 4)
    keep = set(chosen)
    only_gt = dict(gt, images=[im for im in gt["images"] if im["id"] in keep],
                   annotations=[a for a in gt["annotations"] if a["image_id"] in keep])
    only_res = [r for r in results if r["image_id"] in keep]
    alone = prt.evaluate(only_gt, only_res, task="coco", engine=engine).to_dict()
    assert full.subset(chosen).to_dict() == alone
    assert full.subset(full.items).to_dict() == full.to_dict()


def test_coco_merged_states_equal_one_evaluator(coco_bench):
    gt, results = coco_bench
    whole = prt.evaluate(gt, results, task="coco").to_dict()
    images = sorted({r["image_id"] for r in results})
    states = []
    for shard in _shards(images, SEED + 5):
        ev = prt.Evaluator(gt, task="coco")
        for img in shard:  # one batch per image, as a sampler over images gives them
            ev.update([r for r in results if r["image_id"] == img])
        states.append(pickle.loads(pickle.dumps(ev.state())))
    merged = prt.Evaluator(gt, task="coco").merge(states[::-1]).compute().to_dict()
    assert merged == whole
    moved = [dict(r, score=r["score"] / 2) for r in results if r["image_id"] == images[0]]
    with pytest.raises(MismatchError, match=f"image {images[0]!r} is given twice, with different detections"):
        prt.Evaluator(gt, task="coco").merge(states).merge(
            [prt.Evaluator(gt, task="coco").update(moved).state()])


# ----------------------------------------------------------------------------- MPII
@pytest.fixture(scope="module")
def mpii(shared_data):
    from poseval_refine.formats.mpii import load_arrays

    root = shared_data / "mpii_val"
    arrays = {k: np.asarray(v) for k, v in load_arrays(root / "valid.h5").items()}
    pred = np.asarray(load_arrays(root / "newell.h5")["preds"])
    return root / "valid.h5", arrays, pred


def test_single_subset_is_evaluating_only_those_people(mpii):
    gt_file, arrays, pred = mpii
    full = prt.evaluate(gt_file, pred, task="single")
    chosen = _chosen(full.items, SEED + 6)
    keep = np.sort(np.asarray(chosen))
    n = len(full.items)
    only_gt = {k: v[keep] if v.ndim and v.shape[0] == n else v for k, v in arrays.items()}
    alone = prt.evaluate(only_gt, pred[keep], task="single").to_dict()
    assert _without(full.subset(chosen).to_dict(), "gt") == _without(alone, "gt")


def test_single_merged_states_and_repeats(mpii):
    gt_file, _, pred = mpii
    whole = prt.evaluate(gt_file, pred, task="single").to_dict()
    states = []
    for shard in _shards(list(range(len(pred))), SEED + 7):
        ev = prt.Evaluator(gt_file, task="single")
        idx = np.asarray(shard)
        ev.update((idx, pred[idx]))
        states.append(pickle.loads(pickle.dumps(ev.state())))
    assert prt.Evaluator(gt_file, task="single").merge(states[::-1]).compute().to_dict() == whole
    ev = prt.Evaluator(gt_file, task="single").update(([3], pred[[3]]))
    ev.update(([3], pred[[3]]))  # identical: counts once
    with pytest.raises(MismatchError, match="person 3 is given twice, with different content"):
        ev.update(([3], pred[[3]] + 1))


@pytest.mark.parametrize("suffix", [".json", ".mat"])
def test_multi_subset_is_evaluating_only_those_images(tmp_path, suffix):
    import scipy.io

    rng = np.random.default_rng(SEED + 8)
    gt_list, pred_list = [], []
    for i in range(12):
        people = [(100 + 200 * k + rng.uniform(-5, 5), 100 + rng.uniform(-5, 5)) for k in range(rng.integers(1, 4))]
        gt_list.append({"image": [{"name": f"{i}.jpg"}], "annorect": [annorect_person(x, y) for x, y in people]})
        preds = [annorect_person(x + rng.normal(0, 4), y + rng.normal(0, 4), score=float(rng.choice([0.5, 0.9])),
                                 head=False) for x, y in people if rng.random() < 0.8]
        pred_list.append({"image": [{"name": f"{i}.jpg"}], "annorect": preds})
    gt, pred = tmp_path / f"gt{suffix}", tmp_path / f"pred{suffix}"
    for path, entries in ((gt, gt_list), (pred, pred_list)):
        if suffix == ".json":
            path.write_text(json.dumps({"annolist": entries}))
        else:  # a MATLAB cell array of entry structs
            scipy.io.savemat(path, {"annolist": entries})
    full = prt.evaluate(gt, pred, task="multi")
    assert full.items == list(range(12))
    chosen = _chosen(full.items, SEED + 9)
    keep = sorted(chosen)
    # the annolists of only those entries, filtered as the hosted benchmark's parts are
    part_gt = annolist_entries(gt, tmp_path / f"gt_sub{suffix}", chosen)
    part_pred = annolist_entries(pred, tmp_path / f"pred_sub{suffix}", chosen)
    if suffix == ".json":  # the filter is what its name says
        assert json.loads(part_gt.read_text()) == {"annolist": [gt_list[i] for i in keep]}
    alone = prt.evaluate(part_gt, part_pred, task="multi").to_dict()
    sub = full.subset(chosen).to_dict()
    assert _without(sub, "gt", "pred") == _without(alone, "gt", "pred") and sub != full.to_dict()
    assert full.payload.ap == full.to_dict()["ap"] and type(full.payload).__name__ == "MultiPayload"


def test_every_registered_task_has_a_subset_test():
    """A task added to the registry fails here until its ``Result.subset`` is tested above."""
    from poseval_refine.evaluators import task_names

    tested = {"pose": test_posetrack_subset_is_evaluating_only_those_sequences,
              "tracking": test_posetrack_subset_is_evaluating_only_those_sequences,
              "pckh": test_pckh_subset_is_evaluating_only_those_people,
              "hota": test_posetrack21_subset_and_merge, "pose21": test_posetrack21_subset_and_merge,
              "coco": test_coco_subset_is_evaluating_only_those_images,
              "single": test_single_subset_is_evaluating_only_those_people,
              "multi": test_multi_subset_is_evaluating_only_those_images}
    assert set(task_names()) <= set(tested), sorted(set(task_names()) - set(tested))


def test_subset_of_unknown_items_and_of_stored_results(pt_bench):
    full = prt.evaluate(pt_bench / "gt", pt_bench / "pred", task="pose")
    with pytest.raises(MismatchError, match="sequence 'nope' is not in the GT"):
        full.subset(["nope"])
    stored = prt.api.Result("pose", full.to_dict())
    with pytest.raises(prt.ConfigError, match="holds no evaluation session"):
        stored.subset(full.items[:1])


# ----------------------------------------------------------------------------- typed payloads
def test_every_task_has_a_typed_payload_of_its_result(pt_bench, pt21_bench, coco_bench, mpii):
    from poseval_refine.evaluators import payloads

    gt, results = coco_bench
    runs = {
        "tracking": prt.evaluate(pt_bench / "gt", pt_bench / "pred", task="tracking"),
        "pose": prt.evaluate(pt_bench / "gt", pt_bench / "pred", task="pose"),
        "pckh": prt.evaluate(pt_bench / "gt", pt_bench / "gt", task="pckh"),
        "hota": prt.evaluate(pt21_bench / "gt", pt21_bench / "pred", task="hota"),
        "pose21": prt.evaluate(pt21_bench / "gt", pt21_bench / "pred", task="pose21"),
        "coco": prt.evaluate(gt, results, task="coco"),
        "single": prt.evaluate(mpii[0], mpii[2], task="single"),
    }
    kinds = {"tracking": payloads.PoseTrackPayload, "pose": payloads.PoseTrackPayload,
             "pckh": payloads.PairedPCKhPayload, "hota": payloads.HotaPayload,
             "pose21": payloads.PoseTrack21MapPayload, "coco": payloads.CocoPayload, "single": payloads.SinglePayload}
    for name, r in runs.items():
        p, d = r.payload, r.to_dict()
        assert type(p) is kinds[name] and p.task == name, name
        assert json.dumps(p.headline) == json.dumps(r.headline), name
        assert json.dumps(p.to_dict()) == json.dumps(r._data) and p.render() == r.render(), name
        assert len(p.item_stats) == len(d["items"]), name
        w = np.ones((1, len(p.item_stats)), dtype=int)
        assert {k: float(v[0]) for k, v in p.resample(w).items()}.keys() <= set(p.headline), name
    t = runs["tracking"].payload
    assert list(t.ap_joint) == runs["tracking"].to_dict()["ap_joint"] and t.motp_total == runs["tracking"]["MOTP"]
    assert runs["pose"].payload.mota_joint is None
    c = runs["coco"].payload
    assert c.stats["AP"] * 100 == runs["coco"]["AP"] and c.counts["detections"] == len(results)
    assert runs["hota"].payload.fields["HOTA"]["Total"] == runs["hota"]["HOTA"]
    s = runs["single"].payload
    assert s.pckh["Total"] == runs["single"]["PCKh@0.5"] and s.people == 2958 and s.flavour == "matlab"


def test_results_stored_under_the_old_spelling_still_rank(pt21_bench, tmp_path):
    """A result of ``--task pose --protocol posetrack21`` saved before pose21 existed (task "pose") is read by
    the pose task's hooks as the pose21 result it is, and ranks on its board."""
    from poseval_refine.evaluators import get_task
    from poseval_refine.results.board import build_boards
    from poseval_refine.results.store import load_dir

    d = pt21_bench
    new = prt.evaluate(d / "gt", d / "pred", task="pose21")
    old = dict(new.to_dict(), task="pose")
    pose = get_task("pose")
    assert json.dumps(pose.headline(old)) == json.dumps(new.headline)
    w = np.vstack([np.ones(len(old["items"]), dtype=int), np.eye(len(old["items"]), dtype=int)[0] * 3])
    assert {k: v.tolist() for k, v in pose.resample(old, w).items()} == \
        {k: v.tolist() for k, v in get_task("pose21").resample(new.to_dict(), w).items()}
    prt.api.Result("pose", old, inputs={"gt": d / "gt", "pred": d / "pred"}).save("old-net", results=tmp_path)
    board, = [b for b in build_boards(load_dir(tmp_path), task="pose", resamples=20, quoted=False)]
    assert board.protocol == "protocol posetrack21"  # a board of its own, as before
    assert board.rows[0].method == "old-net" and board.rows[0].value == new.headline["mAP"]
