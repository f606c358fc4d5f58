"""``prt synth``: synthetic scenes with PoseTrack-2018 annotations (and optionally corrupted predictions)."""

from __future__ import annotations

import click

from ..log import setup_cli_logging
from ._paths import OutputFolder


@click.command(help="Write N synthetic scenes: DIR/annotations.json (PoseTrack-2018 layout) and DIR/images/.\n\n"
                    "With --predictions, also DIR/predictions.json: the GT corrupted as a weak method's output "
                    "(heavy: jitter, large displacements, left/right swaps, dropped joints; light: jitter of 3% of "
                    "the head size), with per-joint scores and track ids and no head boxes, as a method's output.")
@click.option("--out", type=OutputFolder(), required=True)
@click.option("--n", "n", type=click.IntRange(1), default=50, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--predictions", type=click.Choice(["none", "heavy", "light"]), default="none", show_default=True)
@click.option("--overwrite", is_flag=True, help="Replace DIR if it exists.")
def command(out, n, seed, predictions, overwrite):
    setup_cli_logging()
    from ..formats.posetrack import read_sequence, write_sequence
    from ..refiner.corrupt import corrupt_sequence
    from ..refiner.scenes import write_scenes

    write_scenes(out, n, seed, overwrite=overwrite)
    if predictions != "none":
        gt = read_sequence(out / "annotations.json")
        write_sequence(corrupt_sequence(gt, predictions, seed), out / "predictions.json", overwrite=True)
    click.echo(str(out))
