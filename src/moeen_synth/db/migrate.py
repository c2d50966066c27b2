"""Versioned migrations from ``schema/``: apply, roll back, and tell what a database holds.

Files are ``NNNN_name.up.sql`` with a matching ``.down.sql``; each runs in its own
transaction together with its record in ``moeen_synth.schema_migrations``, under an advisory
lock so two runs cannot migrate one database at once.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import psycopg
from psycopg import sql

from moeen_synth import catalogue, paths
from moeen_synth.errors import SchemaError

BOOKKEEPING = "moeen_synth"
log = logging.getLogger(__name__)
LOCK_ID = 0x6D6F65656E  # "moeen"
_NAME = re.compile(r"^(\d{4})_(\w+)\.up\.sql$")

PLATFORM_TABLES = tuple(sorted(catalogue.NAMES))


@dataclass(frozen=True)
class Migration:
    version: str
    name: str
    up: Path
    down: Path

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.up.read_bytes()).hexdigest()


def available(schema_dir: Path | None = None) -> list[Migration]:
    folder = schema_dir or paths.schema_dir()
    found = []
    for up in sorted(folder.glob("*.up.sql")):
        m = _NAME.match(up.name)
        if not m:
            raise SchemaError(f"{up}: migration files are named NNNN_name.up.sql")
        down = up.with_name(up.name.replace(".up.sql", ".down.sql"))
        if not down.exists():
            raise SchemaError(f"{up}: no matching {down.name}")
        found.append(Migration(m.group(1), m.group(2), up, down))
    return found


def as_one_file() -> str:
    """The up migrations as one SQL file for a project's own migration runner (the Supabase
    CLI's): the time zone is set where the role may, and nothing is recorded here."""
    parts = ["-- The Moeen platform's schema, from moeen-synth's schema/ migrations.\n"]
    for m in available():
        parts.append(f"\n-- {m.up.name}\n{m.up.read_text(encoding='utf-8')}")
    parts.append(
        "\n-- The platform's time zone, where this role may set it.\n"
        "DO $$\nBEGIN\n"
        "    EXECUTE format('ALTER DATABASE %I SET timezone TO %L', current_database(), "
        f"'{TIME_ZONE}');\n"
        "EXCEPTION WHEN insufficient_privilege THEN NULL;\nEND\n$$;\n"
    )
    return "".join(parts)


def _ensure_bookkeeping(conn: psycopg.Connection[Any]) -> None:
    conn.execute(f"CREATE SCHEMA IF NOT EXISTS {BOOKKEEPING}")
    conn.execute(f"""CREATE TABLE IF NOT EXISTS {BOOKKEEPING}.schema_migrations (
        version text PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now())""")


def applied(conn: psycopg.Connection[Any]) -> dict[str, str]:
    """version -> checksum of the migrations recorded in this database."""
    if not _has_table(conn, BOOKKEEPING, "schema_migrations"):
        return {}
    rows = conn.execute(
        f"SELECT version, checksum FROM {BOOKKEEPING}.schema_migrations ORDER BY version"
    ).fetchall()
    return {v: c for v, c in rows}


def _has_table(conn: psycopg.Connection[Any], schema: str, table: str) -> bool:
    row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (f"{schema}.{table}",)).fetchone()
    return bool(row and row[0])


State = Literal["empty", "managed", "platform", "foreign"]


def state(conn: psycopg.Connection[Any]) -> State:
    """What the target's public schema holds.

    empty: none of the platform's tables; managed: migrated by moeen-synth; platform: every
    table of the catalogue but no migration record (made by the platform's own SQL file);
    foreign: some of them, or other trouble, which moeen-synth will not touch.
    """
    if applied(conn):
        return "managed"
    present = set(present_tables(conn))
    if not present:
        return "empty"
    return "platform" if present == set(PLATFORM_TABLES) else "foreign"


def present_tables(conn: psycopg.Connection[Any]) -> list[str]:
    """The platform's tables the target has, by name."""
    rows = conn.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
        "AND table_name = ANY(%s) ORDER BY table_name",
        (list(PLATFORM_TABLES),),
    ).fetchall()
    return [r[0] for r in rows]


def platform_rows(conn: psycopg.Connection[Any]) -> int:
    """Rows in the platform's tables the target has."""
    total = 0
    for table in present_tables(conn):
        row = conn.execute(
            sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
        ).fetchone()
        total += int(row[0]) if row else 0
    return total


def relation_exists(conn: psycopg.Connection[Any], relation: str) -> bool:
    """A table or view of that name in the public schema."""
    found = conn.execute("SELECT to_regclass(%s)", (f"public.{relation}",)).fetchone()
    return bool(found and found[0])


def pending(
    conn: psycopg.Connection[Any], migrations: list[Migration] | None = None
) -> list[Migration]:
    migrations = available() if migrations is None else migrations
    done = applied(conn)
    for m in migrations:
        if m.version in done and done[m.version] != m.checksum:
            raise SchemaError(
                f"migration {m.version}_{m.name} changed after it was applied to this database "
                f"({m.up}); roll back to before it (`moeen-synth rollback --to "
                f"{int(m.version) - 1:04d}`) and migrate again, or restore the file"
            )
    return [m for m in migrations if m.version not in done]


def migrate(conn: psycopg.Connection[Any]) -> list[Migration]:
    """Apply pending migrations in order; return those applied (empty: nothing to do)."""
    if state(conn) in ("platform", "foreign"):
        raise SchemaError(
            "the target already has platform tables that moeen-synth did not create; it will "
            "not migrate over them. Load into it with --no-migrate, or use an empty database"
        )
    conn.autocommit = True
    done: list[Migration] = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_ID,))
        _ensure_bookkeeping(conn)
    for m in pending(conn):
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_ID,))
            if m.version in applied(conn):
                continue  # another run applied it while we waited
            started = time.perf_counter()
            statements = m.up.read_text(encoding="utf-8")
            log.info("applying %s_%s (%s, sha256 %s)", m.version, m.name, m.up.name, m.checksum)
            log.debug("statements of %s:\n%s", m.up.name, statements)
            conn.execute(statements)
            conn.execute(
                f"INSERT INTO {BOOKKEEPING}.schema_migrations (version, name, checksum) "
                "VALUES (%s, %s, %s)",
                (m.version, m.name, m.checksum),
            )
        log.info("applied %s_%s in %.2f s", m.version, m.name, time.perf_counter() - started)
        done.append(m)
    set_time_zone(conn)  # also on a database migrated before this was done
    return done


TIME_ZONE = "Asia/Riyadh"  # the platform's


def set_time_zone(conn: psycopg.Connection[Any], zone: str = TIME_ZONE) -> bool:
    """Make ``zone`` the database's default time zone, as the platform runs; False if the
    role may not (only the owner or a superuser may), which changes nothing else."""
    name = conn.execute("SELECT current_database()").fetchone()
    try:
        with conn.transaction():
            conn.execute(
                sql.SQL("ALTER DATABASE {} SET timezone TO {}").format(
                    sql.Identifier(str(name[0] if name else "")), sql.Literal(zone)
                )
            )
    except psycopg.errors.InsufficientPrivilege:
        return False
    return True


def to_roll_back(conn: psycopg.Connection[Any], to: str | None) -> list[Migration]:
    """Applied migrations newer than ``to`` (all when None), newest first."""
    done = applied(conn)
    known = {m.version: m for m in available()}
    if to is not None and to not in known and to != "0000":
        raise SchemaError(
            f"--to {to}: no such migration; known: {', '.join(sorted(known))} "
            "(or 0000 for everything)"
        )
    versions = sorted((v for v in done if to is None or v > to), reverse=True)
    missing = [v for v in versions if v not in known]
    if missing:
        raise SchemaError(f"applied migrations {missing} have no files in {paths.schema_dir()}")
    return [known[v] for v in versions]


def rollback(
    conn: psycopg.Connection[Any],
    to: str | None,
    *,
    before: Callable[[psycopg.Connection[Any]], None] | None = None,
) -> list[Migration]:
    """Revert the migrations newer than ``to`` (all when None), newest first, in one
    transaction with ``before`` (run first): all of them or none. A migration that refuses
    (its down file raises) or fails leaves the database as it was; SchemaError says which."""
    conn.autocommit = True
    reverted = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_ID,))
        if before is not None:
            before(conn)
        for m in to_roll_back(conn, to):
            log.info("reverting %s_%s (%s)", m.version, m.name, m.down.name)
            statements = m.down.read_text(encoding="utf-8")
            log.debug("statements of %s:\n%s", m.down.name, statements)
            try:
                with conn.transaction():
                    conn.execute(statements)
            except psycopg.Error as exc:
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise SchemaError(
                    f"reverting {m.version}_{m.name} failed, nothing was rolled back: {first}"
                ) from None
            conn.execute(
                f"DELETE FROM {BOOKKEEPING}.schema_migrations WHERE version = %s", (m.version,)
            )
            reverted.append(m)
        if not applied(conn):
            conn.execute(f"DROP SCHEMA IF EXISTS {BOOKKEEPING} CASCADE")
    return reverted
