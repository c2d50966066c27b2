"""The command line end to end: the main job, validate, url and psql against a real server."""

from __future__ import annotations

import re
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from moeen_synth.cli import main


def test_main_job_then_validate_and_url(fresh_dsn: str) -> None:
    runner = CliRunner()

    loaded = runner.invoke(main, ["--profile", "demo", "--dsn", fresh_dsn])
    checked = runner.invoke(main, ["validate", "--dsn", fresh_dsn])
    again = runner.invoke(main, ["--profile", "demo", "--dsn", fresh_dsn])
    url = runner.invoke(main, ["url", "--dsn", fresh_dsn])

    assert loaded.exit_code == 0, loaded.output
    assert "appointments" in loaded.output and "validated" in loaded.output
    assert checked.exit_code == 0, checked.output
    assert "matches the expected schema" in checked.output and "valid" in checked.output
    assert again.exit_code == 1 and "--truncate" in again.output
    assert (
        url.exit_code == 0
        and conninfo_to_dict(url.output.strip())["dbname"] == conninfo_to_dict(fresh_dsn)["dbname"]
    )


def test_validate_fails_on_broken_data(fresh_dsn: str) -> None:
    runner = CliRunner()
    runner.invoke(main, ["--profile", "demo", "--dsn", fresh_dsn])
    with psycopg.connect(fresh_dsn, autocommit=True) as conn:
        conn.execute(
            "UPDATE insurance_claims SET approved_amount = amount + 1 WHERE status = 'paid'"
        )
        conn.execute("DROP INDEX idx_users_email")

    result = runner.invoke(main, ["validate", "--dsn", fresh_dsn])

    assert result.exit_code == 1
    assert "idx_users_email" in result.output
    assert "approved amount not above the claimed one" in result.output
    schedule = re.compile(r"inside the doctor's weekly schedule\s*│\s*(ok|\d+ bad)")
    assert schedule.search(result.output)[1] == "ok"  # type: ignore[index]

    with psycopg.connect(fresh_dsn, autocommit=True) as conn:  # 03:00 in Riyadh: closed
        conn.execute(
            "UPDATE appointments SET scheduled_at = date_trunc('day', scheduled_at) "
            "WHERE id = (SELECT min(id::text)::uuid FROM appointments)"
        )
    moved = runner.invoke(main, ["validate", "--dsn", fresh_dsn])
    assert schedule.search(moved.output)[1] == "1 bad"  # type: ignore[index]


def test_password_is_never_printed(fresh_dsn: str) -> None:
    # The test server trusts local connections, so any password is accepted and ignored.
    with_password = make_conninfo(fresh_dsn, password="Hunter2-secret")
    runner = CliRunner()

    results = [
        runner.invoke(main, [*args, "--dsn", with_password])
        for args in (["--profile", "demo"], ["url"], ["validate"], ["migrate"])
    ]

    for r in results:
        assert "Hunter2-secret" not in r.output, r.output
    assert results[0].exit_code == 0, results[0].output


def test_database_url_is_used_when_no_dsn(fresh_dsn: str, monkeypatch: object) -> None:
    import pytest

    assert isinstance(monkeypatch, pytest.MonkeyPatch)
    monkeypatch.setenv("DATABASE_URL", fresh_dsn)

    result = CliRunner().invoke(main, ["migrate"])

    assert result.exit_code == 0 and "applied 0001_platform_schema" in result.output


def test_unreachable_server_is_a_clear_error() -> None:
    result = CliRunner().invoke(
        main, ["validate", "--dsn", "postgresql://nobody:pw-xyz@127.0.0.1:1/none"]
    )

    assert result.exit_code == 1
    assert "cannot connect" in result.output and "pw-xyz" not in result.output


def test_file_export_then_load_from_the_command_line(tmp_path: Path, fresh_dsn: str) -> None:
    runner = CliRunner()
    out = tmp_path / "files"
    args = ["--profile", "demo", "--format", "csv", "--format", "parquet", "--out", str(out)]

    wrote = runner.invoke(main, args)
    again = runner.invoke(main, args)
    forced = runner.invoke(main, [*args, "--force", "-q"])
    loaded = runner.invoke(main, ["load", str(out / "parquet"), "--dsn", fresh_dsn])
    twice = runner.invoke(main, ["load", str(out / "csv"), "--dsn", fresh_dsn])
    replaced = runner.invoke(main, ["load", str(out / "csv"), "--dsn", fresh_dsn, "--truncate"])

    assert wrote.exit_code == 0, wrote.output
    assert "moeen-synth load" in wrote.output and (out / "csv" / "manifest.json").is_file()
    assert again.exit_code == 2 and "--force" in again.output
    assert forced.exit_code == 0 and forced.output == ""
    assert loaded.exit_code == 0 and "validated" in loaded.output, loaded.output
    assert twice.exit_code == 1 and "--truncate" in twice.output
    assert replaced.exit_code == 0, replaced.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "csv", "--dsn", "postgresql://x/y"], "--dsn"),
        (["--format", "csv", "--shard", "3/2"], "between 1 and N"),
        (["--format", "csv", "--shard", "half"], "expected K/N"),
        (["--shard", "1/2"], "go with --format"),
        (["--format", "xml"], "'xml' is not one of"),
    ],
)
def test_file_options_are_checked(args: list[str], message: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["--profile", "demo", "--out", str(tmp_path / "o"), *args])
    assert result.exit_code == 2 and message in result.output, result.output
