"""SQL files that ``psql -v ON_ERROR_STOP=1 -f`` loads into a database migrated by schema/.

Tables go into the platform's seed-file layout (``01_roles_and_users.sql`` ...
``05_notifications_and_system_data.sql``) in foreign-key order, as ``COPY ... FROM stdin``
blocks or, with ``--sql-style inserts``, multi-row INSERTs of a fixed size. Each numbered file
is one transaction when run by itself; ``load.sql`` runs them all in a single transaction.
Reference tables (settings, templates, translations) merge with the platform's defaults
through ``ON CONFLICT DO NOTHING``, as the PostgreSQL sink does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import polars as pl

from moeen_synth import catalogue
from moeen_synth.sinks.files import FileRecord, StreamFile
from moeen_synth.sinks.text_forms import copy_text, insert_values

Style = Literal["copy", "inserts"]
INSERT_ROWS = 1000  # rows per INSERT statement; fixed, so the bytes never depend on blocks
WRAPPED = "moeen_synth_load_all"  # psql variable load.sql sets: files then skip BEGIN/COMMIT

FILE_ORDER = list(catalogue.SEED_FILES)


def seed_order(tables: list[str]) -> list[str]:
    """``tables`` (in foreign-key order) regrouped by seed file, keeping that order inside
    each file; still a foreign-key order, as a test checks."""
    return sorted(tables, key=lambda t: (FILE_ORDER.index(file_of(t)), tables.index(t)))


def file_of(table: str) -> str:
    return catalogue.BY_NAME[table].seed_file


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _transaction(statement: str) -> str:
    return f"\\if :{{?{WRAPPED}}}\n\\else\n{statement}\n\\endif\n"


class SqlSink:
    format = "sql"
    interleaves = False  # a seed file holds each table's rows in one COPY section

    def __init__(
        self, root: Path, merge_keys: dict[str, tuple[str, ...]], style: Style = "copy"
    ) -> None:
        self.root = root
        self.merge_keys = merge_keys
        self.style = style
        self.open: dict[str, StreamFile] = {}
        self.done: list[FileRecord] = []
        self.table = ""
        self.total = 0
        self.written = 0
        self.columns = ""
        self.target = ""

    def _file(self, table: str) -> StreamFile:
        name = file_of(table)
        if name not in self.open:
            if FILE_ORDER.index(name) < max((FILE_ORDER.index(n) for n in self.open), default=-1):
                raise RuntimeError(f"{table} arrived after a later seed file was begun")
            for earlier in list(self.open):
                self._close(earlier)
            handle = StreamFile(self.root, name)
            handle.write(
                f"-- moeen-synth seed data: {name}\n"
                "SET client_encoding = 'UTF8';\n"
                "SET standard_conforming_strings = on;\n".encode()
                + _transaction("BEGIN;").encode()
            )
            self.open[name] = handle
        return self.open[name]

    def begin(self, table: str, columns: list[str], total: int) -> None:
        self.table, self.total, self.written = table, total, 0
        self.columns = ", ".join(_ident(c) for c in columns)
        out = self._file(table)
        key = self.merge_keys.get(table)
        self.target = _ident(table if key is None else f"moeen_stage_{table}")
        lines = [f"\n-- {table}: {total} rows"]
        if key is not None and self.style == "copy":
            lines.append(
                f"CREATE TEMP TABLE {self.target} ON COMMIT DROP AS "
                f"SELECT {self.columns} FROM {_ident(table)} WITH NO DATA;"
            )
        if self.style == "copy":
            lines.append(f"COPY {self.target} ({self.columns}) FROM stdin;")
        out.write(("\n".join(lines) + "\n").encode("utf-8"))

    def prepare(self, table: str, frame: pl.DataFrame) -> bytes | pl.Series:
        return copy_text(frame) if self.style == "copy" else insert_values(frame)

    def write(self, table: str, prepared: bytes | pl.Series, rows: int) -> None:
        out = self._file(table)
        if isinstance(prepared, bytes):
            out.write(prepared)
        else:
            out.write(self._inserts(table, prepared))
        self.written += rows

    def _inserts(self, table: str, values: pl.Series) -> bytes:
        """Row tuples as INSERT statements of ``INSERT_ROWS`` rows, counted over the whole
        table so that statement boundaries never depend on the blocks."""
        if values.len() == 0:
            return b""
        key = self.merge_keys.get(table)
        conflict = f"\nON CONFLICT ({', '.join(_ident(k) for k in key)}) DO NOTHING" if key else ""
        at = pl.int_range(self.written, self.written + values.len(), eager=True)
        first = at % INSERT_ROWS == 0
        last = (at % INSERT_ROWS == INSERT_ROWS - 1) | (at == self.total - 1)
        head = f"INSERT INTO {_ident(table)} ({self.columns}) VALUES\n"
        text = pl.DataFrame({"row": values, "first": first, "last": last}).select(
            pl.when("first").then(pl.lit(head)).otherwise(pl.lit(""))
            + pl.col("row")
            + pl.when("last").then(pl.lit(conflict + ";\n")).otherwise(pl.lit(",\n"))
        )
        joined: str = text.to_series().str.join("").item()
        return joined.encode("utf-8")

    def end(self, table: str) -> list[FileRecord]:
        out = self._file(table)
        key = self.merge_keys.get(table)
        tail = []
        if self.style == "copy":
            tail.append("\\.")
            if key is not None:
                tail.append(
                    f"INSERT INTO {_ident(table)} ({self.columns}) SELECT {self.columns} "
                    f"FROM {self.target} ON CONFLICT ({', '.join(_ident(k) for k in key)}) "
                    "DO NOTHING;"
                )
                tail.append(f"DROP TABLE {self.target};")
        if tail:
            out.write(("\n".join(tail) + "\n").encode("utf-8"))
        return []  # a seed file holds several tables; it is finished in finish()

    def _close(self, name: str) -> None:
        handle = self.open.pop(name)
        handle.write(("\n" + _transaction("COMMIT;")).encode())
        self.done.append(handle.close())

    def finish(self) -> list[FileRecord]:
        for name in list(self.open):
            self._close(name)
        written = sorted(r.path for r in self.done)
        driver = StreamFile(self.root, "load.sql")
        driver.write(
            (
                "-- Loads every seed file below in one transaction:\n"
                "--   psql -v ON_ERROR_STOP=1 -f load.sql\n"
                "\\set ON_ERROR_STOP on\n"
                f"\\set {WRAPPED} 1\n"
                "BEGIN;\n" + "".join(f"\\ir {name}\n" for name in written) + "COMMIT;\n"
            ).encode()
        )
        return [*self.done, driver.close()]
