"""Where the report's numbers come from: a database (aggregates in SQL, the validate checks,
the profile from the ledger of loads) or an exported directory (aggregates in polars over
its Parquet files, the profile from its manifest)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import psycopg
import pyarrow as pa

from moeen_synth import profile as profiles
from moeen_synth.db import loads
from moeen_synth.db.validate import last_as_of, row_counts, validate
from moeen_synth.errors import UsageError
from moeen_synth.jobs.report.measures import MEASURES
from moeen_synth.profile import Profile
from moeen_synth.sinks import manifest
from moeen_synth.sinks.parquet import arrow_schema


@dataclass
class Measured:
    """Everything the report shows, measured from one source."""

    source: str  # what was read, for the page's heading
    profile: Profile
    frames: dict[str, pl.DataFrame]  # measure name -> its small aggregate
    rows: dict[str, int]  # table -> rows
    checks: list[tuple[str, int | None]] | None = None  # None: not a database
    notes: list[str] = field(default_factory=list)


def riyadh_day(moment: dt.datetime) -> dt.date:
    return moment.astimezone(dt.timezone(dt.timedelta(hours=3))).date()


def from_database(conn: psycopg.Connection[Any], profile: Profile | None) -> Measured:
    """Aggregate in the database; the profile is the one given or the last load's."""
    notes: list[str] = []
    if profile is None:
        profile = ledger_profile(conn)
    # The data's own "now" (the last load's), whatever profile the targets come from.
    as_of = last_as_of(conn) or profile.as_of
    if loads.has_ledger(conn):
        row = conn.execute("SELECT count(*) FROM moeen_synth.loads").fetchone()
        if row and row[0] > 1:
            notes.append(
                f"the target records {row[0]} loads (--append); rows per table compare with "
                "one load's plan"
            )
    params = {"as_of": as_of, "as_of_day": riyadh_day(as_of)}
    frames = {
        measure.name: measure.frame(conn.execute(measure.sql.encode(), params).fetchall())
        for measure in MEASURES
    }
    report = validate(conn, as_of=as_of)
    return Measured(
        source="database",
        profile=profile,
        frames=frames,
        rows=row_counts(conn),
        checks=report.check_results,
        notes=notes + [f"schema: {problem}" for problem in report.schema_problems],
    )


def ledger_profile(conn: psycopg.Connection[Any]) -> Profile:
    """The profile of the last load recorded in the target (its settings when recorded,
    else the shipped profile of that name with the recorded seed)."""
    if not loads.has_ledger(conn):
        raise UsageError(
            "the target has no record of a moeen-synth load; name the profile to compare "
            "with: moeen-synth report --profile NAME"
        )
    row = loads.last_load(conn)
    if row is None:
        raise UsageError("the target's ledger of loads is empty; give --profile NAME")
    name, seed, settings = row
    if settings is not None:
        return profiles.parse(settings, "the last load's recorded profile")
    try:
        return profiles.load(name).with_overrides(seed=seed)
    except UsageError:
        raise UsageError(
            f"the last load used profile {name!r}, which is not a shipped profile here; "
            "give it with --profile PATH"
        ) from None


def from_files(directory: Path, profile: Profile | None) -> Measured:
    """Aggregate with polars over an export's Parquet files (checked against its manifest)."""
    if _is_fixture(directory):
        raise UsageError(
            f"{directory} holds fixtures, not an export: load its fixtures.sql into a "
            "migrated database and report on that (--dsn)"
        )
    files = manifest.read(directory)
    if files.format != "parquet":
        raise UsageError(
            f"{directory} holds {files.format} files; the report reads Parquet exports "
            "(moeen-synth --profile P --format parquet --out DIR) or a database (--dsn)"
        )
    if files.shard.count > 1:
        raise UsageError(
            f"{directory} is shard {files.shard.index} of {files.shard.count}; report on a "
            "whole export or on the database the shards were loaded into"
        )
    chosen = profile or files.profile
    as_of = files.profile.as_of  # the data's own "now", whatever profile gives the targets

    def scan(table: str) -> pl.LazyFrame:
        entry = files.tables[table]
        if not entry.files:  # a table with no rows has no file
            empty = pa.Table.from_batches([], arrow_schema(table, tuple(entry.columns)))
            return pl.from_arrow(empty).lazy()  # type: ignore[union-attr]
        return pl.scan_parquet([directory / name for name in entry.files])

    moment = pl.lit(as_of).dt.convert_time_zone("UTC")
    day = pl.lit(riyadh_day(as_of))
    lazy = [measure.files(scan, moment, day) for measure in MEASURES]
    collected = pl.collect_all(lazy)
    frames = {m.name: m.typed(frame) for m, frame in zip(MEASURES, collected, strict=True)}
    rows = {table: int(entry.total_rows) for table, entry in files.tables.items()}
    return Measured(source=str(directory), profile=chosen, frames=frames, rows=rows, notes=[])


def _is_fixture(directory: Path) -> bool:
    try:
        found = json.loads((directory / manifest.NAME).read_text("utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(found, dict) and found.get("kind") == "fixtures"
