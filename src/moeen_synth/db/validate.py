"""``moeen-synth validate``: the live schema against the expected one, and the data against
the rules in ``checks``; a report with per-table row counts."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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


# Memory for the checks' hash joins and aggregates: at PostgreSQL's default of 4 MB the
# joins of load-1m's big tables spill to disk in 8 batches. Raised for the checks only, and
# never lowered.
CHECK_WORK_MEM = "64MB"


def run_checks(
    conn: psycopg.Connection[Any],
    as_of: dt.datetime | None,
    step: Callable[[str, int, int], None] | None = None,
) -> list[tuple[str, int | None]]:
    """Each check's count of offending rows (None: skipped), in ``checks.CHECKS`` order;
    ``step(what, done, total)`` before each query, since at load-10m they take minutes.

    The parts of all checks over one scan are counted in one pass over it (``db.check``); a
    foreign key's orphans are not looked for where a validated constraint excludes them."""
    counts: list[int | None] = [None] * len(checks.CHECKS)
    held = validated_foreign_keys(conn)
    by_scan: dict[str, list[tuple[int, str]]] = {}
    for i, check in enumerate(checks.CHECKS):
        if check.needs_as_of and as_of is None:
            continue
        counts[i] = 0
        if check.foreign_key is not None and check.foreign_key in held:
            continue
        for part in check.parts:
            by_scan.setdefault(part.scan, []).append((i, part.where))
    with _work_mem(conn, CHECK_WORK_MEM):
        for done, (scan, group) in enumerate(by_scan.items()):
            if len(group) == 1:
                what = checks.CHECKS[group[0][0]].name
                query = f"SELECT count(*) FROM {scan} WHERE {group[0][1]}"
            else:
                what = f"{len(group)} rules in one pass over {_tables(scan)}"
                filters = ", ".join(f"count(*) FILTER (WHERE {where})" for _, where in group)
                query = f"SELECT {filters} FROM {scan}"
            if step:
                step(what, done, len(by_scan))
            row = conn.execute(query.encode(), {"as_of": as_of}).fetchone()
            for (place, _), value in zip(group, row or [0] * len(group), strict=True):
                counts[place] = (counts[place] or 0) + int(value)
    return [(check.name, counts[i]) for i, check in enumerate(checks.CHECKS)]


def _tables(scan: str) -> str:
    """The tables a scan reads by name (not those of its subqueries), for progress."""
    words = scan.split()
    named = [words[0]] + [w for j, w in itertools.pairwise(words) if j == "JOIN"]
    return ", ".join(w for w in named if not w.startswith("("))


@contextmanager
def _work_mem(conn: psycopg.Connection[Any], at_least: str) -> Iterator[None]:
    """work_mem raised to ``at_least`` for the block, then as it was (a failed transaction
    undoes the change itself)."""
    row = conn.execute(
        "SELECT current_setting('work_mem'), "
        "pg_size_bytes(current_setting('work_mem')) < pg_size_bytes(%s)",
        (at_least,),
    ).fetchone()
    if row is None or not row[1]:
        yield
        return
    conn.execute("SELECT set_config('work_mem', %s, false)", (at_least,))
    yield
    conn.execute("SELECT set_config('work_mem', %s, false)", (row[0],))


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
