"""Where the data goes, and that a password never shows."""

from __future__ import annotations

import pytest

from moeen_synth.db.target import SUPABASE_LOCAL, api_only_note, from_environment, redact
from moeen_synth.errors import UsageError


def test_precedence_dsn_then_database_url_then_db_vars() -> None:
    env = {
        "DATABASE_URL": "postgresql://a@h1/db1",
        "DB_HOST": "h2",
        "DB_NAME": "db2",
        "DB_USER": "u",
    }

    assert from_environment("postgresql://x@h0/db0", env).source == "--dsn"  # type: ignore[union-attr]
    assert from_environment(None, env).source == "DATABASE_URL"  # type: ignore[union-attr]
    del env["DATABASE_URL"]
    target = from_environment(None, env)
    assert target is not None and target.source == "DB_* variables"
    assert "host=h2" in target.dsn and "dbname=db2" in target.dsn
    assert from_environment(None, {}) is None


def test_supabase_database_url_comes_after_database_url_and_before_db_vars() -> None:
    env = {
        "SUPABASE_DB_URL": "postgresql://postgres:pw@db.example.supabase.co:5432/postgres",
        "DB_HOST": "h2",
        "DB_NAME": "db2",
        "DB_USER": "u",
    }
    target = from_environment(None, env)
    assert target is not None and target.source == "SUPABASE_DB_URL"
    assert "pw" not in target.display
    assert from_environment(None, {**env, "DATABASE_URL": "postgresql://a@h1/db1"}).source == (  # type: ignore[union-attr]
        "DATABASE_URL"
    )
    local = from_environment(SUPABASE_LOCAL, env)
    assert local is not None and local.source == "--supabase-local"
    assert "127.0.0.1:54322" in local.dsn


def test_supabase_api_settings_are_never_a_target_only_a_note() -> None:
    env = {"SUPABASE_URL": "https://abc.supabase.co", "SUPABASE_ANON_KEY": "eyJhbGciOi"}
    assert from_environment(None, env) is None  # the embedded server, then
    note = api_only_note(env)
    assert note is not None and "SUPABASE_URL, SUPABASE_ANON_KEY are Supabase API settings" in note
    assert "SUPABASE_DB_URL" in note and "--supabase-local" in note
    assert "eyJhbGciOi" not in note
    assert api_only_note({}) is None


def test_partial_db_vars_are_an_error_naming_what_is_missing() -> None:
    with pytest.raises(UsageError, match="missing DB_NAME, DB_USER"):
        from_environment(None, {"DB_HOST": "h"})


@pytest.mark.parametrize(
    "dsn",
    [
        "postgresql://moeen:s3cret-pw@db.internal:5432/moeen",
        "host=db port=5432 dbname=moeen user=moeen password=s3cret-pw",
        "postgresql://moeen:s3cret-pw@/moeen?host=/var/run/postgresql",
    ],
)
def test_redact_masks_the_password(dsn: str) -> None:
    shown = redact(dsn)

    assert "s3cret-pw" not in shown
    assert "moeen" in shown


def test_display_of_db_vars_target_hides_password() -> None:
    target = from_environment(
        None, {"DB_HOST": "h", "DB_NAME": "n", "DB_USER": "u", "DB_PASSWORD": "pw-123456"}
    )

    assert target is not None and "pw-123456" not in target.display


@pytest.mark.parametrize(
    ("dsn", "secret"),
    [
        ("garbage!!", "garbage"),
        ("postgresql://u:Pa%ZZss@host/db", "Pa%ZZss"),
        ("host=h password='s3cret", "s3cret"),
        ("postgresql://u:p@h:notaport/db", "notaport"),
    ],
)
def test_a_bad_connection_string_is_a_usage_error_that_repeats_none_of_it(
    dsn: str, secret: str
) -> None:
    for source, given, env in (("--dsn", dsn, {}), ("DATABASE_URL", None, {"DATABASE_URL": dsn})):
        with pytest.raises(UsageError, match=f"from {source} is not valid") as caught:
            from_environment(given, env)
        assert secret not in str(caught.value)
