"""Supabase on the target: recognise it, make sign-in accounts there, or make a minimal
stand-in of its auth schema on a plain PostgreSQL (``--with-auth``).

A target is Supabase when it has ``auth.users`` and the roles ``anon``, ``authenticated`` and
``service_role``. moeen-synth never changes Supabase's own auth objects: it only inserts the
accounts of the users it loads (marked in ``raw_app_meta_data``) and removes those again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import psycopg
from psycopg import sql

from moeen_synth import auth_users, paths
from moeen_synth.errors import LoadError, SchemaError

ROLES = ("anon", "authenticated", "service_role")
STAND_IN = "moeen-synth:%"  # comment prefix of the objects moeen-synth made
Kind = Literal["supabase", "stand-in", "plain", "other"]


@dataclass
class AuthResult:
    """What a load did about sign-in accounts."""

    kind: Kind = "plain"
    accounts: int = 0  # accounts made by this load
    skipped: str = ""  # why none were made although asked for
    examples: list[tuple[str, str]] = field(default_factory=list)  # (role, e-mail)


def _comment(conn: psycopg.Connection[Any], relation: str) -> str | None:
    row = conn.execute(
        "SELECT obj_description(to_regclass(%s), 'pg_class')", (relation,)
    ).fetchone()
    return row[0] if row else None


def has_accounts_table(conn: psycopg.Connection[Any]) -> bool:
    row = conn.execute("SELECT to_regclass('auth.users') IS NOT NULL").fetchone()
    return bool(row and row[0])


def kind(conn: psycopg.Connection[Any]) -> Kind:
    """supabase: auth.users (not moeen-synth's) and the three roles; stand-in: the tables
    ``--with-auth`` made; plain: no auth.users; other: an auth.users of something else."""
    if not has_accounts_table(conn):
        return "plain"
    if (_comment(conn, "auth.users") or "").startswith("moeen-synth:"):
        return "stand-in"
    row = conn.execute(
        "SELECT count(*) FROM pg_roles WHERE rolname = ANY(%s)", (list(ROLES),)
    ).fetchone()
    return "supabase" if row and row[0] == len(ROLES) else "other"


def make_stand_in(conn: psycopg.Connection[Any]) -> None:
    """auth.users, auth.identities, Supabase's auth.uid() and its three roles on a plain
    PostgreSQL, with the grants Supabase gives them on the platform's tables."""
    row = conn.execute(
        "SELECT obj_description(to_regnamespace('auth'), 'pg_namespace') LIKE %s",
        (STAND_IN,),
    ).fetchone()
    if not (row and row[0]):
        raise SchemaError(
            "--with-auth: the target's auth schema was not made by moeen-synth's migrations "
            "and has no auth.users; it will not add tables to it"
        )
    conn.execute((paths.schema_dir() / "supabase" / "auth_stand_in.sql").read_text("utf-8"))
    for role in ROLES:
        found = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
        if found:
            continue
        try:
            with conn.transaction():
                conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(role)))
        except psycopg.errors.InsufficientPrivilege:
            raise SchemaError(
                f"--with-auth: role {role} does not exist and this login may not create "
                "roles; create anon, authenticated and service_role (NOLOGIN) first"
            ) from None
    grantees = sql.SQL(", ").join(sql.Identifier(r) for r in ROLES)
    conn.execute(sql.SQL("GRANT USAGE ON SCHEMA public, auth TO {}").format(grantees))
    conn.execute(sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA public TO {}").format(grantees))


def target_columns(conn: psycopg.Connection[Any]) -> frozenset[str]:
    rows = conn.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = 'auth' AND table_name = 'users'"
    ).fetchall()
    return frozenset(r[0] for r in rows)


def add_accounts(
    conn: psycopg.Connection[Any], accounts: auth_users.Accounts | None, *, with_auth: bool
) -> AuthResult:
    """Give the loaded users their accounts inside the caller's transaction, where the
    target has (or ``with_auth`` makes) an auth schema; say why not otherwise."""
    result = AuthResult(kind=kind(conn))
    if result.kind == "plain" and with_auth:
        make_stand_in(conn)
        result.kind = "stand-in"
    if accounts is None:
        return result
    if result.kind == "other":
        raise SchemaError(
            "the target has an auth.users table that is neither Supabase's (the roles anon, "
            "authenticated and service_role are missing) nor moeen-synth's stand-in; it will "
            "not add accounts to it. Load with a profile that makes none (auth.users: false)"
        )
    if result.kind == "plain":
        result.skipped = (
            "the target has no auth.users (it is not Supabase); add --with-auth to make a "
            "minimal one so that these users can sign in"
        )
        return result
    present = target_columns(conn)
    needed = auth_users.user_columns(accounts.hash).keys() - auth_users.OPTIONAL
    missing = sorted(needed - present)
    if missing:
        raise SchemaError(f"auth.users on the target lacks the columns {missing}")
    try:
        with conn.transaction():
            users, identities = auth_users.statements(accounts.hash, present)
            made = conn.execute(users).rowcount
            conn.execute(identities)
    except psycopg.errors.UniqueViolation as exc:
        detail = exc.diag.message_detail or str(exc).splitlines()[0]
        raise LoadError(
            f"auth.users already has an account that clashes with a loaded user ({detail}); "
            "nothing was loaded"
        ) from None
    result.accounts = made
    return result


def remove_accounts(conn: psycopg.Connection[Any]) -> None:
    """Delete the accounts moeen-synth made for the platform users about to be removed (an
    auth.users of something else is not touched)."""
    if kind(conn) in ("supabase", "stand-in"):
        conn.execute(auth_users.REMOVE)
