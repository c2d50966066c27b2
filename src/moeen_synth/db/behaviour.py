"""Checks that exercise the schema's behaviour rather than read its definition: row-level
security as a signed-in patient, doctor or nobody meets it, the ``updated_at`` triggers,
and views that show rows to someone who is not signed in.

Everything runs inside a transaction that is rolled back (a temporary role included), so
validate leaves nothing behind. Each check counts what is wrong (0: ok; None: skipped, with
why in its name), like the data checks.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from moeen_synth import catalogue
from moeen_synth.db import migrate as migrations

Result = tuple[str, int | None]

# Which rows of each table with row-level security a signed-in user owns, as the platform
# means it (not as its policies say: a weakened policy must show up as a difference).
# {uid} is the user's id; None: nobody but its owner sees any row.
_PATIENTS = "SELECT id FROM patients WHERE user_id = %(uid)s"
_DOCTORS = "SELECT id FROM doctors WHERE user_id = %(uid)s"
OWNED: dict[str, dict[str, str | None]] = {
    "patient": {
        "users": "id = %(uid)s",
        "patients": "user_id = %(uid)s",
        "doctors": "false",
        "appointments": f"patient_id IN ({_PATIENTS})",
        "medical_records": f"patient_id IN ({_PATIENTS})",
        "notifications": "user_id = %(uid)s",
        "audit_logs": "false",
    },
    "doctor": {
        "users": "id = %(uid)s",
        "patients": "false",
        "doctors": "user_id = %(uid)s",
        "appointments": f"doctor_id IN ({_DOCTORS})",
        "medical_records": f"doctor_id IN ({_DOCTORS})",
        "notifications": "user_id = %(uid)s",
        "audit_logs": "false",
    },
}


@dataclass(frozen=True)
class Findings:
    checks: list[Result]
    warnings: list[str]


def run(conn: psycopg.Connection[Any]) -> Findings:
    """RLS, trigger and view checks, in a transaction rolled back afterwards."""
    checks: list[Result] = []
    warnings: list[str] = []
    with conn.transaction(force_rollback=True):
        checks += _triggers(conn)
        role = _temporary_role(conn)
        if role is None:
            checks.append(("RLS: skipped (the role may not create a role to test with)", None))
        else:
            try:
                with conn.transaction():
                    checks += _row_level_security(conn, role)
                    warnings += _exposing_views(conn, role)
            except psycopg.errors.InsufficientPrivilege:
                # A CREATEROLE role that is not a member of the role it made (hosted
                # servers) may not SET ROLE to it.
                checks.append(("RLS: skipped (the role may not act as the role it made)", None))
    return Findings(checks, warnings)


def _triggers(conn: psycopg.Connection[Any]) -> list[Result]:
    """An UPDATE moves updated_at on every table whose trigger should (a row each)."""
    out: list[Result] = []
    for table in catalogue.TABLES:
        if not table.touches_updated_at:
            continue
        name = f"trigger: an UPDATE of {table.name} moves updated_at"
        try:
            row = _update_one(conn, table.name)
        except psycopg.Error as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            out.append((f"{name} (skipped: {first})", None))
            continue
        if row is None:
            out.append((f"{name} (skipped: no rows)", None))
        else:
            out.append((name, 0 if row[0].year > 2000 else 1))
    return out


def _update_one(conn: psycopg.Connection[Any], table: str) -> Any:
    """UPDATE one row's updated_at to 2000-01-01 and return what the row then holds (None:
    no rows), undone at once."""
    with conn.transaction(force_rollback=True):
        return conn.execute(
            sql.SQL(
                "UPDATE {t} SET updated_at = timestamptz '2000-01-01 00:00:00+00' "
                "WHERE ctid = (SELECT ctid FROM {t} LIMIT 1) RETURNING updated_at"
            ).format(t=sql.Identifier(table))
        ).fetchone()


def _temporary_role(conn: psycopg.Connection[Any]) -> str | None:
    """A role without privileges beyond reading, as the platform's signed-in users have;
    None if this connection may not create one."""
    role = f"moeen_validate_{os.getpid()}"
    try:
        with conn.transaction():
            conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(role)))
    except psycopg.errors.InsufficientPrivilege:
        return None
    ident = sql.Identifier(role)
    conn.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(ident))
    if conn.execute("SELECT to_regnamespace('auth') IS NOT NULL").fetchone() == (True,):
        conn.execute(sql.SQL("GRANT USAGE ON SCHEMA auth TO {}").format(ident))
    conn.execute(sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA public TO {}").format(ident))
    return role


def _sample_user(conn: psycopg.Connection[Any], kind: str) -> str | None:
    table = "patients" if kind == "patient" else "doctors"
    row = conn.execute(
        f"SELECT user_id::text FROM {table} WHERE user_id IS NOT NULL ORDER BY id LIMIT 1"
    ).fetchone()
    return str(row[0]) if row else None


def _ids(conn: psycopg.Connection[Any], table: str, where: str, uid: str | None) -> list[str]:
    rows = conn.execute(
        f"SELECT id::text FROM {table} WHERE {where} ORDER BY id",
        {"uid": uid},
    ).fetchall()
    return [r[0] for r in rows]


def _as(conn: psycopg.Connection[Any], role: str | None, uid: str | None) -> None:
    """Act as ``role`` (None: back to the connection's own) signed in as ``uid``."""
    conn.execute("SELECT set_config('request.jwt.claim.sub', %s, true)", (uid or "",))
    if role is None:
        conn.execute("RESET ROLE")
    else:
        conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(role)))


def _row_level_security(conn: psycopg.Connection[Any], role: str) -> list[Result]:
    """For a signed-in patient, a doctor and nobody: each sees exactly the rows it owns."""
    out: list[Result] = []
    tables = [t.name for t in catalogue.TABLES if t.rls]
    for kind in ("patient", "doctor", "nobody"):
        uid = _sample_user(conn, kind) if kind != "nobody" else None
        if kind != "nobody" and uid is None:
            out.append((f"RLS as a signed-in {kind} (skipped: no {kind}s)", None))
            continue
        owned = OWNED.get(kind, {})
        for table in tables:
            where = owned.get(table) or "false"
            expected = _ids(conn, table, where, uid)
            _as(conn, role, uid)
            seen = _ids(conn, table, "true", uid)
            _as(conn, None, None)
            wrong = len(set(seen) ^ set(expected))
            name = (
                f"RLS: {table} shows no row to someone not signed in"
                if kind == "nobody"
                else f"RLS: {table} shows a signed-in {kind} exactly their own rows"
            )
            out.append((name, wrong))
    return out


def _exposing_views(conn: psycopg.Connection[Any], role: str) -> list[str]:
    """Views that show rows to a signed-in patient that are not theirs: they run with their
    owner's rights, so the tables' row-level security does not apply through them. A view
    that shows a patient and someone not signed in the same rows filters by nobody."""
    out = []
    patient = _sample_user(conn, "patient")
    for view in catalogue.views():
        if not migrations.relation_exists(conn, view):
            continue
        shown = {uid: _count_as(conn, role, uid, view) for uid in (patient, None)}
        if shown[None] and shown[None] == shown[patient]:
            out.append(
                f"view {view} shows a signed-in patient {shown[patient]:,} rows, the same as "
                "someone not signed in: it bypasses row-level security and exposes other "
                "people's rows (create it WITH (security_invoker = true))"
            )
    return out


def _count_as(conn: psycopg.Connection[Any], role: str, uid: str | None, view: str) -> int:
    _as(conn, role, uid)
    row = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(view))).fetchone()
    _as(conn, None, None)
    return int(row[0]) if row else 0
