"""Shared fixtures. Real test data lives in ../shared/data beside the checkout (never copied here).

Where the data is missing, a user's local run skips the tests that need it (with the reason); under
CI (``CI`` set, as every CI service does) they fail instead, so a green CI run has checked the numbers.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

_HERE = Path(__file__).resolve().parent


def shared_candidates(env: dict | None = None, here: Path = _HERE) -> list[Path]:
    """Where the ``shared`` folder is looked for: ``$PRT_SHARED`` alone when it is set, else a
    ``shared`` folder beside the checkout or beside one of its parents."""
    env = os.environ if env is None else env
    if env.get("PRT_SHARED"):
        return [Path(env["PRT_SHARED"])]
    out = []
    for parent in [here.parent, *here.parent.parents]:
        out += [parent / "shared", parent.parent / "shared"]
    return out


def find_shared(env: dict | None = None, here: Path = _HERE) -> Path | None:
    return next((c for c in shared_candidates(env, here) if (c / "data").is_dir()), None)


def in_ci(env: dict | None = None) -> bool:
    env = os.environ if env is None else env
    return env.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def missing_data(what: str, env: dict | None = None, here: Path = _HERE, rel: str = "data"):
    """Skip (a local run) or fail (CI) a test whose data ``what`` is not there, saying where it should be
    (``rel``: its place inside the shared folder)."""
    env = os.environ if env is None else env
    if env.get("PRT_SHARED"):
        where = f"PRT_SHARED={env['PRT_SHARED']} (expected {Path(env['PRT_SHARED']) / rel})"
    else:
        where = f"{here.parent.parent / 'shared' / rel} (a 'shared' folder beside the checkout), or set PRT_SHARED"
    message = f"{what} not found; it should be at {where}"
    if in_ci(env):
        pytest.fail(f"CI is set, so missing test data is an error: {message}", pytrace=False)
    pytest.skip(message)


SHARED = find_shared()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data``; without it a local run skips the test and a CI run fails it."""
    if SHARED is None:
        missing_data("shared test data")
    return SHARED / "data"


@pytest.fixture(autouse=True, scope="session")
def _prt_cache(tmp_path_factory):
    """prt's cache (results.cache: the boards' resamples; the shipped results' index) in a folder of this
    test run, never the user's: every run starts cold, and no entry of another checkout's code is read."""
    old = os.environ.get("PRT_CACHE")
    os.environ["PRT_CACHE"] = str(tmp_path_factory.mktemp("prt-cache"))
    yield
    if old is None:
        os.environ.pop("PRT_CACHE", None)
    else:
        os.environ["PRT_CACHE"] = old


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A tiny PoseRefiner trained for 2 steps on 4 synthetic scenes: (root, scenes folder, checkpoint)."""
    from poseval_refine.cli import main
    from poseval_refine.refiner.calibrate import calibrate_checkpoint
    from poseval_refine.refiner.encode import EncodeConfig
    from poseval_refine.refiner.synth import SynthConfig
    from poseval_refine.refiner.train import TrainConfig, train

    from .support.refiner import SCALE

    root = tmp_path_factory.mktemp("refine")
    assert main(["synth", "--out", str(root / "scenes"), "--n", "4", "--seed", "11", "--predictions", "heavy"]) == 0
    ckpt = root / "tiny.ckpt"
    train(TrainConfig(out=ckpt, steps=2, width=8, batch_size=2, checkpoint_every=0, calibration_scenes=1,
                      encode=EncodeConfig(scale=SCALE, canvas_factor=0.8), synth=SynthConfig(scale=SCALE)))
    calibrate_checkpoint(ckpt, scenes=1)  # the step `prt train` runs after training
    return root, root / "scenes", ckpt


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium (playwright); skipped where it is missing, failed under CI."""
    import shutil

    from .support.browser import ARGS, CHROMIUM

    missing = []
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing.append("the playwright package (pip install -e '.[test]')")
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        missing.append(f"chromium at {CHROMIUM} (apt-get install chromium)")
    if missing:
        if in_ci():
            pytest.fail("CI must install " + " and ".join(missing) + " (.ci/run does)")
        pytest.skip("needs " + " and ".join(missing))
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


# ----------------------------------------------------------------------------- prt serve's databases
#: the databases the server suite runs on (issue 31): the embedded SQLite file and a real PostgreSQL
SERVE_BACKENDS = ("sqlite", "postgresql")


def missing_postgres(problem: str, env: dict | None = None):
    """Skip (a local run) or fail (CI) a PostgreSQL run of the server suite that cannot have its database."""
    if in_ci(env):
        pytest.fail(f"CI must provide PostgreSQL (.ci/run installs Debian's postgresql): {problem}", pytrace=False)
    pytest.skip(f"the PostgreSQL runs of the server suite need PostgreSQL: {problem}")


@pytest.fixture(scope="session")
def pg_cluster():
    """A throwaway PostgreSQL cluster for the whole session (tests/support/pgcluster.py); each user makes its
    own database in it. Without PostgreSQL (or psycopg2) a local run skips, a CI run fails."""
    from .support.pgcluster import PgCluster, PgUnavailable

    try:
        import psycopg2  # noqa: F401  (the serve extra's PostgreSQL driver)
    except ImportError:
        missing_postgres("psycopg2 is not installed (pip install -e '.[serve]')")
    try:
        cluster = PgCluster.start()
    except PgUnavailable as e:
        missing_postgres(str(e))
    yield cluster
    cluster.stop()


@pytest.fixture(scope="module", params=SERVE_BACKENDS)
def db_backend(request) -> str:
    """The server suite's database, parametrised: each test module runs once on SQLite and once on PostgreSQL."""
    return request.param


@pytest.fixture(scope="module")
def serve_db(db_backend, request) -> str | None:
    """A database for one test module's server: None (SQLite in its --root) or a fresh PostgreSQL database."""
    if db_backend == "sqlite":
        return None
    return request.getfixturevalue("pg_cluster").create_database()


@pytest.fixture
def fresh_serve_db(db_backend, request) -> str | None:
    """Like ``serve_db``, for one test alone."""
    if db_backend == "sqlite":
        return None
    return request.getfixturevalue("pg_cluster").create_database()
