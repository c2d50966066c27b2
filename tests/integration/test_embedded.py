"""The embedded server's settings for throw-away seed databases."""

from __future__ import annotations

import os

import psycopg
import pytest


@pytest.mark.skipif(bool(os.environ.get("MOEEN_TEST_DSN")), reason="not the embedded server")
def test_embedded_server_runs_for_fast_bulk_loads(server_dsn: str) -> None:
    with psycopg.connect(server_dsn) as conn:
        settings = dict(
            conn.execute(
                "SELECT name, setting FROM pg_settings WHERE name = ANY(%s)",
                (["wal_level", "max_wal_senders", "listen_addresses", "TimeZone"],),
            ).fetchall()
        )
    assert settings == {
        "wal_level": "minimal",  # COPY into a table truncated in the transaction skips WAL
        "max_wal_senders": "0",
        "listen_addresses": "127.0.0.1",
        "TimeZone": "Asia/Riyadh",
    }
