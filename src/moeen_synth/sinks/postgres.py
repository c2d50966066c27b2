"""PostgreSQL sink: COPY inside the caller's transaction.

A block is either a generated frame, encoded in binary COPY form (see ``binary_copy``),
or a CSV file written by the CSV sink, streamed to COPY as it is. Reference tables go
through a temporary table and ``INSERT ... ON CONFLICT DO NOTHING`` to merge with the
platform's default rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

import polars as pl
import psycopg
from psycopg import sql

from moeen_synth import catalogue
from moeen_synth.errors import LoadError
from moeen_synth.sinks import binary_copy
from moeen_synth.sinks.files import FileRecord
from moeen_synth.sinks.text_forms import csv_bytes


@dataclass
class CopyData:
    """Rows already in one of COPY's forms: a CSV sink's file (CSV with its header line), or
    a block encoded ahead on a generating thread (binary)."""

    columns: list[str]
    chunks: Iterable[bytes | memoryview]
    rows: int
    format: Literal["csv", "binary"] = "csv"
    header: bool = True


Block = pl.DataFrame | CopyData


Types = dict[str, dict[str, str]]  # {table: {column: type as format_type() spells it}}

_COLUMN_TYPES = """
SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod)
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r'
  AND a.attnum > 0 AND NOT a.attisdropped
"""


def target_types(conn: psycopg.Connection[Any]) -> Types:
    """The target's own column types. Binary COPY sends each value in its column's binary
    form, so it must follow the table as it is (a platform-made schema may differ from
    ours), not as this tool's schema declares it."""
    types: Types = {}
    for table, column, sql_type in conn.execute(_COLUMN_TYPES):
        types.setdefault(table, {})[column] = sql_type
    return types


def encode_block(table: str, frame: pl.DataFrame, types: Types | None = None) -> CopyData:
    """A generated block in binary COPY form for tables of ``types`` (by default this tool's
    schema), or as CSV where a column has no exact binary form (a type the encoder does not
    know, a value it cannot send exactly)."""
    columns = (types if types is not None else catalogue.sql_types()).get(table, {})
    if all(c in columns and binary_copy.supported(columns[c]) for c in frame.columns):
        try:
            parts = binary_copy.copy_binary_parts(frame, columns)
            return CopyData(frame.columns, parts, frame.height, "binary")
        except binary_copy.NotBinary:
            pass
    return CopyData(frame.columns, [csv_bytes(frame)], frame.height, "csv", header=False)


class PostgresSink:
    """A ``Sink`` into the caller's open transaction."""

    format = "postgres"
    interleaves = True  # a database takes blocks of several tables in any order

    def __init__(
        self,
        conn: psycopg.Connection[Any],
        merge_keys: dict[str, tuple[str, ...]],
        freeze: frozenset[str] = frozenset(),
        types: Types | None = None,
    ) -> None:
        """``freeze``: tables emptied by TRUNCATE in this transaction, which COPY loads
        frozen (no later pass must set every row's hint bits; see ``db.loads``).
        ``types``: the target's column types (``target_types``), read here if not given."""
        self.conn = conn
        self.merge_keys = merge_keys
        self.freeze = freeze
        self.types = types if types is not None else target_types(conn)

    def begin(self, table: str, columns: list[str], total: int) -> None:
        pass  # COPY needs no preamble: every block is a statement of its own

    def prepare(self, table: str, block: Block) -> CopyData:
        """Generated frames in COPY's binary form (on the generating threads); rows already
        in a COPY form (exported CSV files) as they are."""
        return encode_block(table, block, self.types) if isinstance(block, pl.DataFrame) else block

    def write(self, table: str, prepared: CopyData, rows: int) -> None:
        try:
            self.copy(table, prepared)
        except psycopg.Error as exc:
            raise LoadError(f"loading {table} failed: {str(exc).strip().splitlines()[0]}") from exc

    def end(self, table: str) -> list[FileRecord]:
        return []

    def finish(self) -> list[FileRecord]:
        return []

    def copy(self, table: str, block: Block) -> int:
        """COPY one block; return how many rows were stored (merged rows may be skipped)."""
        if isinstance(block, pl.DataFrame):
            if block.height == 0:
                return 0
            block = encode_block(table, block, self.types)
        columns, chunks, rows = block.columns, block.chunks, block.rows
        names = sql.SQL(", ").join(sql.Identifier(c) for c in columns)
        key = self.merge_keys.get(table)
        settings = ["FORMAT binary" if block.format == "binary" else "FORMAT csv"]
        if block.format == "csv" and block.header:
            settings.append("HEADER true")
        if table in self.freeze and key is None:
            settings.append("FREEZE true")
        options = sql.SQL(f"({', '.join(settings)})")
        with self.conn.cursor() as cur:
            target = sql.Identifier(table if key is None else f"moeen_stage_{table}")
            if key is not None:
                cur.execute(
                    sql.SQL(
                        "CREATE TEMP TABLE {} ON COMMIT DROP AS SELECT {} FROM {} WITH NO DATA"
                    ).format(target, names, sql.Identifier(table))
                )
            with cur.copy(
                sql.SQL("COPY {} ({}) FROM STDIN {}").format(target, names, options)
            ) as copy:
                for chunk in chunks:
                    copy.write(chunk)
            if key is None:
                return rows
            cur.execute(
                sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {} ON CONFLICT ({}) DO NOTHING").format(
                    sql.Identifier(table),
                    names,
                    names,
                    target,
                    sql.SQL(", ").join(sql.Identifier(k) for k in key),
                )
            )
            stored = cur.rowcount
            cur.execute(sql.SQL("DROP TABLE {}").format(target))
            return stored
