"""A data check: the number of rows that break one rule, counted over one or more scans.

A check is a sum of parts; a part counts the rows of a scan (a FROM clause) that meet a
condition. Parts of different checks over the same scan are counted in one pass over it
(``count(*) FILTER (WHERE ...)`` for each), which is the same count as a query of their own;
``Check.sql`` is that query, for reading one check alone."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Part:
    scan: str  # a FROM clause; parts with the very same text share one pass
    where: str


@dataclass(frozen=True)
class Check:
    name: str
    parts: tuple[Part, ...]
    needs_as_of: bool = False  # compares with the as_of of the last load; skipped without one
    # A foreign key's orphans: none can exist while a validated constraint holds it.
    foreign_key: tuple[str, str, str, str] | None = None  # child, column, parent, its column

    @property
    def sql(self) -> str:
        """The check as one query of its own."""
        counts = [f"(SELECT count(*) FROM {p.scan} WHERE {p.where})" for p in self.parts]
        return "SELECT " + " + ".join(counts)


def check(name: str, *parts: tuple[str, str], needs_as_of: bool = False) -> Check:
    """A check of the rows of each (scan, where) part, summed."""
    return Check(name, tuple(Part(s, w) for s, w in parts), needs_as_of=needs_as_of)


def row_rule(name: str, table: str, where: str, *, needs_as_of: bool = False) -> Check:
    """A check of one table's rows, each alone: counted in the table's one scan."""
    return check(name, (table, where), needs_as_of=needs_as_of)
