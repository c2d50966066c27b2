"""Each life-course check of validate (db.timeline) passes on generated data and fails on a
copy corrupted in the one way it guards against: one corruption per check, rolled back."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
import pytest

from moeen_synth.db import timeline
from moeen_synth.jobs import load as load_job
from tests.dbtools import clinic

ONE = "WHERE id = (SELECT id FROM {table} {where} ORDER BY id LIMIT 1)"


def _one(table: str, change: str, where: str = "") -> str:
    return f"UPDATE {table} SET {change} " + ONE.format(table=table, where=where)


# check name -> the corruption it must catch
CORRUPTIONS = {
    "patients: born before their account and their user were made": _one(
        "patients", "date_of_birth = (created_at AT TIME ZONE 'Asia/Riyadh')::date + 1"
    ),
    "appointments: booked and held after the patient's birth": _one(
        "patients",
        "date_of_birth = (SELECT max(scheduled_at)::date + 1 FROM appointments a "
        "WHERE a.patient_id = patients.id), created_at = now() + interval '10 years'",
        "WHERE id IN (SELECT patient_id FROM appointments)",
    ),
    "users: nothing a user does before their account (logins, uploads, chats, audit, "
    "notices)": _one("file_uploads", "created_at = created_at - interval '20 years'"),
    "patients: activated after the account was made": _one(
        "patients", "activation_date = created_at - interval '1 day'", "WHERE is_activated"
    ),
    "audit_logs: an entry carries the time of the event it records": _one(
        "audit_logs",
        "created_at = created_at + interval '1 hour'",
        "WHERE action = 'payment.completed'",
    ),
    "payments and claims: after the booking; claims submitted after the visit": _one(
        "insurance_claims",
        "submitted_at = (SELECT scheduled_at FROM appointments a "
        "WHERE a.id = insurance_claims.appointment_id)",
        "WHERE submitted_at IS NOT NULL",
    ),
    "notifications: made after the appointment, payment or claim they tell of": _one(
        "notifications",
        "scheduled_at = scheduled_at - interval '400 days'",
        "WHERE metadata->>'template' = 'payment_confirmation'",
    ),
    "crm_activities: after their lead was made, completed after being scheduled": _one(
        "crm_activities",
        "completed_at = scheduled_at - interval '1 hour'",
        "WHERE status = 'completed'",
    ),
    "reports and conversations: end after they start, made after their author's account": _one(
        "chatbot_conversations", "ended_at = started_at - interval '1 minute'"
    ),
    "chatbot: a flow about the patient's own care names a doctor the patient has seen": _one(
        "chatbot_messages",
        "message = 'Your request has been sent to Nobody Known for review.'",
        "WHERE sender_type = 'bot' AND conversation_id IN (SELECT c.id FROM "
        "chatbot_conversations c JOIN chatbot_flows f ON f.id = c.flow_id "
        "WHERE f.name = 'prescription_refill') AND metadata->>'step' = 'review'",
    ),
}


@pytest.fixture(scope="module")
def clinic_dsn(module_db: Callable[[], str]) -> str:
    """A small clinic (600 patients) loaded once for the module."""
    dsn = module_db()
    with psycopg.connect(dsn, autocommit=True) as conn:
        result = load_job.load(conn, clinic(600))
        assert result.report is not None and result.report.ok, result.report.failures
    return dsn


def test_every_life_course_check_has_a_corruption() -> None:
    assert set(CORRUPTIONS) == {check.name for check in timeline.CHECKS}


@pytest.mark.parametrize("check", timeline.CHECKS, ids=lambda check: check.name.split(":")[0])
def test_check_passes_then_catches_its_corruption(clinic_dsn: str, check: Any) -> None:
    with psycopg.connect(clinic_dsn) as conn:
        before = conn.execute(check.sql).fetchone()
        assert before == (0,), f"{check.name}: {before} on generated data"
        changed = conn.execute(CORRUPTIONS[check.name])
        assert changed.rowcount == 1, "the corruption must change a row"
        after = conn.execute(check.sql).fetchone()
        conn.rollback()
    assert after is not None and after[0] > 0, f"{check.name} missed its corruption"
