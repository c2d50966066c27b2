"""Sinks take blocks of rows and put them somewhere; they never decide content.

``postgres.PostgresSink`` COPYs into a database inside the caller's transaction; the file
sinks (``parquet``, ``csv``, ``sql``) write a directory that the export job makes whole or not
at all. All of them have the shape of ``Sink``, and ``driver.drive`` is the one loop that
feeds them.
"""

from __future__ import annotations

from typing import Any, Protocol

from moeen_synth.sinks.files import FileRecord


class Sink(Protocol):
    """A table's blocks arrive in order between ``begin`` and ``end``; if ``interleaves``,
    blocks of several begun tables may alternate, else each table ends before the next
    begins. ``prepare`` encodes a block (a generated frame, or rows read back from files)
    and must be a pure function of it: it runs on the generating threads, ahead of
    ``write``, which stores it. ``end`` returns the table's finished files, ``finish`` any
    files that span tables (a database sink has none)."""

    format: str
    interleaves: bool

    def begin(self, table: str, columns: list[str], total: int) -> None: ...

    def prepare(self, table: str, block: Any) -> Any: ...

    def write(self, table: str, prepared: Any, rows: int) -> None: ...

    def end(self, table: str) -> list[FileRecord]: ...

    def finish(self) -> list[FileRecord]: ...
