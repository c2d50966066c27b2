"""Hostile text through every way into PostgreSQL: COPY from a generated block, CSV files,
Parquet files, and SQL files (COPY and INSERT style) run by psql. Every string must come back
exactly as it went in: tabs, newlines, carriage returns, backslashes, quotes, control
characters, COPY's own markers, Arabic with its combining marks (NFC unchanged) and emoji."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable
from typing import Any

import polars as pl
import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from moeen_synth import plan
from moeen_synth import profile as profiles
from moeen_synth.db import migrate as migrations
from moeen_synth.generators import BY_NAME
from moeen_synth.sinks.csv import CsvSink
from moeen_synth.sinks.parquet import ParquetSink, read_batches
from moeen_synth.sinks.postgres import CopyData, PostgresSink
from moeen_synth.sinks.sql import SqlSink, file_of
from moeen_synth.sinks.text_forms import csv_bytes
from tests.dbtools import run_psql

NASTY = [
    "",
    "\t",
    "a\tb",
    "line\nbreak",
    "cr\rlf\r\n",
    "back\\slash",
    "\\.",
    "\\N",
    "NULL",
    '"quoted"',
    "it's",
    "{a,b}",
    '{"x": 1}',
    ",;|",
    "\x01\x1f\x7f",
    "مُعين الطبي",  # Arabic with a damma (combining mark), NFC
    "د. عبدالله آل سعود",
    "😀👩‍⚕️",
    "ﷲ",  # a compatibility character that NFKC would change; NFC must not
]
text = st.one_of(
    st.sampled_from(NASTY),
    st.text(
        alphabet=st.characters(exclude_categories=("Cs",), exclude_characters="\x00"),
        max_size=24,
    ),
)


def leads(names: list[str], notes: list[str | None], keywords: list[list[str]]) -> dict[str, Any]:
    ctx = plan.context(profiles.load("demo"))
    n = len(names)
    crm = BY_NAME["crm_leads"].generate  # type: ignore[misc]
    flows = BY_NAME["chatbot_flows"].generate  # type: ignore[misc]
    lead = crm(ctx, 0, 1).sample(n, with_replacement=True, seed=0)
    lead = lead.with_columns(
        id=pl.Series([f"{i:08x}-0000-4000-8000-000000000000" for i in range(n)]),
        email=pl.Series([f"lead{i}@example.com" for i in range(n)]),
        name=pl.Series(names, dtype=pl.String),
        notes=pl.Series(notes, dtype=pl.String),
        metadata=pl.Series([json.dumps({"note": s}, ensure_ascii=False) for s in names]),
        assigned_to=pl.lit(None, dtype=pl.String),
    )
    flow = flows(ctx, 0, 1).sample(n, with_replacement=True, seed=0)
    flow = flow.with_columns(
        id=pl.Series([f"{i:08x}-0000-4000-9000-000000000000" for i in range(n)]),
        name=pl.Series([f"flow {i}" for i in range(n)]),
        description=pl.Series(notes, dtype=pl.String),
        trigger_keywords=pl.Series(keywords, dtype=pl.List(pl.String)),
        created_by=pl.lit(None, dtype=pl.String),
    )
    return {"crm_leads": lead, "chatbot_flows": flow}


def stored(conn: psycopg.Connection[Any]) -> list[tuple[Any, ...]]:
    return conn.execute(
        "SELECT l.name, l.notes, l.metadata->>'note', f.description, f.trigger_keywords "
        "FROM crm_leads l JOIN chatbot_flows f ON left(f.id::text, 8) = left(l.id::text, 8) "
        "ORDER BY l.id"
    ).fetchall()


@pytest.fixture
def schema_dsn(fresh_dsn: str) -> str:
    with psycopg.connect(fresh_dsn, autocommit=True) as conn:
        migrations.migrate(conn)
    return fresh_dsn


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    rows=st.lists(
        st.tuples(text.filter(bool), st.none() | text, st.lists(text, max_size=4)),
        min_size=1,
        max_size=6,
    )
)
def test_hostile_strings_come_back_unchanged_through_every_path(
    schema_dsn: str, tmp_path_factory: pytest.TempPathFactory, rows: list[Any]
) -> None:
    names, notes, keywords = (list(x) for x in zip(*rows, strict=True))
    frames = leads(names, notes, keywords)
    expected = [(n, note, n, note, kw) for n, note, kw in zip(names, notes, keywords, strict=True)]
    work = tmp_path_factory.mktemp("hostile")

    def through(conn: psycopg.Connection[Any], write: Callable[[str, pl.DataFrame], None]) -> None:
        conn.execute("TRUNCATE crm_leads, chatbot_flows CASCADE")
        for table in ("chatbot_flows", "crm_leads"):
            write(table, frames[table])

    results: dict[str, list[tuple[Any, ...]]] = {}
    with psycopg.connect(schema_dsn, autocommit=True) as conn:
        sink = PostgresSink(conn, {})

        def direct(table: str, frame: pl.DataFrame) -> None:
            sink.copy(table, frame)

        through(conn, direct)
        results["copy binary"] = stored(conn)

        def direct_csv(table: str, frame: pl.DataFrame) -> None:
            block = CopyData(frame.columns, [csv_bytes(frame)], frame.height, header=False)
            sink.copy(table, block)

        through(conn, direct_csv)
        results["copy csv"] = stored(conn)

        def via_csv(table: str, frame: pl.DataFrame) -> None:
            files = CsvSink(work / "csv")
            (work / "csv").mkdir(exist_ok=True)
            files.begin(table, frame.columns, frame.height)
            files.write(table, files.prepare(table, frame), frame.height)
            path = work / "csv" / files.end(table)[0].path
            sink.copy(table, CopyData(frame.columns, [path.read_bytes()], frame.height))

        through(conn, via_csv)
        results["csv"] = stored(conn)

        def via_parquet(table: str, frame: pl.DataFrame) -> None:
            files = ParquetSink(work / "parquet")
            files.begin(table, frame.columns, frame.height)
            files.write(table, files.prepare(table, frame), frame.height)
            for record in files.end(table):
                for block in read_batches(work / "parquet" / record.path):
                    sink.copy(table, block)

        through(conn, via_parquet)
        results["parquet"] = stored(conn)

        for style in ("copy", "inserts"):
            root = work / f"sql-{style}"
            root.mkdir(exist_ok=True)
            sql = SqlSink(root, {}, style)  # type: ignore[arg-type]

            def via_sql(table: str, frame: pl.DataFrame, sql: SqlSink = sql) -> None:
                sql.begin(table, frame.columns, frame.height)
                sql.write(table, sql.prepare(table, frame), frame.height)
                sql.end(table)

            through(conn, via_sql)
            sql.finish()
            conn.execute("TRUNCATE crm_leads, chatbot_flows CASCADE")
            run_psql(schema_dsn, root / file_of("crm_leads"))
            results[f"sql {style}"] = stored(conn)

    for path, got in results.items():
        assert got == expected, path
    arabic = [s for s in names if any("\u0600" <= c <= "\u06ff" for c in s)]
    assert all(unicodedata.is_normalized("NFC", s) for s in arabic if "\u064f" in s)
