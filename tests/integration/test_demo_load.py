"""The main job end to end on a real PostgreSQL: the demo's exact counts, validation, the
same contents in two databases, all-or-nothing loading, and refusal of a second load."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest

from moeen_synth import catalogue
from moeen_synth import profile as profiles
from moeen_synth.db import migrate as migrations
from moeen_synth.db.migrate import PLATFORM_TABLES
from moeen_synth.errors import LoadError, SchemaError, TargetNotEmptyError
from moeen_synth.jobs import load as load_job
from moeen_synth.sinks.files import FileRecord
from moeen_synth.sinks.postgres import PostgresSink
from tests.dbtools import content_digest
from tests.demo_counts import DEMO_COUNTS

GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "demo.json"


def load_demo(dsn: str, **kwargs: Any) -> load_job.LoadResult:
    with psycopg.connect(dsn, autocommit=True) as conn:
        return load_job.load(conn, profiles.load("demo"), **kwargs)


def counts(dsn: str) -> dict[str, int]:
    with psycopg.connect(dsn) as conn:
        return {
            t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # type: ignore[index]
            for t in PLATFORM_TABLES
        }


def test_demo_loads_exact_counts_and_validates(fresh_dsn: str) -> None:
    result = load_demo(fresh_dsn)

    assert result.migrated == [f"{m.version}_{m.name}" for m in migrations.available()]
    assert result.report is not None and result.report.ok, result.report.failures
    got = counts(fresh_dsn)
    for table, n in {**DEMO_COUNTS, "roles": 5, "languages": 2}.items():
        assert got[table] == n, table
    assert got["translations"] >= 50
    assert got["system_settings"] >= 10
    assert all(n > 0 for n in got.values()), {t: n for t, n in got.items() if n == 0}


def test_demo_content_is_the_same_in_two_databases_and_matches_golden(
    make_db: Callable[[], str],
) -> None:
    first, second = make_db(), make_db()
    load_demo(first)
    load_demo(second)

    a, b = content_digest(first), content_digest(second)

    assert a == b
    if os.environ.get("MOEEN_UPDATE_GOLDEN"):
        GOLDEN.write_text(
            json.dumps({"counts": counts(first), "md5": a}, indent=1, sort_keys=True) + "\n"
        )
    golden = json.loads(GOLDEN.read_text())
    assert counts(first) == golden["counts"]
    assert a == golden["md5"], "demo content changed; if intended, rerun with MOEEN_UPDATE_GOLDEN=1"


def test_demo_statuses_and_methods_are_varied(fresh_dsn: str) -> None:
    load_demo(fresh_dsn)
    with psycopg.connect(fresh_dsn) as conn:
        statuses = {r[0] for r in conn.execute("SELECT DISTINCT status FROM appointments")}
        methods = {r[0] for r in conn.execute("SELECT DISTINCT payment_method FROM payments")}
        claims = {r[0] for r in conn.execute("SELECT DISTINCT status FROM insurance_claims")}
        kinds = {r[0] for r in conn.execute("SELECT DISTINCT record_type FROM medical_records")}
        types = {r[0] for r in conn.execute("SELECT DISTINCT type FROM notifications")}
        roles = dict(conn.execute("SELECT role, count(*) FROM users GROUP BY role").fetchall())
        langs = {r[0] for r in conn.execute("SELECT preferences->>'language' FROM users")}
        specs = {r[0] for r in conn.execute("SELECT speciality FROM doctors")}

    assert {"completed", "pending"} <= statuses
    assert len(methods) >= 3
    assert len(claims) >= 3
    assert kinds == {"diagnosis", "prescription", "lab_result"}
    assert len(types) >= 3
    assert roles == {"admin": 1, "supervisor": 1, "staff": 1, "doctor": 3, "patient": 4}
    assert langs == {"ar", "en"}
    assert specs == {"Internal Medicine", "Pediatrics", "Cardiology"}


def test_second_load_is_refused_then_truncate_and_append_work(fresh_dsn: str) -> None:
    load_demo(fresh_dsn)
    before = content_digest(fresh_dsn)

    with pytest.raises(TargetNotEmptyError, match="--truncate"):
        load_demo(fresh_dsn)
    assert content_digest(fresh_dsn) == before

    load_demo(fresh_dsn, mode="truncate")
    assert content_digest(fresh_dsn) == before

    result = load_demo(fresh_dsn, mode="append")
    assert result.report is not None and result.report.ok
    assert counts(fresh_dsn)["users"] == 20
    assert counts(fresh_dsn)["appointments"] == 12


@pytest.mark.parametrize("table", ["users", "appointments", "crm_activities"])
def test_failure_mid_load_leaves_nothing_behind(
    fresh_dsn: str, table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with psycopg.connect(fresh_dsn, autocommit=True) as conn:
        migrations.migrate(conn)
    before = counts(fresh_dsn)
    end = PostgresSink.end

    def fail_after(sink: PostgresSink, name: str) -> list[FileRecord]:
        if name == table:  # every row of the table is in; later tables are not
            raise LoadError(f"injected failure after {name}")
        return end(sink, name)

    monkeypatch.setattr(PostgresSink, "end", fail_after)

    with pytest.raises(LoadError, match=f"after {table}"):
        load_demo(fresh_dsn)

    assert counts(fresh_dsn) == before
    assert before["users"] == 0 and before["roles"] == 5


def test_database_error_names_the_table_and_rolls_back(fresh_dsn: str) -> None:
    with psycopg.connect(fresh_dsn, autocommit=True) as conn:
        migrations.migrate(conn)
        conn.execute("ALTER TABLE payments ADD CONSTRAINT no_cash CHECK (payment_method <> 'cash')")
    before = counts(fresh_dsn)

    with pytest.raises(LoadError, match="loading payments failed"):
        load_demo(fresh_dsn, mode="refuse")

    assert counts(fresh_dsn) == before


def test_platform_made_schema_is_loaded_without_migrating(fresh_dsn: str) -> None:
    # A schema made by other means: the same SQL, but no record of moeen-synth's migrations.
    with psycopg.connect(fresh_dsn, autocommit=True) as conn:
        for m in migrations.available():
            conn.execute(m.up.read_text())  # type: ignore[call-overload]
        assert migrations.state(conn) == "platform"

    result = load_demo(fresh_dsn)

    assert result.schema_state == "platform" and result.migrated == []
    assert counts(fresh_dsn)["users"] == 10
    with psycopg.connect(fresh_dsn) as conn:
        assert migrations.applied(conn) == {}


def test_partial_schema_is_refused(fresh_dsn: str) -> None:
    with psycopg.connect(fresh_dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE users (id uuid PRIMARY KEY)")

    with pytest.raises(SchemaError, match="some of the platform's tables"):
        load_demo(fresh_dsn)


def test_bulk_path_gives_the_same_content_and_schema(make_db: Callable[[], str]) -> None:
    from moeen_synth.db.catalog import diff_catalogs, read_catalog

    plain, bulk = make_db(), make_db()
    load_demo(plain, bulk=False)
    load_demo(bulk, bulk=True, workers=1, block_rows=3)

    assert content_digest(plain) == content_digest(bulk)
    with psycopg.connect(plain) as a, psycopg.connect(bulk) as b:
        assert diff_catalogs(read_catalog(a), read_catalog(b)) == []
        # The bulk path loads the generated tables with COPY FREEZE, which marks their pages
        # all-visible (ANALYZE reads that into relallvisible); plain COPY leaves them unmarked.
        visible = """SELECT relname, relpages, relallvisible FROM pg_class
            WHERE relname = ANY(%s) AND relpages > 0"""
        tables = list(catalogue.GENERATED)
        frozen = b.execute(visible, (tables,)).fetchall()
        assert frozen and all(pages == seen for _, pages, seen in frozen), frozen
        a.execute("ANALYZE")
        assert all(seen == 0 for _, _, seen in a.execute(visible, (tables,)).fetchall())


def test_bulk_path_failure_in_rebuild_rolls_back(fresh_dsn: str) -> None:
    with psycopg.connect(fresh_dsn, autocommit=True) as conn:
        migrations.migrate(conn)
        # A unique index the generated data breaks only shows when indexes are rebuilt.
        conn.execute(
            "CREATE UNIQUE INDEX idx_appointments_one_per_doctor ON appointments (doctor_id)"
        )
    before = counts(fresh_dsn)

    with pytest.raises(LoadError, match="rebuilding indexes"):
        load_demo(fresh_dsn, bulk=True)

    assert counts(fresh_dsn) == before


def test_bulk_keys_come_off_emptied_tables_and_a_duplicate_fails_the_rebuild(
    fresh_dsn: str,
) -> None:
    """Keys are rebuilt after the COPY on emptied tables; a duplicate is caught there, by the
    key's name, and nothing stays; a key something depends on is left in place."""
    from moeen_synth.db import bulk

    with psycopg.connect(fresh_dsn, autocommit=True) as conn:
        migrations.migrate(conn)
        # A view that reads a column through the key (GROUP BY id) depends on it: it stays.
        conn.execute(
            "CREATE VIEW leads_per_id AS SELECT id, name, count(*) FROM crm_leads GROUP BY id"
        )
    with psycopg.connect(fresh_dsn) as conn:
        deferred = bulk.defer(conn, ["users", "crm_leads"], keys=["users", "crm_leads"])
        names = {name for _, name, _ in deferred.keys}
        assert names == {
            "users_pkey",
            "users_email_key",
            "users_public_id_key",
            "crm_leads_public_id_key",
        }, names
        kept = conn.execute(
            "SELECT conname FROM pg_constraint WHERE conrelid = 'crm_leads'::regclass "
            "AND contype = 'p'"
        ).fetchall()
        assert kept == [("crm_leads_pkey",)]
        conn.execute(
            "INSERT INTO users (id, email, password_hash, role) VALUES "
            "(%(id)s, 'a@example.org', 'x', 'patient'), (%(id)s, 'b@example.org', 'x', 'admin')",
            {"id": "00000000-0000-0000-0000-000000000001"},
        )
        with pytest.raises(psycopg.errors.UniqueViolation, match="users_pkey"):
            bulk.restore(conn, deferred)
        conn.rollback()
        keys = conn.execute(
            "SELECT conname FROM pg_constraint WHERE conrelid = 'users'::regclass "
            "AND contype IN ('p', 'u') ORDER BY 1"
        ).fetchall()
        assert keys == [("users_email_key",), ("users_pkey",), ("users_public_id_key",)]
