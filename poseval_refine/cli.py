"""The ``prt`` command line: a thin click group whose commands live in ``poseval_refine.commands``.

Commands are listed in one registry and imported only when invoked, so ``prt --help`` stays
fast and a new command is one module plus one line here.
"""

from __future__ import annotations

import importlib
import sys

import click

from . import __version__
from .errors import PrtError

#: command name -> "module:attribute" of a click command
COMMANDS: dict[str, tuple[str, str]] = {
    "evaluate": ("poseval_refine.commands.evaluate:evaluate", "Evaluate predictions against ground truth."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx):
        return sorted(COMMANDS)

    def get_command(self, ctx, name):
        if name not in COMMANDS:
            return None
        target, _ = COMMANDS[name]
        mod, attr = target.split(":")
        return getattr(importlib.import_module(mod), attr)

    def format_commands(self, ctx, formatter):
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="prt")
def cli():
    """prt: pose-estimation benchmark numbers identical to the official kits, and a pose refiner."""


def main(argv=None) -> int:
    """Entry point: user-facing errors become one message on stderr and exit code 2."""
    try:
        cli.main(args=argv, prog_name="prt", standalone_mode=False)
    except PrtError as e:
        click.echo(f"prt: error: {e.message}", err=True)
        return 2
    except click.exceptions.Abort:
        click.echo("prt: aborted", err=True)
        return 130
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
