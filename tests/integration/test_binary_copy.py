"""Binary COPY: every column type the encoder knows, with NULLs and edge values, stores
exactly what CSV COPY of the same frame stores."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from moeen_synth import plan
from moeen_synth.sinks.binary_copy import NotBinary, copy_binary
from moeen_synth.sinks.postgres import encode_block
from moeen_synth.sinks.text_forms import csv_bytes

TYPES = {
    "u": "uuid",
    "t": "timestamp with time zone",
    "d": "date",
    "i": "integer",
    "b": "bigint",
    "f": "boolean",
    "m": "numeric(10,2)",
    "r": "numeric(3,2)",
    "v": "numeric(15,4)",
    "ip": "inet",
    "j": "jsonb",
    "s": "character varying(50)",
    "x": "text",
    "a": "text[]",
}
UTC = dt.UTC
text = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=12)


def money(digits: int, scale: int) -> st.SearchStrategy[str]:
    bound = 10 ** (digits - scale) - 1

    def fmt(whole: int, frac: int) -> str:
        return f"{whole}.{frac:0{scale}d}"

    return st.builds(fmt, st.integers(-bound, bound), st.integers(0, 10**scale - 1))


row = st.fixed_dictionaries(
    {
        "u": st.none() | st.uuids().map(str),
        "t": st.none()
        | st.datetimes(dt.datetime(1990, 1, 1), dt.datetime(2060, 1, 1)).map(
            lambda d: d.replace(tzinfo=UTC)
        ),
        "d": st.none() | st.dates(dt.date(1900, 1, 1), dt.date(2100, 1, 1)),
        "i": st.none() | st.integers(-(2**31), 2**31 - 1),
        "b": st.none() | st.integers(-(2**63), 2**63 - 1),
        "f": st.none() | st.booleans(),
        "m": st.none() | money(10, 2),
        "r": st.none() | money(3, 2),
        "v": st.none() | money(15, 4),
        "ip": st.none() | st.ip_addresses(v=4).map(str),
        "j": st.none() | st.dictionaries(text, text | st.integers(), max_size=3),
        "s": st.none() | text,
        "x": st.none() | text,
        "a": st.none() | st.lists(text, max_size=3),
    }
)


def frame_of(rows: list[dict[str, Any]]) -> pl.DataFrame:
    import json

    data = {k: [r[k] for r in rows] for k in TYPES}
    data["j"] = [None if v is None else json.dumps(v, ensure_ascii=False) for v in data["j"]]
    return pl.DataFrame(
        data,
        schema={
            "u": pl.String,
            "t": pl.Datetime("us", "UTC"),
            "d": pl.Date,
            "i": pl.Int64,
            "b": pl.Int64,
            "f": pl.Boolean,
            "m": pl.String,
            "r": pl.String,
            "v": pl.String,
            "ip": pl.String,
            "j": pl.String,
            "s": pl.String,
            "x": pl.String,
            "a": pl.List(pl.String),
        },
    )


@pytest.fixture
def conn(fresh_dsn: str) -> Any:
    with psycopg.connect(fresh_dsn, autocommit=True) as c:
        columns = ", ".join(f"{k} {v}" for k, v in TYPES.items())
        c.execute(f"CREATE TABLE via_binary ({columns})")
        c.execute(f"CREATE TABLE via_csv ({columns})")
        yield c


def load(c: psycopg.Connection[Any], table: str, fmt: str, data: bytes) -> None:
    with c.cursor() as cur, cur.copy(f"COPY {table} FROM STDIN (FORMAT {fmt})") as copy:
        copy.write(data)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rows=st.lists(row, min_size=1, max_size=8))
def test_binary_copy_stores_what_csv_copy_stores(conn: Any, rows: list[dict[str, Any]]) -> None:
    frame = frame_of(rows)
    conn.execute("TRUNCATE via_binary, via_csv")
    load(conn, "via_binary", "binary", copy_binary(frame, TYPES))
    load(conn, "via_csv", "csv", csv_bytes(frame))
    order = ", ".join(f"{k}::text" for k in TYPES)
    got = conn.execute(f"SELECT * FROM via_binary ORDER BY {order}").fetchall()
    want = conn.execute(f"SELECT * FROM via_csv ORDER BY {order}").fetchall()
    assert got == want
    assert len(got) == len(rows)


@pytest.mark.parametrize(
    ("column", "value", "why"),
    [
        ("u", "not-a-uuid-at-all-but-36-chars-long!", "not a UUID"),
        ("m", "1.005", "fraction digits"),  # the server rounds to 1.01; polars would cut
        ("ip", "2001:db8::1", "IPv4"),
        ("i", 2**31, "out of the range"),  # int64 in the frame, integer in the table
        ("a", ["x", None], "NULL elements"),
    ],
)
def test_values_without_an_exact_binary_form_go_as_csv(
    conn: Any, column: str, value: Any, why: str
) -> None:
    frame = frame_of([{k: None for k in TYPES} | {column: value}])
    with pytest.raises(NotBinary, match=why):
        copy_binary(frame, TYPES)


def test_a_block_without_an_exact_binary_form_is_sent_as_csv() -> None:
    def amounts(*values: str) -> pl.DataFrame:
        return pl.DataFrame({"amount": list(values)})  # payments.amount is numeric(10,2)

    assert encode_block("payments", amounts("12.50", "7.00")).format == "binary"
    assert encode_block("payments", amounts("12.50", "1.005")).format == "csv"

    # A naive time means the session's time zone in text form; only UTC-aware is binary.
    naive = pl.DataFrame({"paid_at": [dt.datetime(2026, 1, 1, 9)]})
    assert encode_block("payments", naive).format == "csv"
    aware = naive.with_columns(pl.col("paid_at").dt.replace_time_zone("UTC"))
    assert encode_block("payments", aware).format == "binary"


def test_binary_copy_follows_the_target_tables_own_types(fresh_dsn: str) -> None:
    """A platform-made schema may declare a column otherwise than ours (here inet as text,
    jsonb as text): each value goes in the target column's binary form, or as CSV."""
    from moeen_synth import profile as profiles
    from moeen_synth.db import migrate as migrations
    from moeen_synth.sinks.postgres import PostgresSink

    ctx = plan.context(profiles.load("demo"))
    spec, total = next((s, n) for s, n in plan.plan(ctx) if s.name == "audit_logs")
    assert spec.generate is not None
    frame = spec.generate(ctx, 0, total)
    with psycopg.connect(fresh_dsn, autocommit=True) as c:
        migrations.migrate(c)
        c.execute("ALTER TABLE audit_logs DROP CONSTRAINT IF EXISTS audit_logs_user_id_fkey")
        c.execute("ALTER TABLE audit_logs ALTER COLUMN ip_address TYPE text")
        c.execute("ALTER TABLE audit_logs ALTER COLUMN new_values TYPE text")
        PostgresSink(c, {}).copy("audit_logs", frame)
        stored = c.execute("SELECT ip_address, new_values FROM audit_logs ORDER BY id").fetchall()
    expected = frame.sort("id").select("ip_address", "new_values").rows()
    assert stored == expected
