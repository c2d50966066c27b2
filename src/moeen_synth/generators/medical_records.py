"""The medical records of completed visits: a diagnosis, a prescription where one was
written, a lab result with its value, unit and range where a test was done."""

from __future__ import annotations

import numpy as np
import polars as pl

from moeen_synth.models.clinical import RECORD_TYPE, clinic, fixed_point, pick_in_group
from moeen_synth.models.columns import ts
from moeen_synth.models.context import MINUTE, Context
from moeen_synth.models.doctors import doctor_facts
from moeen_synth.models.layout import I64, BlockPrefix
from moeen_synth.models.people import patient_people
from moeen_synth.models.visits import AppointmentFacts, appointment_facts, child_layout


def record_counts(f: AppointmentFacts) -> I64:
    """Records per visit: a diagnosis, a prescription and a lab result for completed ones."""
    n: I64 = f.completed.astype(np.int64) + f.prescribed + (f.completed & f.has_lab)
    return n


CENSUS = {"medical_records": record_counts}  # children per appointment (models.visits)


def record_index(ctx: Context) -> BlockPrefix:
    return child_layout(ctx, "medical_records")


def medical_records(ctx: Context, start: int, stop: int) -> pl.DataFrame:
    c = clinic(ctx)
    s = ctx.stream
    rows = np.arange(start, stop, dtype=np.int64)
    parent, ordinal = record_index(ctx).locate(rows)
    f = appointment_facts(ctx, parent)
    rx = f.prescribed
    kind = np.where(
        ordinal == 0,
        RECORD_TYPE.diagnosis,
        np.where((ordinal == 1) & rx, RECORD_TYPE.prescription, RECORD_TYPE.lab_result),
    ).astype(np.int8)
    arabic = patient_people(ctx, f.patient).arabic
    spec = doctor_facts(ctx).spec[f.doctor]
    test = pick_in_group(c.labs, spec, s("medical_records", "lab").uniform(rows))
    lo, hi = c.lab_low[test], c.lab_high[test]
    value = np.maximum(
        0.0, lo + (hi - lo) * (s("medical_records", "value").uniform(rows) * 1.4 - 0.2)
    )  # about 3 in 10 out of range
    dec = c.lab_decimals[test]
    is_lab = kind == RECORD_TYPE.lab_result
    # A row's title and, but for lab results, its description depend on the vocabulary
    # alone: one gather each from texts made once (Clinic).
    vocab_index = np.choose(kind, [np.maximum(f.diagnosis, 0), np.maximum(f.medication, 0), test])
    title = c.record_titles.at(kind, arabic, vocab_index)
    lab = np.flatnonzero(is_lab)
    patient = ctx.ids("patients", f.patient)
    if len(lab):
        code, row = c.lab_code.gather(test[lab]), pl.Series(rows[lab] + 1).cast(pl.String)
        file_name = "lab-" + code + "-" + row + ".pdf"
        described = (
            c.lab_before.at(arabic[lab], test[lab])
            + fixed_point(value[lab], dec[lab])
            + c.lab_after.gather(test[lab])
        )
        path = "medical-records/" + patient.gather(lab) + "/" + file_name
    description = c.record_descriptions.at(kind, arabic, np.where(is_lab, -1, vocab_index))
    nothing = pl.repeat(None, len(rows), dtype=pl.String, eager=True)
    if len(lab):
        description = description.scatter(lab, described)
        file_path, file_name = nothing.scatter(lab, path), nothing.clone().scatter(lab, file_name)
    else:
        file_path, file_name = nothing, nothing
    created = np.minimum(
        f.end + s("medical_records", "written").integers(rows, MINUTE, 90 * MINUTE), ctx.as_of
    )
    size = s("medical_records", "size").integers(rows, 40_000, 900_000)
    return pl.DataFrame(
        {
            "id": ctx.ids("medical_records", rows),
            "patient_id": patient,
            "doctor_id": ctx.ids("doctors", f.doctor),
            "appointment_id": ctx.ids("appointments", parent),
            "record_type": RECORD_TYPE.text(kind),
            "title": title,
            "description": description,
            "file_path": file_path,
            "file_name": file_name,
            "file_size": pl.Series(size).set(pl.Series(~is_lab), None),
            "mime_type": pl.repeat("application/pdf", len(rows), eager=True).set(
                pl.Series(~is_lab), None
            ),
            "is_confidential": c.confidential[spec],
            "created_at": ts(created),
            "updated_at": ts(created),
        }
    )
