"""Output paths of every command (``--json``, ``--out``, ``--plot``, ``OUT``) and folder options
(``--results``): a folder where a file is written, a file where a folder is, a folder that does not exist
are each one ``prt: error:`` naming the option, with a ``fix:`` line, exit 2 — refused when the options are
read (before any work), nothing written, no folder made."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from poseval_refine.errors import InputError

from .support.cli import run_without_warnings

run = run_without_warnings


def tree(root: Path) -> dict:
    """Every path under root (folders too) with its file bytes: what a command must leave as it was."""
    return {str(p.relative_to(root)): (p.read_bytes() if p.is_file() else None) for p in sorted(root.rglob("*"))}


@pytest.fixture
def place(tmp_path, monkeypatch):
    """A working folder holding a folder ``adir``, a file ``afile`` and a (tiny) checkpoint-like file."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PRT_RESULTS", raising=False)
    (tmp_path / "adir").mkdir()
    (tmp_path / "afile").write_text("x")
    return tmp_path


def refused(place: Path, argv, *needles) -> str:
    before = tree(place)
    code, _, err = run(argv)
    assert code == 2, err
    assert err.count("prt: error:") == 1 and "Traceback" not in err, err
    assert "\n  fix: " in err, err
    for n in needles:
        assert n in err, (n, err)
    assert tree(place) == before, "a command that refused its output path wrote or created something"
    return err


#: (command line before the output path, the flag, what the path names in the message)
FILE_OUTPUTS = [
    (["evaluate", "-q", "--json"], "--json"),
    (["evaluate", "-q", "--task", "single", "--plot"], "--plot"),
    (["leaderboard", "--format", "html", "--resamples", "0", "--out"], "--out"),
    (["train", "--steps", "1", "--out"], "--out"),
]


@pytest.mark.parametrize("argv,flag", FILE_OUTPUTS, ids=[a[0] + a[-1] for a, _ in FILE_OUTPUTS])
@pytest.mark.parametrize("path", ["adir", "adir/", f"adir{os.sep}"])
def test_a_file_output_naming_a_folder_is_refused(place, argv, flag, path):
    refused(place, [*argv, path], f"{flag} names a folder", "fix: give a file name, e.g. adir/")


@pytest.mark.parametrize("argv,flag", FILE_OUTPUTS, ids=[a[0] + a[-1] for a, _ in FILE_OUTPUTS])
@pytest.mark.parametrize("path", ["no/such/dir/x.png", "afile/x.png"])
def test_a_file_output_in_a_missing_folder_is_refused_and_no_folder_is_made(place, argv, flag, path):
    err = refused(place, [*argv, path])
    assert ("the folder no/such/dir does not exist" in err and "mkdir -p no/such/dir" in err) or \
        "afile is a file, not a folder" in err, err
    assert not (place / "no").exists()


@pytest.mark.parametrize("command", ["evaluate", "leaderboard", "tables", "verify", "compare"])
def test_a_results_option_naming_a_file_is_refused(place, command):
    extra = ["a", "b"] if command == "compare" else []
    refused(place, [command, *extra, "--results", "afile"], "--results names a file", "fix: give a folder")


def test_a_results_store_named_by_the_environment_as_a_file_is_refused(place, monkeypatch):
    monkeypatch.setenv("PRT_RESULTS", str(place / "afile"))
    refused(place, ["leaderboard", "--resamples", "0"], "--results names a file")


def test_folder_outputs_refuse_a_file_and_a_missing_parent(place):
    refused(place, ["synth", "--n", "1", "--out", "afile"], "--out names a file, but a folder is written there")
    refused(place, ["synth", "--n", "1", "--out", "no/such/scenes"], "the folder no/such does not exist")
    refused(place, ["convert", "--to", "posetrack2018", "afile", "no/such/out"], "the folder no/such does not exist")
    (place / "p.json").write_text("[]")
    refused(place, ["refine", "--pred", "p.json", "--images", "adir", "--checkpoint", "c.pt", "--out", "no/x.json"],
            "the folder no does not exist")


def test_a_good_output_path_still_works_and_synth_still_makes_its_folder(place):
    code, out, err = run(["evaluate", "-q", "--json", "adir/r.json"])
    assert code == 0, err
    assert (place / "adir" / "r.json").read_bytes().startswith(b"{")
    code, out, err = run(["synth", "--n", "1", "--out", "adir/scenes"])
    assert code == 0, err
    assert (place / "adir" / "scenes" / "annotations.json").is_file()


def test_the_python_writers_make_no_folders_either(tmp_path):
    from poseval_refine.io import atomic_dir, write_json_atomic

    with pytest.raises(InputError, match="does not exist"):
        write_json_atomic(tmp_path / "no" / "such" / "x.json", {"a": 1})
    with pytest.raises(InputError, match="is a folder"):
        write_json_atomic(tmp_path, {"a": 1})
    (tmp_path / "f").write_text("x")
    with pytest.raises(InputError, match="is a file"), atomic_dir(tmp_path / "f", overwrite=True):
        pass
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f"]


def test_a_plot_that_is_no_image_is_refused_before_evaluating(place):
    refused(place, ["evaluate", "-q", "--plot", "curves.txt"], "--plot writes .png or .pdf files",
            "fix: give a path ending in .png or .pdf")


def test_the_python_api_refuses_a_plot_in_a_missing_folder(shared_data, tmp_path):
    import poseval_refine as prt

    mpii = shared_data / "mpii_val"
    with pytest.raises(InputError, match="does not exist"):
        prt.evaluate(mpii / "valid.h5", mpii / "newell.h5", task="single", plot=tmp_path / "no" / "pckh.png")
    assert not (tmp_path / "no").exists()


@pytest.mark.parametrize("command", [["methods"], ["verify"], ["evaluate", "--method", "newell"]])
def test_a_data_root_naming_a_file_is_refused(place, command):
    refused(place, [*command, "--data-root", "afile"], "--data-root names a file; it takes a folder",
            "e.g. --data-root ../shared/data")
