"""``moeen-synth fixtures`` on a generated "real" database (a clinic): every selection gives a
slice whose SQL loads into an empty migrated schema and validates clean, the leak check finds
nothing (and does find a leak the policy lets through), the same key gives the same bytes and
another key other pseudonyms, and a column the policy does not know stops the run before
anything is written."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import psycopg
import pytest
from click.testing import CliRunner

from moeen_synth import profile as profiles
from moeen_synth.cli import main
from moeen_synth.db import migrate as migrations
from moeen_synth.db.validate import validate
from moeen_synth.jobs import fixtures
from moeen_synth.jobs import load as load_job
from moeen_synth.jobs.fixtures import verify
from moeen_synth.sinks.parquet import read_batches
from tests.dbtools import clinic, run_psql

KEY_A = b"a test key that is long enough 1"
KEY_B = b"another test key, also long enough"
SELECTIONS = {
    "drawn": fixtures.Selection(count=12),
    "where": fixtures.Selection(count=3, where="payments: status = 'refunded'"),
    "rejected-claim": fixtures.selection.scenario("rejected-claim"),
    "pediatric-follow-up": fixtures.selection.scenario("pediatric-follow-up"),
    "no-show-then-rebooked": fixtures.selection.scenario("no-show-then-rebooked"),
}


@pytest.fixture(scope="module")
def source(module_db: Callable[[], str]) -> str:
    """A clinic of 800 patients: the "real" database the fixtures come from."""
    dsn = module_db()
    with psycopg.connect(dsn, autocommit=True) as conn:
        load_job.load(conn, clinic(800))
    return dsn


def _make(
    dsn: str, chosen: fixtures.Selection, key: bytes, out: Path, **kw: Any
) -> fixtures.Fixture:
    with psycopg.connect(dsn) as conn:
        return fixtures.make(conn, chosen, key, out, ["json", "sql"], **kw)


@pytest.mark.parametrize("name", list(SELECTIONS))
def test_a_slice_loads_into_an_empty_schema_and_validates(
    source: str, make_db: Callable[[], str], tmp_path: Path, name: str
) -> None:
    made = _make(source, SELECTIONS[name], KEY_A, tmp_path / "fx")
    assert made.patients >= 1 and made.rows["appointments"] >= 1
    target = make_db()
    with psycopg.connect(target, autocommit=True) as conn:
        migrations.migrate(conn)
    run_psql(target, tmp_path / "fx" / "fixtures.sql")
    with psycopg.connect(target, autocommit=True) as conn:
        report = validate(conn)
        loaded = {
            t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("patients", "appointments", "payments")
        }
    assert report.ok, report.failures  # every foreign key resolves, every rule holds
    assert loaded == {t: made.rows[t] for t in loaded}
    manifest = json.loads((tmp_path / "fx" / "manifest.json").read_text())
    assert manifest["selection"] == SELECTIONS[name].describe()
    text = "".join(p.read_text() for p in (tmp_path / "fx").iterdir())
    assert KEY_A.decode() not in text


def test_same_key_same_bytes_another_key_other_pseudonyms(source: str, tmp_path: Path) -> None:
    chosen = SELECTIONS["drawn"]
    first = _make(source, chosen, KEY_A, tmp_path / "a1")
    _make(source, chosen, KEY_A, tmp_path / "a2")
    _make(source, chosen, KEY_B, tmp_path / "b")
    for path in first.files:
        assert path.read_bytes() == (tmp_path / "a2" / path.name).read_bytes(), path.name

    def values(directory: Path) -> dict[str, set[str]]:
        patients = json.loads(next(directory.glob("*_patients.json")).read_text())
        return {
            column: {p[column] for p in patients}
            for column in ("id", "user_id", "full_name", "phone", "email", "medical_record_number")
        }

    with_a, with_b = values(tmp_path / "a1"), values(tmp_path / "b")
    for column, seen in with_a.items():
        assert not seen & with_b[column], column


def test_the_leak_check_stops_a_policy_that_lets_a_value_through(
    source: str, tmp_path: Path
) -> None:
    rules = fixtures.policy.load()
    careless = fixtures.policy.Policy(
        {**rules.tables, "patients": {**rules.tables["patients"], "phone": "keep"}},
        rules.sha256,
        "careless",
    )
    with pytest.raises(verify.LeakError, match=r"08_patients\.json.*patients\.phone"):
        _make(source, SELECTIONS["drawn"], KEY_A, tmp_path / "fx", rules=careless)
    assert not (tmp_path / "fx").exists()
    assert not list(tmp_path.iterdir())  # no partial directory left either


def test_a_column_the_policy_does_not_know_stops_the_run(
    make_db: Callable[[], str], tmp_path: Path
) -> None:
    dsn = make_db()
    with psycopg.connect(dsn, autocommit=True) as conn:
        load_job.load(conn, profiles.load("demo"))
        conn.execute("ALTER TABLE patients ADD COLUMN passport_number text")
    key = tmp_path / "k"
    key.write_bytes(KEY_A)
    out = tmp_path / "fx"
    runner = CliRunner()

    result = runner.invoke(
        main,
        ["fixtures", "--from", dsn, "--patients", "2", "--key-file", str(key), "--out", str(out)],
    )
    checked = runner.invoke(main, ["fixtures", "--from", dsn, "--check-policy"])

    assert result.exit_code != 0
    assert "patients.passport_number" in result.output
    assert not out.exists()
    assert checked.exit_code == 1
    assert checked.output.strip().splitlines() == [
        "patients.passport_number: a column of the source the policy does not name"
    ]


def test_parquet_and_csv_hold_the_same_rows_and_are_leak_checked_too(
    source: str, tmp_path: Path
) -> None:
    with psycopg.connect(source) as conn:
        fixtures.make(conn, SELECTIONS["drawn"], KEY_A, tmp_path / "fx", ["json", "parquet", "csv"])
    records = json.loads((tmp_path / "fx" / "08_patients.json").read_text())
    parquet = pl.concat(list(read_batches(tmp_path / "fx" / "08_patients.parquet")))
    csv_lines = (tmp_path / "fx" / "08_patients.csv").read_text().splitlines()
    assert parquet["id"].to_list() == [r["id"] for r in records]
    assert parquet["full_name"].to_list() == [r["full_name"] for r in records]
    assert len(csv_lines) == len(records) + 1
    refused = CliRunner().invoke(main, ["report", str(tmp_path / "fx")])
    assert refused.exit_code == 2 and "holds fixtures, not an export" in refused.output

    rules = fixtures.policy.load()
    careless = fixtures.policy.Policy(
        {**rules.tables, "patients": {**rules.tables["patients"], "email": "keep"}},
        rules.sha256,
        "careless",
    )
    with psycopg.connect(source) as conn, pytest.raises(verify.LeakError, match="parquet"):
        fixtures.make(conn, SELECTIONS["drawn"], KEY_A, tmp_path / "p", ["parquet"], careless)
