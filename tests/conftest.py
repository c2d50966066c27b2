"""Test fixtures: a real PostgreSQL server (the embedded one by default, or MOEEN_TEST_DSN)
and a fresh database per test that wants one."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from hypothesis import settings
from psycopg import sql
from psycopg.conninfo import make_conninfo

from moeen_synth.db.embedded import EmbeddedServer

REPO = Path(__file__).resolve().parent.parent

# No per-example deadline: the property tests check what holds, not how fast (speed lives in
# bench/), and on a shared two-core machine a first example that warms up a library took
# 280-390 ms against hypothesis's default 200 ms, failing tests that had nothing wrong.
settings.register_profile("moeen", deadline=None)
settings.load_profile("moeen")


@pytest.fixture(scope="session")
def server_dsn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An administrative DSN: MOEEN_TEST_DSN if set, else a private embedded server that this
    session starts and stops."""
    given = os.environ.get("MOEEN_TEST_DSN")
    if given:
        yield given
        return
    server = EmbeddedServer(tmp_path_factory.mktemp("embedded-pg"))
    status = server.ensure_running()
    try:
        yield status.dsn
    finally:
        server.stop()


@contextmanager
def _databases(server_dsn: str) -> Iterator[Callable[[], str]]:
    """Make empty databases on the test server; all dropped on leaving."""
    created: list[str] = []

    def make() -> str:
        name = f"moeen_test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(server_dsn, autocommit=True) as conn:
            conn.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'").format(
                    sql.Identifier(name)
                )
            )
        created.append(name)
        return make_conninfo(server_dsn, dbname=name)

    try:
        yield make
    finally:
        with psycopg.connect(server_dsn, autocommit=True) as conn:
            for name in created:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )


@pytest.fixture
def make_db(server_dsn: str) -> Iterator[Callable[[], str]]:
    """Empty databases for one test."""
    with _databases(server_dsn) as make:
        yield make


@pytest.fixture(scope="module")
def module_db(server_dsn: str) -> Iterator[Callable[[], str]]:
    """Empty databases shared by a module's tests (loaded once, read by many)."""
    with _databases(server_dsn) as make:
        yield make


@pytest.fixture
def fresh_dsn(make_db: Callable[[], str]) -> str:
    return make_db()


@pytest.fixture(autouse=True)
def _isolated_outputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep tests away from the developer's outputs/ and connection variables."""
    monkeypatch.setenv("MOEEN_SYNTH_OUTPUTS", str(tmp_path / "outputs"))
    for var in ("DATABASE_URL", "DB_HOST", "DB_PORT", "DB_NAME", "DB_USER", "DB_PASSWORD"):
        monkeypatch.delenv(var, raising=False)
