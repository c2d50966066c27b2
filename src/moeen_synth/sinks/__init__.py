"""Sinks take generated blocks and put them somewhere; they never decide content.

``postgres.PostgresSink`` COPYs into a database inside the caller's transaction; the file
sinks (``parquet``, ``csv``, ``sql``) write a directory that ``export`` makes whole or not at
all. All of them have the shape of ``Sink``.
"""

from __future__ import annotations

from typing import Any, Protocol

import polars as pl

from moeen_synth.sinks.files import FileRecord


class Sink(Protocol):
    """A table's blocks arrive in order between ``begin`` and ``end``; if ``interleaves``,
    blocks of several begun tables may alternate, else each table ends before the next
    begins. ``prepare`` encodes a block and must be a pure function of it: it runs on the
    generating threads, ahead of ``write``, which stores it. ``end`` returns the table's
    finished files, ``finish`` any files that span tables (a database sink has none)."""

    format: str
    interleaves: bool

    def begin(self, table: str, columns: list[str], total: int) -> None: ...

    def prepare(self, table: str, frame: pl.DataFrame) -> Any: ...

    def write(self, table: str, prepared: Any, rows: int) -> None: ...

    def end(self, table: str) -> list[FileRecord]: ...

    def finish(self) -> list[FileRecord]: ...
