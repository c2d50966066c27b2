"""Exports on a Dask cluster (``--dask local:N``): the same bytes as the single-process export
whatever the workers and the cut into tasks, and still the same bytes when a worker dies
half-way through a task."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

from moeen_synth.cli import main
from moeen_synth.db.validate import validate
from moeen_synth.jobs import dask_export
from moeen_synth.jobs import export as export_job
from tests.dbtools import clinic

PROFILE = clinic(1200)


def tree(root: Path) -> dict[str, str]:
    """sha256 of every file (and the directories) under ``root``."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        if p.is_file()
        else "directory"
        for p in sorted(root.rglob("*"))
    }


@pytest.fixture(scope="module")
def single(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, str]]:
    out = tmp_path_factory.mktemp("single")
    export_job.export(PROFILE, out / "parquet", ["parquet"])
    export_job.export(PROFILE, out / "csv", ["csv"])
    return {fmt: tree(out / fmt) for fmt in ("parquet", "csv")}


@pytest.mark.parametrize(
    ("fmt", "workers", "segment_rows"),
    [
        ("parquet", 2, dask_export.SEGMENT_ROWS),
        ("csv", 2, 997),  # many small tasks: the same file
        ("csv", 1, dask_export.SEGMENT_ROWS),
    ],
)
def test_same_bytes_as_one_process(
    single: dict[str, dict[str, str]], tmp_path: Path, fmt: str, workers: int, segment_rows: int
) -> None:
    result = dask_export.export(
        PROFILE,
        tmp_path / "out",
        fmt,
        f"local:{workers}",
        segment_rows=segment_rows,  # type: ignore[arg-type]
    )
    assert result.workers == workers
    assert result.total_rows == sum(result.rows.values()) > 50_000
    assert tree(tmp_path / "out") == single[fmt]
    assert not list(tmp_path.glob(".*"))  # no staging or scratch directory left


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_a_worker_that_dies_mid_task_changes_nothing(
    single: dict[str, dict[str, str]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    fmt: str,
) -> None:
    marker = tmp_path / "died"
    monkeypatch.setenv(dask_export.DIE_ONCE, str(marker))
    dask_export.export(PROFILE, tmp_path / "out", fmt, "local:2", segment_rows=3001)  # type: ignore[arg-type]
    assert marker.exists()  # a worker did die, half-way through writing a file
    assert tree(tmp_path / "out") == single[fmt]


def test_cli_runs_on_the_cluster_and_load_reads_the_result(
    tmp_path: Path, make_db: Callable[[], str]
) -> None:
    out = tmp_path / "demo"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "moeen_synth.cli",
            "--profile",
            "demo",
            "--format",
            "parquet",
            "--dask",
            "local:1",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "Dask workers" in done.stdout and "dask: 1 workers" in done.stdout
    dsn = make_db()
    loaded = CliRunner().invoke(main, ["load", str(out), "--dsn", dsn, "--no-backup", "-q"])
    assert loaded.exit_code == 0, loaded.output
    with psycopg.connect(dsn) as conn:
        assert validate(conn).ok


@pytest.mark.parametrize(
    "args",
    [
        ["--format", "sql", "--dask", "local:1"],
        ["--format", "parquet", "--format", "csv", "--dask", "local:1"],
        ["--format", "parquet", "--shard", "1/2", "--dask", "local:1"],
        ["--dask", "local:1"],
    ],
)
def test_dask_option_is_checked(args: list[str], tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["--profile", "demo", *args, "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "--dask" in result.output
    assert not (tmp_path / "o").exists()


def test_a_bad_local_address_is_refused(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="local:N"):
        dask_export.export(PROFILE, tmp_path / "o", "parquet", "local:zero")
    assert list(tmp_path.iterdir()) == []  # no output, staging or scratch directory


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_a_url_gets_the_same_files_when_a_worker_dies(
    single: dict[str, dict[str, str]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    fmt: str,
) -> None:
    """The workers upload their files to the URL themselves; the manifest goes last."""
    marker = tmp_path / "died"
    monkeypatch.setenv(dask_export.DIE_ONCE, str(marker))
    url = f"file://{tmp_path}/bucket/out"
    result = dask_export.export(PROFILE, url, fmt, "local:2", segment_rows=3001)  # type: ignore[arg-type]
    assert marker.exists()
    assert result.url == url and result.files > 0
    expected = {name: digest for name, digest in single[fmt].items() if digest != "directory"}
    written = {n: d for n, d in tree(tmp_path / "bucket" / "out").items() if d != "directory"}
    assert written == expected  # no segment, attempt or torn file among them
