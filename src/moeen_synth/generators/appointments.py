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


def appointment_texts(ctx: Context, facts: AppointmentFacts) -> tuple[pl.Series, pl.Series]:
    """diagnosis and prescription columns, in the patient's language."""
    texts = clinic(ctx)
    arabic = patient_people(ctx, facts.patient).arabic
    done = facts.completed & (facts.diagnosis >= 0)
    diagnosis = texts.visit_diagnosis.at(arabic, np.where(done, facts.diagnosis, -1))
    written = done & facts.prescribed
    return diagnosis, texts.visit_prescription.at(arabic, np.where(written, facts.medication, -1))


def appointments(ctx: Context, start: int, stop: int) -> pl.DataFrame:
    appointment = np.arange(start, stop, dtype=np.int64)
    # from the blocks the tables along the appointments share
    facts = appointment_facts(ctx, appointment)
    diagnosis, prescription = appointment_texts(ctx, facts)
    follow_days = ctx.stream("appointments", "fu_days").integers(appointment, 7, 43)
    follow_date = np.where(facts.follow_up, facts.start + follow_days * DAY, -1)
    done = STATUS.isin(facts.status, "completed", "no_show")
    updated = np.where(
        done,
        facts.end + ctx.stream("appointments", "closed").integers(appointment, 60, HOUR),
        facts.created + ctx.stream("appointments", "touched").integers(appointment, 0, HOUR),
    )
    updated = np.minimum(updated, ctx.as_of)
    updated = np.maximum(updated, facts.created)
    count = len(appointment)
    return pl.DataFrame(
        {
            "id": ctx.ids("appointments", appointment),
            "patient_id": ctx.ids("patients", facts.patient),
            "doctor_id": ctx.ids("doctors", facts.doctor),
            "scheduled_at": ts(facts.start),
            "duration_minutes": np.full(count, SLOT // MINUTE),
            "type": TYPE.text(facts.type),
            "status": STATUS.text(facts.status),
            "payment_status": PAYMENT_STATUS.text(facts.payment_status),
            "payment_method": PAYMENT_METHOD.text(facts.payment_method),
            "notes": pl.Series([None] * count, dtype=pl.String),
            "diagnosis": diagnosis,
            "prescription": prescription,
            "follow_up_required": facts.follow_up,
            "follow_up_date": ts(follow_date),
            "created_at": ts(facts.created),
            "updated_at": ts(updated),
        }
    )
