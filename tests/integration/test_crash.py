"""kill -9 at any moment of a load leaves the target exactly as it was, and a rerun loads.

The load runs in a subprocess against a real server; its log tells which phase it is in
(the COPY, the rebuild of indexes and foreign keys, the checks) and the test kills it there
with SIGKILL. The server rolls the open transaction back when it notices its client gone.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

from moeen_synth.cli import main
from moeen_synth.db import migrate as migrations
from moeen_synth.db.catalog import read_catalog
from tests.dbtools import content_digest

# Log lines that open each phase (jobs/load.py); killing right after one lands inside it.
PHASES = {
    "copy": "rows in",  # the plan: the COPY starts
    "rebuild": "copied crm_activities",  # the COPY is done: the rebuild starts
    "checks": "rebuilt indexes",  # the rebuild is done: the checks start
}


def _idle(dsn: str, timeout: float = 60.0) -> None:
    """Wait until no other session works in the database (the killed load's backend)."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(dsn, autocommit=True) as conn:
        while time.monotonic() < deadline:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchone()
            if row == (0,):
                return
            time.sleep(0.2)
    raise AssertionError("the killed load's session did not end")


def _kill_during(dsn: str, marker: str, outputs: Path, *args: str) -> None:
    env = {**os.environ, "MOEEN_SYNTH_OUTPUTS": str(outputs)}
    load = subprocess.Popen(
        [sys.executable, "-m", "moeen_synth.cli", "--profile", "clinic", "--dsn", dsn, "-q", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and load.poll() is None:
            logs = sorted((outputs / "logs").glob("*-load.log"))
            if logs and marker in logs[-1].read_text("utf-8"):
                break
            time.sleep(0.01)
        assert load.poll() is None, "the load ended before the phase to kill it in"
    finally:
        load.send_signal(signal.SIGKILL)
        load.wait()


@pytest.mark.parametrize("phase", list(PHASES))
def test_kill_9_leaves_the_target_as_it_was(fresh_dsn: str, tmp_path: Path, phase: str) -> None:
    with psycopg.connect(fresh_dsn, autocommit=True) as conn:
        migrations.migrate(conn)
    with psycopg.connect(fresh_dsn) as conn:
        catalog = read_catalog(conn)
    before = content_digest(fresh_dsn)

    _kill_during(fresh_dsn, PHASES[phase], tmp_path / f"outputs-{phase}")
    _idle(fresh_dsn)

    with psycopg.connect(fresh_dsn) as conn:
        assert read_catalog(conn) == catalog  # indexes and foreign keys all back
    assert content_digest(fresh_dsn) == before
    rerun = CliRunner().invoke(main, ["--profile", "clinic", "--dsn", fresh_dsn, "-q"])
    assert rerun.exit_code == 0, rerun.output


# With --streams: the staged rows are committed outside public before the swap.
STREAM_PHASES = {
    "copy": "streams:",  # the streams are open: COPY into the staging schema
    "after-swap": "swapped in",  # the swap is done, the rebuild and checks not
}


@pytest.mark.parametrize("phase", list(STREAM_PHASES))
def test_kill_9_during_a_load_through_streams_leaves_public_as_it_was(
    fresh_dsn: str, tmp_path: Path, phase: str
) -> None:
    with psycopg.connect(fresh_dsn, autocommit=True) as conn:
        migrations.migrate(conn)
    with psycopg.connect(fresh_dsn) as conn:
        catalog = read_catalog(conn)
    before = content_digest(fresh_dsn)

    _kill_during(fresh_dsn, STREAM_PHASES[phase], tmp_path / f"out-{phase}", "--streams", "2")
    _idle(fresh_dsn)

    with psycopg.connect(fresh_dsn) as conn:
        assert read_catalog(conn) == catalog
    assert content_digest(fresh_dsn) == before
    # The staging schema stays until the next load, which removes it and loads.
    rerun = CliRunner().invoke(main, ["--profile", "clinic", "--dsn", fresh_dsn, "-q"])
    assert rerun.exit_code == 0, rerun.output
    with psycopg.connect(fresh_dsn) as conn:
        left = conn.execute("SELECT to_regnamespace('moeen_synth_stage')").fetchone()
    assert left == (None,)
