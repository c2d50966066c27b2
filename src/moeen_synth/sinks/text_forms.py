"""PostgreSQL's text forms of a generated block, built column by column with polars.

Generated frames carry real types (Datetime in UTC, Date, Boolean, integers, List for
text[]); uuid, numeric, jsonb and inet travel as strings already in PostgreSQL's input form.
Every sink that writes text goes through here, so COPY, CSV files and SQL files agree.
"""

from __future__ import annotations

import io

import polars as pl

TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S%.6f+00"
DATE_FORMAT = "%Y-%m-%d"
_NUMERIC = (pl.Int8, pl.Int16, pl.Int32, pl.Int64, pl.UInt8, pl.UInt16, pl.UInt32, pl.UInt64)


def pg_array(col: pl.Expr) -> pl.Expr:
    """A list of strings as a text[] literal, every element quoted and escaped."""
    element = pl.element().str.replace_all("\\", "\\\\", literal=True)
    quoted = col.list.eval(pl.lit('"') + element.str.replace_all('"', '\\"', literal=True) + '"')
    return pl.lit("{") + quoted.list.join(",") + pl.lit("}")


def lists_as_arrays(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame with List columns turned into text[] literals (CSV cannot hold lists)."""
    lists = [name for name, dtype in frame.schema.items() if isinstance(dtype, pl.List)]
    if not lists:
        return frame
    return frame.with_columns(pg_array(pl.col(name)).alias(name) for name in lists)


def _text(name: str, dtype: pl.DataType) -> pl.Expr:
    col = pl.col(name)
    if isinstance(dtype, pl.Datetime):
        return col.dt.to_string(TIMESTAMP_FORMAT)
    if isinstance(dtype, pl.Date):
        return col.dt.to_string(DATE_FORMAT)
    if isinstance(dtype, pl.List):
        return pg_array(col)
    return col.cast(pl.String)


def as_text(frame: pl.DataFrame) -> pl.DataFrame:
    """Every column as a string in PostgreSQL's input form; NULL stays null."""
    return frame.select(_text(name, dtype).alias(name) for name, dtype in frame.schema.items())


def csv_bytes(frame: pl.DataFrame, *, header: bool = False) -> bytes:
    """RFC 4180 CSV exactly as COPY (FORMAT csv) reads it: NULL is an unquoted empty field,
    an empty string is ``""``."""
    buffer = io.BytesIO()
    lists_as_arrays(frame).write_csv(
        buffer,
        include_header=header,
        null_value="",
        quote_style="necessary",
        datetime_format=TIMESTAMP_FORMAT,
        date_format=DATE_FORMAT,
    )
    return buffer.getvalue()


def copy_text(frame: pl.DataFrame) -> bytes:
    """The rows in COPY's text format: tab-separated, ``\\N`` for NULL, and backslash,
    newline, carriage return and tab escaped."""
    text = as_text(frame)
    # Only text that holds a backslash, newline, carriage return or tab needs escaping;
    # checking first spares most columns (ids, numbers, times) four passes each.
    special = text.select(pl.all().str.contains(r"[\\\n\r\t]").any()).row(0)
    escaped = []
    for name, needs in zip(text.columns, special, strict=True):
        col = pl.col(name)
        if needs:
            col = (
                col.str.replace_all("\\", "\\\\", literal=True)
                .str.replace_all("\n", "\\n", literal=True)
                .str.replace_all("\r", "\\r", literal=True)
                .str.replace_all("\t", "\\t", literal=True)
            )
        escaped.append(col)
    # Escaped text needs no quoting: polars writes it as it is, tab-separated, NULL as \N.
    buffer = io.BytesIO()
    text.select(escaped).write_csv(
        buffer, include_header=False, separator="\t", quote_style="never", null_value="\\N"
    )
    return buffer.getvalue()


def insert_values(frame: pl.DataFrame) -> pl.Series:
    """Each row as a ``(v1, v2, ...)`` tuple of SQL literals (standard_conforming_strings)."""
    parts = []
    for name, dtype in frame.schema.items():
        col = pl.col(name)
        if dtype in _NUMERIC or dtype == pl.Boolean:
            parts.append(col.cast(pl.String).fill_null("NULL"))
        else:
            quoted = pl.lit("'") + col.str.replace_all("'", "''", literal=True) + pl.lit("'")
            parts.append(quoted.fill_null("NULL"))
    # as_text makes every column a string; booleans and numbers stay bare, the rest quoted.
    return as_text(frame).select(
        (pl.lit("(") + pl.concat_str(parts, separator=", ") + pl.lit(")")).alias("row")
    )["row"]
