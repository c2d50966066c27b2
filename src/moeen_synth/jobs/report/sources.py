"""Where the report's numbers come from: a database (aggregates in SQL, the validate checks,
the profile from the ledger of loads) or an exported directory (aggregates in polars over
its Parquet files, the profile from its manifest)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import psycopg

from moeen_synth import profile as profiles
from moeen_synth.db import loads
from moeen_synth.db.validate import row_counts, validate
from moeen_synth.errors import UsageError
from moeen_synth.jobs.report.measures import MEASURES
from moeen_synth.profile import Profile
from moeen_synth.sinks import manifest


@dataclass
class Measured:
    """Everything the report shows, measured from one source."""

    source: str  # what was read, for the page's heading
    profile: Profile
    frames: dict[str, pl.DataFrame]  # measure name -> its small aggregate
    rows: dict[str, int]  # table -> rows
    checks: list[tuple[str, int | None]] | None = None  # None: not a database
    notes: list[str] = field(default_factory=list)


def as_of_day(profile: Profile) -> dt.date:
    return profile.as_of.astimezone(dt.timezone(dt.timedelta(hours=3))).date()


def from_database(conn: psycopg.Connection[Any], profile: Profile | None) -> Measured:
    """Aggregate in the database; the profile is the one given or the last load's."""
    notes: list[str] = []
    if profile is None:
        profile = ledger_profile(conn)
    if loads.has_ledger(conn):
        row = conn.execute("SELECT count(*) FROM moeen_synth.loads").fetchone()
        if row and row[0] > 1:
            notes.append(
                f"the target records {row[0]} loads (--append); rows per table compare with "
                "one load's plan"
            )
    params = {"as_of": profile.as_of, "as_of_day": as_of_day(profile)}
    frames = {}
    for measure in MEASURES:
        cursor = conn.execute(measure.sql.encode(), params)
        names = [column.name for column in cursor.description or []]
        frames[measure.name] = pl.DataFrame(cursor.fetchall(), schema=names, orient="row")
    report = validate(conn, as_of=profile.as_of)
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
    files = manifest.read(directory)
    if files.format != "parquet":
        raise UsageError(
            f"{directory} holds {files.format} files; the report reads Parquet exports "
            "(moeen-synth --profile P --format parquet --out DIR) or a database (--dsn)"
        )
    if files.shard.count > 1:
        raise UsageError(
            f"{directory} is shard {files.shard.index + 1} of {files.shard.count}; report on a "
            "whole export or on the database the shards were loaded into"
        )
    chosen = profile or files.profile

    def scan(table: str) -> pl.LazyFrame:
        entry = files.tables[table]
        return pl.scan_parquet([directory / name for name in entry.files])

    as_of = pl.lit(chosen.as_of).dt.convert_time_zone("UTC")
    day = pl.lit(as_of_day(chosen))
    lazy = [measure.files(scan, as_of, day) for measure in MEASURES]
    collected = pl.collect_all(lazy)
    frames = {m.name: frame for m, frame in zip(MEASURES, collected, strict=True)}
    rows = {table: int(entry.total_rows) for table, entry in files.tables.items()}
    return Measured(source=str(directory), profile=chosen, frames=frames, rows=rows, notes=[])
