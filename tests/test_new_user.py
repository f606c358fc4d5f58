"""What a new user met in half an hour (issue 25): each message or output as it should be."""

from __future__ import annotations

import pytest

from .support.cli import run_without_warnings
from .support.fuzzing import ENCODERS, coco_keypoints, posetrack2017, posetrack2018


def run(*argv) -> tuple[int, str, str]:
    return run_without_warnings(argv)


def one_error(*argv) -> str:
    code, _, err = run(*argv)
    assert code == 2 and err.count("prt: error:") == 1 and "\n  fix: " in err and "Traceback" not in err, err
    return err


def written(reader, root):
    for rel, (kind, tree) in reader.files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(ENCODERS[kind](tree))
    return root


# ------------------------------------------------------------------------------------ swapped roles
@pytest.mark.parametrize("task", [None, "coco"])
def test_swapped_coco_files_get_the_swap_hint(tmp_path, task):
    root = written(coco_keypoints(), tmp_path)
    err = one_error("evaluate", "--gt", root / "res.json", "--pred", root / "gt.json", "-q",
                    *(["--task", task] if task else []))
    assert "fix: --gt and --pred look swapped" in err and f"--gt {root / 'gt.json'} --pred {root / 'res.json'}" in err


def test_swapped_large_coco_files_get_the_hint_from_the_failed_evaluation(tmp_path, monkeypatch):
    """Files above ``SNIFF_BYTES`` are not read before evaluating; the reader's error then says to swap."""
    import poseval_refine.formats.roles as roles

    monkeypatch.setattr(roles, "SNIFF_BYTES", 10)
    root = written(coco_keypoints(), tmp_path)
    err = one_error("evaluate", "--gt", root / "res.json", "--pred", root / "gt.json", "--task", "coco", "-q")
    assert "is not a COCO annotation file" in err and "fix: --gt and --pred look swapped" in err


@pytest.mark.parametrize("reader", [posetrack2017, posetrack2018], ids=["2017", "2018"])
def test_swapped_posetrack_folders_get_the_swap_hint(tmp_path, reader):
    root = written(reader(), tmp_path)
    err = one_error("evaluate", "--gt", root / "pred", "--pred", root / "gt", "-q")
    assert "fix: --gt and --pred look swapped" in err and f"--gt {root / 'gt'} --pred {root / 'pred'}" in err


def test_files_in_their_places_get_no_swap_hint(tmp_path):
    root = written(posetrack2017(), tmp_path)
    (root / "pred" / "seq.json").write_text("{}")
    err = one_error("evaluate", "--gt", root / "gt", "--pred", root / "pred", "-q")
    assert "swapped" not in err


# ---------------------------------------------------------------------------------- empty, broken
def test_a_zero_byte_file_is_empty_not_truncated(tmp_path):
    (tmp_path / "gt.json").write_bytes(b"")
    err = one_error("evaluate", "--gt", tmp_path / "gt.json", "--pred", tmp_path / "gt.json", "--task", "coco")
    assert "is empty (0 bytes)" in err and "truncated" not in err


def test_an_empty_folder_says_so(tmp_path):
    (tmp_path / "gt").mkdir()
    err = one_error("evaluate", "--gt", tmp_path / "gt", "--pred", tmp_path / "gt")
    assert f"{tmp_path / 'gt'}: is an empty folder" in err


def test_json_error_wording_has_no_doubled_preposition(tmp_path):
    (tmp_path / "gt.json").write_text('{"images": "abc')
    err = one_error("evaluate", "--gt", tmp_path / "gt.json", "--pred", tmp_path / "gt.json", "--task", "coco")
    assert "Unterminated string starting at: line 1, column 12" in err and "at at" not in err


def test_a_folder_given_for_a_file_gets_a_fix_line(tmp_path):
    root = written(coco_keypoints(), tmp_path / "coco")
    err = one_error("evaluate", "--gt", f"{root}/", "--pred", root / "res.json", "--task", "coco")
    assert "is a folder, expected a file" in err and "fix: give the file itself (the folder holds gt.json, res.json)" \
        in err


# -------------------------------------------------------------------------------------------- options
def test_input_joints_only_without_method_names_itself(tmp_path):
    err = one_error("evaluate", "--input-joints-only")
    assert "prt: error: --input-joints-only: refinement options go with --method and --refined" in err


def test_method_with_one_task_needs_no_task(shared_data, tmp_path):
    code, out, err = run("evaluate", "--method", "newell", "--data-root", shared_data, "--results", tmp_path / "s")
    assert code == 0, err
    assert "no --task given: newell has one task, so --task single" in err and "PCKh" in out


def test_method_with_several_tasks_names_them(tmp_path):
    err = one_error("evaluate", "--method", "artrack")
    assert "--method artrack needs --task: it has 3 tasks (multi, pose, tracking)" in err


# -------------------------------------------------------------------------------------------- words
def test_counted_nouns():
    from poseval_refine.refiner.infer import KeepRules, RefineStats
    from poseval_refine.render.words import counted

    assert [counted(1, "sequence"), counted(2, "sequence"), counted(1, "person"), counted(0, "person")] == \
        ["1 sequence", "2 sequences", "1 person", "0 people"]
    line = RefineStats(refined=1, sequences=1, moved=1, no_joints=1, off_canvas=1).line(KeepRules(), None)
    assert line.startswith("refined 1 person in 1 sequence: 1 joint moved") and "1 far-off joint replaced" in line
    assert "1 person passed through" in line


# -------------------------------------------------------------------------------------- Python API
def test_reprs_are_summaries(shared_data):
    import poseval_refine as prt

    poses = prt.load(shared_data / "posetrack_cases" / "synth24" / "gt")
    text = repr(poses)
    assert text == ("PoseSet(format='posetrack2017', sequences=24 ['000000_mpii_test', '000001_mpii_test', "
                    "'000002_mpii_test', ...], people=1223)")
    assert repr(poses["000000_mpii_test"]) == \
        "PoseSequence('000000_mpii_test', skeleton='posetrack15', frames=18, people=65, tracks=5)"


def test_dir_of_the_package_is_its_public_api():
    import poseval_refine as prt

    names = dir(prt)
    assert not {"Any", "TYPE_CHECKING", "annotations", "logging"} & set(names)
    assert {"evaluate", "load", "Result", "PrtError", "__version__"} <= set(names)


def test_markdown_right_aligns_numbers():
    import poseval_refine as prt
    from poseval_refine.sample import sample_paths

    gt, pred = sample_paths()
    lines = prt.evaluate(gt, pred, task="tracking").render("markdown").splitlines()
    assert lines[1].startswith("|:---") and all(c.endswith(":|") or c.endswith(":") for c in lines[1].split("|")[2:-1])
    assert lines[-1] == "| Total          |   56.2 |   69.3 |   77.2 |  85.3 | 71.4 |"


# ------------------------------------------------------------------------------------------ README
def _readme_outputs() -> list[tuple[int, str]]:
    """(line, path) of every path a README command writes: --out, --json, --plot, and the results store."""
    import re
    import shlex
    from pathlib import Path

    readme = Path(__file__).resolve().parent.parent / "README.md"
    out, in_code = [], False
    for n, line in enumerate(readme.read_text().splitlines(), 1):
        if line.startswith("```"):
            in_code = not in_code
            continue
        command = re.sub(r"^\$ ", "", line.strip())
        if not in_code or not command.startswith("prt "):
            continue
        args = shlex.split(command, comments=True)
        out += [(n, args[i + 1]) for i, a in enumerate(args[:-1]) if a in ("--out", "--json", "--plot")]
        if "--save" in args and "--results" not in args:
            out.append((n, "prt-results/"))
    return out


def test_readme_commands_pasted_in_order_write_each_output_once():
    """`prt synth --out scenes` twice: the second refuses (the folder exists) and the block fails."""
    paths = [p.rstrip("/") for _, p in _readme_outputs()]
    assert len(paths) >= 6 and len(paths) == len(set(paths)), sorted(paths)


def test_gitignore_covers_what_the_readme_examples_write():
    import shutil
    import subprocess
    from pathlib import Path

    assert shutil.which("git"), "git is needed to check .gitignore"
    root = Path(__file__).resolve().parent.parent
    for line, path in _readme_outputs():
        inside = f"{path}x.json" if path.endswith("/") else path  # a folder: a file in it
        r = subprocess.run(["git", "check-ignore", "--no-index", "-q", inside], cwd=root)
        assert r.returncode == 0, f"README line {line} writes {path}, which .gitignore does not cover"


def test_clicks_own_checks_are_one_prt_error_with_a_fix(tmp_path):
    (tmp_path / "afile").write_text("x")
    err = one_error("refine", "--pred", tmp_path / "afile", "--images", tmp_path / "afile", "--checkpoint", "c.pt",
                    "--out", tmp_path / "o.json")
    assert err.startswith("prt: error: Invalid value for '--images'") and "fix: see `prt refine --help`" in err
    assert "Usage:" not in err
    err = one_error("evaluate", "--no-such-option")
    assert "No such option" in err and "fix: see `prt evaluate --help`" in err


@pytest.mark.parametrize("image_id", [[10000000000], {"value": 10000000000}])
def test_posetrack21_image_id_that_is_a_list_or_object_is_one_error(tmp_path, image_id):
    """Found by the PoseTrack21 fuzz reader (seed 2513): an unhashable image_id ended in a TypeError."""
    from .support.fuzzing import posetrack21

    root = written(posetrack21(), tmp_path)
    import json

    doc = json.loads((root / "pred" / "000000_mpii_test.json").read_text())
    doc["annotations"][1]["image_id"] = image_id
    (root / "pred" / "000000_mpii_test.json").write_text(json.dumps(doc))
    err = one_error("evaluate", "--gt", root / "gt", "--pred", root / "pred", "--task", "hota", "-q")
    assert "person 1, field 'image_id'" in err and "which 'images' does not list" in err


def test_coco_results_given_as_gt_are_one_error(tmp_path):
    """A COCO results list as --gt (a JSON list where the annotations' object belongs) ended in a TypeError."""
    root = written(coco_keypoints(), tmp_path)
    err = one_error("evaluate", "--gt", root / "res.json", "--pred", root / "res.json", "--task", "coco", "-q")
    assert "is not a COCO annotation file (a JSON object)" in err and "swapped" not in err
