"""Sinks take generated blocks and put them somewhere; they never decide content."""

from __future__ import annotations

from typing import Protocol

import polars as pl


class Sink(Protocol):
    def write(self, table: str, frame: pl.DataFrame) -> int:
        """Write one block of ``table``'s rows; return how many rows were stored."""
        ...
