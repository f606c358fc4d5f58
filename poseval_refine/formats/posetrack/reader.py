"""One PoseTrack JSON file, either layout (detected from its keys), or a folder of them."""

from __future__ import annotations

from pathlib import Path

import orjson

from ...errors import InputError
from ...io import no_gc, parse_json, read_bytes
from ...poses import PoseSequence, PoseSet
from .._pointbytes import split_many
from .fields import FMT17, layout_of
from .listing import sequence_files
from .reader_2017 import read_2017
from .reader_2018 import read_2018


def prepare_reads(paths: list[Path]) -> list[tuple]:
    """The bytes of files that :func:`read_sequence` will read for evaluation (``prepared=``), with
    their point lists parsed together (``_pointbytes.split_many``); a file that cannot be read
    holds its error, raised when it is read."""
    raws: list = []
    for p in paths:
        try:
            raws.append(read_bytes(p))
        except InputError as e:
            raws.append(e)
    ok = [i for i, r in enumerate(raws) if type(r) is bytes]
    splits: list = [None] * len(raws)
    for i, sp in zip(ok, split_many([raws[i] for i in ok])):
        splits[i] = sp
    return list(zip(raws, splits))


def read_sequence(path: str | Path, name: str | None = None, records: bool = True,
                  regions: bool = True, scores: bool = True, prepared: tuple | None = None) -> PoseSequence:
    """One PoseTrack JSON file (either layout, detected from its keys).

    ``records=False`` keeps only what evaluation needs (no source records for writing back, no
    image names): faster, the parsed JSON is freed at once, and joints with non-finite
    coordinates are kept the way poseval counts them. ``regions=False`` skips ignore regions
    (poseval reads them from the GT only); ``scores=False`` skips the scores of a 2017 file
    (evaluation does not use GT scores); ``prepared``: this file's entry of :func:`prepare_reads`."""
    path = Path(path)
    name = name or path.stem
    with no_gc():
        if prepared is not None:
            raw, split = prepared
            if type(raw) is not bytes:
                raise raw
        else:
            raw = read_bytes(path)
            split = split_many([raw])[0] if not records else None
        if not records:  # the point lists straight from the bytes, the rest parsed as usual
            if split is not None:
                try:
                    data = orjson.loads(split[0])
                except orjson.JSONDecodeError:
                    data = None
                seq = None
                if type(data) is dict and "annolist" in data:
                    seq = read_2017(data, path, name, False, regions, scores, packed=split[1])
                del data, split
                if seq is not None:
                    return seq
        data = parse_json(raw, path)
        layout = layout_of(data, path)
        if layout == FMT17:
            # true/false anywhere: the careful path reads the points (numpy would take a bool for 1)
            may_bool = b"true" in raw or b"false" in raw
            del raw
            seq = read_2017(data, path, name, records, regions, scores, may_bool)
        else:
            del raw
            seq = read_2018(data, path, name, records, regions)
        del data  # freed before the collector is back on: it would otherwise walk the whole tree
    # the contract is checked for what is written back; an evaluation read builds it by construction
    return seq.validate() if records else seq


def read_sequence_data(data, path: Path, records: bool = True, regions: bool = True,
                       scores: bool = True) -> PoseSequence:
    """One sequence from its parsed JSON (the Python API's in-memory input), as :func:`read_sequence` reads
    a file's content; ``path`` (its file name) names it in messages and gives its name."""
    path = Path(path)
    name = path.name[:-5] if path.name.lower().endswith(".json") else path.name
    with no_gc():
        if layout_of(data, path) == FMT17:  # may_bool None: parsed objects, the points are checked for true/false
            seq = read_2017(data, path, name, records, regions, scores, None)
        else:
            seq = read_2018(data, path, name, records, regions)
    return seq.validate() if records else seq


def read_posetrack_data(content) -> PoseSet:
    """One sequence's parsed JSON, or ``{sequence file name: parsed JSON}`` (in file-name order, as a folder
    is read)."""
    if isinstance(content, dict) and ("annolist" in content or "images" in content):
        seqs = [read_sequence_data(content, Path("sequence.json"))]
    elif isinstance(content, dict):
        seqs = [read_sequence_data(v, Path(k)) for k, v in sorted(content.items())]
    else:
        raise InputError(f"is {type(content).__name__}, not PoseTrack JSON", file="input",
                         fix="give a sequence's parsed JSON or {sequence file name: parsed JSON}")
    fmts = {s.meta["source"]["format"] for s in seqs}
    return PoseSet({s.name: s for s in seqs}, format=fmts.pop() if len(fmts) == 1 else "posetrack-mixed")


def is_posetrack_data(content, layout: str) -> bool:
    """A sequence's parsed JSON in ``layout``, or a mapping of file names to such sequences."""
    def one(d) -> bool:
        return isinstance(d, dict) and (("annolist" in d) if layout == FMT17 else ("images" in d and
                                                                                    "annotations" in d))
    if one(content):
        return True
    return isinstance(content, dict) and bool(content) and all(isinstance(k, str) for k in content) and \
        one(next(iter(content.values())))


def read_posetrack(path: str | Path) -> PoseSet:
    """A file or a folder of per-sequence files, in sorted file-name order."""
    files = sequence_files(path)
    seqs = {}
    for f in files:
        seqs[f.stem] = read_sequence(f)
    fmts = {s.meta["source"]["format"] for s in seqs.values()}
    return PoseSet(sequences=seqs, format=fmts.pop() if len(fmts) == 1 else "posetrack-mixed", root=str(path))
