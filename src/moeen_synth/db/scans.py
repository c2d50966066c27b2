"""FROM clauses that several checks read: each is scanned and joined once for all of them
(``db.check``). Joins a check needs as inner joins are LEFT JOINs here, so one check's join
never removes another's rows; each check's condition then asks for the rows it joins
(``p.id IS NOT NULL``). Every LEFT JOIN is on a primary key or on one row per key, so no
row is counted twice."""

from __future__ import annotations

WEEKDAYS = "ARRAY['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday']"

# Each appointment with its patient and the patient's user, its doctor, its payments, and
# the doctor's hours on the visit's local weekday (l.t: start, f.t: end, local time). The
# doctor's time zone and hours are read from the JSON once per doctor: per appointment it
# took 2.5 times as long at load-1m.
APPOINTMENTS = f"""appointments a
  LEFT JOIN patients p ON p.id = a.patient_id
  LEFT JOIN users u ON u.id = p.user_id
  LEFT JOIN (
    SELECT id, speciality, coalesce(schedule->>'timezone', 'Asia/Riyadh') AS zone,
           jsonb_typeof(schedule->'days') = 'object' AND schedule->'days' <> '{{}}'::jsonb
             AS has_hours,
           schedule->'days' = '{{}}'::jsonb AS no_days
    FROM doctors) d ON d.id = a.doctor_id
  LEFT JOIN (
    SELECT appointment_id, bool_or(status = 'completed') AS completed,
           bool_or(status = 'refunded') AS refunded
    FROM payments GROUP BY appointment_id) pay ON pay.appointment_id = a.id
  CROSS JOIN LATERAL (SELECT a.scheduled_at AT TIME ZONE d.zone AS t) l
  CROSS JOIN LATERAL (SELECT l.t + make_interval(mins => a.duration_minutes) AS t) f
  LEFT JOIN (
    SELECT dd.id, e.key AS day, (e.value->>'start')::time AS opens,
           (e.value->>'end')::time AS closes
    FROM doctors dd CROSS JOIN LATERAL jsonb_each(dd.schedule->'days') e
    WHERE jsonb_typeof(dd.schedule->'days') = 'object') h
    ON h.id = a.doctor_id AND h.day = ({WEEKDAYS})[extract(dow FROM l.t)::int + 1]"""

# Each payment (p) with its appointment (a).
PAYMENTS = "payments p LEFT JOIN appointments a ON a.id = p.appointment_id"

# Each claim (c) with its appointment (a) and its patient (pt).
CLAIMS = """insurance_claims c
  LEFT JOIN appointments a ON a.id = c.appointment_id
  LEFT JOIN patients pt ON pt.id = c.patient_id"""

# Each audit entry (l) with the appointment or payment it is about or records (a, p) and
# its user (u).
AUDIT = """audit_logs l
  LEFT JOIN appointments a ON a.id = l.entity_id
    AND (l.entity_type = 'appointment' OR l.action = 'appointment.created')
  LEFT JOIN payments p ON p.id = l.entity_id
    AND (l.entity_type = 'payment' OR l.action = 'payment.completed')
  LEFT JOIN users u ON u.id = l.user_id"""

# Patients (p) and doctors (d) with their users (u).
PATIENT_USERS = "patients p JOIN users u ON u.id = p.user_id"
DOCTOR_USERS = "doctors d JOIN users u ON u.id = d.user_id"


def riyadh_day(column: str) -> str:
    return f"(({column} AT TIME ZONE 'Asia/Riyadh')::date)"
