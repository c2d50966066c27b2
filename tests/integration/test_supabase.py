"""Supabase: the demo in a Supabase-shaped database, signed in as each of its patients and
doctors; the same on a plain PostgreSQL with --with-auth; and the --format supabase folder
loaded the way the Supabase CLI loads it."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import bcrypt
import psycopg
import pytest

from moeen_synth import auth_users
from moeen_synth import profile as profiles
from moeen_synth.db import auth as db_auth
from moeen_synth.db.validate import validate
from moeen_synth.errors import SchemaError
from moeen_synth.jobs import export as export_job
from moeen_synth.jobs import lifecycle
from moeen_synth.jobs import load as load_job
from tests.dbtools import SUPABASE_LIKE, clinic, make_supabase_like, run_psql

DEMO_PASSWORD = "demo-password"


def supabase_db(make_db: Callable[[], str]) -> str:
    return make_supabase_like(make_db())


def uid_definition(conn: psycopg.Connection[Any]) -> str:
    row = conn.execute("SELECT pg_get_functiondef('auth.uid()'::regprocedure)").fetchone()
    return str(row[0]) if row else ""


def load_demo(dsn: str, **kwargs: Any) -> load_job.LoadResult:
    demo = profiles.load("demo")
    with psycopg.connect(dsn, autocommit=True) as conn:
        return load_job.load(conn, demo, accounts=auth_users.wanted(demo, None), **kwargs)


def seen_as(
    conn: psycopg.Connection[Any], user_id: str, query: str, params: tuple[Any, ...] = ()
) -> set[str]:
    """Ids a query returns for a signed-in user: role authenticated with the JWT claims
    PostgREST sets, inside a transaction that is rolled back."""
    claims = json.dumps({"sub": user_id, "role": "authenticated"})
    with conn.transaction(force_rollback=True):
        conn.execute("SET LOCAL ROLE authenticated")
        conn.execute("SELECT set_config('request.jwt.claims', %s, true)", (claims,))
        return {str(r[0]) for r in conn.execute(query, params).fetchall()}


def owned(conn: psycopg.Connection[Any], query: str, params: tuple[Any, ...]) -> set[str]:
    return {str(r[0]) for r in conn.execute(query, params).fetchall()}


def check_signed_in_views(dsn: str) -> None:
    """Each demo patient sees exactly their own appointments, records and notifications;
    each doctor exactly their own appointments."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        patients = conn.execute("SELECT id, user_id FROM patients ORDER BY id").fetchall()
        assert len(patients) == 4
        every = {
            t: owned(conn, f"SELECT id FROM {t}", ())
            for t in ("appointments", "medical_records", "notifications")
        }
        for patient_id, user_id in patients:
            uid = str(user_id)
            mine = {
                "appointments": owned(
                    conn, "SELECT id FROM appointments WHERE patient_id = %s", (patient_id,)
                ),
                "medical_records": owned(
                    conn, "SELECT id FROM medical_records WHERE patient_id = %s", (patient_id,)
                ),
                "notifications": owned(
                    conn, "SELECT id FROM notifications WHERE user_id = %s", (user_id,)
                ),
            }
            for table, expected in mine.items():
                shown = seen_as(conn, uid, f"SELECT id FROM {table}")
                assert shown == expected, (table, uid)
                assert not shown & (every[table] - expected)
            assert seen_as(conn, uid, "SELECT id FROM patients") == {str(patient_id)}
        assert sum(
            len(owned(conn, "SELECT id FROM appointments WHERE patient_id = %s", (p,)))
            for p, _ in patients
        ) == len(every["appointments"])
        doctors = conn.execute("SELECT id, user_id FROM doctors ORDER BY id").fetchall()
        for doctor_id, user_id in doctors:
            expected = owned(conn, "SELECT id FROM appointments WHERE doctor_id = %s", (doctor_id,))
            assert seen_as(conn, str(user_id), "SELECT id FROM appointments") == expected
        # Signed out: nothing.
        assert (
            seen_as(conn, "00000000-0000-0000-0000-000000000000", "SELECT id FROM patients")
            == set()
        )


def check_accounts(dsn: str, password: str = DEMO_PASSWORD) -> None:
    """Every user has an account that can sign in: same id, bcrypt hash of the password,
    e-mail confirmed, no NULL token, one e-mail identity."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        users = conn.execute("SELECT id, email FROM public.users ORDER BY id").fetchall()
        accounts = conn.execute(
            "SELECT id, email, encrypted_password, email_confirmed_at, aud, role, "
            + ", ".join(auth_users.TOKENS)
            + " FROM auth.users ORDER BY id"
        ).fetchall()
        assert [(a[0], a[1]) for a in accounts] == users
        hashes = {a[2] for a in accounts}
        assert len(hashes) == 1
        (hashed,) = hashes
        assert hashed.startswith("$2a$10$")
        assert bcrypt.checkpw(password.encode(), hashed.encode())
        assert not bcrypt.checkpw(b"wrong-password", hashed.encode())
        for account in accounts:
            assert account[3] is not None and account[4:6] == ("authenticated", "authenticated")
            assert all(token == "" for token in account[6:]), account
        identities = conn.execute(
            "SELECT user_id, provider, provider_id, identity_data->>'email', email "
            "FROM auth.identities ORDER BY user_id"
        ).fetchall()
        assert [(i[0], i[1], i[2]) for i in identities] == [(u, "email", str(u)) for u, _ in users]
        assert all(i[3] == e and i[4] == e for i, (_, e) in zip(identities, users, strict=True))
        has_crypt = conn.execute(
            "SELECT to_regprocedure('crypt(text, text)') IS NOT NULL"
        ).fetchone()
        if has_crypt and has_crypt[0]:
            row = conn.execute("SELECT crypt(%s, %s) = %s", (password, hashed, hashed)).fetchone()
            assert row and row[0]


def test_demo_in_a_supabase_database(make_db: Callable[[], str]) -> None:
    dsn = supabase_db(make_db)
    with psycopg.connect(dsn) as conn:
        before = uid_definition(conn)
    result = load_demo(dsn)
    assert result.auth.kind == "supabase"
    assert result.auth.accounts == 10
    assert [r for r, _ in result.auth.examples] == ["admin", "doctor", "patient"]
    with psycopg.connect(dsn) as conn:
        assert uid_definition(conn) == before  # Supabase's own auth.uid(), untouched
    check_accounts(dsn)
    check_signed_in_views(dsn)
    # Loading again with --truncate replaces the accounts with the rows.
    again = load_demo(dsn, mode="truncate")
    assert again.auth.accounts == 10
    check_accounts(dsn)


def test_demo_through_two_streams_in_a_supabase_database(make_db: Callable[[], str]) -> None:
    """The swap of staged tables keeps Supabase's grants (default privileges of anon,
    authenticated, service_role), the policies and the views: every signed-in view is the
    same as after a load through one stream."""
    one, two = supabase_db(make_db), supabase_db(make_db)
    grants = """SELECT c.relname, ARRAY(SELECT format('%s %s', a.grantee::regrole,
        a.privilege_type) FROM aclexplode(c.relacl) a ORDER BY 1)
        FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace
        AND c.relkind IN ('r', 'v') ORDER BY 1"""
    load_demo(one)
    result = load_demo(two, streams=2, connect=lambda: psycopg.connect(two))
    assert result.staged and result.auth.accounts == 10
    check_accounts(two)
    check_signed_in_views(two)
    with psycopg.connect(one) as a, psycopg.connect(two) as b:
        assert a.execute(grants).fetchall() == b.execute(grants).fetchall()
        assert any("anon" in str(acl) for _, acl in b.execute(grants).fetchall())


def test_demo_with_auth_on_plain_postgresql(make_db: Callable[[], str]) -> None:
    dsn = make_db()
    skipped = load_demo(dsn)
    assert skipped.auth.kind == "plain" and skipped.auth.accounts == 0
    assert "--with-auth" in skipped.auth.skipped
    dsn = make_db()
    result = load_demo(dsn, with_auth=True)
    assert result.auth.kind == "stand-in" and result.auth.accounts == 10
    check_accounts(dsn)
    check_signed_in_views(dsn)
    # Rolling back removes the stand-in with the schema, and nothing of it is left.
    with psycopg.connect(dsn, autocommit=True) as conn:
        plan = lifecycle.plan_rollback(conn, None)
        lifecycle.rollback(conn, plan, None)
        left = conn.execute(
            "SELECT count(*) FROM pg_class WHERE relnamespace = to_regnamespace('auth')"
        ).fetchone()
        assert left == (0,)
        assert conn.execute("SELECT to_regnamespace('auth')").fetchone() == (None,)


def test_an_auth_users_table_without_the_columns_is_refused(make_db: Callable[[], str]) -> None:
    dsn = make_db()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(SUPABASE_LIKE.read_text().split("CREATE SCHEMA auth;")[0])  # the roles
        conn.execute("CREATE SCHEMA auth; CREATE TABLE auth.users (id uuid PRIMARY KEY)")
    with pytest.raises(SchemaError, match="lacks the columns"):
        load_demo(dsn)
    with psycopg.connect(dsn) as conn:
        assert conn.execute("SELECT count(*) FROM public.users").fetchone() == (0,)


def _files(root: Path) -> list[Path]:
    migrations = sorted((root / "supabase" / "migrations").glob("*.sql"))
    seeds = sorted((root / "supabase" / "seed").glob("*.sql"))
    return migrations + seeds


@pytest.mark.parametrize("profile_name", ["demo", "clinic"])
def test_supabase_folder_loads_as_the_cli_would(
    profile_name: str, make_db: Callable[[], str], tmp_path: Path
) -> None:
    prof = profiles.load(profile_name)
    out = tmp_path / "out"
    accounts = auth_users.wanted(prof, None)
    export_job.export(prof, out, ["supabase"], accounts=accounts)
    files = _files(out)
    assert files[0].parent.name == "migrations" and len(files) >= 6
    for path in files:
        assert "COPY " not in path.read_text(encoding="utf-8"), path
    dsn = supabase_db(make_db)
    for path in files:  # migrations, then the seed glob in sorted order, as the CLI does
        run_psql(dsn, path)
    with psycopg.connect(dsn, autocommit=True) as conn:
        report = validate(conn, as_of=prof.as_of)
        assert report.ok, report.failures
        made = conn.execute("SELECT count(*) FROM auth.users").fetchone()
        users = conn.execute("SELECT count(*) FROM public.users").fetchone()
        assert made == (users if accounts else (0,))
    if accounts:
        check_accounts(dsn)


def test_supabase_folder_cuts_statements_and_files(tmp_path: Path, monkeypatch: Any) -> None:
    """Small limits: statements and files are cut where documented, the same for any block
    size, and each part still loads (checked by the test above at full limits)."""
    from moeen_synth.sinks import supabase as sink

    monkeypatch.setattr(sink, "STATEMENT_ROWS", 7)
    monkeypatch.setattr(sink, "STATEMENT_BYTES", 4096)
    monkeypatch.setattr(sink, "FILE_BYTES", 64 * 1024)
    prof = clinic(150)
    outputs = {}
    for block in (97, 5000):
        out = tmp_path / f"b{block}"
        export_job.export(prof, out, ["supabase"], block_rows=block)
        outputs[block] = {p.relative_to(out): p.read_bytes() for p in _files(out)}
    assert outputs[97] == outputs[5000]
    seeds = [p for p in outputs[97] if p.parent.name == "seed"]
    assert any(p.name.endswith("_002.sql") for p in seeds)
    for path, data in outputs[97].items():
        if path.parent.name != "seed":
            continue
        text = data.decode()
        assert len(data) < 64 * 1024 + 16 * 4096
        for statement in text.split(";\n"):
            rows = statement.count("\n(")
            assert rows <= 7
            assert len(statement.encode()) < 4096 + 8192


def test_cli_says_supabase_and_how_to_sign_in(make_db: Callable[[], str]) -> None:
    dsn = supabase_db(make_db)
    done = subprocess.run(
        [sys.executable, "-m", "moeen_synth.cli", "--profile", "demo", "--dsn", dsn],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "target is Supabase" in done.stdout
    assert "sign-in accounts: 10 made in Supabase Auth" in done.stdout
    for role in ("admin", "doctor", "patient"):
        assert f"sign in as {role}:" in done.stdout
    assert "password: demo-password" in done.stdout
    with psycopg.connect(dsn) as conn:
        assert db_auth.kind(conn) == "supabase"
