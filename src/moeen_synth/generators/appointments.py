"""The appointments table: the visit model's facts of each appointment as a row, with the
diagnosis and prescription in the patient's language."""

from __future__ import annotations

import numpy as np
import polars as pl

from moeen_synth.models.clinical import clinic
from moeen_synth.models.codes import PAYMENT_METHOD, PAYMENT_STATUS, STATUS, TYPE
from moeen_synth.models.columns import ts
from moeen_synth.models.context import DAY, HOUR, MINUTE, Context
from moeen_synth.models.people import patient_people
from moeen_synth.models.slots import SLOT, check_capacity
from moeen_synth.models.visits import AppointmentFacts, appointment_facts


def appointment_count(ctx: Context) -> int:
    check_capacity(ctx)
    return ctx.counts.appointments


def appointment_anchor(ctx: Context, row: int) -> int:
    return row


def appointment_texts(ctx: Context, f: AppointmentFacts) -> tuple[pl.Series, pl.Series]:
    """diagnosis and prescription columns, in the patient's language."""
    texts = clinic(ctx)
    arabic = patient_people(ctx, f.patient).arabic
    done = f.completed & (f.diagnosis >= 0)
    diagnosis = texts.visit_diagnosis.at(arabic, np.where(done, f.diagnosis, -1))
    written = done & f.prescribed
    return diagnosis, texts.visit_prescription.at(arabic, np.where(written, f.medication, -1))


def appointments(ctx: Context, start: int, stop: int) -> pl.DataFrame:
    a = np.arange(start, stop, dtype=np.int64)
    f = appointment_facts(ctx, a)  # from the blocks the tables along the appointments share
    diagnosis, prescription = appointment_texts(ctx, f)
    follow_date = np.where(
        f.follow_up, f.start + ctx.stream("appointments", "fu_days").integers(a, 7, 43) * DAY, -1
    )
    done = STATUS.isin(f.status, "completed", "no_show")
    updated = np.where(
        done,
        f.end + ctx.stream("appointments", "closed").integers(a, 60, HOUR),
        f.created + ctx.stream("appointments", "touched").integers(a, 0, HOUR),
    )
    updated = np.minimum(updated, ctx.as_of)
    updated = np.maximum(updated, f.created)
    return pl.DataFrame(
        {
            "id": ctx.ids("appointments", a),
            "patient_id": ctx.ids("patients", f.patient),
            "doctor_id": ctx.ids("doctors", f.doctor),
            "scheduled_at": ts(f.start),
            "duration_minutes": np.full(len(a), SLOT // MINUTE),
            "type": TYPE.text(f.type),
            "status": STATUS.text(f.status),
            "payment_status": PAYMENT_STATUS.text(f.payment_status),
            "payment_method": PAYMENT_METHOD.text(f.payment_method),
            "notes": pl.Series([None] * len(a), dtype=pl.String),
            "diagnosis": diagnosis,
            "prescription": prescription,
            "follow_up_required": f.follow_up,
            "follow_up_date": ts(follow_date),
            "created_at": ts(f.created),
            "updated_at": ts(updated),
        }
    )
