"""Regenerate ``schema/expected_catalog.json`` after a change to the migrations under
``schema/``: migrate a scratch database, read its catalog as ``validate`` reads it, write it.

    python -m moeen_synth.db.expected_catalog [--dsn URL] [--out PATH]

The server is the one ``--dsn`` names (its role must be allowed to create databases), else
the embedded one; the scratch database is dropped afterwards. The table catalogue
(``moeen_synth.catalogue``) reads its schema facts from the file this writes.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from moeen_synth.db import connect, migrate
from moeen_synth.db.validate import expected_catalog_path, normalised_catalog


def render(catalog: dict[str, Any]) -> str:
    """The file's text: stable bytes for the same catalog."""
    return json.dumps(catalog, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def migrated_catalog(admin_dsn: str) -> dict[str, Any]:
    """The normalised catalog of a scratch database migrated by schema/."""
    name = f"moeen_catalog_{os.getpid()}"
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'").format(
                sql.Identifier(name)
            )
        )
    try:
        with psycopg.connect(make_conninfo(admin_dsn, dbname=name), autocommit=True) as conn:
            migrate.migrate(conn)
            return normalised_catalog(conn)
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dsn", help="server to use (default: the embedded one)")
    parser.add_argument("--out", type=Path, default=expected_catalog_path())
    args = parser.parse_args(argv)
    target = connect.resolve(args.dsn)
    args.out.write_text(render(migrated_catalog(target.dsn)), encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
