"""Bulk loading: COPY into tables without their foreign keys and secondary indexes, then
put them back, all inside the caller's transaction.

COPY into a table with its indexes runs at a fraction of the speed of COPY into the bare
table plus building the indexes afterwards. Definitions are read from the catalog first, so
this works on any schema that has the platform's tables, ours or the platform's own.

Primary keys and UNIQUE constraints come off only the tables named as ``keys`` (the ones
emptied in this transaction, so the rebuilt index covers this load's rows alone) and only
where nothing else depends on them: keeping them costs as much as the whole rest of the COPY
(a random uuid inserted into a btree per row; load-1m 74 s against 36 s with the keys built
afterwards, bench/README.md). A duplicate then fails when the key is rebuilt, still inside
the transaction. Restoring a foreign key validates every row, so nothing unchecked is
committed.
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


# Primary keys and UNIQUE constraints that nothing depends on once the foreign keys are off:
# the only dependency left on the constraint is its own index's, none on the index, and no
# comment to lose.
_KEYS = """
SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid)
FROM pg_constraint c
WHERE c.contype IN ('p', 'u') AND c.connamespace = 'public'::regnamespace
  AND c.conrelid::regclass::text = ANY(%(tables)s)
  AND NOT EXISTS (
      SELECT 1 FROM pg_depend d
      WHERE (d.refclassid = 'pg_constraint'::regclass AND d.refobjid = c.oid
             AND NOT (d.classid = 'pg_class'::regclass AND d.objid = c.conindid))
         OR (d.refclassid = 'pg_class'::regclass AND d.refobjid = c.conindid))
  AND NOT EXISTS (SELECT 1 FROM pg_description x WHERE x.objoid IN (c.oid, c.conindid))
ORDER BY 1, c.contype, 2
"""


@dataclass
class Deferred:
    """What was taken off the tables for the load, to be put back."""

    foreign_keys: list[tuple[str, str, str]] = field(default_factory=list)
    indexes: list[tuple[str, str, str]] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)
    keys: list[tuple[str, str, str]] = field(default_factory=list)

    def without(self, tables: Sequence[str]) -> Deferred:
        """The same less the keys, indexes and statistics of ``tables`` (built elsewhere);
        their foreign keys stay to be added."""
        return Deferred(
            foreign_keys=self.foreign_keys,
            indexes=[i for i in self.indexes if i[0] not in tables],
            tables=[t for t in self.tables if t not in tables],
            keys=[k for k in self.keys if k[0] not in tables],
        )


def defer(
    conn: psycopg.Connection[Any], tables: Sequence[str], keys: Sequence[str] = ()
) -> Deferred:
    """Drop the foreign keys touching ``tables`` and their secondary indexes, and the primary
    keys and UNIQUE constraints of ``keys`` (tables this transaction empties) that nothing
    else needs."""
    params = {"tables": list(tables)}
    deferred = Deferred(
        foreign_keys=[tuple(r) for r in conn.execute(_FOREIGN_KEYS, params)],
        indexes=[tuple(r) for r in conn.execute(_INDEXES, params)],
        tables=list(tables),
    )
    for table, name, _ in deferred.foreign_keys:
        _drop_constraint(conn, table, name)
    for _, name, _ in deferred.indexes:
        conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
    if keys:  # read after the foreign keys are gone: they depend on the keys' indexes
        deferred.keys = [tuple(r) for r in conn.execute(_KEYS, {"tables": list(keys)})]
        for table, name, _ in deferred.keys:
            _drop_constraint(conn, table, name)
    return deferred


def _drop_constraint(conn: psycopg.Connection[Any], table: str, name: str) -> None:
    conn.execute(
        sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
            sql.Identifier(table), sql.Identifier(name)
        )
    )


def _add_constraint(conn: psycopg.Connection[Any], table: str, name: str, definition: str) -> None:
    conn.execute(
        sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} ").format(
            sql.Identifier(table), sql.Identifier(name)
        )
        + sql.SQL(definition)  # from pg_get_constraintdef
    )


def restore(
    conn: psycopg.Connection[Any], deferred: Deferred, step: Callable[[str], None] | None = None
) -> None:
    """Build the keys and indexes, add and validate the foreign keys, and ANALYZE the
    tables."""
    conn.execute("SET LOCAL maintenance_work_mem = '256MB'")
    for table, name, definition in deferred.keys:
        if step:
            step(f"key {table}.{name}")
        _add_constraint(conn, table, name, definition)
    for _, name, definition in deferred.indexes:
        if step:
            step(f"index {name}")
        conn.execute(definition.encode())
    for table, name, definition in deferred.foreign_keys:
        if step:
            step(f"foreign key {table}.{name}")
        _add_constraint(conn, table, name, definition)
    for table in deferred.tables:
        if step:
            step(f"analyze {table}")
        conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(table)))
