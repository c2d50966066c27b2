"""``moeen-synth fixtures`` on a generated "real" database (a clinic): every selection gives a
slice whose SQL loads into an empty migrated schema and validates clean, the leak check finds
nothing (and does find a leak the policy lets through), the same key gives the same bytes and
another key other pseudonyms, and a column the policy does not know stops the run before
anything is written."""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
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
from moeen_synth.jobs.load_files import ExportedFiles
from moeen_synth.sinks.parquet import read_batches
from tests.dbtools import clinic, make_supabase_like, run_psql

ARABIC_DATE = re.compile(r"[0-9]{1,2} [^ 0-9]+ [0-9]{4}م الموافق [0-9]{1,2} [^0-9]+ [0-9]{4}هـ")
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


def _keeping(table: str, column: str) -> fixtures.policy.Policy:
    """The shipped policy, careless about one column: kept as it is."""
    rules = fixtures.policy.load()
    tables = {**rules.tables, table: {**rules.tables[table], column: "keep"}}
    return fixtures.policy.Policy(tables, rules.sha256, "careless")


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


def test_dates_in_messages_move_with_the_patients_dates(source: str, tmp_path: Path) -> None:
    """A message's date moves back by whole weeks, the same number for all of one person's
    messages, and never stays the source's day."""
    made = _make(source, SELECTIONS["drawn"], KEY_A, tmp_path / "fx")
    written = json.loads(next((tmp_path / "fx").glob("*_notifications.json")).read_text())
    keyed = fixtures.Keyed(KEY_A)
    with psycopg.connect(source) as conn:
        rows = conn.execute("SELECT id::text, message FROM notifications").fetchall()
    by_id = dict(
        zip(
            keyed.uuids(pl.Series([r[0] for r in rows])).to_list(),
            [r[1] for r in rows],
            strict=True,
        )
    )
    english = re.compile(r"[0-9]{2} [A-Z][a-z]{2} [0-9]{4}")
    shifts: dict[str, set[int]] = {}
    moved = 0
    for record in written:
        before = english.findall(by_id[record["id"]] or "")
        after = english.findall(record["message"] or "")
        arabic_before = ARABIC_DATE.findall(by_id[record["id"]] or "")
        arabic_after = ARABIC_DATE.findall(record["message"] or "")
        assert len(before) == len(after) and len(arabic_before) == len(arabic_after)
        pairs = [(b, a, "%d %b %Y") for b, a in zip(before, after, strict=True)]
        for old, new, form in pairs:
            days = (dt.datetime.strptime(old, form) - dt.datetime.strptime(new, form)).days
            shifts.setdefault(record["user_id"], set()).add(days)
            moved += 1
        for old, new in zip(arabic_before, arabic_after, strict=True):
            assert old != new  # moved (the Hijri part written again with it)
            moved += 1
    assert moved >= 10, moved
    assert made.rows["notifications"] == len(written)
    for user, days in shifts.items():
        assert len(days) == 1, (user, days)  # one shift per person
        (back,) = days
        assert back % 7 == 0 and 7 <= back <= 26 * 7


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
    careless = _keeping("patients", "phone")
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


@pytest.mark.parametrize("name", ["drawn", "rejected-claim"])
def test_parquet_and_csv_hold_the_same_rows_load_and_are_leak_checked_too(
    source: str, make_db: Callable[[], str], tmp_path: Path, name: str
) -> None:
    with psycopg.connect(source) as conn:
        made = fixtures.make(
            conn, SELECTIONS[name], KEY_A, tmp_path / "fx", ["json", "parquet", "csv"]
        )
    records = json.loads((tmp_path / "fx" / "08_patients.json").read_text())
    parquet = pl.concat(
        list(read_batches(tmp_path / "fx" / "parquet" / "patients" / "part-00000.parquet"))
    )
    csv_lines = (tmp_path / "fx" / "csv" / "patients.csv").read_text().splitlines()
    assert parquet["id"].to_list() == [r["id"] for r in records]
    assert parquet["full_name"].to_list() == [r["full_name"] for r in records]
    assert len(csv_lines) == len(records) + 1
    # Each of the two is an export directory: `moeen-synth load` takes it, and it validates.
    for fmt in ("parquet", "csv"):
        target = make_db()
        loaded = CliRunner().invoke(main, ["load", str(tmp_path / "fx" / fmt), "--dsn", target])
        assert loaded.exit_code == 0, loaded.output
        with psycopg.connect(target) as conn:
            row = conn.execute("SELECT count(*) FROM patients").fetchone()
        assert row == (made.rows["patients"],)
        # Each patient's dates moved by their own weeks: no one "now" to check against, in
        # the load and in validate after it.
        checked = CliRunner().invoke(main, ["validate", "--dsn", target])
        assert checked.exit_code == 0, checked.output
    refused = CliRunner().invoke(main, ["report", str(tmp_path / "fx")])
    assert refused.exit_code == 2 and "holds fixtures, not an export" in refused.output

    careless = _keeping("patients", "email")
    with psycopg.connect(source) as conn, pytest.raises(verify.LeakError, match="parquet"):
        fixtures.make(conn, SELECTIONS["drawn"], KEY_A, tmp_path / "p", ["parquet"], careless)


# -- every row: fixtures --all -------------------------------------------------------------
def _whole(dsn: str, key: bytes, out: Path, formats: tuple[str, ...] = ("parquet",)) -> Any:
    return fixtures.whole.make(dsn, key, out, list(formats), check=True)


def test_every_row_loads_back_with_load_and_validates(
    source: str, make_db: Callable[[], str], tmp_path: Path
) -> None:
    made = _whole(source, KEY_A, tmp_path / "all")
    assert made.checked and made.checked > 1000  # the leak check ran, and found nothing
    assert not list((tmp_path / "all").glob(".*"))  # its hashes on disk went with it
    with psycopg.connect(source) as conn:
        counts = {
            t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("users", "patients", "appointments", "notifications", "audit_logs")
        }
        originals = {r[0] for r in conn.execute("SELECT id::text FROM patients")}
        phones = {r[0] for r in conn.execute("SELECT phone FROM patients")}
    assert {t: made.rows[t] for t in counts} == counts  # every row
    target = make_db()
    files = ExportedFiles.open([tmp_path / "all"])
    with psycopg.connect(target, autocommit=True) as conn:
        loaded = load_job.load(conn, files.profile, source=files)  # validates before commit
        ids = {r[0] for r in conn.execute("SELECT id::text FROM patients")}
        new_phones = {r[0] for r in conn.execute("SELECT phone FROM patients")}
    assert loaded.rows == sum(made.rows.values())
    assert not ids & originals and len(ids) == len(originals)
    assert not new_phones & phones and len(new_phones) == len(phones)


def test_every_row_same_key_same_bytes_another_key_other_values(
    source: str, tmp_path: Path
) -> None:
    _whole(source, KEY_A, tmp_path / "a1", ("parquet", "csv"))
    _whole(source, KEY_A, tmp_path / "a2", ("parquet", "csv"))
    _whole(source, KEY_B, tmp_path / "b", ("parquet", "csv"))
    for fmt in ("parquet", "csv"):
        first = json.loads((tmp_path / "a1" / fmt / "manifest.json").read_text())
        again = json.loads((tmp_path / "a2" / fmt / "manifest.json").read_text())
        assert first["files"] == again["files"]  # the same sha256 for every file
        assert KEY_A.decode() not in json.dumps(first)
    patients = {
        name: pl.read_csv(tmp_path / name / "csv" / "patients.csv", infer_schema=False)
        for name in ("a1", "b")
    }
    a, b = patients["a1"], patients["b"]
    for column in ("id", "user_id", "phone", "email", "medical_record_number"):
        assert not set(a[column]) & set(b[column]) - {None}, column
    # Names come from pools (a few hundred names per origin): another key may give another
    # patient a name this key gave someone, but the same patient gets another name.
    same = (a["full_name"] == b["full_name"]).sum()
    assert same <= 0.02 * a.height, f"{same} of {a.height} patients kept their pseudonym name"


def test_every_row_reads_each_table_from_its_first_page(source: str) -> None:
    """Without this, a table larger than a quarter of shared_buffers is read from where the
    last scan of it got to: another order of rows, other files for the same key (seen at
    load-1m; a test database this small is read from its start anyway)."""
    connection = fixtures.whole.connect(source)
    try:
        cursor = fixtures.whole.reading(connection)
        cursor.execute("SELECT current_setting('synchronize_seqscans')")
        assert cursor.fetchone() == ("off",)
        cursor.execute("SELECT current_setting('transaction_isolation')")
        assert cursor.fetchone() == ("repeatable read",)
    finally:
        connection.close()


def test_every_row_refuses_a_careless_policy_and_keeps_nothing(source: str, tmp_path: Path) -> None:
    careless = _keeping("users", "email")
    with pytest.raises(verify.LeakError, match=r"users.*users\.email"):
        # CSV first (the leak check reads directories in order): its files are read in blocks
        fixtures.whole.make(
            source, KEY_A, tmp_path / "all", ["parquet", "csv"], careless, check=True
        )
    assert not list(tmp_path.iterdir())  # nothing kept, no partial directory either


def test_every_row_stopped_by_a_failure_midway_keeps_nothing(
    source: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A column that fails while later batches are being transformed and earlier ones
    written: the error comes out, and no file, directory or thread is left behind."""
    strings = fixtures.rewrite.Rewriter.strings
    calls = {"n": 0}

    def failing(self: Any, action: str, values: pl.Series, *args: Any) -> pl.Series:
        if action == "text" and values.name == "message":
            calls["n"] += 1
            if calls["n"] == 3:  # notifications' third batch: tables and batches before it done
                raise RuntimeError("a column failed")
        return strings(self, action, values, *args)

    monkeypatch.setattr(fixtures.rewrite.Rewriter, "strings", failing)
    monkeypatch.setattr(fixtures.whole, "BATCH_BYTES", 64 << 10)  # many small batches
    threads = set(threading.enumerate())
    with pytest.raises(RuntimeError, match="a column failed"):
        fixtures.whole.make(source, KEY_A, tmp_path / "all", ["parquet", "csv"], check=False)
    assert calls["n"] >= 3  # batches in flight may have started one more
    assert not list(tmp_path.iterdir())  # nothing kept, no partial directory either
    assert set(threading.enumerate()) <= threads  # the pool, reader and writer have stopped


def test_every_row_refuses_an_unknown_column_before_writing(
    make_db: Callable[[], str], tmp_path: Path
) -> None:
    dsn = make_db()
    with psycopg.connect(dsn, autocommit=True) as conn:
        load_job.load(conn, profiles.load("demo"))
        conn.execute("ALTER TABLE appointments ADD COLUMN referral_code text")
    key = tmp_path / "k"
    key.write_bytes(KEY_A)
    result = CliRunner().invoke(
        main,
        ["fixtures", "--from", dsn, "--all", "--key-file", str(key), "--out", str(tmp_path / "o")],
    )
    assert result.exit_code != 0 and "appointments.referral_code" in result.output
    assert not (tmp_path / "o").exists()


def test_a_slice_as_a_supabase_folder_loads_as_the_cli_would(
    source: str, make_db: Callable[[], str], tmp_path: Path
) -> None:
    with psycopg.connect(source) as conn:
        made = fixtures.make(
            conn, SELECTIONS["rejected-claim"], KEY_A, tmp_path / "fx", ["supabase"]
        )
    root = tmp_path / "fx" / "supabase"
    files = sorted((root / "migrations").glob("*.sql")) + sorted((root / "seed").glob("*.sql"))
    assert len(files) == 6 and all("COPY " not in p.read_text() for p in files)
    assert set(made.files) >= set(files)
    target = make_supabase_like(make_db())
    for path in files:
        run_psql(target, path)
    with psycopg.connect(target, autocommit=True) as conn:
        report = validate(conn)
        patients = conn.execute("SELECT count(*) FROM patients").fetchone()
    assert report.ok, report.failures
    assert patients == (made.rows["patients"],)
