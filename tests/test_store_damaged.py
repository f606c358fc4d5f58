"""A damaged result file in the store, or one whose headline was edited by hand: the board commands
(leaderboard, tables) leave it out with one warning line naming the file while every other result still
ranks (exit 0; exit 2 under --strict), compare of it exits 2 naming it, verify fails naming it; never a
traceback and never a board built from inconsistent numbers."""

from __future__ import annotations

import json
import shutil

import pytest

from poseval_refine.cli import main


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """A store holding one PoseTrack tracking result (the shipped sample, saved as a user would)."""
    root = tmp_path_factory.mktemp("store")
    assert main(["evaluate", "--task", "tracking", "--save", "sample-net", "--results", str(root / "store"),
                 "-q"]) == 0
    return root / "store"


def _damage(store, tmp_path, edit):
    out = tmp_path / "damaged"
    shutil.copytree(store, out)
    path = next(out.glob("sample-net__*.json"))
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))
    return out, path


def _set(key, value):
    def edit(d):
        d[key] = value
    return edit


def _item_garbage(d):
    d["items"][1] = "x"


def _items_dropped(d):
    d["items"] = d["items"][:-1]


def _metric_text(d):
    d["numbers"]["mota_total"] = "high"


def _primary_gone(d):
    del d["numbers"]["mota_total"]


DAMAGE = {
    "garbage item": _item_garbage,
    "one sequence's statistics missing": _items_dropped,
    "no per-item statistics": _set("items", None),
    "a metric that is text": _metric_text,
    "the primary metric missing": _primary_gone,
    "inputs not an object": _set("inputs", [1]),
    "numbers not an object": _set("numbers", [1, 2]),
    "unknown task": _set("task", "trackin"),
    "method not a string": _set("method", 7),
}


def _headline_edited(d):
    d["headline"]["MOTA"] = 91.0


DAMAGE["a headline edited by hand"] = _headline_edited


@pytest.mark.parametrize("command", [["leaderboard"], ["leaderboard", "--format", "json"], ["tables"]])
@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_board_commands_leave_out_the_damaged_file_with_one_warning(store, tmp_path, capsys, command, damage):
    out, path = _damage(store, tmp_path, DAMAGE[damage])
    capsys.readouterr()
    code = main([*command, "--results", str(out), "--resamples", "20"])
    stdout, err = capsys.readouterr()
    assert code == 0, (damage, err)
    warnings = [line for line in err.splitlines() if line.startswith("prt: warning: ")]
    assert len(warnings) == 1 and path.name in warnings[0] and "left out" in warnings[0], err
    assert "Traceback" not in err and "prt: error" not in err
    assert "sample-net" not in stdout  # left out ...
    if command[0] == "leaderboard":  # ... while the shipped results still rank
        assert "newell" in stdout.lower() and "mpii-val" in stdout
    else:
        assert "Stacked Hourglass (8 stacks)" in stdout


@pytest.mark.parametrize("command", [["leaderboard"], ["tables"]])
@pytest.mark.parametrize("damage", ["a headline edited by hand", "garbage item", "unknown task"])
def test_strict_refuses_the_damaged_file(store, tmp_path, capsys, command, damage):
    out, path = _damage(store, tmp_path, DAMAGE[damage])
    capsys.readouterr()
    code = main([*command, "--results", str(out), "--resamples", "20", "--strict"])
    stdout, err = capsys.readouterr()
    assert code == 2 and path.name in err and err.count("prt: error") == 1, err
    assert "Traceback" not in err


@pytest.mark.parametrize("damage", ["a headline edited by hand", "garbage item", "a metric that is text",
                                    "method not a string"])
def test_compare_of_a_damaged_result_exits_2_naming_it(store, tmp_path, capsys, damage):
    out, path = _damage(store, tmp_path, DAMAGE[damage])
    other = out / "other__prt-sample__tracking.json"
    good = json.loads(next(store.glob("sample-net__*.json")).read_text())
    good["method"] = "other"
    other.write_text(json.dumps(good))
    capsys.readouterr()
    code = main(["compare", "sample-net", "other", "--results", str(out), "--resamples", "20"])
    stdout, err = capsys.readouterr()
    assert code == 2 and path.name in err and err.startswith("prt: error: "), err
    assert "Traceback" not in err
    if damage == "a headline edited by hand":
        assert "headline MOTA 91.0" in err


def test_a_headline_edited_by_hand_is_named_with_both_values(store, tmp_path, capsys):
    out, path = _damage(store, tmp_path, _headline_edited)
    capsys.readouterr()
    assert main(["leaderboard", "--results", str(out), "--task", "tracking", "--resamples", "20"]) == 0
    err = capsys.readouterr().err
    true = json.loads(next(store.glob("sample-net__*.json")).read_text())["headline"]["MOTA"]
    assert f"its headline MOTA 91.0 is not what its numbers give ({true!r})" in err, err


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_verify_fails_naming_the_damaged_file(store, tmp_path, capsys, damage):
    out, path = _damage(store, tmp_path, DAMAGE[damage])
    capsys.readouterr()
    code = main(["verify", "--results", str(out)])
    stdout, err = capsys.readouterr()
    assert code in (1, 2), (damage, stdout, err)
    assert path.name in stdout + err
    assert "Traceback" not in err


def test_untouched_store_still_ranks(store, capsys):
    capsys.readouterr()
    assert main(["leaderboard", "--results", str(store), "--task", "tracking", "--resamples", "20"]) == 0
    assert "sample-net" in capsys.readouterr().out
