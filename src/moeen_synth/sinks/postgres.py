"""PostgreSQL sink: COPY in CSV form, inside the caller's transaction.

polars writes exactly the CSV that COPY reads: NULL as an unquoted empty field, an empty
string as "", and RFC 4180 quoting for the rest, so a block is encoded in one vectorised
call. Reference tables go through a temporary table and ``INSERT ... ON CONFLICT DO
NOTHING`` to merge with the platform's default rows.
"""

from __future__ import annotations

import io
from typing import Any

import polars as pl
import psycopg
from psycopg import sql

TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S%.6f+00"


def encode_csv(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_csv(
        buffer,
        include_header=False,
        null_value="",
        quote_style="necessary",
        datetime_format=TIMESTAMP_FORMAT,
        date_format="%Y-%m-%d",
    )
    return buffer.getvalue()


class PostgresSink:
    def __init__(
        self, conn: psycopg.Connection[Any], merge_keys: dict[str, tuple[str, ...]]
    ) -> None:
        self.conn = conn
        self.merge_keys = merge_keys

    def write(self, table: str, frame: pl.DataFrame) -> int:
        if frame.height == 0:
            return 0
        columns = sql.SQL(", ").join(sql.Identifier(c) for c in frame.columns)
        data = encode_csv(frame)
        with self.conn.cursor() as cur:
            key = self.merge_keys.get(table)
            if key is None:
                with cur.copy(
                    sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(
                        sql.Identifier(table), columns
                    )
                ) as copy:
                    copy.write(data)
                return frame.height
            stage = sql.Identifier(f"moeen_stage_{table}")
            cur.execute(
                sql.SQL(
                    "CREATE TEMP TABLE {} ON COMMIT DROP AS SELECT {} FROM {} WITH NO DATA"
                ).format(stage, columns, sql.Identifier(table))
            )
            with cur.copy(
                sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(stage, columns)
            ) as copy:
                copy.write(data)
            cur.execute(
                sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {} ON CONFLICT ({}) DO NOTHING").format(
                    sql.Identifier(table),
                    columns,
                    columns,
                    stage,
                    sql.SQL(", ").join(sql.Identifier(k) for k in key),
                )
            )
            stored = cur.rowcount
            cur.execute(sql.SQL("DROP TABLE {}").format(stage))
            return stored
