"""``moeen-synth validate``: the live schema against the expected one, and the data against
the rules in ``checks``; a report with per-table row counts."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from moeen_synth import paths
from moeen_synth.db import behaviour as behaviour_checks
from moeen_synth.db import checks, loads, statistics
from moeen_synth.db.catalog import diff_catalogs, read_catalog
from moeen_synth.db.migrate import PLATFORM_TABLES
from moeen_synth.db.statistics import Statistics

SNAPSHOT = "expected_catalog.json"
# Present only where the server lacks uuid-ossp (schema/0001 then defines a stand-in).
_OPTIONAL_FUNCTIONS = {"uuid_generate_v4"}


def expected_catalog_path() -> Path:
    return paths.schema_dir() / SNAPSHOT


def normalised_catalog(conn: psycopg.Connection[Any]) -> dict[str, Any]:
    catalog = read_catalog(conn)
    functions = catalog.get("functions")
    if isinstance(functions, list):
        catalog["functions"] = [f for f in functions if f.get("name") not in _OPTIONAL_FUNCTIONS]
    elif isinstance(functions, dict):
        catalog["functions"] = {
            k: v for k, v in functions.items() if k.split("(")[0] not in _OPTIONAL_FUNCTIONS
        }
    return catalog


@dataclass
class Report:
    schema_problems: list[str] = field(default_factory=list)
    check_results: list[tuple[str, int | None]] = field(default_factory=list)  # None: skipped
    behaviour: list[tuple[str, int | None]] = field(default_factory=list)  # RLS, triggers
    warnings: list[str] = field(default_factory=list)
    row_counts: dict[str, int] = field(default_factory=dict)
    statistics: Statistics | None = None

    @property
    def failures(self) -> list[str]:
        bad = [f"schema: {p}" for p in self.schema_problems]
        bad += [f"{name}: {n} row(s)" for name, n in self.check_results if n]
        bad += [f"{name}: {n} wrong" for name, n in self.behaviour if n]
        return bad

    @property
    def ok(self) -> bool:
        return not self.failures


def last_as_of(conn: psycopg.Connection[Any]) -> dt.datetime | None:
    if not loads.has_ledger(conn):
        return None
    one_now = "bool_and(one_now)" if loads.ledger_has(conn, "one_now") else "true"
    found = conn.execute(f"SELECT max(as_of), {one_now} FROM moeen_synth.loads").fetchone()
    # A load of rows with no one "now" (fixtures with dates moved per patient) has no as_of
    # to check against.
    return found[0] if found and found[1] is not False else None


def run_checks(
    conn: psycopg.Connection[Any],
    as_of: dt.datetime | None,
    step: Callable[[str, int, int], None] | None = None,
) -> list[tuple[str, int | None]]:
    """Each check's count of offending rows (None: skipped), in ``checks.CHECKS`` order;
    ``step(what, done, total)`` before each query, since at load-10m they take minutes.

    The rules over one table's own columns are counted in one scan of it; a foreign key's
    orphans are not looked for where a validated constraint already excludes them."""
    counts: list[int | None] = [None] * len(checks.CHECKS)
    held = validated_foreign_keys(conn)
    by_table: dict[str, list[int]] = {}
    alone: list[int] = []
    for i, check in enumerate(checks.CHECKS):
        if check.needs_as_of and as_of is None:
            continue
        if check.foreign_key is not None and check.foreign_key in held:
            counts[i] = 0
        elif check.table is not None:
            by_table.setdefault(check.table, []).append(i)
        else:
            alone.append(i)
    queries = [
        (
            f"{table}: {len(group)} rules in one scan",
            "SELECT "
            + ", ".join(f"count(*) FILTER (WHERE {checks.CHECKS[i].where})" for i in group)
            + f" FROM {table}",
            group,
        )
        for table, group in by_table.items()
    ] + [(checks.CHECKS[i].name, checks.CHECKS[i].sql, [i]) for i in alone]
    for done, (what, query, places) in enumerate(queries):
        if step:
            step(what, done, len(queries))
        row = conn.execute(query.encode(), {"as_of": as_of}).fetchone()
        for place, value in zip(places, row or [0] * len(places), strict=True):
            counts[place] = int(value)
    return [(check.name, counts[i]) for i, check in enumerate(checks.CHECKS)]


def validated_foreign_keys(conn: psycopg.Connection[Any]) -> set[tuple[str, str, str, str]]:
    """(child, column, parent, its column) of every one-column foreign key in the public
    schema that the server has validated: no row can break it."""
    rows = conn.execute(
        """SELECT child.relname, a.attname, parent.relname, pa.attname
           FROM pg_constraint c
           JOIN pg_class child ON child.oid = c.conrelid
           JOIN pg_class parent ON parent.oid = c.confrelid
           JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
           JOIN pg_attribute pa ON pa.attrelid = c.confrelid AND pa.attnum = c.confkey[1]
           WHERE c.contype = 'f' AND c.convalidated AND cardinality(c.conkey) = 1
             AND c.connamespace = 'public'::regnamespace
             AND parent.relnamespace = 'public'::regnamespace"""
    ).fetchall()
    return {(r[0], r[1], r[2], r[3]) for r in rows}


def row_counts(conn: psycopg.Connection[Any]) -> dict[str, int]:
    counts = {}
    for table in PLATFORM_TABLES:
        row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
        counts[table] = int(row[0]) if row else 0
    return counts


def validate(
    conn: psycopg.Connection[Any],
    *,
    as_of: dt.datetime | None = None,
    schema: bool = True,
    behaviour: bool = False,
    step: Callable[[str, int, int], None] | None = None,
) -> Report:
    """The schema against the expected one (``schema``), the data checks, and with
    ``behaviour`` what row-level security, triggers and views do (``db.behaviour``)."""
    report = Report()
    if schema:
        expected = json.loads(expected_catalog_path().read_text(encoding="utf-8"))
        report.schema_problems = diff_catalogs(expected, normalised_catalog(conn))
        missing = [
            t
            for t in PLATFORM_TABLES
            if t not in expected.get("tables", {})
            or any(p.startswith(f"table {t}: missing") for p in report.schema_problems)
        ]
        if report.schema_problems and missing:
            return report  # data checks would only fail on absent tables
    report.check_results = run_checks(conn, as_of if as_of is not None else last_as_of(conn), step)
    if behaviour:
        found = behaviour_checks.run(conn)
        report.behaviour, report.warnings = found.checks, found.warnings
    report.row_counts = row_counts(conn)
    if behaviour:
        report.statistics = statistics.gather(conn, report.row_counts)
    return report
