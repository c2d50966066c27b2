"""Who looks after each patient: the doctor of their first completed visit, and when that
visit ended (a chat about their own care comes after it), found in one pass over the
appointments."""

from __future__ import annotations

import numpy as np

from moeen_synth.models.context import Context
from moeen_synth.models.layout import I64, blocks_of
from moeen_synth.models.visits import AppointmentCore, prepass


def own_doctors(ctx: Context) -> tuple[I64, I64]:
    """Per patient: the index of the doctor of their first completed visit (-1: none yet),
    and the end of that visit (epoch seconds; -1: none)."""

    def earliest(bounds: tuple[int, int]) -> tuple[I64, I64, I64]:
        """Each patient's earliest completed visit in a block: patient, its end, doctor."""
        core = AppointmentCore(ctx, np.arange(*bounds, dtype=np.int64))
        done = core.completed
        patient, ends, doctor = core.patient[done], core.end[done], core.doctor[done]
        order = np.lexsort((ends, patient))
        patient, ends, doctor = patient[order], ends[order], doctor[order]
        head = np.append(True, patient[1:] != patient[:-1]) if len(patient) else done[:0]
        return patient[head], ends[head], doctor[head]

    def build() -> tuple[I64, I64]:
        n_patients = ctx.counts.patients
        first_end = np.full(n_patients, np.iinfo(np.int64).max, dtype=np.int64)
        doctor_of = np.full(n_patients, -1, dtype=np.int64)
        # Blocks made on two threads, taken in block order: of two visits ending at the
        # same second, the one in the earlier block wins, as in one pass.
        for patient, ends, doctor in prepass(earliest, blocks_of(ctx.counts.appointments)):
            earlier = ends < first_end[patient]
            first_end[patient[earlier]] = ends[earlier]
            doctor_of[patient[earlier]] = doctor[earlier]
        seen: I64 = np.where(doctor_of >= 0, first_end, -1)
        return doctor_of, seen

    result: tuple[I64, I64] = ctx.cached("own_doctors", build)
    return result
