"""The checks run cheaper but find the same: the checks over one scan are counted in one pass
(each still alone, and as its own query would count it), a foreign key's orphans are skipped
only while a validated constraint excludes them, and the rewritten schedule check still finds
a visit outside the doctor's hours."""

from __future__ import annotations

from collections.abc import Callable

import psycopg
import pytest

from moeen_synth.db import checks
from moeen_synth.db.validate import last_as_of, run_checks, validated_foreign_keys
from moeen_synth.jobs import load as load_job
from tests.dbtools import clinic


@pytest.fixture(scope="module")
def loaded(module_db: Callable[[], str]) -> str:
    dsn = module_db()
    with psycopg.connect(dsn, autocommit=True) as conn:
        load_job.load(conn, clinic(300))
    return dsn


def bad(conn: psycopg.Connection[object]) -> dict[str, int]:
    found = run_checks(conn, None)
    assert [name for name, _ in found] == [c.name for c in checks.CHECKS]
    return {name: n for name, n in found if n}


def test_clean_data_passes_and_every_foreign_key_is_held(loaded: str) -> None:
    with psycopg.connect(loaded) as conn:
        assert bad(conn) == {}
        held = validated_foreign_keys(conn)
    assert {c.foreign_key for c in checks.CHECKS if c.foreign_key} <= held


def test_rules_of_one_table_count_alone_in_one_scan(loaded: str) -> None:
    with psycopg.connect(loaded) as conn, conn.transaction(force_rollback=True):
        conn.execute(
            "UPDATE appointments SET diagnosis = NULL WHERE id IN (SELECT id FROM appointments "
            "WHERE status = 'completed' ORDER BY id LIMIT 2)"
        )
        conn.execute(  # the platform's trigger would stamp updated_at with now()
            "ALTER TABLE appointments DISABLE TRIGGER update_appointments_updated_at"
        )
        conn.execute(
            "UPDATE appointments SET updated_at = created_at - interval '1 day' "
            "WHERE id = (SELECT id FROM appointments ORDER BY id DESC LIMIT 1)"
        )
        conn.execute(
            "UPDATE notifications SET status = 'pending' WHERE id = (SELECT id FROM "
            "notifications WHERE sent_at IS NOT NULL ORDER BY id LIMIT 1)"
        )
        assert bad(conn) == {
            "appointments: completed ones carry a diagnosis": 2,
            "appointments: created_at <= updated_at": 1,
            "notifications: scheduled, sent and read times in order and consistent with status": 1,
        }


def test_orphans_are_looked_for_where_no_constraint_holds(loaded: str) -> None:
    with psycopg.connect(loaded) as conn, conn.transaction(force_rollback=True):
        conn.execute("ALTER TABLE payments DROP CONSTRAINT payments_appointment_id_fkey")
        conn.execute(
            "UPDATE payments SET appointment_id = gen_random_uuid() "
            "WHERE id = (SELECT id FROM payments ORDER BY id LIMIT 1)"
        )
        found = bad(conn)
        assert found.pop("payments.appointment_id -> appointments.id") == 1
        # The other rules about that payment see it too; nothing else is touched.
        assert set(found) <= {
            "payments: patient is the appointment's patient, amount positive",
            "payments and claims: after the booking; claims submitted after the visit",
            "appointments: payment_status agrees with payments",
            "audit_logs: an entry carries the time of the event it records",
            "notifications: made after the appointment, payment or claim they tell of",
        }


def test_a_visit_outside_the_doctors_hours_is_found(loaded: str) -> None:
    with psycopg.connect(loaded) as conn, conn.transaction(force_rollback=True):
        # A Friday evening: no doctor works on Fridays.
        conn.execute(
            "UPDATE appointments SET scheduled_at = date_trunc('week', scheduled_at) "
            "+ interval '4 days 20 hours' WHERE id = (SELECT id FROM appointments "
            "WHERE status = 'cancelled' ORDER BY id LIMIT 1)"
        )
        assert "appointments: inside the doctor's weekly schedule" in bad(conn)


# Rows broken under the shared passes over appointments, payments, claims and audit entries.
SHARED_PASS_CORRUPTIONS = (
    "ALTER TABLE appointments DISABLE TRIGGER update_appointments_updated_at",
    "UPDATE appointments SET payment_status = 'refunded' WHERE id IN (SELECT id FROM "
    "appointments WHERE payment_status = 'paid' ORDER BY id LIMIT 3)",
    "UPDATE appointments SET created_at = scheduled_at + interval '1 day' WHERE id IN "
    "(SELECT id FROM appointments ORDER BY id DESC LIMIT 2)",
    "UPDATE patients SET date_of_birth = date_of_birth - interval '30 years' WHERE id IN "
    "(SELECT a.patient_id FROM appointments a JOIN doctors d ON d.id = a.doctor_id "
    "WHERE d.speciality = 'Pediatrics' ORDER BY 1 LIMIT 2)",
    "UPDATE doctors SET schedule = jsonb_set(schedule, '{days}', '{}'::jsonb) "
    "WHERE id = (SELECT id FROM doctors ORDER BY id LIMIT 1)",
    "UPDATE audit_logs SET created_at = created_at + interval '5 min' WHERE id IN "
    "(SELECT id FROM audit_logs WHERE action = 'appointment.created' ORDER BY id LIMIT 2)",
    "UPDATE insurance_claims SET provider = 'Nobody' WHERE id IN "
    "(SELECT id FROM insurance_claims ORDER BY id LIMIT 2)",
    "UPDATE payments SET amount = 0 WHERE id = (SELECT id FROM payments ORDER BY id LIMIT 1)",
)


def test_checks_in_shared_passes_count_as_each_alone(loaded: str) -> None:
    with psycopg.connect(loaded) as conn, conn.transaction(force_rollback=True):
        for corruption in SHARED_PASS_CORRUPTIONS:
            conn.execute(corruption.encode())
        as_of = last_as_of(conn)
        shared = dict(run_checks(conn, as_of))
        alone = {
            c.name: conn.execute(c.sql.encode(), {"as_of": as_of}).fetchone()[0]  # type: ignore[index]
            for c in checks.CHECKS
        }
    assert shared == alone
    assert {
        "appointments: payment_status agrees with payments",
        "appointments: booked before the visit and after the patient's account",
        "appointments: Pediatrics sees patients under 18",
        "appointments: inside the doctor's weekly schedule",
        "audit_logs: an entry carries the time of the event it records",
        "insurance_claims: provider is the patient's insurer",
        "payments: patient is the appointment's patient, amount positive",
    } <= {name for name, n in shared.items() if n}
