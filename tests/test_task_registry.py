"""The task registry (poseval_refine/evaluators/__init__.py): every option is defined once and reaches
both the CLI and the Python keyword arguments; adding a task is one module plus one TASK_MODULES line."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import click
import pytest

from poseval_refine import evaluators
from poseval_refine.errors import ConfigError


def test_every_option_is_taken_by_a_task_and_defined_once():
    tasks = evaluators.all_tasks()
    taken = {o for t in tasks.values() for o in t.options}
    assert taken == set(evaluators.OPTIONS)


def test_option_choices_are_the_registries_they_name():
    from poseval_refine.protocols import MOTP_MODES, PROTOCOLS

    assert set(evaluators.OPTIONS["flavour"].choices) == set(PROTOCOLS["mpii-single"]) >= {"matlab", "hrnet"}
    assert set(evaluators.OPTIONS["protocol"].choices) == set(PROTOCOLS["posetrack"]) | set(PROTOCOLS["coco"])
    assert set(PROTOCOLS["posetrack"]) >= {"official", "corrected"}
    assert set(evaluators.OPTIONS["motp"].choices) == set(MOTP_MODES)


def test_cli_flags_come_from_the_registry():
    from poseval_refine.commands.evaluate import command

    params = {p.name: p for p in command.params}
    for name, o in evaluators.OPTIONS.items():
        p = params[name]
        assert p.opts == [o.flag] and p.default == o.default and p.help == o.help, name
        if o.choices:
            assert isinstance(p.type, click.Choice) and tuple(p.type.choices) == o.choices


def test_take_options_checks_keyword_values():
    t = evaluators.get_task("tracking")
    assert t.take_options({"min_score": 1}) == {"workers": 1, "min_score": 1.0, "protocol": "official",
                                                "motp": None, "mot_backend": "prt"}
    with pytest.raises(ConfigError, match="protocol='offical' is not one of: official, corrected"):
        t.take_options({"protocol": "offical"})
    with pytest.raises(ConfigError, match="workers=0 is below 1"):
        t.take_options({"workers": 0})
    with pytest.raises(ConfigError, match="min_score='0.7' is not a number"):
        t.take_options({"min_score": "0.7"})
    with pytest.raises(ConfigError, match="unknown option min_scor"):
        t.take_options({"min_scor": 0.7})
    with pytest.raises(ConfigError, match="option --flavour does not apply to --task tracking"):
        t.take_options({"flavour": "hrnet"})
    assert "flavour" not in t.take_options({"flavour": "matlab"})  # its default: not given


def toy_module() -> str:
    """The toy task module of docs/contributing.md ("The module"): the page's example is what this test runs."""
    page = (Path(__file__).parent.parent / "docs" / "contributing.md").read_text()
    section = page[page.index("### The module"):]
    return section[section.index("```python\n") + len("```python\n"):section.index("\n```\n")] + "\n"


def test_a_new_task_is_one_module_and_one_registry_line(tmp_path):
    """What docs/contributing.md walks through: the task module and its TASK_MODULES line are all it takes
    for `prt evaluate --task toy` (its option offered, the others refused), --save and the boards."""
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "toy.py").write_text(toy_module())
    (tmp_path / "gt.json").write_text(json.dumps([1, 2, 3, 4]))
    (tmp_path / "pred.json").write_text(json.dumps([1, 2, 0, 4]))
    code = textwrap.dedent(f"""
        import sys
        from poseval_refine import evaluators
        evaluators.__path__.append({str(tmp_path / 'pkg')!r})
        evaluators.TASK_MODULES["toy"] = "toy"
        from poseval_refine.cli import main
        args = ['evaluate', '--task', 'toy', '--gt', {str(tmp_path / 'gt.json')!r},
                '--pred', {str(tmp_path / 'pred.json')!r}]
        print("rc", main(args + ['--min-score', '0.5', '--save', 'mine', '--results', {str(tmp_path / 'store')!r}]))
        print("rc", main(args + ['--workers', '2']))
        from poseval_refine.results.board import build_boards
        from poseval_refine.results.store import load_dir
        board, = build_boards(load_dir({str(tmp_path / 'store')!r}), task="toy", resamples=10)
        print("board", board.protocol, board.metric, board.rows[0].method, board.rows[0].value)
        import poseval_refine
        r = poseval_refine.evaluate({str(tmp_path / 'gt.json')!r}, {str(tmp_path / 'pred.json')!r}, task="toy")
        print("api", r.headline, r.to_frame().loc["accuracy", "kind"])
        import contextlib, io
        help_text = io.StringIO()
        with contextlib.redirect_stdout(help_text):
            main(['evaluate', '--help'])
        print("help", [line.strip() for line in help_text.getvalue().splitlines() if "toy" in line])
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "accuracy 75.0" and lines[1] == "rc 0"
    assert lines[2] == "rc 2" and "option --workers does not apply to --task toy" in out.stderr
    assert "--task toy accepts: --min-score" in out.stderr
    assert lines[3] == "board min score 0.5 accuracy mine 75.0"
    assert lines[4] == "api {'accuracy': 75.0} total"
    # the command line is generated from the declarations: --task offers toy, its help line is the description
    assert lines[5] == "help ['--task [coco|hota|multi|pckh|pose|pose21|single|toy|tracking]', 'toy: toy accuracy']"
