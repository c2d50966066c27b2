"""Parquet datasets: one directory per table, part files of a fixed number of rows.

Types follow the schema: uuid as the UUID logical type, numeric(p,s) as decimal, timestamptz
as UTC timestamps (microseconds), date as date, integer as int32, jsonb as JSON text, text[]
as a list of strings, inet and the rest as strings. Writer settings are fixed and rows are
re-cut into row groups of ``ROW_GROUP_ROWS`` whatever the generated blocks, so the same rows
give the same bytes.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from moeen_synth.catalogue import required, sql_types
from moeen_synth.plan import BLOCK_ROWS
from moeen_synth.sinks.files import PARTIAL, FileRecord, TableFilesSink, publish
from moeen_synth.sinks.uuid_bytes import uuid_array

# Row groups as long as the generated blocks (plan.BLOCK_ROWS): a block is one row group,
# written as it comes, with no copy and nothing kept waiting for the rest of its group (a
# dozen tables are written at once along the appointments). Other block sizes (--chunk-size)
# are re-cut into the same groups, so the bytes never depend on them. Peak RSS at load-1m:
# 950 MiB with groups of 131,072 rows, 800 with 65,536, 655 with 50,000.
ROW_GROUP_ROWS = BLOCK_ROWS
PART_ROWS = 20 * ROW_GROUP_ROWS  # rows per part file (and per task of a distributed export)
# zstd level 1; no dictionary for uuid and timestamp columns (nearly every value distinct:
# the writer would build a dictionary, find it too large and fall back to plain pages);
# min/max statistics only for numbers, dates, times and booleans: no table is ordered by a
# text or a uuid, so every row group of a text column spans nearly the whole range and no
# reader could skip one by it. Writing takes 40% less time than at level 3 with
# dictionaries and statistics everywhere, and the files are 4% smaller (bench/README.md,
# "Figures behind design choices"); the text statistics alone took 10% of the writing.
WRITER = {
    "compression": "zstd",
    "compression_level": 1,
    "version": "2.6",
    "data_page_size": 1 << 20,
}


def writer_options(schema: pa.Schema) -> dict[str, object]:
    """The ParquetWriter settings for a table written as ``schema``: a function of the
    schema only, so the same rows give the same bytes."""
    distinct = {f.name for f in schema if f.type == pa.uuid() or pa.types.is_timestamp(f.type)}
    return {
        **WRITER,
        "use_dictionary": [f.name for f in schema if f.name not in distinct],
        "write_statistics": [f.name for f in schema if _ordered(f.type)],
    }


def _ordered(kind: pa.DataType) -> bool:
    """A type whose min/max statistics a reader can prune row groups by."""
    t = pa.types
    return bool(
        t.is_integer(kind) or t.is_decimal(kind) or t.is_temporal(kind) or t.is_boolean(kind)
    )


_NUMERIC = re.compile(r"numeric\((\d+),(\d+)\)")


def arrow_type(sql_type: str) -> pa.DataType:
    """Text as large_string: what polars exports, so no column is copied again to fit."""
    if sql_type == "uuid":
        return pa.uuid()
    if m := _NUMERIC.fullmatch(sql_type):
        return pa.decimal128(int(m[1]), int(m[2]))
    return {
        "jsonb": pa.json_(pa.large_string()),
        "text[]": pa.list_(pa.string()),
        "integer": pa.int32(),
        "bigint": pa.int64(),
        "boolean": pa.bool_(),
        "date": pa.date32(),
        "timestamp with time zone": pa.timestamp("us", tz="UTC"),
    }.get(sql_type, pa.large_string())


@functools.cache
def arrow_schema(table: str, columns: tuple[str, ...]) -> pa.Schema:
    types, needed = sql_types()[table], required()[table]
    return pa.schema([pa.field(c, arrow_type(types[c]), nullable=c not in needed) for c in columns])


def to_arrow(frame: pl.DataFrame, schema: pa.Schema) -> pa.Table:
    """A generated block as an Arrow table of ``schema``."""
    uuids = {field.name for field in schema if field.type == pa.uuid()}
    prepared = []
    for field in schema:
        if field.name in uuids:
            continue  # from the text's bytes below, not through Arrow strings
        col = pl.col(field.name)
        if pa.types.is_decimal(field.type):
            col = col.cast(pl.Decimal(field.type.precision, field.type.scale))
        prepared.append(col)
    table = frame.select(prepared).to_arrow()
    arrays = []
    for field in schema:
        if field.name in uuids:
            arrays.append(uuid_array(frame[field.name]))
            continue
        column = table.column(field.name)
        if isinstance(field.type, pa.BaseExtensionType):
            storage = column.combine_chunks().cast(field.type.storage_type)
            arrays.append(pa.ExtensionArray.from_storage(field.type, storage))
        else:
            arrays.append(column.cast(field.type))
    return pa.Table.from_arrays(arrays, schema=schema)


def uuid_text(col: pl.Expr) -> pl.Expr:
    hexed = col.bin.encode("hex")
    return pl.concat_str(
        [hexed.str.slice(a, n) for a, n in ((0, 8), (8, 4), (12, 4), (16, 4), (20, 12))],
        separator="-",
    )


def from_arrow(batch: pa.RecordBatch) -> pl.DataFrame:
    """A batch read back as a frame like the generated one (uuid and JSON as text)."""
    arrays, uuids = [], []
    for field, column in zip(batch.schema, batch.columns, strict=True):
        if isinstance(field.type, pa.BaseExtensionType):
            if field.type == pa.uuid():
                uuids.append(field.name)
            column = column.storage if isinstance(column, pa.ExtensionArray) else column
            column = column.cast(pa.binary() if field.name in uuids else pa.large_string())
        arrays.append(column)
    frame = pl.from_arrow(pa.RecordBatch.from_arrays(arrays, names=batch.schema.names))
    assert isinstance(frame, pl.DataFrame)
    return frame.with_columns(uuid_text(pl.col(name)).alias(name) for name in uuids)


def read_batches(path: Path, batch_rows: int = 65_536) -> Iterator[pl.DataFrame]:
    handle = pq.ParquetFile(path)
    for batch in handle.iter_batches(batch_size=batch_rows):
        yield from_arrow(batch)


class TableParts:
    """One table's part files: rows re-cut into row groups, parts of PART_ROWS rows."""

    def __init__(
        self, root: Path, table: str, schema: pa.Schema, first_part: int = 0, partial: str = ""
    ) -> None:
        """``first_part``: the number of the first part written (a task of a distributed
        export writes one part); ``partial``: the temporary names' suffix (unique per task
        attempt, so two attempts at one part never write the same file)."""
        self.root, self.table, self.schema = root, table, schema
        self.partial = partial or PARTIAL
        self.pending: list[pa.Table] = []
        self.pending_rows = 0
        self.part = first_part
        self.part_rows = 0
        self.writer: pq.ParquetWriter | None = None
        self.records: list[FileRecord] = []
        (root / table).mkdir(parents=True, exist_ok=True)

    def _path(self) -> Path:
        return self.root / self.table / f"part-{self.part:05d}.parquet"

    def write(self, prepared: pa.Table, rows: int) -> None:
        self.pending.append(prepared)
        self.pending_rows += rows
        self._flush(final=False)

    def _flush(self, *, final: bool) -> None:
        """Write every full row group pending (and, at the end, the rest)."""
        if self.pending_rows < ROW_GROUP_ROWS and not (final and self.pending_rows):
            return
        rows = pa.concat_tables(self.pending)
        at = 0
        while rows.num_rows - at >= ROW_GROUP_ROWS or (final and at < rows.num_rows):
            # One chunk per column: the writer cuts pages at chunk boundaries too, so the
            # bytes would otherwise depend on how the rows arrived (the block size).
            group = rows.slice(at, ROW_GROUP_ROWS).combine_chunks()
            self._write_group(group)
            at += group.num_rows
        rest = rows.slice(at)
        self.pending, self.pending_rows = ([rest] if rest.num_rows else []), rest.num_rows

    def _write_group(self, group: pa.Table) -> None:
        if self.writer is None:
            temp = self._path().with_name(self._path().name + self.partial)
            self.writer = pq.ParquetWriter(temp, self.schema, **writer_options(self.schema))
        self.writer.write_table(group, row_group_size=ROW_GROUP_ROWS)
        self.part_rows += group.num_rows
        if self.part_rows >= PART_ROWS:
            self._close_part()

    def _close_part(self) -> None:
        assert self.writer is not None
        self.writer.close()
        self.writer = None
        final = self._path()
        self.records.append(publish(self.root, final.with_name(final.name + self.partial), final))
        self.part += 1
        self.part_rows = 0

    def end(self) -> list[FileRecord]:
        self._flush(final=True)
        if self.writer is not None:
            self._close_part()
        return self.records


class ParquetSink(TableFilesSink):
    """One directory of part files per table."""

    format = "parquet"

    def open(self, table: str, columns: list[str]) -> TableParts:
        return TableParts(self.root, table, arrow_schema(table, tuple(columns)))

    def prepare(self, table: str, frame: pl.DataFrame) -> pa.Table:
        return to_arrow(frame, arrow_schema(table, tuple(frame.columns)))
