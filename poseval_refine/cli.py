"""The ``prt`` command line: a thin click group generated from ``poseval_refine.commands``.

Every module ``poseval_refine/commands/<name>.py`` that defines ``command`` (a click command)
becomes ``prt <name>`` (underscores become dashes). Modules are imported only when needed, so
a new command is one new file and heavy dependencies (torch) load only for the commands that
use them.
"""

from __future__ import annotations

import importlib
import os
import sys
from functools import lru_cache

from . import commands
from .version import __version__


def _command_modules() -> dict[str, str]:
    import pkgutil

    return {
        info.name.replace("_", "-"): f"{commands.__name__}.{info.name}"
        for info in pkgutil.iter_modules(commands.__path__)
        if not info.name.startswith("_")
    }


@lru_cache(maxsize=1)
def _group():
    """The click group, made on first use: ``prt compare`` answers without importing click (commands._quick)."""
    import click

    class GeneratedGroup(click.Group):
        def list_commands(self, ctx):
            return sorted(_command_modules())

        def get_command(self, ctx, name):
            module = _command_modules().get(name)
            if module is None:
                return None
            return importlib.import_module(module).command

    @click.group(cls=GeneratedGroup, context_settings={"help_option_names": ["-h", "--help"]})
    @click.version_option(__version__, prog_name="prt")
    def cli():
        """prt: pose-estimation benchmark numbers identical to the official kits, and a pose refiner."""

    return cli


def __getattr__(name: str):
    if name == "cli":  # the click group, as ``poseval_refine.cli.cli``
        return _group()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


#: commands whose numpy work has no large matrix products (see metrics/): OpenBLAS's thread pool, started when
#: numpy is imported, would cost them more CPU (about 50 ms per process) than it could save
ONE_BLAS_THREAD = ("evaluate",)
#: commands with a quick path for plain command lines (commands._quick), tried before click loads
QUICK_COMMANDS = ("compare",)


def main(argv=None) -> int:
    """Entry point: user-facing errors become one message on stderr and a non-zero exit."""
    invocation = {"argv": ["prt", *(sys.argv[1:] if argv is None else argv)]}
    if invocation["argv"][1:2] and invocation["argv"][1] in ONE_BLAS_THREAD and "numpy" not in sys.modules:
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # read once, when numpy loads OpenBLAS
    if invocation["argv"][1:2] and invocation["argv"][1] in QUICK_COMMANDS:
        from .commands._quick import QUICK

        try:
            code = QUICK[invocation["argv"][1]](invocation["argv"][2:])
        except KeyboardInterrupt:
            sys.stderr.write("prt: interrupted\n")
            return 130
        if code is not None:
            return code
    import click

    from .errors import PrtError
    from .optional import missing_from

    try:
        rv = _group().main(args=argv, prog_name="prt", standalone_mode=False, obj=invocation)
        if isinstance(rv, int) and not isinstance(rv, bool):  # click returns an Exit's code here
            return rv
    except PrtError as e:
        click.echo(f"prt: error: {e.message}", err=True)
        return 2
    except ModuleNotFoundError as e:  # an optional dependency (torch, motmetrics) that is not installed
        error = missing_from(e, " ".join(invocation["argv"][:2]))
        if error is None:
            raise
        click.echo(f"prt: error: {error.message}", err=True)
        return 2
    except click.exceptions.Abort:
        click.echo("prt: aborted", err=True)
        return 130
    except click.UsageError as e:  # click's own checks (a bad value, an unknown option): prt's one-error form
        if type(e).__name__ == "NoArgsIsHelpError":  # bare `prt`: the help text
            e.show()
            return e.exit_code
        command = e.ctx.command_path if e.ctx is not None else "prt"
        click.echo(f"prt: error: {e.format_message()}\n  fix: see `{command} --help`", err=True)
        return 2
    except click.ClickException as e:
        e.show()
        return e.exit_code
    except click.exceptions.Exit as e:
        return e.exit_code
    except KeyboardInterrupt:
        click.echo("prt: interrupted", err=True)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
