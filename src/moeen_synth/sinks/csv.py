"""CSV files: one per table, UTF-8, a header line, RFC 4180 quoting.

The encoding is COPY's CSV form (NULL an unquoted empty field, an empty string ``""``), so
``moeen-synth load`` streams the files to COPY without parsing them.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from moeen_synth.sinks.files import FileRecord, StreamFile
from moeen_synth.sinks.text_forms import csv_bytes


class CsvSink:
    format = "csv"
    interleaves = True  # one file per table: blocks of several tables may alternate

    def __init__(self, root: Path) -> None:
        self.root = root
        self.files: dict[str, StreamFile] = {}

    def begin(self, table: str, columns: list[str], total: int) -> None:
        self.files[table] = StreamFile(self.root, f"{table}.csv")
        self.files[table].write((",".join(columns) + "\n").encode("utf-8"))

    def prepare(self, table: str, frame: pl.DataFrame) -> bytes:
        return csv_bytes(frame)

    def write(self, table: str, prepared: bytes, rows: int) -> None:
        self.files[table].write(prepared)

    def end(self, table: str) -> list[FileRecord]:
        return [self.files.pop(table).close()]

    def finish(self) -> list[FileRecord]:
        return []
