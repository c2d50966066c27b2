"""The command line end to end: the main job, validate, url and psql against a real server."""

from __future__ import annotations

import psycopg
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
