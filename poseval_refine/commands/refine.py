"""``prt refine``: refine every person of a prediction file or folder and write the same format."""

from __future__ import annotations

from pathlib import Path

import click

from ..log import LOGGER, setup_cli_logging
from ..refine_options import REFINE_OPTIONS, RUN_OPTIONS, RefineOptions
from ._options import option_flags
from ._paths import OutputFileOrFolder


def _shard(value: str) -> tuple[int, int]:
    try:
        i, n = (int(v) for v in value.split("/"))
        return i, n
    except ValueError:
        raise click.BadParameter("use i/n, e.g. 0/4") from None


def refinement_options(min_score_flag: str = "--min-score"):
    """The options that say how refined joints are written back (``refine_options.REFINE_OPTIONS``, their one
    declaration); shared by `prt refine` and `prt evaluate --refined` (which names the refiner's tau
    ``--refine-min-score``, since its own ``--min-score`` filters the file's scores). Their parameters are
    ``refine_<name>``."""
    return option_flags(REFINE_OPTIONS.values(), {"min_score": min_score_flag}, prefix="refine_")


#: the command parameters of the refinement options
REFINE_PARAMS = tuple("refine_" + name for name in REFINE_OPTIONS)


def pop_refine_options(kwargs: dict):
    """The RefineOptions of a command's keyword arguments (removed from them)."""
    return RefineOptions(**{k[len("refine_"):]: kwargs.pop(k) for k in REFINE_PARAMS})


@click.command(help="Refine predictions with a trained PoseRefiner. Scores, track ids and every field prt does not "
                    "own are written back unchanged; the output goes to a new path, atomically.\n\n"
                    "Defaults follow the official code: every joint is predicted (recovered joints get the "
                    "input's score for the slot, else 0), the scale comes from the input pose, no joint is "
                    "dropped. prt's departures: --input-joints-only, --recovered-score refiner, --keep-below and "
                    "--min-move (default: the checkpoint's calibrated values), --scale-from head-box. One summary "
                    "line on stderr says how many people were refined, joints moved or recovered, and people passed "
                    "through (those without joints).")
@click.option("--pred", type=click.Path(exists=True, path_type=Path), required=True, help="File or folder.")
@click.option("--images", type=click.Path(exists=True, file_okay=False, path_type=Path), required=True,
              help="Folder the image names of the predictions are relative to.")
@click.option("--checkpoint", type=click.Path(path_type=Path), required=True)
@click.option("--out", type=OutputFileOrFolder(), required=True, help="New file or folder.")
@click.option("--format", "fmt", default=None, help="Input format (default: detected).")
@refinement_options()
@option_flags([RUN_OPTIONS["batch_size"], RUN_OPTIONS["workers"]])
@click.option("--shard", default="0/1", show_default=True, help="Refine only the i-th of n shares of the sequences.")
@option_flags([RUN_OPTIONS["flip"]])
@click.option("--calibrate-on", "calibrate_on", type=click.Path(exists=True, path_type=Path), default=None,
              help="GT (PoseTrack file or folder) of some of the frames being refined: the keep rules (keep-below, "
                   "min-move, or move nothing) are chosen on the predicted people it labels, then every person is "
                   "refined with them. Prints PCKh@0.5 on those frames before and after, with a paired bootstrap "
                   "interval; these frames are not held-out. Replaces --keep-below and --min-move.")
@option_flags([RUN_OPTIONS["device"]])
@click.option("--overwrite", is_flag=True, help="Replace --out if it exists (never the input).")
def command(pred, images, checkpoint, out, fmt, shard, calibrate_on, overwrite, **refine_kw):
    setup_cli_logging()
    from ..errors import ConfigError
    from ..formats import detect_format, get_format
    from ..refiner.run import refine_poses

    if out.resolve() == pred.resolve():
        raise ConfigError("--out is the input; prt never overwrites what it was given", fix="choose a new --out")
    if out.exists() and not overwrite:  # before minutes of refinement, not after them
        from ..errors import InputError

        raise InputError("exists already", file=out, fix="choose a new output path or pass --overwrite")
    options = pop_refine_options(refine_kw)
    f = get_format(fmt) if fmt else detect_format(pred)
    if f.write is None:
        raise ConfigError(f"format {f.name} can be read but not written", fix="convert it first with prt convert")
    poses = f.read(pred)
    gt = detect_format(calibrate_on).read(calibrate_on) if calibrate_on is not None else None
    run = {k: refine_kw.pop(k) for k in RUN_OPTIONS}
    result = refine_poses(poses, images, checkpoint, options, calibrate_on=gt, calibrate_name=str(calibrate_on),
                          shard=_shard(shard), **run)
    f.write(result, out, overwrite=overwrite)
    LOGGER.info("%s -> %s", result.meta["refine_summary"], out)
    if calibrate_on is not None:
        _error_kinds_moved(calibrate_on, pred, out)


def _error_kinds_moved(gt: Path, pred: Path, out: Path) -> None:
    """``prt analyze --compare`` on the --calibrate-on frames: how refinement moved each GT joint between the error
    kinds (docs/analyze.md). Those frames chose the keep rules, so the line says it is not a held-out measure."""
    from ..analysis import analyze
    from ..analysis.summary import moved_text
    from ..errors import PrtError

    try:
        a = analyze(gt, pred, task="pose", compare=out).to_dict()
    except PrtError as e:  # the refinement is written; the summary is extra
        LOGGER.warning("error kinds before/after not measured (%s)", e.message.splitlines()[0])
        return
    LOGGER.info("error kinds on the --calibrate-on frames (the frames that chose the rules; not held-out): %s",
                moved_text(a["moved"]))
