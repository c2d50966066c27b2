"""Checks that every row keeps to the life course of the people and events it is about:
nothing before a person's birth or account, nothing about an event before the event, and an
audit entry at the very time of what it records. Each counts the rows that break its rule."""

from __future__ import annotations

from moeen_synth import vocab
from moeen_synth.db import scans
from moeen_synth.db.check import Check, check, row_rule
from moeen_synth.db.scans import riyadh_day


def _own_care_steps() -> str:
    """(flow, step) pairs, as SQL row literals, where a flow about the patient's own care
    names their doctor (chatbot_flows.yaml: about_own_care)."""
    pairs = [
        f"('{flow['name']}', '{step['id']}')"
        for flow in vocab.load().chatbot_flows
        if flow.get("about_own_care")
        for step in flow["steps"]
        if "{doctor_name}" in str(step.get("bot_en", ""))
    ]
    return ", ".join(pairs) or "(NULL, NULL)"


def _after_account(table: str, column: str) -> tuple[str, str]:
    return (f"{table} x JOIN users u ON u.id = x.user_id", f"x.{column} < u.created_at")


CHECKS: tuple[Check, ...] = (
    check(
        "patients: born before their account and their user were made",
        (
            scans.PATIENT_USERS,
            f"p.date_of_birth > {riyadh_day('p.created_at')} "
            f"OR p.date_of_birth > {riyadh_day('u.created_at')}",
        ),
    ),
    check(
        "appointments: booked and held after the patient's birth",
        (
            scans.APPOINTMENTS,
            f"{riyadh_day('a.scheduled_at')} < p.date_of_birth "
            f"OR {riyadh_day('a.created_at')} < p.date_of_birth",
        ),
    ),
    check(
        "users: nothing a user does before their account (logins, uploads, chats, audit, notices)",
        ("users", "last_login < created_at"),
        _after_account("file_uploads", "created_at"),
        _after_account("chatbot_conversations", "started_at"),
        (scans.AUDIT, "l.created_at < u.created_at"),
        _after_account("notifications", "created_at"),
    ),
    row_rule(
        "patients: activated after the account was made", "patients", "activation_date < created_at"
    ),
    check(
        "audit_logs: an entry carries the time of the event it records",
        (
            scans.AUDIT,
            "(l.action = 'appointment.created' AND l.created_at <> a.created_at) "
            "OR (l.action = 'payment.completed' AND l.created_at <> p.paid_at)",
        ),
    ),
    check(
        "payments and claims: after the booking; claims submitted after the visit",
        (scans.PAYMENTS, "p.paid_at < a.created_at OR p.created_at < a.created_at"),
        (
            scans.CLAIMS,
            "c.created_at < a.created_at "
            "OR c.submitted_at < a.scheduled_at + make_interval(mins => a.duration_minutes)",
        ),
    ),
    check(
        "notifications: made after the appointment, payment or claim they tell of",
        (
            """notifications n
               JOIN appointments a ON a.id = (n.metadata->>'appointment_id')::uuid
               LEFT JOIN payments p ON n.metadata->>'template' = 'payment_confirmation'
                                   AND p.appointment_id = a.id AND p.status = 'completed'
               LEFT JOIN insurance_claims c ON n.metadata->>'template' = 'claim_status_update'
                                           AND c.appointment_id = a.id""",
            "n.created_at < a.created_at OR n.scheduled_at < p.paid_at "
            "OR n.scheduled_at < greatest(c.submitted_at, c.approved_at, c.paid_at)",
        ),
    ),
    check(
        "crm_activities: after their lead was made, completed after being scheduled",
        (
            "crm_activities x JOIN crm_leads l ON l.id = x.lead_id",
            "x.created_at < l.created_at OR x.completed_at < x.scheduled_at "
            "OR (x.status = 'completed') <> (x.completed_at IS NOT NULL)",
        ),
    ),
    check(
        "reports and conversations: end after they start, made after their author's account",
        (
            "reports r JOIN users u ON u.id = r.generated_by",
            "r.expires_at <= r.generated_at OR r.generated_at < u.created_at",
        ),
        ("chatbot_conversations", "ended_at < started_at"),
    ),
    check(
        "chatbot: a flow about the patient's own care names a doctor the patient has seen",
        (
            """chatbot_messages m
               JOIN chatbot_conversations c ON c.id = m.conversation_id
               JOIN chatbot_flows f ON f.id = c.flow_id
               JOIN patients p ON p.user_id = c.user_id""",
            f"""m.sender_type = 'bot'
                AND (f.name, m.metadata->>'step') IN ({_own_care_steps()})
                AND NOT EXISTS (
                  SELECT 1 FROM appointments a JOIN doctors d ON d.id = a.doctor_id
                  JOIN users du ON du.id = d.user_id
                  WHERE a.patient_id = p.id
                    AND (strpos(m.message, du.profile->>'fullNameAr') > 0
                         OR strpos(m.message, du.profile->>'fullNameEn') > 0))""",
        ),
    ),
)
