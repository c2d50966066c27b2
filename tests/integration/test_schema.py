"""schema/ against the platform reference, the shipped snapshot, and migrate/rollback."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner
from psycopg.conninfo import make_conninfo

from moeen_synth.cli import main
from moeen_synth.db import expected_catalog
from moeen_synth.db import migrate as migrations
from moeen_synth.db.catalog import diff_catalogs, read_catalog
from moeen_synth.db.validate import expected_catalog_path, normalised_catalog
from moeen_synth.jobs import backups
from moeen_synth.jobs import load as load_job
from tests.dbtools import content_digest
from tests.reference_schema import reference_path, reference_problems


def migrated(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        migrations.migrate(conn)


def test_migrated_schema_matches_the_platform_reference(fresh_dsn: str) -> None:
    ref = reference_path()
    if ref is None:
        pytest.skip("shared/reference/moeen-schema.md is not beside this checkout")
    migrated(fresh_dsn)
    with psycopg.connect(fresh_dsn) as conn:
        catalog = read_catalog(conn)

    assert reference_problems(catalog, ref.read_text(encoding="utf-8")) == []


def test_reference_comparison_catches_a_changed_column(fresh_dsn: str) -> None:
    ref = reference_path()
    if ref is None:
        pytest.skip("shared/reference/moeen-schema.md is not beside this checkout")
    migrated(fresh_dsn)
    with psycopg.connect(fresh_dsn, autocommit=True) as conn:
        conn.execute("ALTER TABLE users ALTER COLUMN email TYPE varchar(100)")
        catalog = read_catalog(conn)

    problems = reference_problems(catalog, ref.read_text(encoding="utf-8"))

    assert any("users.email: type" in p for p in problems)


def test_shipped_snapshot_is_what_the_migrations_make(fresh_dsn: str) -> None:
    migrated(fresh_dsn)
    with psycopg.connect(fresh_dsn) as conn:
        actual = normalised_catalog(conn)
    expected = json.loads(expected_catalog_path().read_text(encoding="utf-8"))

    assert diff_catalogs(expected, actual) == []


def test_default_rows_are_the_platforms(fresh_dsn: str) -> None:
    migrated(fresh_dsn)
    with psycopg.connect(fresh_dsn) as conn:

        def count(table: str) -> int:
            return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # type: ignore[index]

        assert [
            count(t)
            for t in (
                "roles",
                "languages",
                "system_settings",
                "notification_templates",
                "translations",
                "system_metrics",
            )
        ] == [5, 2, 9, 4, 46, 1]
        default = conn.execute("SELECT code FROM languages WHERE is_default").fetchall()
        assert default == [("ar",)]


def test_migrate_is_idempotent_and_dry_run_prints_sql(fresh_dsn: str) -> None:
    runner = CliRunner()

    dry = runner.invoke(main, ["migrate", "--dsn", fresh_dsn, "--dry-run"])
    first = runner.invoke(main, ["migrate", "--dsn", fresh_dsn])
    second = runner.invoke(main, ["migrate", "--dsn", fresh_dsn])

    assert dry.exit_code == 0 and "CREATE TABLE users" in dry.output
    assert "applied 0001_platform_schema" in first.output
    assert second.exit_code == 0 and "nothing to migrate" in second.output


def test_rollback_then_migrate_round_trips_with_a_backup(fresh_dsn: str, tmp_path: Path) -> None:
    migrated(fresh_dsn)
    with psycopg.connect(fresh_dsn) as conn:
        before = read_catalog(conn)
    runner = CliRunner()

    partial = runner.invoke(main, ["rollback", "--dsn", fresh_dsn, "--to", "0001", "--yes"])
    with psycopg.connect(fresh_dsn) as conn:
        assert list(migrations.applied(conn)) == ["0001"]
        assert conn.execute("SELECT count(*) FROM roles").fetchone() == (0,)
    full = runner.invoke(main, ["rollback", "--dsn", fresh_dsn, "--yes"])
    with psycopg.connect(fresh_dsn) as conn:
        assert migrations.state(conn) == "empty"
        assert read_catalog(conn)["tables"] == {}
    again = runner.invoke(main, ["migrate", "--dsn", fresh_dsn])
    with psycopg.connect(fresh_dsn) as conn:
        after = read_catalog(conn)

    assert partial.exit_code == 0, partial.output
    assert full.exit_code == 0, full.output
    assert again.exit_code == 0, again.output
    assert diff_catalogs(before, after) == []
    found = backups.listing()
    assert [b.step for b in found] == ["rollback", "rollback"]
    contents = subprocess.run(
        [backups.client("pg_restore"), "--list", str(found[0].path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "TABLE public users" in contents


def test_rollback_asks_for_confirmation(fresh_dsn: str) -> None:
    migrated(fresh_dsn)

    result = CliRunner().invoke(main, ["rollback", "--dsn", fresh_dsn, "--no-backup"], input="n\n")

    assert result.exit_code != 0
    with psycopg.connect(fresh_dsn) as conn:
        assert migrations.state(conn) == "managed"


def test_row_level_security_through_auth_uid(fresh_dsn: str) -> None:
    from moeen_synth import profile as profiles

    with psycopg.connect(fresh_dsn, autocommit=True) as conn:
        load_job.load(conn, profiles.load("demo"))
        user_id, patient_id = conn.execute(
            "SELECT user_id, id FROM patients ORDER BY medical_record_number LIMIT 1"
        ).fetchone()  # type: ignore[misc]
        conn.execute("DROP ROLE IF EXISTS moeen_rls_reader")
        conn.execute("CREATE ROLE moeen_rls_reader")
        conn.execute("GRANT SELECT ON ALL TABLES IN SCHEMA public TO moeen_rls_reader")
        try:
            with conn.transaction():
                conn.execute("SET LOCAL ROLE moeen_rls_reader")
                conn.execute(
                    "SELECT set_config('request.jwt.claim.sub', %s, true)", (str(user_id),)
                )
                users = conn.execute("SELECT id FROM users").fetchall()
                patients = conn.execute("SELECT id FROM patients").fetchall()
                appts = conn.execute("SELECT DISTINCT patient_id FROM appointments").fetchall()
                doctors = conn.execute("SELECT id FROM doctors").fetchall()
        finally:
            conn.execute("REVOKE ALL ON ALL TABLES IN SCHEMA public FROM moeen_rls_reader")
            conn.execute("DROP ROLE moeen_rls_reader")

    assert users == [(user_id,)]
    assert patients == [(patient_id,)]
    assert appts in ([], [(patient_id,)])
    assert doctors == []


def test_regenerating_the_expected_catalog_gives_the_shipped_file(server_dsn: str) -> None:
    written = json.loads(expected_catalog.render(expected_catalog.migrated_catalog(server_dsn)))
    shipped = json.loads(expected_catalog_path().read_text("utf-8"))

    # By meaning: servers of other versions print some expressions differently.
    assert diff_catalogs(shipped, written) == []


def test_rollback_after_a_load_then_load_again(fresh_dsn: str) -> None:
    runner = CliRunner()
    for args in (
        ["--profile", "demo", "--dsn", fresh_dsn, "-q"],
        ["rollback", "--dsn", fresh_dsn, "--yes"],
        ["--profile", "demo", "--dsn", fresh_dsn, "-q"],
        ["rollback", "--to", "0001", "--dsn", fresh_dsn, "--yes"],
        ["migrate", "--dsn", fresh_dsn],
        ["--profile", "demo", "--dsn", fresh_dsn, "-q"],
        ["validate", "--dsn", fresh_dsn],
    ):
        result = runner.invoke(main, args)
        assert result.exit_code == 0, (args, result.output)
        if args[0] == "rollback" and "--to" not in args:
            with psycopg.connect(fresh_dsn) as conn:
                assert migrations.state(conn) == "empty"
                assert read_catalog(conn)["tables"] == {}


def test_rollback_that_a_migration_refuses_changes_nothing(fresh_dsn: str) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["--profile", "demo", "--dsn", fresh_dsn, "-q"]).exit_code == 0
    with psycopg.connect(fresh_dsn, autocommit=True) as conn:
        # Someone else's translation in Arabic: deleting the language would take it.
        conn.execute(
            "INSERT INTO translations (language_code, key, value, namespace) "
            "VALUES ('ar', 'clinic.motto', 'صحتك أولاً', 'custom')"
        )
        users = conn.execute("SELECT count(*) FROM users").fetchone()

    result = runner.invoke(main, ["rollback", "--dsn", fresh_dsn, "--yes", "--no-backup"])

    assert result.exit_code == 1, result.output
    assert "nothing was rolled back" in result.output and "Traceback" not in result.output
    with psycopg.connect(fresh_dsn) as conn:
        assert migrations.state(conn) == "managed"
        assert conn.execute("SELECT count(*) FROM users").fetchone() == users


def test_rollback_without_a_terminal_needs_yes(fresh_dsn: str) -> None:
    migrated(fresh_dsn)

    result = CliRunner().invoke(main, ["rollback", "--dsn", fresh_dsn, "--no-backup"])

    assert result.exit_code == 1 and "--yes" in result.output, result.output
    with psycopg.connect(fresh_dsn) as conn:
        assert migrations.state(conn) == "managed"


def test_migrate_creates_a_missing_database_in_riyadh_time(server_dsn: str) -> None:
    name = f"moeen_created_{os.getpid()}"
    dsn = make_conninfo(server_dsn, dbname=name)
    try:
        result = CliRunner().invoke(main, ["migrate", "--dsn", dsn])

        assert result.exit_code == 0, result.output
        assert f"created database {name}" in result.output
        with psycopg.connect(dsn) as conn:  # a plain session takes the database's default
            assert conn.execute("SHOW timezone").fetchone() == ("Asia/Riyadh",)
    finally:
        with psycopg.connect(server_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_migrate_sets_the_database_time_zone(fresh_dsn: str) -> None:
    with psycopg.connect(fresh_dsn, autocommit=True) as conn:
        name = conn.execute("SELECT current_database()").fetchone()[0]  # type: ignore[index]
        conn.execute(f"ALTER DATABASE \"{name}\" SET timezone TO 'UTC'")

    assert CliRunner().invoke(main, ["migrate", "--dsn", fresh_dsn]).exit_code == 0

    with psycopg.connect(fresh_dsn) as conn:
        assert conn.execute("SHOW timezone").fetchone() == ("Asia/Riyadh",)


def test_backup_restore_round_trip_validates_and_gives_the_rows_back(fresh_dsn: str) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["--profile", "demo", "--dsn", fresh_dsn, "-q"]).exit_code == 0
    before = content_digest(fresh_dsn)

    dropped = runner.invoke(main, ["rollback", "--dsn", fresh_dsn, "--yes"])
    (taken,) = backups.listing()
    listed = runner.invoke(main, ["backups"])
    restored = runner.invoke(main, ["restore", str(taken.path), "--dsn", fresh_dsn, "--yes"])

    assert dropped.exit_code == 0, dropped.output
    assert taken.step == "rollback" and taken.rows > 0
    assert "rollback" in listed.output and f"{taken.rows:,}" in listed.output
    assert restored.exit_code == 0, restored.output
    assert "valid" in restored.output and "schema: matches" in restored.output
    assert content_digest(fresh_dsn) == before


def test_destructive_steps_back_up_first_unless_told_not_to(fresh_dsn: str) -> None:
    runner = CliRunner()
    demo = ["--profile", "demo", "--dsn", fresh_dsn, "-q"]
    assert runner.invoke(main, demo).exit_code == 0

    assert runner.invoke(main, [*demo, "--truncate"]).exit_code == 0
    assert runner.invoke(main, [*demo, "--truncate", "--no-backup"]).exit_code == 0
    assert [b.step for b in backups.listing()] == ["truncate"]


def test_migrating_a_database_that_holds_rows_backs_it_up(fresh_dsn: str) -> None:
    migrated(fresh_dsn)
    with psycopg.connect(fresh_dsn, autocommit=True) as conn:
        migrations.rollback(conn, "0001")  # a pending migration
        conn.execute("INSERT INTO system_metrics (metric_key, metric_value) VALUES ('x', 1)")

    result = CliRunner().invoke(main, ["migrate", "--dsn", fresh_dsn])

    assert result.exit_code == 0, result.output
    assert [(b.step, b.rows) for b in backups.listing()] == [("migrate", 1)]


def test_restoring_something_else_is_refused(fresh_dsn: str, tmp_path: Path) -> None:
    fake = tmp_path / "fake.dump"
    fake.write_text("not a dump", encoding="utf-8")

    result = CliRunner().invoke(main, ["restore", str(fake), "--dsn", fresh_dsn, "--yes"])

    assert result.exit_code == 2 and "not a backup" in result.output, result.output


def test_migrate_rollback_and_load_write_logs(fresh_dsn: str, tmp_path: Path) -> None:
    runner = CliRunner()
    migrated_now = runner.invoke(main, ["migrate", "--dsn", fresh_dsn])
    loaded = runner.invoke(main, ["--profile", "demo", "--dsn", fresh_dsn])
    refused = runner.invoke(main, ["--profile", "demo", "--dsn", fresh_dsn])  # not empty
    logs = sorted((tmp_path / "outputs" / "logs").glob("*.log"))

    assert "log: " in migrated_now.output and "log: " in loaded.output
    assert [log.name.split("-", 1)[1] for log in logs] == ["migrate.log", "load.log", "load.log"]
    migrate_log, load_log, refused_log = (log.read_text("utf-8") for log in logs)
    assert "applying 0001_platform_schema" in migrate_log and "CREATE TABLE users" in migrate_log
    assert "outcome: ok" in migrate_log
    assert "copied appointments: 6 rows" in load_log and "outcome: ok" in load_log
    assert "outcome: failed" in refused_log and refused.exit_code == 1


def test_rollback_all_drops_a_schema_the_platform_made(fresh_dsn: str) -> None:
    with psycopg.connect(fresh_dsn, autocommit=True) as conn:
        for m in migrations.available():  # the same SQL, but no record of migrations
            conn.execute(m.up.read_text())  # type: ignore[call-overload]
        assert migrations.state(conn) == "platform"
    runner = CliRunner()
    assert runner.invoke(main, ["--profile", "demo", "--dsn", fresh_dsn, "-q"]).exit_code == 0

    refused = runner.invoke(main, ["rollback", "--dsn", fresh_dsn, "--yes"])
    dropped = runner.invoke(main, ["rollback", "--all", "--dsn", fresh_dsn, "--yes"])
    again = runner.invoke(main, ["--profile", "demo", "--dsn", fresh_dsn, "-q"])

    assert refused.exit_code == 1 and "rollback --all" in refused.output, refused.output
    assert dropped.exit_code == 0, dropped.output
    assert "table users" in dropped.output and "view patient_dashboard" in dropped.output
    assert [b.step for b in backups.listing()] == ["rollback"]
    assert again.exit_code == 0, again.output
    with psycopg.connect(fresh_dsn) as conn:
        assert migrations.state(conn) == "managed"
