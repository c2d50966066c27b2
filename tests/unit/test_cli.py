"""Every command has help text and appears in the README."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from moeen_synth import paths
from moeen_synth.cli import main

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    out = []
    for name, cmd in group.commands.items():
        out.append((f"{prefix}{name}", cmd))
        if isinstance(cmd, click.Group):
            out += commands(cmd, f"{prefix}{name} ")
    return out


@pytest.mark.parametrize(
    ("name", "cmd"), commands(main), ids=lambda x: x if isinstance(x, str) else ""
)
def test_command_has_help_and_is_documented(name: str, cmd: click.Command) -> None:
    result = CliRunner().invoke(main, [*name.split(), "--help"])

    assert result.exit_code == 0
    assert cmd.help and len(cmd.help) > 20
    assert f"moeen-synth {name.split()[0]}" in README


def test_main_help_mentions_the_profile_job() -> None:
    result = CliRunner().invoke(main, ["--help"])

    assert result.exit_code == 0
    assert "--profile" in result.output and "moeen-synth --profile demo" in README


def test_bad_profile_is_a_clear_error_with_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "profile_version: 1\nname: x\nas_of: 2026-01-01T00:00:00+03:00\n"
        "arabic_share: 3\ntables: {doctors: {count: 0}}\n"
    )

    result = CliRunner().invoke(main, ["--profile", str(bad)])

    assert result.exit_code == 2
    assert "arabic_share" in result.output and "tables.doctors.count" in result.output


def test_truncate_and_append_exclude_each_other() -> None:
    result = CliRunner().invoke(main, ["--profile", "demo", "--truncate", "--append"])

    assert result.exit_code == 2 and "exclude" in result.output


def test_plain_progress_lines_when_not_a_terminal() -> None:
    import io

    from moeen_synth.cli.progress import LoadProgress

    out = io.StringIO()
    with LoadProgress(out, interval=3600) as progress:
        progress("appointments", 50_000, 100_000)
        progress("appointments", 60_000, 100_000)  # within the interval: no line
        progress("appointments", 100_000, 100_000)
        progress("rebuild: index idx_users_email", 0, 0)

    lines = out.getvalue().splitlines()
    assert lines[0].startswith("  appointments 50,000/100,000 rows")
    assert lines[1].startswith("  appointments 100,000/100,000 rows")
    assert lines[2] == "  rebuild: index idx_users_email"
    assert len(lines) == 3


@pytest.mark.parametrize(
    "args",
    [
        ["validate", "--dsn", "postgresql://u@h/db", "--supabase-local"],
        ["validate", "--supabase-local", "--dsn", "postgresql://u@h/db"],
    ],
)
def test_dsn_and_supabase_local_exclude_each_other(args: list[str]) -> None:
    result = CliRunner().invoke(main, args)

    assert result.exit_code == 2
    assert "either --dsn or --supabase-local" in result.output


def test_supabase_local_names_the_cli_database_with_its_password_masked() -> None:
    result = CliRunner().invoke(main, ["validate", "--help"])

    assert "--supabase-local" in result.output and "127.0.0.1:54322" in result.output
    assert "postgres:postgres@" not in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "parquet", "--with-auth"], "--with-auth apply to database loads"),
        (["--format", "parquet", "--auth-password", "secret-1"], "--auth-password goes with"),
        (["--format", "supabase", "--shard", "1/2"], "does not take --shard"),
        (["--auth-password", "abc"], "at least 6 characters"),
    ],
)
def test_account_options_are_checked_before_anything_runs(
    args: list[str], message: str, tmp_path: Path
) -> None:
    result = CliRunner().invoke(
        main,
        ["--profile", "demo", *args, "--dsn", "postgresql://127.0.0.1:1/none"]
        if "--format" not in args
        else ["--profile", "demo", *args, "--out", str(tmp_path / "out")],
    )
    assert result.exit_code != 0
    assert message in result.output
    assert not (tmp_path / "out").exists()


def test_a_profile_asking_for_accounts_needs_a_password(tmp_path: Path) -> None:
    text = (
        (paths.profiles_dir() / "demo.yaml")
        .read_text()
        .replace("auth: {users: true, password: demo-password}", "auth: {users: true}")
    )
    bad = tmp_path / "demo-no-password.yaml"
    bad.write_text(text)
    result = CliRunner().invoke(
        main, ["--profile", str(bad), "--format", "supabase", "--out", str(tmp_path / "out")]
    )
    assert result.exit_code == 2
    assert "auth.password is not set" in result.output
