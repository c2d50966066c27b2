"""Open a connection to the resolved target, starting the embedded server if that is it."""

from __future__ import annotations

from typing import Any

import psycopg

from moeen_synth import paths
from moeen_synth.db.embedded import EmbeddedServer
from moeen_synth.db.target import Target, from_environment
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
    return Target(dsn=status.dsn, source="embedded", embedded_dir=server.home)


def connect(target: Target, **kwargs: Any) -> psycopg.Connection[Any]:
    try:
        conn = psycopg.connect(target.dsn, **kwargs)
    except psycopg.OperationalError as exc:
        # psycopg's message names host and port but never the password.
        reason = " ".join(str(exc).split())  # psycopg's lines, on one line
        raise MoeenSynthError(
            f"cannot connect to {target.display} (from {target.source}): {reason}"
        ) from None
    conn.execute("SET TIME ZONE 'Asia/Riyadh'")
    return conn
