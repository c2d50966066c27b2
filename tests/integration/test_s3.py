"""Exports to S3 through s3fs, against a local S3-compatible server (moto's, on 127.0.0.1):
the object-store semantics a file:// URL cannot show (no directories, no rename, objects
listed by prefix) with the same bytes as a local export, loaded back and validated."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

from moeen_synth.cli import main
from moeen_synth.db.validate import validate
from moeen_synth.jobs import dask_export
from moeen_synth.jobs import export as export_job
from tests.dbtools import clinic, file_hashes

s3fs = pytest.importorskip("s3fs")
pytest.importorskip("moto")

PROFILE = clinic(300)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    """A local S3-compatible server for this module, stopped by its PID."""
    port = _free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("moto_server")), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def bucket(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An empty bucket; the variables tell s3fs (and Dask's workers) where and who."""
    for name, value in {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    s3fs.S3FileSystem.clear_instance_cache()
    name = f"moeen-{os.urandom(4).hex()}"
    s3fs.S3FileSystem().mkdir(name)
    yield name
    s3fs.S3FileSystem.clear_instance_cache()


def objects(prefix: str) -> dict[str, str]:
    fs = s3fs.S3FileSystem()
    return {
        path.removeprefix(prefix + "/"): hashlib.sha256(fs.cat_file(path)).hexdigest()
        for path in fs.find(prefix)
    }


def test_dask_csv_to_s3_is_the_local_export_and_loads_back(
    bucket: str, tmp_path: Path, fresh_dsn: str
) -> None:
    url = f"s3://{bucket}/clinic"
    result = dask_export.export(PROFILE, url, "csv", "local:2", segment_rows=4001)
    assert result.url == url
    local = export_job.export(PROFILE, tmp_path / "csv", ["csv"]).out
    assert objects(f"{bucket}/clinic") == file_hashes(local)  # no segment left, manifest the same

    done = CliRunner().invoke(main, ["load", url, "--dsn", fresh_dsn, "--quiet"])
    assert done.exit_code == 0, done.output
    with psycopg.connect(fresh_dsn) as conn:
        assert validate(conn).ok
        patients = conn.execute("SELECT count(*) FROM patients").fetchone()
    manifest = json.loads(s3fs.S3FileSystem().cat_file(f"{bucket}/clinic/manifest.json"))
    assert patients == (manifest["tables"]["patients"]["rows"],)


def test_parquet_to_s3_and_force_replaces_only_an_export(bucket: str) -> None:
    runner = CliRunner()

    def export(url: str, *more: str) -> tuple[int, str]:
        args = ["--profile", "demo", "--format", "parquet", "--out", url, "--quiet", *more]
        done = runner.invoke(main, args)
        return done.exit_code, done.output

    url = f"s3://{bucket}/demo"
    assert export(url) == (0, "")
    written = objects(f"{bucket}/demo")
    assert {"manifest.json", "users/part-00000.parquet"} <= written.keys()
    code, output = export(url)
    assert code == 2 and "not empty" in output
    assert export(url, "--force") == (0, "")
    assert objects(f"{bucket}/demo") == written  # the same bytes again

    fs = s3fs.S3FileSystem()
    fs.pipe(f"{bucket}/mine/notes.txt", b"mine")
    code, output = export(f"s3://{bucket}/mine", "--force")
    assert code == 2 and "not a moeen-synth output" in output
    assert fs.cat_file(f"{bucket}/mine/notes.txt") == b"mine"
