"""No traceback for any user input: every command, given bad input, exits 1 or 2 with an
error message, and never shows the password it was given."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

from moeen_synth.cli import main

SECRET = "Pa55-s3cret"
UNREACHABLE = f"postgresql://moeen:{SECRET}@127.0.0.1:1/moeen"
BAD_ESCAPE = f"postgresql://moeen:{SECRET}%ZZ@127.0.0.1/moeen"


def _cases(
    tmp: Path, server: str, empty: str, foreign: str
) -> list[tuple[list[str], dict[str, str]]]:
    garbage = tmp / "garbage.yaml"
    garbage.write_text("profile_version: [1\n", encoding="utf-8")
    wrong = tmp / "wrong.yaml"
    wrong.write_text("profile_version: 1\nname: x\nas_of: soon\nscale: -3\n", encoding="utf-8")
    no_manifest = tmp / "not-an-export"
    no_manifest.mkdir()
    dsns = ["garbage!!", BAD_ESCAPE, UNREACHABLE, "postgresql://u@h:notaport/db"]
    cases: list[tuple[list[str], dict[str, str]]] = []
    for dsn in dsns:
        cases += [
            (["--profile", "demo", "--dsn", dsn], {}),
            (["validate", "--dsn", dsn], {}),
            (["migrate", "--dsn", dsn], {}),
            (["rollback", "--yes", "--dsn", dsn], {}),
        ]
        if dsn != UNREACHABLE:  # url only prints the address; it need not reach it
            cases.append((["url", "--dsn", dsn], {}))
    cases += [
        (["validate"], {"DATABASE_URL": BAD_ESCAPE}),
        (["migrate"], {"DB_HOST": "127.0.0.1"}),  # DB_* partly set
        (["validate", "--dsn", empty], {}),  # no platform tables
        (["validate", "--no-schema", "--dsn", empty], {}),
        (["--profile", "demo", "--dsn", foreign], {}),  # some platform tables, not all
        (["migrate", "--dsn", foreign], {}),
        (["rollback", "--yes", "--dsn", foreign], {}),
        (["--profile", "demo", "--no-migrate", "--dsn", empty], {}),
        (["rollback", "--to", "9999", "--yes", "--dsn", server], {}),
        (["--profile", "no-such-profile"], {}),
        (["--profile", str(tmp / "missing.yaml")], {}),
        (["--profile", str(garbage)], {}),
        (["--profile", str(wrong)], {}),
        (["--profile", "demo", "--truncate", "--append", "--dsn", server], {}),
        (["--profile", "demo", "--format", "csv", "--dsn", server], {}),
        (["--profile", "demo", "--shard", "2/4", "--dsn", server], {}),
        (["--profile", "demo", "--format", "csv", "--shard", "0/2", "--out", str(tmp / "a")], {}),
        (["--profile", "demo", "--format", "csv", "--out", str(garbage)], {}),
        (["--profile", "demo", "--chunk-size", "0"], {}),
        (["--profile", "demo", "--workers", "0"], {}),
        (["--profile", "demo", "--scale", "0"], {}),
        (["--profile", "demo", "--format", "xml"], {}),
        (["load", str(no_manifest), "--dsn", server], {}),
        (["load", str(tmp / "missing-dir"), "--dsn", server], {}),
        (["validate", "--dsn", server, "demo"], {}),  # an unexpected argument
        (["restore", str(tmp / "missing.dump"), "--yes", "--dsn", server], {}),
        (["restore", str(garbage), "--yes", "--dsn", server], {}),  # not a backup
        (["rollback", "--all", "--to", "0001", "--yes", "--dsn", server], {}),
    ]
    return cases


@pytest.fixture
def empty_dsn(make_db: object) -> str:
    return make_db()  # type: ignore[operator, no-any-return]


@pytest.fixture
def foreign_dsn(make_db: object) -> str:
    dsn: str = make_db()  # type: ignore[operator]
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE users (id integer PRIMARY KEY)")
    return dsn


def test_bad_input_never_shows_a_traceback_or_a_password(
    tmp_path: Path,
    fresh_dsn: str,
    empty_dsn: str,
    foreign_dsn: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    runner = CliRunner()
    cases = _cases(tmp_path, fresh_dsn, empty_dsn, foreign_dsn)
    assert len(cases) >= 30
    for args, env in cases:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        result = runner.invoke(main, args)
        for name in env:
            monkeypatch.delenv(name)

        shown = result.output
        assert result.exit_code in (1, 2), (args, result.exit_code, shown)
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            args,
            repr(result.exception),
        )
        assert "Traceback" not in shown, (args, shown)
        assert SECRET not in shown, (args, shown)
        errors = [line for line in shown.splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and "Usage:" not in shown, (args, shown)  # one clear line
    logs = list((tmp_path / "outputs" / "logs").glob("*.log"))
    assert logs, "the commands that reached a database wrote logs"
    for log in logs:
        assert SECRET not in log.read_text("utf-8"), log
