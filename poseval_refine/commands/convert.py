"""``prt convert``: read one format, write another (joint maps and synthesized joints recorded)."""

from __future__ import annotations

from pathlib import Path

import click

from ._paths import OutputFileOrFolder


@click.command(help="Convert pose files between formats, e.g. `prt convert --from openpose --to posetrack2018 "
                    "IN OUT`. `prt convert --list` shows the formats.")
@click.option("--from", "src", default=None, help="Input format (default: detected).")
@click.option("--to", "dst", default=None, help="Output format.")
@click.option("--list", "list_formats", is_flag=True, help="List the formats and exit.")
@click.option("--overwrite", is_flag=True, help="Replace OUT if it exists.")
@click.option("--pick", type=click.Choice(["largest", "first"]), default=None,
              help="--to mpii: whom to keep in a frame with several people (largest: the person whose joints span "
                   "the largest box; first: the first listed). Without it such frames are an error.")
@click.option("--gt", "gt", type=click.Path(path_type=Path), default=None,
              help="The GT the converted file will be evaluated against: supplies what the target needs and the "
                   "source lacks (OpenPose file names from COCO results, COCO image ids from OpenPose files), and "
                   "refuses a target that cannot hold what this GT scores (joints it annotates, track ids).")
@click.argument("inp", required=False, type=click.Path(exists=True, path_type=Path))
@click.argument("out", required=False, type=OutputFileOrFolder())
def command(src, dst, list_formats, overwrite, pick, gt, inp, out):
    from ..errors import ConfigError
    from ..formats import all_formats, detect_format, get_format
    from ..log import LOGGER, setup_cli_logging

    setup_cli_logging()
    if list_formats:
        for f in all_formats().values():
            click.echo(f"{f.name:18s} {'read/write' if f.write else 'read      '}  {f.description}")
        return
    if inp is None or out is None or dst is None:
        raise ConfigError("give --to FORMAT, IN and OUT", fix="e.g. prt convert --to posetrack2018 preds/ out/")
    reader = get_format(src) if src else detect_format(inp)
    writer = get_format(dst)
    if writer.write is None:
        raise ConfigError(f"format {writer.name} can be read but not written")
    if out.resolve() == inp.resolve():
        raise ConfigError("OUT is the input; prt never overwrites what it was given", fix="choose a new OUT")
    options = {"pick": pick} if pick is not None else {}
    refused = sorted(set(options) - set(writer.write_options))
    if refused:
        raise ConfigError(f"--{refused[0]} does not apply to --to {writer.name}",
                          fix="--pick chooses one person per frame for --to mpii; leave it out for other formats")
    from ..conversion import carry_identity, check_holds, lost_points, read_gt_reference

    reference = read_gt_reference(gt) if gt is not None else None
    poses = reader.read(inp)
    if reference is not None:
        check_holds(poses, writer.name, reference, picked=pick is not None)
    else:
        lost = lost_points(poses, writer.name)
        if lost:
            LOGGER.info("%s has no slot for %s: not written (absent in %s)", writer.name,
                        ", ".join(f"{j} ({n} points)" for j, n in lost.items()), out)
    poses = carry_identity(poses, reader.name, writer.name, reference)
    writer.write(poses, out, overwrite=overwrite, **options)
    for seq in poses:
        for c in seq.meta.get("conversions", []):
            LOGGER.info("%s: %s", seq.name, c)
    LOGGER.info("%s (%s) -> %s (%s)", inp, reader.name, out, writer.name)
