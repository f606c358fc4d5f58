"""The byte-level reader of PoseTrack-2017 point lists (formats/_pointbytes.py) against the JSON parser.

Every number it gives must be the parser's, bit for bit; everything it does not fully check must be
left to the ordinary reading (None), which then gives the same sequence or the same error."""

from __future__ import annotations

import json
import random
import struct

import numpy as np
import orjson
import pytest

from poseval_refine.errors import InputError
from poseval_refine.formats import _pointbytes, posetrack
from poseval_refine.formats._pointbytes import split_many, split_points
from poseval_refine.formats.posetrack import reader as posetrack_reader


def _doc(points_per_person: list[list[dict]], **rect) -> dict:
    return {"annolist": [{"image": [{"name": "a/0.jpg"}], "annorect": [
        dict(rect, track_id=[i], annopoints=[{"point": pts}]) for i, pts in enumerate(points_per_person)]}]}


def _parser_points(raw: bytes) -> dict[str, list]:
    data = orjson.loads(raw)
    pts = [p for fr in data["annolist"] for r in fr["annorect"] for p in r["annopoints"][0]["point"]]
    return {k: [(p[k][0] if isinstance(p[k], list) else p[k]) for p in pts] for k in pts[0]}


def _same_bits(a: np.ndarray, b: list) -> bool:
    b = np.array(b, dtype=np.float64)
    return a.tobytes() == b.tobytes()


def test_numbers_are_the_parsers_bit_for_bit():
    rng = random.Random(5)
    values = [0.0, -0.0, 0, -0, 1, 9007199254740993, 18446744073709551615 // 10, 0.1, 0.30000000000000004,
              5e-324 * 10 ** 300, 1.7976931348623157e+18, 123456789.12345678, 0.0001234567890123456]
    values += [rng.random() for _ in range(3000)]
    values += [round(rng.uniform(-3000, 3000), rng.randint(0, 6)) for _ in range(3000)]
    values += [struct.unpack("d", struct.pack("Q", (rng.getrandbits(62) & 0x000FFFFFFFFFFFFF)
                                              | (rng.randint(1010, 1075) << 52)))[0] for _ in range(3000)]
    values = [v for v in values if b"e" not in orjson.dumps(v)]  # exponents are the parser's job
    assert len(values) > 6000
    pts = [{"id": [i % 15], "x": [v], "y": [-v], "score": [abs(v)]} for i, v in enumerate(values)]
    for dumps in (orjson.dumps, lambda d: json.dumps(d).encode()):
        raw = dumps(_doc([pts[i:i + 15] for i in range(0, len(pts), 15)]))
        out = split_points(raw)
        if dumps is orjson.dumps:
            assert out is not None
        if out is None:  # exponents (json.dumps writes 1e-05): the parser's job
            continue
        rest, points = out
        ref = _parser_points(raw)
        for k in ("id", "x", "y", "score"):
            assert _same_bits(points.columns[k], ref[k]), k
        assert orjson.loads(rest)["annolist"][0]["annorect"][0]["annopoints"][0]["point"] == _pointbytes.PLACEHOLDER


def test_wide_path_off_gives_none_not_wrong_numbers(monkeypatch):
    monkeypatch.setattr(_pointbytes, "_WIDE", False)
    raw = orjson.dumps(_doc([[{"id": [0], "x": [0.42855452064566646], "y": [1.5]}]]))
    assert split_points(raw) is None  # 17 digits: the long-double path would be needed
    raw = orjson.dumps(_doc([[{"id": [0], "x": [0.5], "y": [1.5]}]]))
    assert split_points(raw)[1].columns["x"].tolist() == [0.5]


@pytest.mark.parametrize("text", [
    b'{"id":[0],"x":[01],"y":[2]}', b'{"id":[0],"x":[1.],"y":[2]}', b'{"id":[0],"x":[.5],"y":[2]}',
    b'{"id":[0],"x":[--1],"y":[2]}', b'{"id":[0],"x":[1-2],"y":[2]}', b'{"id":[0],"x":[1.2.3],"y":[2]}',
    b'{"id":[0],"x":[1 2],"y":[]}', b'{"id":[0],"x":[],"y":[1,2]}', b'{"id":[0],"x":[1e5],"y":[2]}',
    b'{"id":[0],"x":[true],"y":[2]}', b'{"id":[0],"x":[null],"y":[2]}', b'{"id":[0],"x":["1"],"y":[2]}',
    b'{"id":[0],"x1":[5],"y":[2],"x":[1]}', b'{"id":[0],"x":[1],"y":[2],"x":[3]}', b'{"id":[0],"x":[1]}',
    b'{"id":[0],"x":[1],"y":[2],"extra":[3]}', b'{"id":[0],"x":[-],"y":[2]}', b'{"id":[0],"x":[+1],"y":[2]}',
    b'{"id":[0],"x":[12345678901234567890],"y":[2]}', b'{"id":[0],"x":[1],"y":[2]},',
    b'{"id":[0],"x":[1],"y":[2]} 5', b'{"id":[0],"x":[1],"y":[2],"score":[1e-05]}',
])
def test_anything_unchecked_is_left_to_the_parser(text):
    raw = b'{"annolist":[{"annorect":[{"track_id":[0],"annopoints":[{"point":[' + text + b']}]}]}]}'
    assert split_points(raw) is None


def _spaced(text: bytes) -> bytes:
    """A compact point list as ``json.dump`` spaces it (``": "`` and ``", "``)."""
    return text.replace(b'":', b'": ').replace(b"],", b"], ").replace(b"},", b"}, ")


@pytest.mark.parametrize("text", [
    b'{"id":[0],"x":[1.],"y":[2]}', b'{"id":[0],"x":[--1],"y":[2]}', b'{"id":[0],"x":[1-2],"y":[2]}',
    b'{"id":[0],"x":[1.2.3],"y":[2]}', b'{"id":[0],"x":[-],"y":[2]}', b'{"id":[0],"x":[.5],"y":[2]}',
    b'{"id":[0],"x":[1 2],"y":[]}', b'{"id":[0],"x1":[5],"y":[2],"x":[1]}', b'{"id":[0],"x":[1],"y":[2.-5]}',
    b'{"id":[0],"x":[1],"y":[2]} 5', b'{"id":[0],"x":[1],"y":[2]} -', b'{"id":[0],"x":[1],"y":[2]} .',
    b'{"id":[0],"x":[1],"y":[2],"score":[1e-05]}', b'{"id":[0],"x":[ 1],"y":[2]}', b'{"id":[0],"x":[1 ],"y":[-2]}',
])
def test_spaced_lists_with_anything_unchecked_are_left_to_the_parser(text):
    """json.dump's spacing has its own check of where numbers sit (offsets from their key's colon)
    and of stray '.' and '-' (counted, not found by a second pass over the text): the same refusals."""
    raw = b'{"annolist": [{"annorect": [{"track_id": [0], "annopoints": [{"point": [' + _spaced(text) + b']}]}]}]}'
    if text in (b'{"id":[0],"x":[ 1],"y":[2]}', b'{"id":[0],"x":[1 ],"y":[-2]}'):  # valid JSON, odd blanks
        rest, points = split_points(raw)
        assert points.columns["x"].tolist() == [1.0]
        return
    assert split_points(raw) is None


def test_full_precision_numbers_as_json_dump_writes_them():
    """Coordinates and scores as a numpy pipeline's json.dump writes them (shortest round-trip repr, up
    to 17 significant digits, spaced layout) are read by the fast path, bit for bit json.loads' numbers."""
    rng = np.random.default_rng(29)
    x = rng.uniform(-50, 2000, 6000) * np.exp(rng.normal(0, 2, 6000))
    y = np.concatenate([rng.uniform(0, 1, 3000), -rng.uniform(0, 1e6, 3000)])
    score = rng.beta(2, 2, 6000)
    x[:4] = [0.0, -0.0, 9007199254740993.0, 123456789.12345678]
    y[:3] = [-0.0, 1.7976931348623157e+15, 0.30000000000000004]
    keep = np.array([b"e" not in repr(float(v)).encode() for v in np.concatenate([x, y, score])]).reshape(3, -1).all(0)
    x, y, score = x[keep], y[keep], score[keep]
    assert len(x) > 5000
    pts = [{"id": [i % 15], "x": [float(a)], "y": [float(b)], "score": [float(c)]}
           for i, (a, b, c) in enumerate(zip(x, y, score))]
    raw = json.dumps(_doc([pts[i:i + 15] for i in range(0, len(pts), 15)])).encode()
    assert b'"x": [' in raw and max(len(repr(float(v))) for v in x) >= 18  # spaced, 17 digits
    out = split_points(raw)
    assert out is not None
    ref = {k: [p[k][0] for fr in json.loads(raw)["annolist"] for r in fr["annorect"]
               for p in r["annopoints"][0]["point"]] for k in ("x", "y", "score")}
    for k in ("x", "y", "score"):
        assert _same_bits(out[1].columns[k], ref[k]), k
    assert np.signbit(out[1].columns["x"][1]) and np.signbit(out[1].columns["y"][0])  # -0.0 stays -0.0


def test_layout_variants_are_read():
    pts = [[{"id": [j], "x": [10.5 + j], "y": [-2.25], "score": [0.5], "is_visible": [1]} for j in range(15)]]
    for raw in (orjson.dumps(_doc(pts)), json.dumps(_doc(pts)).encode()):  # compact and with blanks
        rest, points = split_points(raw)
        assert points.columns["x"].tolist() == [10.5 + j for j in range(15)]
        assert points.counts.tolist() == [15]
    bare = b'{"annolist":[{"annorect":[{"annopoints":[{"point":[{"id":3,"x":1.5,"y":2}]}]}]}]}'
    assert split_points(bare)[1].columns["y"].tolist() == [2.0]
    # indented files and escapes: the ordinary parser
    assert split_points(json.dumps(_doc(pts), indent=1).encode()) is None
    assert split_points(orjson.dumps(_doc(pts, name="a\\b"))) is None


def test_one_odd_file_in_a_batch_is_read_the_ordinary_way(monkeypatch):
    monkeypatch.setattr(_pointbytes, "BATCH_BYTES", 10 ** 9)
    good = orjson.dumps(_doc([[{"id": [0], "x": [1.25], "y": [2]}]]))
    odd = orjson.dumps(_doc([[{"id": [0], "x": [1.25], "y": [2], "score": [None]}]]))
    out = split_many([good, odd, good])
    assert out[1] is None and out[0] is not None and out[2] is not None
    assert out[2][1].columns["x"].tolist() == [1.25]


def _ordinary(monkeypatch):
    monkeypatch.setattr(posetrack_reader, "split_many", lambda raws: [None] * len(raws))


def _same_sequence(a, b):
    assert a.num_frames == b.num_frames
    for field in ("person_frame", "keypoints", "track_id", "head_box", "has_pose", "score_null"):
        x, y = getattr(a, field), getattr(b, field)
        assert x.shape == y.shape and x.tobytes() == y.tobytes(), field
    assert a.meta.get("notes") == b.meta.get("notes")
    assert len(a.ignore_regions) == len(b.ignore_regions)
    for ra, rb in zip(a.ignore_regions, b.ignore_regions):
        assert [p.tobytes() for p in ra] == [p.tobytes() for p in rb]


@pytest.mark.parametrize("case", ["synth24", "quirks", "bonn_test", "all"])
def test_evaluation_reads_equal_the_ordinary_reading(shared_data, monkeypatch, case):
    folder = shared_data / "posetrack_cases" / case
    files = sorted((folder / "gt").glob("*.json")) + sorted((folder / "pred").glob("*.json"))
    fast = [posetrack.read_sequence(f, records=False) for f in files]
    _ordinary(monkeypatch)
    slow = [posetrack.read_sequence(f, records=False) for f in files]
    for a, b in zip(fast, slow):
        _same_sequence(a, b)


def test_people_without_pose_and_odd_annopoints(tmp_path, monkeypatch):
    doc = {"annolist": [{"annorect": [
        {"track_id": [0], "annopoints": [{"point": [{"id": [1], "x": [1.5], "y": [2.5], "score": [0.25]}]}]},
        {"track_id": [1]},  # no pose record
        {"track_id": [2], "annopoints": []},
        {"track_id": [3], "annopoints": [{"point": [{"id": [0], "x": [3], "y": [4], "score": [1]},
                                                    {"id": [0], "x": [5], "y": [6], "score": [0.5]}]}]},
    ]}, {"annorect": []}]}
    f = tmp_path / "s.json"
    raw = orjson.dumps(doc)
    spaced = raw.replace(b'"annopoints":[{"point":', b'"annopoints": [ {"point" :', 1)  # one list left in place
    f2 = tmp_path / "spaced.json"
    f2.write_bytes(spaced)
    f.write_bytes(raw)
    fast = [posetrack.read_sequence(x, records=False) for x in (f, f2)]
    _ordinary(monkeypatch)
    for a, x in zip(fast, (f, f2)):
        _same_sequence(a, posetrack.read_sequence(x, records=False))
    assert fast[0].has_pose.tolist() == [True, False, False, True]
    assert fast[1].keypoints[0, 1, :2].tolist() == [1.5, 2.5]


def test_errors_are_the_ordinary_readings(tmp_path):
    doc = _doc([[{"id": [0], "x": [1.5], "y": [2.5]}]])
    doc["annolist"][0]["annorect"][0]["track_id"] = ["seven"]
    f = tmp_path / "s.json"
    f.write_bytes(orjson.dumps(doc))
    with pytest.raises(InputError, match="track id is the text 'seven'"):
        posetrack.read_sequence(f, records=False)
    f.write_bytes(orjson.dumps(_doc([[{"id": [0], "x": [1.5], "y": [2.5]}]]))[:-3])
    with pytest.raises(InputError, match="not valid JSON|ends early"):
        posetrack.read_sequence(f, records=False)


def _outcome(path):
    try:
        return posetrack.read_sequence(path, records=False)
    except InputError as e:
        return str(e)


def test_mutated_files_read_the_same_both_ways(shared_data, tmp_path, monkeypatch):
    """Differential fuzzing: tree mutations (fuzzing.mutate_tree) and byte damage of real-layout files,
    written compactly (orjson) and with json.dumps' blanks; the fast path must give what the ordinary
    reading gives: the same arrays or the same error."""
    from .support.fuzzing import Draw, damage_bytes, mutate_tree

    rng = np.random.default_rng(12)
    draw = Draw(rng=rng)
    folder = shared_data / "posetrack_cases" / "synth24"
    seeds = [orjson.loads(f.read_bytes()) for f in sorted((folder / "gt").glob("*.json"))[:2]]
    seeds += [orjson.loads(f.read_bytes()) for f in sorted((folder / "pred").glob("*.json"))[:2]]
    for i in range(160):
        tree = seeds[i % len(seeds)]
        for _ in range(1 + i % 3):
            tree = mutate_tree(tree, draw, "json")
        try:
            raw = orjson.dumps(tree) if i % 2 else json.dumps(tree).encode()
        except (TypeError, orjson.JSONEncodeError):
            continue
        if i % 7 == 0:
            raw = damage_bytes(raw, draw)
        f = tmp_path / f"m{i}.json"
        f.write_bytes(raw)
        fast = _outcome(f)
        with monkeypatch.context() as m:
            _ordinary(m)
            slow = _outcome(f)
        if isinstance(fast, str) or isinstance(slow, str):
            assert fast == slow, i
        else:
            _same_sequence(fast, slow)
