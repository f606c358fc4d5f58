"""``prt refine``: refine every person of a prediction file or folder and write the same format."""

from __future__ import annotations

from pathlib import Path

import click

from ..log import LOGGER, setup_cli_logging


def _shard(value: str) -> tuple[int, int]:
    try:
        i, n = (int(v) for v in value.split("/"))
        return i, n
    except ValueError:
        raise click.BadParameter("use i/n, e.g. 0/4") from None


@click.command(help="Refine predictions with a trained PoseRefiner. Scores, track ids and every field prt does not "
                    "own are written back unchanged; the output goes to a new path, atomically.")
@click.option("--pred", type=click.Path(exists=True, path_type=Path), required=True, help="File or folder.")
@click.option("--images", type=click.Path(exists=True, file_okay=False, path_type=Path), required=True,
              help="Folder the image names of the predictions are relative to.")
@click.option("--checkpoint", type=click.Path(path_type=Path), required=True)
@click.option("--out", type=click.Path(path_type=Path), required=True, help="New file or folder.")
@click.option("--format", "fmt", default=None, help="Input format (default: detected).")
@click.option("--min-score", type=float, default=None,
              help="Drop refined joints whose refiner confidence is <= T (the paper's tau = 0.7 for tracking).")
@click.option("--recover-missing", is_flag=True,
              help="Also predict joints the input lacks (their score is then the refiner's confidence).")
@click.option("--keep-below", type=float, default=None,
              help="Joints whose refiner confidence is below C keep their input position (default: all move).")
@click.option("--batch-size", type=click.IntRange(1), default=16, show_default=True)
@click.option("--workers", type=click.IntRange(0), default=0, show_default=True, help="DataLoader workers.")
@click.option("--shard", default="0/1", show_default=True, help="Refine only the i-th of n shares of the sequences.")
@click.option("--no-flip", is_flag=True, help="Skip flip averaging (faster).")
@click.option("--device", default=None)
@click.option("--overwrite", is_flag=True, help="Replace --out if it exists (never the input).")
def command(pred, images, checkpoint, out, fmt, min_score, recover_missing, keep_below, batch_size, workers, shard,
            no_flip, device, overwrite):
    setup_cli_logging()
    from ..errors import ConfigError
    from ..formats import detect_format, get_format
    from ..refine.infer import Refiner

    if out.resolve() == pred.resolve():
        raise ConfigError("--out is the input; prt never overwrites what it was given", fix="choose a new --out")
    f = get_format(fmt) if fmt else detect_format(pred)
    if f.write is None:
        raise ConfigError(f"format {f.name} can be read but not written", fix="convert it first with prt convert")
    poses = f.read(pred)
    refiner = Refiner(checkpoint, device=device, batch_size=batch_size, workers=workers, flip=not no_flip)
    result = refiner.refine_set(poses, images, min_score=min_score, recover_missing=recover_missing,
                                shard=_shard(shard), keep_below=keep_below)
    f.write(result, out, overwrite=overwrite)
    LOGGER.info("refined %d sequences (%d people passed through unchanged) -> %s", len(result),
                result.meta.get("refined_passthrough", 0), out)
