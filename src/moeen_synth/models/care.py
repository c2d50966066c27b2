"""Who looks after each patient: the doctor of their latest completed visit (or of any of
their appointments when none is completed yet), found in one pass over the appointments."""

from __future__ import annotations

import numpy as np

from moeen_synth.models.context import Context
from moeen_synth.models.layout import I64, blocks_of
from moeen_synth.models.visits import AppointmentCore


def own_doctors(ctx: Context) -> I64:
    """Per patient, the index of their own doctor; -1 for a patient with no appointment."""

    def build() -> I64:
        n_patients = ctx.counts.patients
        latest = np.full(n_patients, -1, dtype=np.int64)  # start of the latest completed visit
        completed_with = np.full(n_patients, -1, dtype=np.int64)
        booked_with = np.full(n_patients, -1, dtype=np.int64)
        for first, end in blocks_of(ctx.counts.appointments):
            core = AppointmentCore(ctx, np.arange(first, end, dtype=np.int64))
            when = np.where(core.completed, core.start, -1)
            # Each patient's latest completed visit in this block (or any visit, at -1).
            order = np.lexsort((when, core.patient))
            patient = core.patient[order]
            last = order[np.append(patient[1:] != patient[:-1], True)]
            patient, when, doctor = core.patient[last], when[last], core.doctor[last]
            later = when > latest[patient]
            latest[patient[later]] = when[later]
            completed_with[patient[later]] = doctor[later]
            booked_with[patient] = np.where(booked_with[patient] < 0, doctor, booked_with[patient])
        result: I64 = np.where(completed_with >= 0, completed_with, booked_with)
        return result

    result: I64 = ctx.cached("own_doctors", build)
    return result
