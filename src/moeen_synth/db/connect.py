"""Open a connection to the resolved target, starting the embedded server if that is it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from moeen_synth import paths
from moeen_synth.db.embedded import EmbeddedServer
from moeen_synth.db.target import Target, api_only_note, from_environment
from moeen_synth.errors import MoeenSynthError


def embedded_server() -> EmbeddedServer:
    return EmbeddedServer(paths.outputs_dir() / "embedded")


def resolve(dsn: str | None, *, start: bool = True) -> Target:
    """The explicit target, else the embedded server (started unless ``start`` is False)."""
    explicit = from_environment(dsn)
    if explicit is not None:
        return explicit
    server = embedded_server()
    status = server.ensure_running() if start else server.status()
    if not status.running:
        raise MoeenSynthError(
            "the embedded server is not running; `moeen-synth server start` starts it"
        )
    return Target(dsn=status.dsn, source="embedded", embedded_dir=server.home, note=api_only_note())


def connect(
    target: Target,
    *,
    create: bool = False,
    say: Callable[[str], None] | None = None,
    **kwargs: Any,
) -> psycopg.Connection[Any]:
    """A connection to ``target`` in the platform's time zone. With ``create``, a database
    that does not exist yet is created first when the role may (``say`` is told)."""
    try:
        conn = psycopg.connect(target.dsn, **kwargs)
    except psycopg.OperationalError as exc:
        if not (create and _missing_database(exc)):
            raise _cannot_connect(target, exc) from None
        _create_database(target)
        if say:
            say(f"created database {conninfo_to_dict(target.dsn).get('dbname')}")
        try:
            conn = psycopg.connect(target.dsn, **kwargs)
        except psycopg.OperationalError as again:
            raise _cannot_connect(target, again) from None
    conn.execute("SET TIME ZONE 'Asia/Riyadh'")
    return conn


def _cannot_connect(target: Target, exc: Exception) -> MoeenSynthError:
    reason = " ".join(str(exc).split())  # psycopg's lines, on one line
    return MoeenSynthError(f"cannot connect to {target.display} (from {target.source}): {reason}")


def _missing_database(exc: psycopg.OperationalError) -> bool:
    return "does not exist" in str(exc) and "database" in str(exc)


def _create_database(target: Target) -> None:
    """CREATE DATABASE for ``target`` through the server's maintenance database."""
    params = conninfo_to_dict(target.dsn)
    name = str(params.get("dbname", ""))
    admin = make_conninfo(target.dsn, dbname="postgres")
    try:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.Error as exc:
        reason = " ".join(str(exc).split())
        raise MoeenSynthError(
            f"database {name} does not exist on {target.display} and could not be created "
            f"({reason}); create it, or give a role that may (CREATEDB)"
        ) from None
