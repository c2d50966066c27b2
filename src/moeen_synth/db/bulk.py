"""Bulk loading: COPY into tables without their foreign keys and secondary indexes, then
put them back, all inside the caller's transaction.

COPY into a table with its indexes runs at a fraction of the speed of COPY into the bare
table plus building the indexes afterwards. Definitions are read from the catalog first, so
this works on any schema that has the platform's tables, ours or the platform's own; primary
keys and UNIQUE constraints stay, so duplicates still fail at once. Restoring a foreign key
validates every row, so nothing unchecked is committed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

_FOREIGN_KEYS = """
SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid)
FROM pg_constraint c
WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace
  AND (c.conrelid::regclass::text = ANY(%(tables)s)
       OR c.confrelid::regclass::text = ANY(%(tables)s))
ORDER BY 1, 2
"""

# Indexes that back no constraint (the idx_* ones).
_INDEXES = """
SELECT t.relname, i.relname, pg_get_indexdef(i.oid)
FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_class t ON t.oid = x.indrelid
WHERE t.relnamespace = 'public'::regnamespace AND t.relname = ANY(%(tables)s)
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
ORDER BY 1, 2
"""


@dataclass
class Deferred:
    """What was taken off the tables for the load, to be put back."""

    foreign_keys: list[tuple[str, str, str]] = field(default_factory=list)
    indexes: list[tuple[str, str, str]] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)


def defer(conn: psycopg.Connection[Any], tables: Sequence[str]) -> Deferred:
    """Drop the foreign keys touching ``tables`` and their secondary indexes."""
    params = {"tables": list(tables)}
    deferred = Deferred(
        foreign_keys=[tuple(r) for r in conn.execute(_FOREIGN_KEYS, params)],
        indexes=[tuple(r) for r in conn.execute(_INDEXES, params)],
        tables=list(tables),
    )
    for table, name, _ in deferred.foreign_keys:
        conn.execute(
            sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
                sql.Identifier(table), sql.Identifier(name)
            )
        )
    for _, name, _ in deferred.indexes:
        conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
    return deferred


def restore(
    conn: psycopg.Connection[Any], deferred: Deferred, step: Callable[[str], None] | None = None
) -> None:
    """Build the indexes, add and validate the foreign keys, and ANALYZE the tables."""
    conn.execute("SET LOCAL maintenance_work_mem = '256MB'")
    for _, name, definition in deferred.indexes:
        if step:
            step(f"index {name}")
        conn.execute(definition.encode())
    for table, name, definition in deferred.foreign_keys:
        if step:
            step(f"foreign key {table}.{name}")
        conn.execute(
            sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} ").format(
                sql.Identifier(table), sql.Identifier(name)
            )
            + sql.SQL(definition)
        )
    for table in deferred.tables:
        if step:
            step(f"analyze {table}")
        conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(table)))
