"""Data integrity checks: each is a query counting the rows that break one rule.

The rules are the platform's foreign keys (checked even where a constraint is missing) and the
invariants moeen-synth's generators promise. Checks that compare with "now" use the ``as_of``
of the last load recorded in ``moeen_synth.loads``; without one they are skipped.
"""

from __future__ import annotations

from moeen_synth import catalogue
from moeen_synth.db import scans, timeline
from moeen_synth.db.check import Check, Part, check, row_rule

# (child table, column, parent table, parent column), from the schema
FOREIGN_KEYS = tuple(
    (fk.table, fk.column, fk.parent, fk.parent_column) for fk in catalogue.foreign_keys()
)
TABLES_WITH_UPDATED_AT = tuple(t.name for t in catalogue.TABLES if t.has_updated_at)
EMAIL_COLUMNS = tuple((t.name, c) for t in catalogue.TABLES for c in t.email_columns)
RESERVED_EMAIL = r"'@(example\.(com|org|net)|([a-z0-9-]+\.)*[a-z0-9-]+\.test)$'"


def _orphans() -> list[Check]:
    # As an anti-join: alone it is planned as one, and each foreign key is its own scan.
    return [
        Check(
            f"{c}.{col} -> {p}.{pc}",
            (
                Part(
                    f"{c} x LEFT JOIN {p} y ON y.{pc} = x.{col}",
                    f"x.{col} IS NOT NULL AND y.{pc} IS NULL",
                ),
            ),
            foreign_key=(c, col, p, pc),
        )
        for c, col, p, pc in FOREIGN_KEYS
    ]


def _overlap(who: str) -> Check:
    return check(
        f"appointments: no two active appointments overlap for one {who[:-3]}",
        (
            f"""(SELECT scheduled_at, lag(scheduled_at + make_interval(mins => duration_minutes))
                       OVER (PARTITION BY {who} ORDER BY scheduled_at) AS prev_end
                 FROM appointments WHERE status <> 'cancelled') s""",
            "prev_end > scheduled_at",
        ),
    )


CHECKS: tuple[Check, ...] = (
    *_orphans(),
    *(
        row_rule(f"{t}: created_at <= updated_at", t, "updated_at < created_at")
        for t in TABLES_WITH_UPDATED_AT
    ),
    *(
        row_rule(
            f"{t}.{c}: reserved e-mail domain", t, f"{c} IS NOT NULL AND {c} !~ {RESERVED_EMAIL}"
        )
        for t, c in EMAIL_COLUMNS
    ),
    check(
        "patients and doctors: user has the matching role",
        (scans.PATIENT_USERS, "u.role <> 'patient'"),
        (scans.DOCTOR_USERS, "u.role <> 'doctor'"),
    ),
    check(
        "patients/doctors: record created after its user account",
        (scans.PATIENT_USERS, "p.created_at < u.created_at"),
        (scans.DOCTOR_USERS, "d.created_at < u.created_at"),
    ),
    _overlap("doctor_id"),
    _overlap("patient_id"),
    check(
        "appointments: booked before the visit and after the patient's account",
        (
            scans.APPOINTMENTS,
            "u.id IS NOT NULL AND (a.created_at > a.scheduled_at OR a.created_at < u.created_at)",
        ),
    ),
    row_rule(
        "appointments: follow-up date exactly when follow-up is required, after the visit",
        "appointments",
        "(follow_up_required IS TRUE) <> (follow_up_date IS NOT NULL) "
        "OR follow_up_date <= scheduled_at",
    ),
    row_rule(
        "appointments: completed ones carry a diagnosis",
        "appointments",
        "status = 'completed' AND diagnosis IS NULL",
    ),
    row_rule(
        "appointments: status agrees with time (as_of)",
        "appointments",
        "(status IN ('completed', 'no_show', 'in_progress') AND scheduled_at > %(as_of)s) "
        "OR (status IN ('pending', 'confirmed') AND scheduled_at < %(as_of)s)",
        needs_as_of=True,
    ),
    check(
        "appointments: payment_status agrees with payments",
        (
            scans.APPOINTMENTS,
            """(a.payment_status IN ('paid', 'partial') AND pay.completed IS NOT TRUE)
               OR (a.payment_status = 'unpaid' AND pay.completed IS TRUE)
               OR (a.payment_status = 'refunded' AND pay.refunded IS NOT TRUE)""",
        ),
    ),
    check(
        "payments: patient is the appointment's patient, amount positive",
        (
            scans.PAYMENTS,
            "a.id IS NOT NULL AND (p.patient_id IS DISTINCT FROM a.patient_id OR p.amount <= 0)",
        ),
    ),
    check(
        "insurance_claims: provider is the patient's insurer",
        (scans.CLAIMS, "pt.id IS NOT NULL AND c.provider IS DISTINCT FROM pt.insurance_provider"),
    ),
    row_rule(
        "insurance_claims: approved amount not above the claimed one",
        "insurance_claims",
        "approved_amount > amount",
    ),
    row_rule(
        "insurance_claims: rejection reason exactly when rejected",
        "insurance_claims",
        "(status = 'rejected') <> (rejection_reason IS NOT NULL)",
    ),
    row_rule(
        "insurance_claims: submitted, approved, paid in time order and by status",
        "insurance_claims",
        """approved_at < submitted_at
             OR paid_at < approved_at
             OR (status = 'draft' AND submitted_at IS NOT NULL)
             OR (status <> 'draft' AND submitted_at IS NULL)
             OR (status IN ('approved', 'paid') AND approved_at IS NULL)
             OR (status = 'paid' AND paid_at IS NULL)
             OR (status <> 'paid' AND paid_at IS NOT NULL)""",
    ),
    check(
        "medical_records: belong to their appointment's patient and doctor",
        (
            "medical_records m JOIN appointments a ON a.id = m.appointment_id",
            "m.patient_id IS DISTINCT FROM a.patient_id "
            "OR m.doctor_id IS DISTINCT FROM a.doctor_id OR m.created_at < a.scheduled_at",
        ),
    ),
    row_rule(
        "notifications: scheduled, sent and read times in order and consistent with status",
        "notifications",
        """sent_at < scheduled_at
             OR read_at < sent_at OR (status = 'read' AND read_at IS NULL)
             OR (status = 'pending' AND sent_at IS NOT NULL)
             OR (status IN ('sent', 'delivered', 'read') AND sent_at IS NULL)""",
    ),
    check(
        "chatbot_messages: inside their conversation's time window",
        (
            "chatbot_messages m JOIN chatbot_conversations c ON c.id = m.conversation_id",
            "m.created_at < c.started_at OR m.created_at > c.ended_at",
        ),
    ),
    check(
        "audit_logs: entity exists",
        (
            scans.AUDIT,
            "(l.entity_type = 'appointment' AND a.id IS NULL) "
            "OR (l.entity_type = 'payment' AND p.id IS NULL)",
        ),
    ),
    check(
        # A doctor whose schedule lists weekdays with hours sees patients only then; one
        # whose schedule lists no day sees none.
        "appointments: inside the doctor's weekly schedule",
        (
            scans.APPOINTMENTS,
            "d.has_hours AND (h.id IS NULL OR l.t::time < h.opens "
            "OR l.t::date <> f.t::date OR f.t::time > h.closes)",
        ),
        (scans.APPOINTMENTS, "d.no_days"),
    ),
    check(
        "appointments: Obstetrics and Gynecology sees women",
        (
            scans.APPOINTMENTS,
            "d.speciality = 'Obstetrics and Gynecology' AND p.id IS NOT NULL "
            "AND p.gender IS DISTINCT FROM 'female'",
        ),
    ),
    check(
        "appointments: Pediatrics sees patients under 18",
        (
            scans.APPOINTMENTS,
            "d.speciality = 'Pediatrics' AND p.date_of_birth <= "
            "(a.scheduled_at AT TIME ZONE 'Asia/Riyadh')::date - interval '18 years'",
        ),
    ),
    check(
        "nothing dated after as_of except future visits and scheduled messages",
        ("users", "created_at > %(as_of)s"),
        ("payments", "paid_at > %(as_of)s"),
        ("insurance_claims", "updated_at > %(as_of)s"),
        ("appointments", "created_at > %(as_of)s"),
        needs_as_of=True,
    ),
    *timeline.CHECKS,
)
