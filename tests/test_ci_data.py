"""Missing ../shared/data: a local run skips the tests that need it, a CI run fails them saying where it goes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import find_shared, in_ci, missing_data, missing_postgres

ROOT = Path(__file__).resolve().parent.parent


def test_lookup_beside_the_checkout_and_through_prt_shared(tmp_path):
    checkout = tmp_path / "work" / "repo"
    (checkout / "tests").mkdir(parents=True)
    assert find_shared({}, checkout / "tests") is None
    (tmp_path / "work" / "shared" / "data").mkdir(parents=True)
    assert find_shared({}, checkout / "tests") == tmp_path / "work" / "shared"
    # PRT_SHARED, when set, is the only place looked at (a wrong value is not rescued by the search)
    assert find_shared({"PRT_SHARED": str(tmp_path / "nowhere")}, checkout / "tests") is None
    assert find_shared({"PRT_SHARED": str(tmp_path / "work" / "shared")}, tmp_path) == tmp_path / "work" / "shared"


@pytest.mark.parametrize("value, ci", [("true", True), ("1", True), ("yes", True), ("", False), ("false", False),
                                       ("0", False)])
def test_ci_flag(value, ci):
    assert in_ci({"CI": value}) is ci
    assert in_ci({}) is False


def test_missing_postgresql_skips_locally_and_fails_in_ci(tmp_path):
    from .support.pgcluster import pg_bin_dir

    assert pg_bin_dir(path=str(tmp_path), debian=tmp_path / "none") is None
    for version in ("9", "13", "15"):
        for tool in ("initdb", "pg_ctl"):
            (tmp_path / "pg" / version / "bin").mkdir(parents=True, exist_ok=True)
            (tmp_path / "pg" / version / "bin" / tool).write_text("")
    assert pg_bin_dir(path=str(tmp_path), debian=tmp_path / "pg") == tmp_path / "pg" / "15" / "bin"  # the newest
    with pytest.raises(pytest.skip.Exception, match="need PostgreSQL: no initdb"):
        missing_postgres("no initdb", {})
    with pytest.raises(pytest.fail.Exception, match=r"CI must provide PostgreSQL \(.ci/run installs.*no initdb"):
        missing_postgres("no initdb", {"CI": "true"})


def test_missing_data_skips_locally_and_fails_in_ci(tmp_path):
    env = {"PRT_SHARED": str(tmp_path / "gone")}
    with pytest.raises(pytest.skip.Exception, match="gone"):
        missing_data("shared test data", env)
    with pytest.raises(pytest.fail.Exception, match=r"CI is set.*shared test data not found.*gone[/\\]data"):
        missing_data("shared test data", dict(env, CI="true"))
    with pytest.raises(pytest.fail.Exception, match=r"beside the checkout"):
        missing_data("shared test data", {"CI": "true"}, tmp_path / "repo" / "tests")


@pytest.mark.parametrize("ci", ["true", ""])
def test_suite_without_data(tmp_path, ci):
    """End to end: a golden test with the data hidden fails under CI=true and skips otherwise."""
    env = dict(os.environ, CI=ci, PRT_SHARED=str(tmp_path / "no-shared"), PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rfs",
                           "tests/test_posetrack_golden.py::test_pose_ap_matches_poseval[case1]"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    out = proc.stdout + proc.stderr
    assert str(tmp_path / "no-shared" / "data") in out, out
    if ci:
        assert proc.returncode == 1 and "1 error" in out and "CI is set" in out, out  # fails at fixture setup
    else:
        assert proc.returncode == 0 and "1 skipped" in out, out
