"""Sinks take generated blocks and put them somewhere; they never decide content.

``postgres.PostgresSink`` COPYs into a database inside the caller's transaction; the file
sinks (``parquet``, ``csv``, ``sql``, sharing ``files.FileSink``) write a directory that
``export`` makes whole or not at all.
"""

from __future__ import annotations

from typing import Protocol

import polars as pl


class Sink(Protocol):
    def write(self, table: str, frame: pl.DataFrame) -> int:
        """Write one block of ``table``'s rows; return how many rows were stored."""
        ...
