"""Exports at an fsspec URL (--out URL, `load URL`): the same files as a local export,
uploaded data first and manifest last, loadable back; refused where a local --out would be,
and nothing left of an upload that fails."""

from __future__ import annotations

import uuid
from pathlib import Path

import fsspec
import psycopg
import pytest
from click.testing import CliRunner

from moeen_synth import paths
from moeen_synth import profile as profiles
from moeen_synth.cli import main
from moeen_synth.db.validate import validate
from moeen_synth.errors import UsageError
from moeen_synth.jobs import export as export_job
from moeen_synth.sinks import remote
from tests.dbtools import file_hashes


def test_an_export_to_a_url_is_the_local_export_and_loads_back(
    tmp_path: Path, fresh_dsn: str
) -> None:
    url = f"file://{tmp_path}/bucket/demo"
    runner = CliRunner()
    done = runner.invoke(
        main, ["--profile", "demo", "--format", "parquet", "--format", "csv", "--out", url]
    )
    assert done.exit_code == 0, done.output
    assert f"moeen-synth load {url}/parquet" in done.output
    assert "uploaded 42/42 files" in done.output  # 20 + 20 data files, 2 manifests
    export_job.export(profiles.load("demo"), tmp_path / "local", ["parquet", "csv"])
    assert file_hashes(tmp_path / "bucket" / "demo") == file_hashes(tmp_path / "local")

    done = runner.invoke(main, ["load", f"{url}/csv", "--dsn", fresh_dsn])
    assert done.exit_code == 0, done.output
    assert "downloaded 20/20 files" in done.output  # those the manifest lists
    with psycopg.connect(fresh_dsn) as conn:
        assert validate(conn).ok
        assert conn.execute("SELECT count(*) FROM users").fetchone() == (10,)
    scratch = paths.outputs_dir() / "tmp"
    assert not scratch.exists() or not any(scratch.iterdir())  # downloads and uploads gone

    done = runner.invoke(main, ["--profile", "demo", "--format", "csv", "--out", url])
    assert done.exit_code == 2 and "not empty" in done.output  # as a local --out
    done = runner.invoke(main, ["--profile", "demo", "--format", "csv", "--out", url, "--force"])
    assert done.exit_code == 0, done.output
    assert file_hashes(tmp_path / "bucket" / "demo") == file_hashes(tmp_path / "local" / "csv")


def test_a_prefix_that_is_no_export_is_never_replaced() -> None:
    url = f"memory://moeen-{uuid.uuid4().hex}/data"
    fs = fsspec.filesystem("memory")
    fs.pipe(url.removeprefix("memory://") + "/notes.txt", b"mine")
    for force in (False, True):
        refused = pytest.raises(UsageError, match="not empty" if not force else "not a moeen")
        with refused, remote.uploading(url, force=force):
            pass
    assert fs.cat(url.removeprefix("memory://") + "/notes.txt") == b"mine"


def test_an_upload_that_fails_removes_what_it_wrote(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"memory://moeen-{uuid.uuid4().hex}/demo"
    target = remote.open_url(url)
    local = export_job.export(profiles.load("demo"), tmp_path / "demo", ["parquet"]).out
    put = type(target.fs).put_file
    calls = {"n": 0}

    def failing(self: object, lpath: str, rpath: str, **kwargs: object) -> None:
        calls["n"] += 1
        if calls["n"] == 6:
            raise OSError("the connection dropped")
        put(self, lpath, rpath, **kwargs)

    monkeypatch.setattr(type(target.fs), "put_file", failing)
    with pytest.raises(OSError, match="dropped"):
        remote.upload(local, target, force=False)
    assert calls["n"] == 6
    assert [f for f in target.fs.find(target.root)] == []  # the five written are gone
    monkeypatch.setattr(type(target.fs), "put_file", put)
    remote.upload(local, target, force=False)
    written = [f.rsplit("/", 1)[-1] for f in target.fs.find(target.root)]
    assert "manifest.json" in written and len(written) == len(file_hashes(local))


def test_urls_that_cannot_be_read_are_refused_by_name(tmp_path: Path) -> None:
    runner = CliRunner()
    empty = f"file://{tmp_path}/nothing"
    done = runner.invoke(main, ["load", empty, "--dsn", "postgresql://127.0.0.1:1/x"])
    assert done.exit_code == 2 and "no manifest.json there" in done.output
    done = runner.invoke(main, ["load", str(tmp_path / "missing")])
    assert done.exit_code == 2 and "no such directory" in done.output
    with pytest.raises(UsageError, match="nosuch"):
        remote.open_url("nosuch://bucket/x")
