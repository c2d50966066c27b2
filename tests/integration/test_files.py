"""File outputs end to end: byte-identical files for any workers and chunk sizes, round trips
through `load` and psql that equal a direct load, shards whose union is the whole, checked
manifests and all-or-nothing output directories."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from moeen_synth import plan
from moeen_synth import profile as profiles
from moeen_synth.db import migrate as migrations
from moeen_synth.db.validate import validate
from moeen_synth.errors import UsageError
from moeen_synth.formats import ExportFormat
from moeen_synth.jobs import export as export_job
from moeen_synth.jobs import load as load_job
from moeen_synth.jobs.load_files import ExportedFiles
from moeen_synth.plan import Shard
from moeen_synth.sinks import parquet
from moeen_synth.sinks.sql import FILE_ORDER
from tests.dbtools import content_digest, file_hashes, run_psql

FORMATS: list[ExportFormat] = ["parquet", "sql", "csv"]


def small(scale: int = 40, seed: int = 7) -> profiles.Profile:
    return profiles.load("clinic").with_overrides(scale=scale, seed=seed)


def direct_load(dsn: str, prof: profiles.Profile) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        load_job.load(conn, prof)


def load_dirs(dsn: str, *directories: Path) -> load_job.LoadResult:
    files = ExportedFiles.open(list(directories))
    with psycopg.connect(dsn, autocommit=True) as conn:
        return load_job.load(conn, files.profile, source=files)


def migrated(dsn: str) -> str:
    with psycopg.connect(dsn, autocommit=True) as conn:
        migrations.migrate(conn)
    return dsn


def test_files_are_byte_identical_for_any_workers_and_chunk_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Small row groups and parts, so block boundaries fall inside and across them.
    monkeypatch.setattr(parquet, "ROW_GROUP_ROWS", 100)
    monkeypatch.setattr(parquet, "PART_ROWS", 300)
    prof = small()
    runs = [(2, plan.BLOCK_ROWS), (1, 7), (3, 128), (2, 1000)]
    seen = []
    for i, (workers, chunk) in enumerate(runs):
        out = tmp_path / f"run{i}"
        export_job.export(prof, out, FORMATS, workers=workers, block_rows=chunk)
        seen.append(file_hashes(out))
    assert all(h == seen[0] for h in seen[1:])
    assert any(p.startswith("parquet/system_metrics/part-00006") for p in seen[0])
    for style in ("inserts",):
        a = export_job.export(prof, tmp_path / "i1", ["sql"], sql_style=style, block_rows=7)
        b = export_job.export(prof, tmp_path / "i2", ["sql"], sql_style=style, block_rows=999)
        assert file_hashes(a.out) == file_hashes(b.out)


def test_interleaved_exports_write_the_files_a_table_by_table_one_does(tmp_path: Path) -> None:
    # Two blocks of appointments (over 65,536), so the tables along them interleave when
    # every format takes interleaved blocks (Parquet, CSV) and not when SQL is among them.
    prof = profiles.load("load-1m").with_overrides(scale=12_000)
    formats: list[ExportFormat] = ["parquet", "csv"]
    mixed = export_job.export(prof, tmp_path / "mixed", formats, workers=3, block_rows=7_000)
    plain = export_job.export(prof, tmp_path / "plain", [*formats, "sql"], block_rows=20_000)

    assert prof.counts.appointments > 65_536
    for f in ("parquet", "csv"):
        assert file_hashes(mixed.formats[f].directory) == file_hashes(plain.formats[f].directory)


def test_demo_sql_files_load_with_plain_psql_and_validate(
    tmp_path: Path, make_db: Callable[[], str]
) -> None:
    demo = profiles.load("demo")
    result = export_job.export(demo, tmp_path / "sql", ["sql"])
    names = sorted(p.name for p in result.out.glob("*.sql"))
    assert names == sorted([*FILE_ORDER, "load.sql"])
    direct = make_db()
    direct_load(direct, demo)
    expected = content_digest(direct)

    whole = migrated(make_db())
    run_psql(whole, result.out / "load.sql")
    one_by_one = migrated(make_db())
    for name in FILE_ORDER:  # each seed file also loads by itself, in order
        run_psql(one_by_one, result.out / name)
    for dsn in (whole, one_by_one):
        with psycopg.connect(dsn, autocommit=True) as conn:
            report = validate(conn, as_of=demo.as_of)
        assert report.ok, report.failures
        assert content_digest(dsn) == expected


def test_failing_sql_file_leaves_nothing(tmp_path: Path, fresh_dsn: str) -> None:
    result = export_job.export(profiles.load("demo"), tmp_path / "sql", ["sql"])
    broken = result.out / "04_payments_and_insurance.sql"
    broken.write_text(broken.read_text("utf-8").replace("COPY", "COPY nonexistent_", 1), "utf-8")
    migrated(fresh_dsn)
    with pytest.raises(subprocess.CalledProcessError):
        run_psql(fresh_dsn, result.out / "load.sql")
    with psycopg.connect(fresh_dsn) as conn:
        assert conn.execute("SELECT count(*) FROM users").fetchone() == (0,)


@settings(
    max_examples=3,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    seed=st.integers(0, 2**31), scale=st.integers(3, 60), style=st.sampled_from(["copy", "inserts"])
)
def test_every_format_round_trips_to_the_same_tables_as_a_direct_load(
    tmp_path_factory: pytest.TempPathFactory,
    make_db: Callable[[], str],
    seed: int,
    scale: int,
    style: str,
) -> None:
    prof = small(scale, seed)
    out = tmp_path_factory.mktemp("roundtrip")
    result = export_job.export(prof, out / "x", FORMATS, sql_style=style)  # type: ignore[arg-type]
    direct = make_db()
    direct_load(direct, prof)
    expected = content_digest(direct)
    for fmt in ("csv", "parquet"):
        dsn = make_db()
        load_dirs(dsn, result.formats[fmt].directory)
        assert content_digest(dsn) == expected, fmt
    dsn = migrated(make_db())
    run_psql(dsn, result.formats["sql"].directory / "load.sql")
    assert content_digest(dsn) == expected, "sql"


def test_shards_together_equal_the_whole_run(tmp_path: Path, make_db: Callable[[], str]) -> None:
    prof = small(30, 3)
    n = 3
    dirs = []
    for k in range(1, n + 1):
        fmt: ExportFormat = "csv" if k % 2 else "parquet"  # shards may differ in format
        r = export_job.export(prof, tmp_path / f"s{k}", [fmt], shard=Shard(k, n), block_rows=50)
        dirs.append(r.out)
    whole = export_job.export(prof, tmp_path / "whole", ["csv"])
    per_table: dict[str, int] = {}
    for d in dirs:
        tables = json.loads((d / "manifest.json").read_text())["tables"]
        assert sorted(tables) == sorted(whole.rows)  # every table, even with no rows in a shard
        for table, entry in tables.items():
            per_table[table] = per_table.get(table, 0) + entry["rows"]
    assert per_table == whole.rows
    assert min(whole.rows.values()) < n, "precondition: a table too small for every shard"

    sharded, direct = make_db(), make_db()
    load_dirs(sharded, *reversed(dirs))  # order of the arguments does not matter
    direct_load(direct, prof)
    assert content_digest(sharded) == content_digest(direct)

    with pytest.raises(UsageError, match="every shard"):
        ExportedFiles.open(dirs[:2])


def test_changed_or_missing_file_is_refused_by_name(tmp_path: Path, fresh_dsn: str) -> None:
    out = export_job.export(small(), tmp_path / "csv", ["csv"]).out
    path = out / "patients.csv"
    data = bytearray(path.read_bytes())
    data[-5] = ord("X") if data[-5] != ord("X") else ord("Y")
    path.write_bytes(bytes(data))
    with pytest.raises(UsageError, match=r"patients\.csv: changed"):
        load_dirs(fresh_dsn, out)
    path.unlink()
    with pytest.raises(UsageError, match=r"patients\.csv: missing"):
        load_dirs(fresh_dsn, out)
    (out / "manifest.json").unlink()
    with pytest.raises(UsageError, match=r"no manifest\.json"):
        load_dirs(fresh_dsn, out)
    with psycopg.connect(fresh_dsn) as conn:
        tables = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        assert tables.fetchone() == (0,)


def test_interrupted_export_leaves_nothing_that_looks_finished(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from moeen_synth.sinks.csv import CsvSink

    calls = {"n": 0}
    original = CsvSink.write

    def failing(self: CsvSink, table: str, prepared: bytes, rows: int) -> None:
        calls["n"] += 1
        if table == "notifications":
            raise KeyboardInterrupt
        original(self, table, prepared, rows)

    monkeypatch.setattr(CsvSink, "write", failing)
    with pytest.raises(KeyboardInterrupt):
        export_job.export(small(), tmp_path / "out", ["csv", "parquet"])
    assert calls["n"] > 5
    assert list(tmp_path.iterdir()) == []


def test_non_empty_out_is_refused_unless_force_and_force_replaces(tmp_path: Path) -> None:
    prof = small()
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(UsageError, match="not a moeen-synth output"):
        export_job.export(prof, out, ["csv"], force=True)
    with pytest.raises(UsageError, match="not empty"):
        export_job.export(prof, out, ["csv"])
    assert (out / "notes.txt").read_text() == "mine"

    other = tmp_path / "other"
    export_job.export(prof, other, ["csv"])
    first = file_hashes(other)
    with pytest.raises(UsageError, match="--force"):
        export_job.export(prof, other, ["csv"])
    export_job.export(prof.with_overrides(seed=8), other, ["parquet"], force=True)
    assert not (other / "patients.csv").exists() and file_hashes(other) != first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other", "out"]


def test_sql_files_are_refused_by_load_with_the_psql_command(tmp_path: Path) -> None:
    out = export_job.export(profiles.load("demo"), tmp_path / "sql", ["sql"]).out
    with pytest.raises(UsageError, match="psql -v ON_ERROR_STOP=1 -f"):
        ExportedFiles.open([out])


def test_manifest_from_an_older_version_loads_and_edited_settings_are_refused(
    tmp_path: Path, fresh_dsn: str
) -> None:
    from moeen_synth.profile import settings_sha256

    out = export_job.export(profiles.load("demo"), tmp_path / "csv", ["csv"]).out
    path = out / "manifest.json"
    data = json.loads(path.read_text("utf-8"))
    # An export made before a setting existed: the defaults fill it in on reading.
    del data["profile"]["resolved"]["tables"]["patients"]["adult_ages"]
    data["profile"]["sha256"] = settings_sha256(data["profile"]["resolved"])
    path.write_text(json.dumps(data), "utf-8")
    assert ExportedFiles.open([out]).profile.tables.patients.adult_ages

    data["profile"]["resolved"]["seed"] = 5
    path.write_text(json.dumps(data), "utf-8")
    with pytest.raises(UsageError, match="do not match their recorded sha256"):
        load_dirs(fresh_dsn, out)
