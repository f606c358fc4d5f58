"""The store's index, the cache of board entries, ties without every pair's percentiles, and
`prt results list/rm` (issue 29 items 1-3, issue 25 item 3).

The stores here are filled with copies of the shipped MPII results under other names (real per-item
statistics of 2958 people), so nothing is evaluated."""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest

from poseval_refine.cli import main
from poseval_refine.results import cache, files, index
from poseval_refine.results.board import build_boards
from poseval_refine.results.store import load_all, load_dir, save_result, shipped_dir
from poseval_refine.results.ties import board_ties, tie_matrix
from poseval_refine.results.uncertainty import pairwise_differences

SHIPPED = sorted(shipped_dir().glob("*__mpii-val__single.json"))


def _copy(data: dict, name: str) -> dict:
    d = json.loads(json.dumps(data))
    d["method"], d["source"] = name, "user"
    return d


@pytest.fixture
def parses(monkeypatch):
    """The result files parsed (by path name) while the test runs."""
    seen: list[str] = []
    real = files.check_content

    def counting(raw, path):
        seen.append(os.path.basename(str(path)))
        return real(raw, path)

    monkeypatch.setattr(files, "check_content", counting)
    return seen


@pytest.fixture
def filled(tmp_path):
    """A store of 12 user results (copies of the shipped MPII results, saved as prt saves)."""
    d = tmp_path / "store"
    shipped = [json.loads(p.read_text()) for p in SHIPPED]
    for i in range(12):
        save_result(_copy(shipped[i % len(shipped)], f"net-{i:02d}"), d)
    return d


def test_listing_a_store_parses_only_what_changed(filled, parses):
    first = load_dir(filled)
    assert len(first) == 12 and parses == []  # the saves recorded every file in the index
    path = filled / "net-03__mpii-val__single.json"
    data = json.loads(path.read_text())
    data["headline"]["PCKh@0.5"] = 91.0  # edited behind the index's back
    path.write_text(json.dumps(data))
    (filled / "net-05__mpii-val__single.json").unlink()
    shutil.copy(filled / "net-00__mpii-val__single.json", filled / "copy__mpii-val__single.json")
    again = load_dir(filled)
    assert sorted(parses) == ["copy__mpii-val__single.json", "net-03__mpii-val__single.json"]
    names = {r.path.name for r in again}
    assert "net-05__mpii-val__single.json" not in names and "copy__mpii-val__single.json" in names
    # the copy is what its content says (method net-00), whatever its file name
    assert next(r for r in again if r.path.name.startswith("copy")).key == ("net-00", "mpii-val", "single")
    parses.clear()
    load_dir(filled)
    assert parses == []


def test_a_damaged_index_is_rebuilt(filled, parses):
    (filled / index.INDEX_NAME).write_bytes(b"\x00garbage{")
    results = load_dir(filled)
    assert len(results) == 12 and len(parses) == 12
    assert json.loads((filled / index.INDEX_NAME).read_text())["version"] == index.INDEX_VERSION


def test_saving_parses_no_other_result(filled, parses):
    shipped = json.loads(SHIPPED[0].read_text())
    from poseval_refine.results.store import known_benchmarks

    existing = load_all(filled)
    assert known_benchmarks(existing)["mpii-val"] == {shipped["inputs"]["gt"]["sha256"]}
    save_result(_copy(shipped, "newcomer"), filled, shipped=[r for r in existing if r.store == "shipped"],
                stored=[r for r in existing if r.store == "user"])
    assert set(parses) == {"newcomer__mpii-val__single.json"}, parses


def test_the_same_refusals_from_the_index(filled):
    from poseval_refine.errors import ConfigError

    other = json.loads(SHIPPED[1].read_text())
    with pytest.raises(ConfigError, match="differs from it only in case"):
        save_result(_copy(other, "NET-00"), filled)
    with pytest.raises(ConfigError, match="made from other predictions"):  # net-00 is SHIPPED[0]'s predictions
        save_result(_copy(other, "net-00"), filled, stored=load_dir(filled))
    save_result(_copy(json.loads(SHIPPED[0].read_text()), "net-00"), filled, stored=load_dir(filled))  # same: fine


def test_a_names_listing_catches_files_added_and_the_save_checks_the_file_it_replaces(filled, parses):
    """Saving lists the store by its file names (no stat per file) and checks by its stat signature only the file
    it would replace: a file copied in behind the index's back is found (a case clash refused), and a file
    rewritten in place with other predictions is refused although the index still holds its old hash."""
    from poseval_refine.errors import ConfigError

    kept = (filled / index.INDEX_NAME).read_bytes()
    path = filled / "net-03__mpii-val__single.json"
    data = json.loads(path.read_text())
    data["inputs"]["pred"]["sha256"] = "f" * 64  # other predictions, written in place under the same name
    path.write_text(json.dumps(data))
    stale = load_all(filled, check="names")
    assert parses == []  # names unchanged: nothing read, the index's entry kept ...
    assert next(r for r in stale if r.file_name == path.name).pred_sha256 != "f" * 64
    assert next(r for r in load_all(filled) if r.file_name == path.name).pred_sha256 == "f" * 64  # ... a board's
    parses.clear()  # listing (every file stat-ed) reads it again
    (filled / index.INDEX_NAME).write_bytes(kept)  # the index as it was before the edit
    own = json.loads(SHIPPED[3].read_text())  # what the index says net-03 was made from
    existing = load_all(filled, check="names")
    with pytest.raises(ConfigError, match="made from other predictions"):
        save_result(_copy(own, "net-03"), filled, shipped=[r for r in existing if r.store == "shipped"],
                    stored=[r for r in existing if r.store == "user"])
    shutil.copy(filled / "net-00__mpii-val__single.json", filled / "NET-77__mpii-val__single.json")
    existing = load_all(filled, check="names")  # a new name: the listing is made again, by stat
    assert "NET-77__mpii-val__single.json" in {r.file_name for r in existing}
    with pytest.raises(ConfigError, match="differs from it only in case"):
        save_result(_copy(own, "net-77"), filled, shipped=[r for r in existing if r.store == "shipped"],
                    stored=[r for r in existing if r.store == "user"])


def test_saving_lists_the_stores_by_names(tmp_path, monkeypatch, shared_data):
    """`Result.save` (store_evaluation) trusts the indexes by the folders' names: no stat per stored file."""
    import poseval_refine as prt

    checks = []
    real = index.scan
    monkeypatch.setattr(index, "scan", lambda d, in_store=True, check="stat": checks.append(check) or
                        real(d, in_store, check))
    pred = tmp_path / "p.h5"
    shutil.copyfile(shared_data / "mpii_val" / "newell.h5", pred)
    prt.evaluate(shared_data / "mpii_val" / "valid.h5", pred, task="single").save("mine", results=tmp_path / "s")
    assert checks and set(checks) == {"names"}, checks


def test_the_saves_benchmark_list_is_the_stores(filled):
    from poseval_refine.results.store import known_benchmarks, listed_benchmarks

    (filled / "junk__mpii-val__single.json").write_text("{}")  # a damaged file: no benchmark of its own
    assert listed_benchmarks(filled) == known_benchmarks(load_all(filled)) != {}


def test_entries_are_computed_once_and_give_the_same_board(filled, monkeypatch):
    before = build_boards(load_all(filled), benchmark="mpii-val", resamples=50)[0]
    calls = []
    real = cache.build_entry
    monkeypatch.setattr(cache, "build_entry", lambda *a, **k: calls.append(a[0].path.name) or real(*a, **k))
    after = build_boards(load_all(filled), benchmark="mpii-val", resamples=50)[0]
    assert calls == []  # every entry read from the cache
    assert [r.as_dict() for r in after.rows] == [r.as_dict() for r in before.rows]
    build_boards(load_all(filled), benchmark="mpii-val", resamples=50, seed=1)
    assert len(calls) == 18  # another seed: other draws, computed (12 stored + 6 shipped)


def test_a_damaged_cache_entry_is_computed_again(filled):
    before = build_boards(load_all(filled), benchmark="mpii-val", resamples=30)[0]
    entries = sorted((cache.cache_dir() / "rows").rglob("*.bin"))
    for i, f in enumerate(entries):
        raw = bytearray(f.read_bytes())
        if i % 2:
            raw[-8:] = np.float64(123.0).tobytes()  # the last resample changed (row 0 still right)
        else:
            raw[len(raw) // 3] ^= 0xFF  # somewhere in the header or row 0
        f.write_bytes(bytes(raw))
    after = build_boards(load_all(filled), benchmark="mpii-val", resamples=30)[0]
    assert [r.as_dict() for r in after.rows] == [r.as_dict() for r in before.rows]


def test_the_cache_lives_in_prt_cache_not_beside_the_shipped_results(filled):
    listing = sorted(p.name for p in shipped_dir().iterdir())
    build_boards(load_all(filled), benchmark="mpii-val", resamples=20)
    assert sorted(p.name for p in shipped_dir().iterdir()) == listing
    assert str(cache.cache_dir()) == os.environ["PRT_CACHE"]
    assert any((cache.cache_dir() / "rows").rglob("*.bin")) and any((cache.cache_dir() / "index").iterdir())


def test_saving_computes_the_entry_the_board_reads(tmp_path, monkeypatch, shared_data):
    """`Result.save` computes the result's resamples; the board after it computes nothing."""
    import h5py

    import poseval_refine as prt

    with h5py.File(shared_data / "mpii_val" / "newell.h5") as f:
        pred = np.asarray(f["preds"], dtype=np.float64)
    prt.evaluate(shared_data / "mpii_val" / "valid.h5", pred, task="single").save("mine", results=tmp_path / "s")
    build_boards(load_all(tmp_path / "s"), benchmark="mpii-val")  # the shipped results' entries
    calls = []
    real = cache.build_entry
    monkeypatch.setattr(cache, "build_entry", lambda *a, **k: calls.append(a[0].path.name) or real(*a, **k))
    prt.evaluate(shared_data / "mpii_val" / "valid.h5", pred + 1.0, task="single").save("mine2",
                                                                                        results=tmp_path / "s")
    assert calls == ["mine2__mpii-val__single.json"]
    calls.clear()
    board = build_boards(load_all(tmp_path / "s"), benchmark="mpii-val")[0]
    assert calls == [] and {"mine", "mine2"} <= {r.method for r in board.rows}


# ----------------------------------------------------------------------------- ties
def _random_board(rng, k: int, R: int, kind: int) -> np.ndarray:
    base = rng.normal(0, 1, R)
    if kind == 0:  # a shared draw effect, spread values
        return base[None] * rng.uniform(0, 1, (k, 1)) + rng.normal(0, 0.3, (k, R)) + rng.uniform(0, 3, (k, 1))
    if kind == 1:  # coarse values: many exact ties between resamples
        return np.round(base[None] + rng.normal(0, 0.5, (k, R)) + rng.integers(0, 3, (k, 1)) * 0.1, 1)
    if kind == 2:  # identical rows
        m = np.round(rng.normal(0, 1, (k, R)) * 2) / 2 + np.arange(k)[:, None] * 0.05
        m[rng.integers(1, k)] = m[0]
        return m
    m = rng.normal(0, 1, (k, R)) + np.linspace(0, 2, k)[:, None]  # a row with a NaN resample
    m[rng.integers(0, k), rng.integers(0, R)] = np.nan
    return m


@pytest.mark.parametrize("seed", range(12))
def test_tie_matrix_equals_every_pair_computed(seed):
    rng = np.random.default_rng(seed)
    for kind in range(4):
        k, R = int(rng.integers(2, 70)), int(rng.choice([20, 41, 999, 1000]))
        m = _random_board(rng, k, R, kind)
        v = np.nanmean(m, axis=1)
        assert (tie_matrix(v, m) == pairwise_differences(v, m).tied).all(), (seed, kind, k, R)


def test_tie_matrix_on_a_large_near_identical_board():
    rng = np.random.default_rng(7)
    k, R = 300, 1000
    m = rng.normal(0, 1, (1, R)) * 0.5 + rng.normal(0, 0.3, (k, R)) + np.linspace(0, 1.5, k)[:, None]
    v = m.mean(axis=1)
    assert (tie_matrix(v, m) == pairwise_differences(v, m).tied).all()


def test_board_ties_match_the_unpruned_pairs(filled):
    board = build_boards(load_all(filled), benchmark="mpii-val", resamples=200)[0]
    tg, = board.tie_groups
    every = pairwise_differences(tg.values, tg.resampled).tied
    for a, i in enumerate(tg.rows):
        assert set(board.rows[i].tied_with) == {board.rows[tg.rows[b]].method for b in np.flatnonzero(every[a])}
    rows = board.rows
    board_ties(rows, board.metric)  # again: the same
    assert [r.tied_with for r in rows] == [r.tied_with for r in board.rows]


# ----------------------------------------------------------------------------- prt results
def test_results_list_and_rm(filled, capsys):
    assert main(["results", "list", "--results", str(filled), "--format", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)["results"]
    assert {x["method"] for x in listed if x["store"] == "user"} == {f"net-{i:02d}" for i in range(12)}
    assert sum(x["store"] == "shipped" for x in listed) == len(SHIPPED)
    assert main(["results", "rm", "net-04", "--benchmark", "mpii_val", "--task", "single", "--results",
                 str(filled)]) == 0
    assert "removed" in capsys.readouterr().out
    assert not (filled / "net-04__mpii-val__single.json").exists()
    assert main(["results", "list", "--results", str(filled)]) == 0
    out = capsys.readouterr().out
    assert "net-04" not in out and "net-03" in out


def test_results_rm_refuses_shipped_and_unknown(filled, capsys):
    assert main(["results", "rm", "newell", "--benchmark", "mpii-val", "--task", "single", "--results",
                 str(filled)]) == 2
    err = capsys.readouterr().err
    assert "shipped with prt" in err and "fix:" in err
    assert (shipped_dir() / "newell__mpii-val__single.json").exists()
    assert main(["results", "rm", "NET-01", "--benchmark", "mpii-val", "--task", "single", "--results",
                 str(filled)]) == 2
    err = capsys.readouterr().err
    assert "holds no result 'NET-01'" in err and "net-01 --benchmark mpii-val --task single" in err


def test_results_list_marks_damaged_and_rm_removes_them(filled, capsys):
    path = filled / "net-02__mpii-val__single.json"
    path.write_text("{not json")
    data = json.loads((filled / "net-07__mpii-val__single.json").read_text())
    data["headline"]["AUC"] = 1.0
    (filled / "net-07__mpii-val__single.json").write_text(json.dumps(data))
    assert main(["results", "list", "--results", str(filled), "--check"]) == 0
    out = capsys.readouterr().out
    line2 = next(x for x in out.splitlines() if x.startswith("net-02"))
    line7 = next(x for x in out.splitlines() if x.startswith("net-07"))
    assert "damaged" in line2 and "its headline AUC 1.0 is not what its numbers give" in line7
    assert "2 cannot be ranked" in out
    assert main(["results", "rm", "net-02", "--benchmark", "mpii-val", "--task", "single", "--results",
                 str(filled)]) == 0
    assert not path.exists()


# ----------------------------------------------------------------------------- results/ at the top level
def test_the_shipped_results_are_the_repositorys_results_folder():
    """The design's top-level results/: the shipped files live there (not inside the package), are packaged as
    poseval_refine.shipped_results the way baselines/ is, and say what they are in a README."""
    from pathlib import Path

    repo = Path(__file__).resolve().parent.parent
    assert shipped_dir().resolve() == (repo / "results").resolve()
    assert len(SHIPPED) == 6 and not (repo / "poseval_refine" / "data" / "results").exists()
    pyproject = (repo / "pyproject.toml").read_text()
    assert '"poseval_refine.shipped_results" = "results"' in pyproject
    assert '"poseval_refine.shipped_results" = ["*.json", "*.md"]' in pyproject
    assert '"poseval_refine.shipped_results"' in (repo / "setup.py").read_text()
    assert "`results/` holds the shipped results" in (repo / "README.md").read_text()


def test_verify_shipped_only_recomputes_the_top_level_results(shared_data, capsys):
    assert main(["verify", "--shipped-only", "--data-root", str(shared_data), "--strict"]) == 0
    out = capsys.readouterr().out
    assert "6 matched, 0 drifted, 0 not checked" in out


def test_text_table_is_pandas_to_string():
    """The text board is written without pandas: the same characters as DataFrame.to_string(index=False)."""
    import random

    import pandas as pd

    from poseval_refine.render.leaderboard import text_table

    rng = random.Random(3)
    for _ in range(500):
        top = rng.choice([3, 9, 10, 99, 100, 1200])
        recs = [{"#": rng.randint(1, top), "Method": rng.choice(["net-0001", "Stacked Hourglass (8 stacks)", "a", ""]),
                 "PCKh@0.5": rng.choice(["90.12", "85.6\u2020", ""]),
                 "95% CI": rng.choice(["", "[90.17, 91.24]", "[1.00, 2.00]\u2021"]),
                 "Tied ranks": rng.choice(["", "1\u201314", "100\u2013999"]),
                 "Source": rng.choice(["user", "quoted, Table 1", "recomputed (newell.h5)"])}
                for _ in range(rng.randint(1, 12))]
        assert text_table(recs) == pd.DataFrame.from_records(recs).to_string(index=False)
