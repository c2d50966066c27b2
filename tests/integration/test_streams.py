"""Loads through several COPY streams (``--streams``): the same rows, schema, privileges and
policies as one stream, all or nothing, and refused where a table cannot be swapped in."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner

from moeen_synth import profile as profiles
from moeen_synth.cli import main
from moeen_synth.db import migrate as migrations
from moeen_synth.db import stage
from moeen_synth.db.catalog import diff_catalogs, read_catalog
from moeen_synth.db.validate import Report
from moeen_synth.errors import LoadError, UsageError
from moeen_synth.jobs import load as load_job
from tests.dbtools import clinic, content_digest

# What the swap must carry over besides the catalog's columns, keys, indexes, policies,
# triggers and views: owner, privileges (as a set), comment, row-level security flags.
DRESS = """
SELECT c.relname, c.relkind, pg_get_userbyid(c.relowner),
       ARRAY(SELECT format('%s %s %s', a.grantee::regrole, a.privilege_type, a.is_grantable)
             FROM aclexplode(c.relacl) a ORDER BY 1),
       obj_description(c.oid, 'pg_class'), c.relrowsecurity, c.relforcerowsecurity
FROM pg_class c
WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'v')
ORDER BY 1
"""


def load(dsn: str, prof: profiles.Profile, **kwargs: Any) -> load_job.LoadResult:
    with psycopg.connect(dsn, autocommit=True) as conn:
        return load_job.load(conn, prof, connect=lambda: psycopg.connect(dsn), **kwargs)


def dress(dsn: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(DRESS).fetchall()


def stage_left(dsn: str) -> bool:
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT to_regnamespace(%s) IS NOT NULL", (stage.SCHEMA,)).fetchone()
        return bool(row and row[0])


def test_streams_load_the_same_rows_and_schema(make_db: Callable[[], str]) -> None:
    prof = clinic(150)
    one, three = make_db(), make_db()
    with psycopg.connect(one, autocommit=True) as conn:
        migrations.migrate(conn)
        # Something of the platform's own the swap must carry: a comment, a grant, a forced
        # RLS flag, a view's option.
        conn.execute("COMMENT ON TABLE notifications IS 'what users are told'")
    with psycopg.connect(three, autocommit=True) as conn:
        migrations.migrate(conn)
        conn.execute("COMMENT ON TABLE notifications IS 'what users are told'")
    with psycopg.connect(one, autocommit=True) as conn:  # roles belong to the server
        conn.execute(
            "DO $$BEGIN CREATE ROLE moeen_reader NOLOGIN; "
            "EXCEPTION WHEN duplicate_object THEN NULL; END$$"
        )
    for dsn in (one, three):
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("GRANT SELECT ON appointments, medical_records TO moeen_reader")
            conn.execute("ALTER TABLE medical_records FORCE ROW LEVEL SECURITY")
            conn.execute("ALTER VIEW appointment_details SET (security_barrier = true)")
            conn.execute("GRANT SELECT ON appointment_details TO moeen_reader")
    load(one, prof)
    result = load(three, prof, streams=3)

    assert result.streams == 3 and len(result.staged) >= 2, result.staged
    assert content_digest(one) == content_digest(three)
    with psycopg.connect(one) as a, psycopg.connect(three) as b:
        assert diff_catalogs(read_catalog(a), read_catalog(b)) == []
        options = "SELECT reloptions FROM pg_class WHERE oid = 'appointment_details'::regclass"
        assert b.execute(options).fetchone() == (["security_barrier=true"],)
    assert dress(one) == dress(three)
    assert not stage_left(three)


def test_truncate_through_streams_replaces_the_rows(make_db: Callable[[], str]) -> None:
    """--truncate with two streams over a loaded database gives what one fresh load gives;
    a setting someone else added survives, as with one stream."""
    fresh, again = make_db(), make_db()
    load(fresh, clinic(120))
    load(again, clinic(90, seed=7))
    with psycopg.connect(again, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO system_settings (key, value, type, description, is_public, category) "
            "VALUES ('clinic_motto', '\"care\"', 'string', 'ours', true, 'general')"
        )
    result = load(again, clinic(120), mode="truncate", streams=2)
    assert result.staged
    with psycopg.connect(again, autocommit=True) as conn:
        kept = conn.execute("DELETE FROM system_settings WHERE key = 'clinic_motto'").rowcount
    assert kept == 1
    assert content_digest(fresh) == content_digest(again)


def fails_and_keeps_nothing(dsn: str, error: str, *setup: str) -> None:
    """A load through two streams into a migrated ``dsn`` (after ``setup`` statements) fails
    with ``error``, and leaves the schema, the rows and no staging schema as they were."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        migrations.migrate(conn)
        for statement in setup:
            conn.execute(statement.encode())
        catalog = read_catalog(conn)
    before = content_digest(dsn)
    with pytest.raises(LoadError, match=error):
        load(dsn, clinic(100), streams=2)
    assert content_digest(dsn) == before
    with psycopg.connect(dsn) as conn:
        assert read_catalog(conn) == catalog
    assert not stage_left(dsn)


def test_a_stream_that_fails_keeps_nothing(fresh_dsn: str) -> None:
    # Broken only by the rows: shows when a stream builds the staged table's indexes.
    unique = "CREATE UNIQUE INDEX idx_one_per_doctor ON appointments (doctor_id)"
    fails_and_keeps_nothing(fresh_dsn, "building the keys and indexes of appointments", unique)


def test_a_failed_check_after_the_swap_keeps_nothing(
    fresh_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    failing = Report(check_results=[("a check that fails", 1)])
    monkeypatch.setattr(load_job, "validate", lambda *a, **k: failing)
    fails_and_keeps_nothing(fresh_dsn, "failed validation")
    monkeypatch.undo()
    assert load(fresh_dsn, clinic(100), streams=2).report.ok  # type: ignore[union-attr]


def test_a_table_that_cannot_be_swapped_is_refused_before_anything(fresh_dsn: str) -> None:
    with psycopg.connect(fresh_dsn, autocommit=True) as conn:
        migrations.migrate(conn)
        conn.execute("CREATE PUBLICATION moeen_pub FOR TABLE notifications")
        conn.execute("CREATE MATERIALIZED VIEW busy AS SELECT doctor_id FROM appointments")
        # A trigger COPY would fire: the staged table would take its rows without it.
        conn.execute(
            "CREATE FUNCTION moeen_noop() RETURNS trigger LANGUAGE plpgsql AS "
            "$$BEGIN RETURN NEW; END$$"
        )
        conn.execute(
            "CREATE TRIGGER on_payment BEFORE INSERT ON payments "
            "FOR EACH ROW EXECUTE FUNCTION moeen_noop()"
        )
    before = content_digest(fresh_dsn)

    with pytest.raises(UsageError) as refused:
        load(fresh_dsn, clinic(100), streams=2)

    message = str(refused.value)
    assert "notifications is in a publication" in message
    assert "materialized view busy depends on appointments" in message
    assert "trigger on_payment on payments fires on INSERT" in message
    assert "--streams 1" in message
    assert content_digest(fresh_dsn) == before
    assert not stage_left(fresh_dsn)


def test_a_publication_of_every_table_is_refused(fresh_dsn: str) -> None:
    with psycopg.connect(fresh_dsn, autocommit=True) as conn:
        migrations.migrate(conn)
        conn.execute("CREATE PUBLICATION moeen_everything FOR ALL TABLES")
    with pytest.raises(UsageError, match="publication moeen_everything takes every table"):
        load(fresh_dsn, clinic(100), streams=2)
    assert not stage_left(fresh_dsn)


def test_a_stage_a_killed_load_left_is_removed_by_the_next_load(fresh_dsn: str) -> None:
    with psycopg.connect(fresh_dsn, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {stage.SCHEMA}")
        conn.execute(f"CREATE TABLE {stage.SCHEMA}.appointments (id int)")
    load(fresh_dsn, profiles.load("demo"))
    assert not stage_left(fresh_dsn)


def test_streams_option_errors(fresh_dsn: str) -> None:
    runner = CliRunner()
    appended = runner.invoke(
        main, ["--profile", "demo", "--dsn", fresh_dsn, "--append", "--streams", "2", "-q"]
    )
    assert appended.exit_code == 2, appended.output
    assert "--append" in appended.output
    files = runner.invoke(main, ["--profile", "demo", "--format", "csv", "--streams", "2"])
    assert files.exit_code == 2 and "--streams" in files.output
    zero = runner.invoke(main, ["--profile", "demo", "--streams", "0"])
    assert zero.exit_code == 2
    with psycopg.connect(fresh_dsn) as conn:
        row = conn.execute("SELECT to_regclass('public.users')").fetchone()
    assert row == (None,)  # nothing migrated, nothing loaded


def test_auto_chooses_from_the_cores_and_falls_back_to_one(
    make_db: Callable[[], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    small = load(make_db(), clinic(100), streams=None)
    assert (small.streams, small.streams_why) == (1, f"1 for {small.rows:,} rows")
    # A large load on a server here: half this machine's cores, at most 4.
    monkeypatch.setattr(load_job, "BULK_THRESHOLD", 1_000)
    monkeypatch.setattr(stage.os, "cpu_count", lambda: 16)
    chosen = make_db()
    result = load(chosen, clinic(100), streams=None)
    assert (result.streams, result.streams_why) == (4, "4 for 16 cores here")
    assert len(result.staged) >= 3
    # Tables that cannot be staged: one stream, not an error.
    published = make_db()
    with psycopg.connect(published, autocommit=True) as conn:
        migrations.migrate(conn)
        conn.execute("CREATE PUBLICATION moeen_pub FOR TABLE notifications")
    fallback = load(published, clinic(100), streams=None)
    assert fallback.streams == 1 and "cannot be staged" in fallback.streams_why
    assert fallback.report is not None and fallback.report.ok
