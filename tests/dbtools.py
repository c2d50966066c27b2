"""Helpers for tests: one md5 per table to compare two loads, the sha256 of every file of an
export, psql on a file, a Supabase-shaped database, and the clinic profile at a chosen scale."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import psycopg
import yaml

from moeen_synth import paths
from moeen_synth import profile as profiles
from moeen_synth.db.embedded import client_binary
from moeen_synth.db.migrate import PLATFORM_TABLES
from moeen_synth.profile import Profile


def file_hashes(directory: Path) -> dict[str, str]:
    """sha256 of every file under ``directory``, manifests included, by relative path."""
    from moeen_synth.sinks.files import sha256_of

    return {
        p.relative_to(directory).as_posix(): sha256_of(p)
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


def content_digest(dsn: str) -> dict[str, str]:
    """md5 of each table's rows in a stable order, with every column as text."""
    out = {}
    with psycopg.connect(dsn) as conn:
        conn.execute("SET TIME ZONE 'UTC'")
        for t in PLATFORM_TABLES:
            key = "role" if t == "roles" else "id"
            row = conn.execute(
                f"SELECT md5(coalesce(string_agg(x::text, E'\\n' ORDER BY x.{key}), '')) FROM {t} x"
            ).fetchone()
            out[t] = row[0] if row else ""
    return out


def run_psql(dsn: str, path: Path) -> None:
    """Run a SQL file the way a user would: psql -v ON_ERROR_STOP=1 -f FILE."""
    shipped = client_binary("psql")
    psql = str(shipped) if shipped.exists() else "psql"
    command = [psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", dsn, "-f", str(path)]
    subprocess.run(command, check=True, capture_output=True)


SUPABASE_LIKE = Path(__file__).parent / "supabase_like.sql"


def make_supabase_like(dsn: str) -> str:
    """Give an empty database Supabase's auth schema, roles and default grants."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(SUPABASE_LIKE.read_text())
    return dsn


def clinic(scale: int, **changes: Any) -> Profile:
    """The shipped clinic profile at ``scale`` patients, with top-level ``changes``."""
    data: dict[str, Any] = yaml.safe_load((paths.profiles_dir() / "clinic.yaml").read_text())
    data.update(scale=scale, **changes)
    return profiles.parse(data, f"clinic-{scale}")
