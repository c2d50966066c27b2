"""CSV files: one per table, UTF-8, a header line, RFC 4180 quoting.

The encoding is COPY's CSV form (NULL an unquoted empty field, an empty string ``""``), so
``moeen-synth load`` streams the files to COPY without parsing them.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from moeen_synth.sinks.files import FileRecord, StreamFile, TableFilesSink
from moeen_synth.sinks.text_forms import csv_bytes


class _CsvFile:
    def __init__(self, root: Path, table: str, columns: list[str]) -> None:
        self.file = StreamFile(root, f"{table}.csv")
        self.file.write((",".join(columns) + "\n").encode("utf-8"))

    def write(self, prepared: bytes, rows: int) -> None:
        self.file.write(prepared)

    def end(self) -> list[FileRecord]:
        return [self.file.close()]


class CsvSink(TableFilesSink):
    """One file per table."""

    format = "csv"

    def open(self, table: str, columns: list[str]) -> _CsvFile:
        return _CsvFile(self.root, table, columns)

    def prepare(self, table: str, frame: pl.DataFrame) -> bytes:
        return csv_bytes(frame)
