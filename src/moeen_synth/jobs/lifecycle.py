"""Rolling back the schema on a target (the CLI takes a backup first: ``jobs.backups``).

Rolling back removes the rows moeen-synth loaded first (as ``--truncate`` would: generated
tables emptied, its own settings, templates, translations and metrics deleted, anyone else's
kept), in the same transaction as the migrations' down files, after the backup.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from moeen_synth import catalogue, vocab
from moeen_synth.db import loads
from moeen_synth.db import migrate as migrations


@dataclass
class RollbackPlan:
    """What a rollback would do: the migrations to revert, newest first, and how many rows
    the platform's tables hold (all lost with the tables, or emptied if only defaults go)."""

    migrations: list[migrations.Migration]
    rows: int
    loaded: bool  # moeen-synth's ledger records loads: their rows go first

    @property
    def names(self) -> str:
        return ", ".join(f"{m.version}_{m.name}" for m in self.migrations)


def plan_rollback(conn: psycopg.Connection[Any], to: str | None) -> RollbackPlan:
    todo = migrations.to_roll_back(conn, to)
    rows = migrations.platform_rows(conn) if todo else 0
    return RollbackPlan(todo, rows, loads.has_ledger(conn))


def rollback(conn: psycopg.Connection[Any], plan: RollbackPlan, to: str | None) -> list[str]:
    """Revert ``plan``'s migrations, moeen-synth's loaded rows first; all or nothing."""

    def remove_loaded(conn: psycopg.Connection[Any]) -> None:
        if plan.loaded:
            loads.truncate(conn, vocab.load())

    reverted = migrations.rollback(conn, to, before=remove_loaded)
    return [f"{m.version}_{m.name}" for m in reverted]


def drop_platform(conn: psycopg.Connection[Any]) -> list[str]:
    """Drop every object of the platform's schema (its views, tables, children first, and
    functions, as schema/expected_catalog.json lists them) and moeen-synth's bookkeeping, in
    one transaction: for a schema made by the platform's own SQL, which has no migrations to
    revert. Extensions and the auth schema stay. Returns what was dropped."""
    dropped: list[str] = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (migrations.LOCK_ID,))
        for view in catalogue.views():
            if migrations.relation_exists(conn, view):
                conn.execute(sql.SQL("DROP VIEW {}").format(sql.Identifier("public", view)))
                dropped.append(f"view {view}")
        for table in reversed(catalogue.NAMES):
            if migrations.relation_exists(conn, table):
                conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier("public", table)))
                dropped.append(f"table {table}")
        for function in catalogue.functions():
            signature = f"public.{function['name']}({function['arguments']})"
            found = conn.execute("SELECT to_regprocedure(%s)", (signature,)).fetchone()
            if found and found[0]:
                conn.execute(
                    sql.SQL("DROP FUNCTION {}({})").format(
                        sql.Identifier("public", function["name"]), sql.SQL(function["arguments"])
                    )
                )
                dropped.append(f"function {function['name']}")
        conn.execute(f"DROP SCHEMA IF EXISTS {migrations.BOOKKEEPING} CASCADE")
    return dropped
