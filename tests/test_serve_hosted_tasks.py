"""prt serve hosting MPII multi-person (`--task multi`, split by images: annolist entries) and PoseTrack PCKh
(`--task pckh`, split by people): two teams submit (a .mat and a .json annolist; a folder and a zip of
sequence files), the public numbers and, after reveal, the private ones equal `prt evaluate` on files holding
only that part's images or people (filtered from the raw files), and the board pages show them (issue 28)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from poseval_refine.evaluators import get_task

from .support.mpiibuild import annorect_person
from .support.restrict import jittered_people
from .support.serve import (
    Server,
    add_team,
    admin,
    get,
    nan_free,
    need_serve_extra,
    post_submission,
    prt_here,
    request,
    wait_for,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory, serve_db):
    need_serve_extra()
    root = tmp_path_factory.mktemp("serve-hosted") / "root"
    s = Server(root, workers=1, lease=5.0, db=serve_db, pg_workers=2).start()
    yield s
    s.stop()


def _expected(task: str, gt: Path, pred: Path, items: list, where: Path) -> dict:
    """`prt evaluate --json` on GT and predictions restricted to ``items`` (the raw files filtered)."""
    from poseval_refine.serve.splits import annolist_entries, posetrack_people

    where.mkdir(parents=True)
    if task == "multi":
        gt_part = annolist_entries(gt, where / f"gt{gt.suffix}", items)
        pred_part = annolist_entries(pred, where / f"pred{pred.suffix}", items)
    else:
        gt_part, pred_part = posetrack_people(gt, where / "gt", items), posetrack_people(pred, where / "pred", items)
    code, _ = prt_here("evaluate", "--gt", gt_part, "--pred", pred_part, "--task", task, "--json",
                       where / "out.json", "-q")
    assert code == 0
    return nan_free(get_task(task).headline(json.loads((where / "out.json").read_text())))


def _multi_benchmark(root: Path) -> tuple[Path, dict[str, Path]]:
    """A 16-image MPII multi-person GT (.mat annolist, 1-3 people per image) and two teams' predictions:
    a .mat close to the GT and a .json further off with people missing."""
    import scipy.io

    rng = np.random.default_rng(2028)
    gt, near, far = [], [], []
    for i in range(16):
        people = [(100 + 220 * k + rng.uniform(-5, 5), 100 + rng.uniform(-5, 5)) for k in range(rng.integers(1, 4))]
        image = [{"name": f"{i:05d}.jpg"}]
        gt.append({"image": image, "annorect": [annorect_person(x, y) for x, y in people]})
        near.append({"image": image, "annorect": [
            annorect_person(x + rng.normal(0, 7), y + rng.normal(0, 7), score=float(rng.uniform(0.3, 1)), head=False)
            for x, y in people]})
        far.append({"image": image, "annorect": [
            annorect_person(x + rng.normal(0, 12), y + rng.normal(0, 12), score=float(rng.uniform(0.3, 1)), head=False)
            for x, y in people if rng.random() < 0.7]})
    scipy.io.savemat(root / "gt.mat", {"annolist": gt})
    scipy.io.savemat(root / "near.mat", {"pred": near})
    (root / "far.json").write_text(json.dumps({"annolist": far}))
    return root / "gt.mat", {"near": root / "near.mat", "far": root / "far.json"}


def _board_page(server: Server, name: str) -> str:
    status, _, body = request(f"{server.url}/benchmarks/{name}")
    assert status == 200
    return body.decode()


def test_mpii_multi_is_split_by_images_and_equals_prt_evaluate_on_each_part(server, tmp_path):
    gt, preds = _multi_benchmark(tmp_path)
    admin(server, "add-benchmark", "mpii-multi", "--task", "multi", "--gt", gt, "--public-fraction", "0.5",
           "--split-seed", "3")
    split = json.loads(admin(server, "split", "mpii-multi", "--json"))
    assert sorted(split["public"] + split["private"]) == list(range(16)) and len(split["public"]) == 8
    red, blue = add_team(server, "red"), add_team(server, "blue")
    code, out = prt_here("submit", preds["near"], "--server", server.url, "--token", red, "--benchmark",
                         "mpii-multi", "--method", "near-net", "--wait", "--json")
    near = json.loads(out)
    assert code == 0 and near["status"] == "done", near
    status, reply = post_submission(server.url, "mpii-multi", blue, "far.json", preds["far"].read_bytes(),
                                    method="far-net")
    assert status == 202, reply
    far = wait_for(server.url, reply["id"], blue)
    assert far["status"] == "done", far
    want = {k: _expected("multi", gt, preds[k], split["public"], tmp_path / f"pub-{k}") for k in preds}
    assert nan_free(near["public"]) == want["near"] and nan_free(far["public"]) == want["far"]
    assert want["near"]["mAP"] > want["far"]["mAP"]
    assert "private" not in far
    # a prediction file of another kind: prt's error, naming the team's file, and not counted
    status, reply = post_submission(server.url, "mpii-multi", blue, "far.txt", b"not an annolist")
    failed = wait_for(server.url, reply["id"], blue)
    assert failed["status"] == "failed" and failed["error"].startswith("far.txt: has the extension '.txt'")
    assert "prt-" not in failed["error"]

    status, board = get(f"{server.url}/api/benchmarks/mpii-multi/leaderboard")
    rows = {r["team"]: r for r in board["rows"]}
    assert board["ranked_on"] == "public" and nan_free(rows["red"]["public"]) == want["near"]
    assert [r["team"] for r in sorted(board["rows"], key=lambda r: r["rank"])] == ["red", "blue"]
    page = _board_page(server, "mpii-multi")
    assert "red: near-net" in page and "blue: far-net" in page and f"{want['near']['mAP']:.2f}" in page

    admin(server, "reveal", "mpii-multi")
    status, board = get(f"{server.url}/api/benchmarks/mpii-multi/leaderboard")
    rows = {r["team"]: r for r in board["rows"]}
    priv = {k: _expected("multi", gt, preds[k], split["private"], tmp_path / f"priv-{k}") for k in preds}
    assert board["ranked_on"] == "private"
    assert nan_free(rows["red"]["private"]) == priv["near"] and nan_free(rows["blue"]["private"]) == priv["far"]
    assert priv["near"] != want["near"]
    assert f"{priv['near']['mAP']:.2f}" in _board_page(server, "mpii-multi")


def test_pckh_is_split_by_people_and_equals_prt_evaluate_on_each_part(server, shared_data, tmp_path):
    """Real PoseTrack 2018 val frames (the shared data's GT, 2018 layout): people split across sequences."""
    from poseval_refine.commands.submit import pack

    gt = shared_data / "posetrack18_val_sample" / "annotations" / "val"
    preds = {"close": jittered_people(gt, tmp_path / "close", seed=1, sigma=4),
             "rough": jittered_people(gt, tmp_path / "rough", seed=2, sigma=25, drop=0.3)}
    admin(server, "add-benchmark", "pt18-pckh", "--task", "pckh", "--gt", gt, "--split-seed", "5")
    split = json.loads(admin(server, "split", "pt18-pckh", "--json"))
    people = split["public"] + split["private"]
    assert len(people) == 14 and len(split["public"]) == 7
    seqs = {part: {p.rsplit("/", 2)[0] for p in split[part]} for part in ("public", "private")}
    assert seqs["public"] & seqs["private"]  # people of one sequence in both parts: split by person
    green, gold = add_team(server, "green"), add_team(server, "gold")
    code, out = prt_here("submit", preds["close"], "--server", server.url, "--token", green, "--benchmark",
                         "pt18-pckh", "--method", "close-net", "--wait", "--json")
    close = json.loads(out)
    assert code == 0 and close["status"] == "done", close
    name, blob = pack(preds["rough"])
    status, reply = post_submission(server.url, "pt18-pckh", gold, name, blob, method="rough-net")
    rough = wait_for(server.url, reply["id"], gold)
    assert rough["status"] == "done", rough
    want = {k: _expected("pckh", gt, preds[k], split["public"], tmp_path / f"pub-{k}") for k in preds}
    assert nan_free(close["public"]) == want["close"] and nan_free(rough["public"]) == want["rough"]
    assert want["close"]["PCKh@0.5"] > want["rough"]["PCKh@0.5"]
    # one sequence short: the error names the team's missing sequence, not a part
    short = tmp_path / "short"
    short.mkdir()
    for f in sorted(preds["close"].glob("*.json"))[1:]:
        (short / f.name).write_bytes(f.read_bytes())
    name, blob = pack(short)
    status, reply = post_submission(server.url, "pt18-pckh", gold, name, blob)
    failed = wait_for(server.url, reply["id"], gold)
    assert failed["status"] == "failed" and "has no prediction" in failed["error"]

    page = _board_page(server, "pt18-pckh")
    assert "close-net" in page and f"{want['close']['PCKh@0.5']:.2f}" in page
    admin(server, "reveal", "pt18-pckh")
    status, board = get(f"{server.url}/api/benchmarks/pt18-pckh/leaderboard")
    rows = {r["team"]: r for r in board["rows"]}
    priv = {k: _expected("pckh", gt, preds[k], split["private"], tmp_path / f"priv-{k}") for k in preds}
    assert nan_free(rows["green"]["private"]) == priv["close"] and nan_free(rows["gold"]["private"]) == priv["rough"]
    assert priv["close"] != want["close"]
