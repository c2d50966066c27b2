"""A data check: a query counting the rows that break one rule."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Check:
    name: str
    sql: str
    needs_as_of: bool = False  # compares with the as_of of the last load; skipped without one
