"""A data check: a query counting the rows that break one rule."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Check:
    name: str
    sql: str
    needs_as_of: bool = False  # compares with the as_of of the last load; skipped without one
    # A rule over one table's own columns: ``sql`` is ``SELECT count(*) FROM table WHERE
    # where``, and the checks of a table run together in one scan of it.
    table: str | None = None
    where: str | None = None
    # A foreign key's orphans: none can exist while a validated constraint holds it.
    foreign_key: tuple[str, str, str, str] | None = None  # child, column, parent, its column


def row_rule(name: str, table: str, where: str, *, needs_as_of: bool = False) -> Check:
    """A check of one table's rows, each alone: counted in the table's one scan."""
    return Check(
        name,
        f"SELECT count(*) FROM {table} WHERE {where}",
        needs_as_of=needs_as_of,
        table=table,
        where=where,
    )
