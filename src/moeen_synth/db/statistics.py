"""Statistics of a target, as the platform's validation script gives them: database size, per
table its rows, table and index size, index use (indexes never scanned named), and how many
policies, triggers and views the schema has."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import psycopg

from moeen_synth.db import migrate as migrations


@dataclass
class TableStats:
    rows: int
    table_bytes: int
    index_bytes: int


@dataclass
class Statistics:
    database_bytes: int = 0
    tables: dict[str, TableStats] = field(default_factory=dict)
    unused_indexes: list[str] = field(default_factory=list)  # never scanned since stats reset
    policies: int = 0
    triggers: int = 0
    views: int = 0


def gather(conn: psycopg.Connection[Any], rows: dict[str, int]) -> Statistics:
    """Statistics of the platform's tables; ``rows`` are their exact row counts."""
    stats = Statistics()
    size = conn.execute("SELECT pg_database_size(current_database())").fetchone()
    stats.database_bytes = int(size[0]) if size else 0
    for name, table_bytes, index_bytes in conn.execute(
        "SELECT c.relname, pg_table_size(c.oid), pg_indexes_size(c.oid) FROM pg_class c "
        "WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r' "
        "AND c.relname = ANY(%s) ORDER BY c.relname",
        (list(migrations.PLATFORM_TABLES),),
    ):
        stats.tables[name] = TableStats(rows.get(name, 0), int(table_bytes), int(index_bytes))
    stats.unused_indexes = [
        f"{table}.{index}"
        for table, index in conn.execute(
            "SELECT relname, indexrelname FROM pg_stat_user_indexes "
            "WHERE schemaname = 'public' AND idx_scan = 0 ORDER BY relname, indexrelname"
        )
    ]
    counts = conn.execute(
        "SELECT (SELECT count(*) FROM pg_policies WHERE schemaname = 'public'), "
        "(SELECT count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
        " WHERE NOT t.tgisinternal AND c.relnamespace = 'public'::regnamespace), "
        "(SELECT count(*) FROM pg_views WHERE schemaname = 'public')"
    ).fetchone()
    if counts:
        stats.policies, stats.triggers, stats.views = (int(n) for n in counts)
    return stats
