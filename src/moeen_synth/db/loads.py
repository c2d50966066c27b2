"""The target's side of a load: what it already holds, the ledger of loads
(``moeen_synth.loads``), emptying generated rows for ``--truncate``, and making tables ready for
a frozen COPY. Every function runs inside the caller's transaction."""

from __future__ import annotations

import json
from typing import Any

import psycopg
from psycopg import sql

from moeen_synth import __version__, catalogue
from moeen_synth.db import auth
from moeen_synth.db import migrate as migrations
from moeen_synth.errors import SchemaError
from moeen_synth.profile import Profile
from moeen_synth.vocab import Vocab


def existing_rows(conn: psycopg.Connection[Any]) -> list[str]:
    """The generated tables that hold rows already."""
    busy = []
    for table in catalogue.GENERATED:
        row = conn.execute(
            sql.SQL("SELECT EXISTS (SELECT 1 FROM {})").format(sql.Identifier(table))
        ).fetchone()
        if row and row[0]:
            busy.append(table)
    return busy


def has_ledger(conn: psycopg.Connection[Any]) -> bool:
    """Whether moeen-synth's ledger of loads exists (a load ran here)."""
    row = conn.execute("SELECT to_regclass('moeen_synth.loads') IS NOT NULL").fetchone()
    return bool(row and row[0])


def ensure_ledger(conn: psycopg.Connection[Any]) -> None:
    conn.execute("CREATE SCHEMA IF NOT EXISTS moeen_synth")
    conn.execute("""CREATE TABLE IF NOT EXISTS moeen_synth.loads (
        id serial PRIMARY KEY, loaded_at timestamptz NOT NULL DEFAULT now(),
        tool_version text NOT NULL, profile text NOT NULL, profile_sha256 text NOT NULL,
        seed bigint NOT NULL, as_of timestamptz NOT NULL, namespace int NOT NULL,
        row_counts jsonb NOT NULL)""")
    # The resolved profile, so a report can compare with exactly what was loaded (ledgers
    # made before it have the profile's name and seed only). json, not jsonb: jsonb reorders
    # keys, and the order of a profile's mixes and shifts is part of what it generates.
    conn.execute("ALTER TABLE moeen_synth.loads ADD COLUMN IF NOT EXISTS profile_settings json")
    # False where the rows have no one "now" (fixtures with dates moved per patient): the
    # checks against as_of are skipped for the database (``db.validate.last_as_of``).
    conn.execute(
        "ALTER TABLE moeen_synth.loads ADD COLUMN IF NOT EXISTS one_now boolean NOT NULL "
        "DEFAULT true"
    )


def next_namespace(conn: psycopg.Connection[Any], busy: list[str]) -> int:
    """The id namespace of an --append load: one past the last load's."""
    row = conn.execute("SELECT coalesce(max(namespace) + 1, 0) FROM moeen_synth.loads").fetchone()
    namespace = int(row[0]) if row else 0
    return 1 if busy and namespace == 0 else namespace  # rows from elsewhere: keep clear


def record(
    conn: psycopg.Connection[Any],
    profile: Profile,
    namespace: int,
    rows: dict[str, int],
    *,
    one_now: bool = True,
) -> None:
    conn.execute(
        "INSERT INTO moeen_synth.loads (tool_version, profile, profile_sha256, seed, as_of, "
        "namespace, row_counts, profile_settings, one_now) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (
            __version__,
            profile.name,
            profile.sha256,
            profile.seed,
            profile.as_of,
            namespace,
            json.dumps(rows),
            json.dumps(profile.model_dump(mode="json")),
            one_now,
        ),
    )


def ledger_has(conn: psycopg.Connection[Any], column: str) -> bool:
    """Whether the ledger has ``column`` (ledgers made by earlier versions lack later ones)."""
    row = conn.execute(
        "SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = "
        "'moeen_synth' AND table_name = 'loads' AND column_name = %s)",
        (column,),
    ).fetchone()
    return bool(row and row[0])


def last_load(conn: psycopg.Connection[Any]) -> tuple[str, int, dict[str, Any] | None] | None:
    """(profile name, seed, resolved settings or None) of the last recorded load."""
    settings = "profile_settings" if ledger_has(conn, "profile_settings") else "NULL::json"
    row = conn.execute(
        f"SELECT profile, seed, {settings} FROM moeen_synth.loads ORDER BY id DESC LIMIT 1"
    ).fetchone()
    return (str(row[0]), int(row[1]), row[2]) if row else None


def truncate(conn: psycopg.Connection[Any], vocab: Vocab) -> None:
    """Remove every row moeen-synth made, keeping the platform's and anyone else's, and the
    sign-in accounts it made for its users."""
    auth.remove_accounts(conn)
    # system_settings references users, so TRUNCATE must take it too: keep the settings that
    # are not ours (the platform's defaults, anything an admin added) and put them back.
    kept = "moeen_keep_settings"
    columns = "id, key, value, type, description, is_public, category, created_at, updated_at"
    conn.execute(
        f"CREATE TEMP TABLE {kept} ON COMMIT DROP AS SELECT {columns} "
        "FROM system_settings WHERE NOT key = ANY(%s)",
        ([r["key"] for r in vocab.settings],),
    )
    conn.execute(
        sql.SQL("TRUNCATE {}, system_settings").format(
            sql.SQL(", ").join(sql.Identifier(t) for t in catalogue.GENERATED)
        )
    )
    conn.execute(f"INSERT INTO system_settings ({columns}) SELECT {columns} FROM {kept}")
    conn.execute(f"DROP TABLE {kept}")
    conn.execute(
        "DELETE FROM notification_templates WHERE name = ANY(%s)",
        ([r["name"] for r in vocab.templates if r["platform_default"] != "true"],),
    )
    conn.execute(
        "DELETE FROM translations WHERE key = ANY(%s)", ([r["key"] for r in vocab.translations],)
    )
    conn.execute("DELETE FROM system_metrics WHERE metadata->>'source' = 'moeen-synth'")
    conn.execute("DELETE FROM moeen_synth.loads")


def prepare_schema(conn: psycopg.Connection[Any], *, no_migrate: bool) -> tuple[str, list[str]]:
    """Migrate an empty or managed target; accept a platform-made one as it is. Returns the
    state found and the migrations applied."""
    found = migrations.state(conn)
    if found == "foreign":
        raise SchemaError(
            "the target has some of the platform's tables but not all "
            f"{len(catalogue.TABLES)}, and no record of moeen-synth's migrations; point at an "
            "empty database or a complete platform schema"
        )
    if no_migrate or found == "platform":
        if found == "empty":
            raise SchemaError(
                "--no-migrate was given but the target has no platform tables; "
                "run `moeen-synth migrate` first or drop --no-migrate"
            )
        return found, []
    applied = migrations.migrate(conn)
    return found, [f"{m.version}_{m.name}" for m in applied]


def freezable(tables: list[str]) -> list[str]:
    """Of ``tables``, those a load empties and COPYs frozen: generated rows, not merged."""
    return [t for t in tables if t in catalogue.GENERATED and t not in catalogue.MERGE_KEYS]


def empty_for_freeze(conn: psycopg.Connection[Any], tables: list[str]) -> list[str]:
    """TRUNCATE the (already empty) generated ``tables`` in this transaction, so COPY may
    load them frozen: rows stored as visible to all, so the checks after (and every reader)
    do not set hint bits on every row, which dirties every page of a fresh load (figures in
    bench/README.md). Their foreign keys are already dropped (bulk mode), so TRUNCATE touches
    no other table. Under wal_level = minimal (the embedded server's) the COPY also writes
    no WAL."""
    generated = freezable(tables)
    if generated:
        conn.execute(
            sql.SQL("TRUNCATE {}").format(sql.SQL(", ").join(sql.Identifier(t) for t in generated))
        )
    return generated
