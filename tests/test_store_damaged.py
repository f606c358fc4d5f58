"""A damaged result file in the store: one clear error naming the file from every command that reads the
store (leaderboard, tables, verify), never a traceback and never a board built from inconsistent numbers."""

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


@pytest.mark.parametrize("command", [["leaderboard"], ["leaderboard", "--format", "json"], ["tables"]])
@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_board_commands_name_the_damaged_file(store, tmp_path, capsys, command, damage):
    out, path = _damage(store, tmp_path, DAMAGE[damage])
    capsys.readouterr()
    code = main([*command, "--results", str(out), "--resamples", "20"])
    stdout, err = capsys.readouterr()
    assert code == 2, (damage, err)
    assert err.startswith("prt: error: ") and path.name in err, err
    assert "Traceback" not in err and err.count("prt: error") == 1


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
