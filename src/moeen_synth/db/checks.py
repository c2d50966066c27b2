"""Data integrity checks: each is a query counting the rows that break one rule.

The rules are the platform's foreign keys (checked even where a constraint is missing) and the
invariants moeen-synth's generators promise. Checks that compare with "now" use the ``as_of``
of the last load recorded in ``moeen_synth.loads``; without one they are skipped.
"""

from __future__ import annotations

from moeen_synth import catalogue
from moeen_synth.db import timeline
from moeen_synth.db.check import Check, row_rule

# (child table, column, parent table, parent column), from the schema
FOREIGN_KEYS = tuple(
    (fk.table, fk.column, fk.parent, fk.parent_column) for fk in catalogue.foreign_keys()
)
TABLES_WITH_UPDATED_AT = tuple(t.name for t in catalogue.TABLES if t.has_updated_at)
EMAIL_COLUMNS = tuple((t.name, c) for t in catalogue.TABLES for c in t.email_columns)
RESERVED_EMAIL = r"'@(example\.(com|org|net)|([a-z0-9-]+\.)*[a-z0-9-]+\.test)$'"


def _orphans() -> list[Check]:
    return [
        Check(
            f"{c}.{col} -> {p}.{pc}",
            f"SELECT count(*) FROM {c} x WHERE x.{col} IS NOT NULL AND NOT EXISTS "
            f"(SELECT 1 FROM {p} y WHERE y.{pc} = x.{col})",
            foreign_key=(c, col, p, pc),
        )
        for c, col, p, pc in FOREIGN_KEYS
    ]


def _overlap(who: str) -> Check:
    return Check(
        f"appointments: no two active appointments overlap for one {who[:-3]}",
        f"""SELECT count(*) FROM (
              SELECT scheduled_at, lag(scheduled_at + make_interval(mins => duration_minutes))
                     OVER (PARTITION BY {who} ORDER BY scheduled_at) AS prev_end
              FROM appointments WHERE status <> 'cancelled') s
            WHERE prev_end > scheduled_at""",
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
    Check(
        "patients and doctors: user has the matching role",
        "SELECT (SELECT count(*) FROM patients p JOIN users u ON u.id = p.user_id "
        "WHERE u.role <> 'patient') + (SELECT count(*) FROM doctors d JOIN users u "
        "ON u.id = d.user_id WHERE u.role <> 'doctor')",
    ),
    Check(
        "patients/doctors: record created after its user account",
        "SELECT (SELECT count(*) FROM patients p JOIN users u ON u.id = p.user_id "
        "WHERE p.created_at < u.created_at) + (SELECT count(*) FROM doctors d "
        "JOIN users u ON u.id = d.user_id WHERE d.created_at < u.created_at)",
    ),
    _overlap("doctor_id"),
    _overlap("patient_id"),
    Check(
        "appointments: booked before the visit and after the patient's account",
        "SELECT count(*) FROM appointments a JOIN patients p ON p.id = a.patient_id "
        "JOIN users u ON u.id = p.user_id WHERE a.created_at > a.scheduled_at "
        "OR a.created_at < u.created_at",
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
    Check(
        "appointments: payment_status agrees with payments",
        # One aggregate and a hash join: a correlated EXISTS per appointment would scan
        # payments (it has no index on appointment_id) once per row.
        """SELECT count(*) FROM appointments a
           LEFT JOIN (SELECT appointment_id, bool_or(status = 'completed') AS completed,
                             bool_or(status = 'refunded') AS refunded
                      FROM payments GROUP BY appointment_id) p ON p.appointment_id = a.id
           WHERE (a.payment_status IN ('paid', 'partial') AND p.completed IS NOT TRUE)
              OR (a.payment_status = 'unpaid' AND p.completed IS TRUE)
              OR (a.payment_status = 'refunded' AND p.refunded IS NOT TRUE)""",
    ),
    Check(
        "payments: patient is the appointment's patient, amount positive",
        "SELECT count(*) FROM payments p JOIN appointments a ON a.id = p.appointment_id "
        "WHERE p.patient_id IS DISTINCT FROM a.patient_id OR p.amount <= 0",
    ),
    Check(
        "insurance_claims: provider is the patient's insurer",
        "SELECT count(*) FROM insurance_claims c JOIN patients p ON p.id = c.patient_id "
        "WHERE c.provider IS DISTINCT FROM p.insurance_provider",
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
    Check(
        "medical_records: belong to their appointment's patient and doctor",
        "SELECT count(*) FROM medical_records m JOIN appointments a ON a.id = m.appointment_id "
        "WHERE m.patient_id IS DISTINCT FROM a.patient_id "
        "OR m.doctor_id IS DISTINCT FROM a.doctor_id OR m.created_at < a.scheduled_at",
    ),
    row_rule(
        "notifications: scheduled, sent and read times in order and consistent with status",
        "notifications",
        """sent_at < scheduled_at
             OR read_at < sent_at OR (status = 'read' AND read_at IS NULL)
             OR (status = 'pending' AND sent_at IS NOT NULL)
             OR (status IN ('sent', 'delivered', 'read') AND sent_at IS NULL)""",
    ),
    Check(
        "chatbot_messages: inside their conversation's time window",
        "SELECT count(*) FROM chatbot_messages m JOIN chatbot_conversations c "
        "ON c.id = m.conversation_id WHERE m.created_at < c.started_at "
        "OR m.created_at > c.ended_at",
    ),
    Check(
        "audit_logs: entity exists",
        """SELECT count(*) FROM audit_logs l
           LEFT JOIN appointments a ON l.entity_type = 'appointment' AND a.id = l.entity_id
           LEFT JOIN payments p ON l.entity_type = 'payment' AND p.id = l.entity_id
           WHERE (l.entity_type = 'appointment' AND a.id IS NULL)
              OR (l.entity_type = 'payment' AND p.id IS NULL)""",
    ),
    Check(
        # A doctor whose schedule lists weekdays with hours sees patients only then.
        "appointments: inside the doctor's weekly schedule",
        # Each doctor's hours by weekday once, joined on the visit's local weekday: reading
        # the JSON and naming the day per appointment took 2.5 times as long at load-1m.
        """WITH hours AS (
             SELECT d.id, coalesce(d.schedule->>'timezone', 'Asia/Riyadh') AS zone,
                    e.key AS day, (e.value->>'start')::time AS opens,
                    (e.value->>'end')::time AS closes
             FROM doctors d CROSS JOIN LATERAL jsonb_each(d.schedule->'days') e
             WHERE jsonb_typeof(d.schedule->'days') = 'object'),
           zones AS (SELECT DISTINCT id, zone FROM hours)
           SELECT (SELECT count(*) FROM appointments a JOIN zones z ON z.id = a.doctor_id
             CROSS JOIN LATERAL (SELECT a.scheduled_at AT TIME ZONE z.zone AS t) l
             CROSS JOIN LATERAL (SELECT l.t + make_interval(mins => a.duration_minutes) AS t) f
             LEFT JOIN hours h ON h.id = a.doctor_id AND h.day = (ARRAY['sunday', 'monday',
                 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'])[
                 extract(dow FROM l.t)::int + 1]
             WHERE h.id IS NULL OR l.t::time < h.opens OR l.t::date <> f.t::date
                OR f.t::time > h.closes)
           + (SELECT count(*) FROM appointments a JOIN doctors d ON d.id = a.doctor_id
              WHERE d.schedule->'days' = '{}'::jsonb)""",
    ),
    Check(
        "appointments: Obstetrics and Gynecology sees women",
        "SELECT count(*) FROM appointments a JOIN doctors d ON d.id = a.doctor_id "
        "JOIN patients p ON p.id = a.patient_id "
        "WHERE d.speciality = 'Obstetrics and Gynecology' AND p.gender IS DISTINCT FROM 'female'",
    ),
    Check(
        "appointments: Pediatrics sees patients under 18",
        "SELECT count(*) FROM appointments a JOIN doctors d ON d.id = a.doctor_id "
        "JOIN patients p ON p.id = a.patient_id WHERE d.speciality = 'Pediatrics' "
        "AND p.date_of_birth <= (a.scheduled_at AT TIME ZONE 'Asia/Riyadh')::date "
        "- interval '18 years'",
    ),
    Check(
        "nothing dated after as_of except future visits and scheduled messages",
        "SELECT (SELECT count(*) FROM users WHERE created_at > %(as_of)s) "
        "+ (SELECT count(*) FROM payments WHERE paid_at > %(as_of)s) "
        "+ (SELECT count(*) FROM insurance_claims WHERE updated_at > %(as_of)s) "
        "+ (SELECT count(*) FROM appointments WHERE created_at > %(as_of)s)",
        needs_as_of=True,
    ),
    *timeline.CHECKS,
)
