"""Every option is declared once (issue 26): the refinement options (``poseval_refine.refine_options``) make
``RefineOptions``, ``prt refine``'s and ``prt evaluate --refined``'s flags and ``poseval_refine.refine``'s
keywords; the evaluation options (``evaluators.OPTIONS``) make ``prt evaluate``'s flags. A bad value is one
clear error on the command line and in Python alike."""

from __future__ import annotations

import ast
import inspect
from dataclasses import fields
from pathlib import Path

import pytest

import poseval_refine as prt
from poseval_refine.commands import evaluate as evaluate_command
from poseval_refine.commands import refine as refine_command
from poseval_refine.evaluators import OPTIONS
from poseval_refine.refine_options import REFINE_OPTIONS, RUN_OPTIONS, RefineOptions
from tests.support.cli import run_cli

PACKAGE = Path(prt.__file__).parent


def params(command) -> dict:
    return {p.name: p for p in command.params}


def spellings(param) -> list[str]:
    return [*param.opts, *param.secondary_opts]


def test_refine_options_are_the_fields_of_refine_options():
    assert [f.name for f in fields(RefineOptions)] == list(REFINE_OPTIONS) == \
        ["min_score", "recover_missing", "recovered_score", "keep_below", "min_move", "scale_from"]
    assert vars(RefineOptions()) == {"min_score": None, "recover_missing": True, "recovered_score": "input",
                                     "keep_below": None, "min_move": None, "scale_from": "pose"}


def test_every_refine_option_reaches_prt_refine_and_the_api():
    cli = params(refine_command.command)
    sig = inspect.signature(prt.refine).parameters
    for o in (*REFINE_OPTIONS.values(), *RUN_OPTIONS.values()):
        name = ("refine_" if o.name in REFINE_OPTIONS else "") + o.name
        p = cli[name]
        assert o.flag in spellings(p) and p.default == o.default and p.help == o.help, o.name
        assert sig[o.name].kind is inspect.Parameter.KEYWORD_ONLY and sig[o.name].default == o.default, o.name
    assert spellings(cli["refine_recover_missing"]) == ["--recover-missing", "--input-joints-only"]
    assert spellings(cli["flip"]) == ["--no-flip"] and cli["flip"].flag_value is False


def test_prt_evaluate_takes_the_refine_options_and_every_evaluation_option():
    cli = params(evaluate_command.command)
    for o in REFINE_OPTIONS.values():
        flag = "--refine-min-score" if o.name == "min_score" else o.flag  # its own --min-score filters the file
        p = cli["refine_" + o.name]
        assert flag in spellings(p) and p.default == o.default and p.help == o.help, o.name
    for o in OPTIONS.values():
        p = cli[o.name]
        assert spellings(p) == [o.flag] and p.default == o.default and p.help == o.help, o.name


def declared_flags() -> set[str]:
    out = set()
    for o in (*REFINE_OPTIONS.values(), *RUN_OPTIONS.values(), *OPTIONS.values()):
        out.update((o.cli or o.flag).split("/"))
    return out | {"--refine-min-score"}


def spelled_flags(source: str) -> list[tuple[int, str]]:
    """(line, flag) of every string literal starting with ``--`` given to a ``click.option(...)`` call."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and ast.unparse(node.func) in ("click.option", "option"):
            for arg in node.args:
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    found += [(node.lineno, f) for f in arg.value.split("/") if f.startswith("--")]
    return found


def test_the_scan_finds_a_spelled_flag():
    assert spelled_flags('@click.option("--keep-below", type=float)\ndef f(): pass\n') == [(1, "--keep-below")]
    assert spelled_flags('click.option("--recover-missing/--input-joints-only")') == \
        [(1, "--recover-missing"), (1, "--input-joints-only")]


#: flags of other commands that share a declared option's spelling, not its meaning: `prt serve`'s worker
#: processes, `prt train`'s batch and device (a training run's), and `prt analyze`'s --protocol and --flavour (the
#: analysis decides which of its tasks take them: analysis/run.py)
OTHER_MEANINGS = {("commands/serve.py", "--workers"), ("commands/train.py", "--batch-size"),
                  ("commands/train.py", "--workers"), ("commands/train.py", "--device"),
                  ("commands/analyze.py", "--protocol"), ("commands/analyze.py", "--flavour")}


def test_no_module_spells_a_declared_option():
    """A flag of a declared option is never written out by hand in a command (it comes from the declaration),
    and no Python function of the API lists the refine options as parameters of its own."""
    declared = declared_flags()
    spelled = [f"{path.relative_to(PACKAGE.parent)}:{line}: {flag}" for path in sorted(PACKAGE.rglob("*.py"))
               for line, flag in spelled_flags(path.read_text())
               if flag in declared and (path.relative_to(PACKAGE).as_posix(), flag) not in OTHER_MEANINGS]
    assert not spelled, "\n".join(spelled)
    tree = ast.parse((PACKAGE / "api.py").read_text())
    refine_def = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "refine")
    written = {a.arg for a in refine_def.args.args + refine_def.args.kwonlyargs}
    assert not written & (set(REFINE_OPTIONS) | set(RUN_OPTIONS)), written


BAD_VALUES = [  # (keyword, flag, a bad value, what the API's error says)
    ("recovered_score", "--recovered-score", "best", "is not one of: input, refiner"),
    ("scale_from", "--scale-from", "head", "is not one of: pose, head-box"),
    ("keep_below", "--keep-below", 1.5, "is above 1"),
    ("min_move", "--min-move", -1.0, "is below 0"),
    ("min_score", "--min-score", "high", "is not a number"),
    ("batch_size", "--batch-size", 0, "is below 1"),
    ("workers", "--workers", -1, "is below 0"),
]


@pytest.mark.parametrize("name, flag, value, says", BAD_VALUES, ids=[b[0] for b in BAD_VALUES])
def test_a_bad_value_is_one_error_on_the_command_line_and_in_python(name, flag, value, says, tmp_path):
    code, out, err, caught = run_cli(["refine", flag, value, "--pred", tmp_path, "--images", tmp_path,
                                      "--checkpoint", tmp_path / "c.ckpt", "--out", tmp_path / "o.json"])
    assert code == 2 and err.count("prt: error:") == 1 and flag in err and "\n  fix: " in err, err
    assert "Traceback" not in err and not caught and not out
    with pytest.raises(prt.ConfigError) as e:  # checked before any file is read
        prt.refine(tmp_path / "missing.json", tmp_path, tmp_path / "c.ckpt", **{name: value})
    assert e.value.message.startswith(f"option {name}={value!r}") and says in e.value.message, e.value.message


def test_an_unknown_keyword_is_one_error_listing_the_options(tmp_path):
    with pytest.raises(prt.ConfigError, match="unknown option keep_blow") as e:
        prt.refine(tmp_path / "missing.json", tmp_path, tmp_path / "c.ckpt", keep_blow=0.5)
    assert "keep_below" in e.value.message and "batch_size" in e.value.message
    with pytest.raises(prt.ConfigError, match="option flip=1 is not True or False"):
        prt.refine(tmp_path / "missing.json", tmp_path, tmp_path / "c.ckpt", flip=1)
    with pytest.raises(prt.ConfigError, match="option recover_missing='no' is not True or False"):
        RefineOptions(recover_missing="no")


def help_text(*argv) -> str:
    code, out, err, _ = run_cli([*argv, "--help"])
    assert code == 0, err
    return " ".join(out.split())  # click's wrapping aside


def test_task_help_lists_each_task_with_its_declared_description():
    from poseval_refine.analysis.run import TASKS as ANALYZED
    from poseval_refine.evaluators import all_tasks, task_names

    tasks = all_tasks()
    for argv, names in ((["evaluate"], task_names()), (["analyze"], ANALYZED),
                        (["serve", "admin", "add-benchmark"], task_names()), (["leaderboard"], task_names())):
        text = help_text(*argv)
        for name in names:
            assert f"{name}: {tasks[name].description}" in text, (argv, name)
    text = help_text("leaderboard")  # and what each is ranked by
    assert all(f"{tasks[n].description}; ranked by {tasks[n].primary} " in text for n in task_names())
    assert "tracking: PoseTrack MOTA/MOTP/precision/recall plus mAP (poseval evaluateTracking); ranked by MOTA" \
        in text


def test_protocol_help_lists_the_protocols_each_task_declares():
    from poseval_refine.evaluators import all_tasks

    text = help_text("evaluate")
    taking = {t.name: t.protocols for t in all_tasks().values() if "protocol" in t.options}
    assert taking == {"pose": ("official", "corrected", "posetrack21"), "tracking": ("official", "corrected"),
                      "hota": ("official", "corrected"),
                      "coco": ("official", "coco", "crowdpose", "crowdpose-corrected", "aic", "wholebody")}
    for name, protocols in taking.items():
        assert f"--task {name}: {', '.join(protocols)}" in text, name


@pytest.mark.parametrize("task, protocol", [("hota", "posetrack21"), ("tracking", "coco"), ("pose", "crowdpose"),
                                            ("coco", "corrected")])
def test_a_protocol_a_task_does_not_declare_is_refused_naming_its_own(task, protocol):
    from poseval_refine.evaluators import get_task

    code, out, err, _ = run_cli(["evaluate", "-q", "--task", task, "--protocol", protocol])  # before any work
    mine = ", ".join(get_task(task).protocols)
    assert code == 2 and not out and err == (f"prt: error: --protocol {protocol} does not apply to --task {task}\n"
                                             f"  fix: --task {task} takes --protocol {mine}\n"), err
