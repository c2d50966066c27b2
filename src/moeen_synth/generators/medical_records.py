"""The medical records of completed visits: a diagnosis, a prescription where one was
written, a lab result with its value, unit and range where a test was done."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import polars as pl

from moeen_synth.models.clinical import RECORD_TYPE, clinic, fixed_point, pick_in_group
from moeen_synth.models.columns import ts
from moeen_synth.models.context import MINUTE, Context
from moeen_synth.models.doctors import doctor_facts
from moeen_synth.models.layout import I64, BlockPrefix
from moeen_synth.models.people import patient_people
from moeen_synth.models.visits import AppointmentFacts, appointment_facts, child_layout


def record_counts(facts: AppointmentFacts) -> I64:
    """Records per visit: a diagnosis, a prescription and a lab result for completed ones."""
    count: I64 = (
        facts.completed.astype(np.int64) + facts.prescribed + (facts.completed & facts.has_lab)
    )
    return count


CENSUS = {"medical_records": record_counts}  # children per appointment (models.visits)


def record_index(ctx: Context) -> BlockPrefix:
    return child_layout(ctx, "medical_records")


def medical_records(ctx: Context, start: int, stop: int) -> pl.DataFrame:
    lookups = clinic(ctx)
    stream = ctx.stream
    rows = np.arange(start, stop, dtype=np.int64)
    parent, ordinal = record_index(ctx).locate(rows)
    facts = appointment_facts(ctx, parent)
    kind = _record_types(ordinal, facts.prescribed)
    arabic = patient_people(ctx, facts.patient).arabic
    spec = doctor_facts(ctx).spec[facts.doctor]
    test = pick_in_group(lookups.labs, spec, stream("medical_records", "lab").uniform(rows))
    is_lab = kind == RECORD_TYPE.lab_result
    # A row's title and, but for lab results, its description depend on the vocabulary
    # alone: one gather each from texts made once (Clinic).
    vocab_index = np.choose(
        kind, [np.maximum(facts.diagnosis, 0), np.maximum(facts.medication, 0), test]
    )
    title = lookups.record_titles.at(kind, arabic, vocab_index)
    patient = ctx.ids("patients", facts.patient)
    description = lookups.record_descriptions.at(kind, arabic, np.where(is_lab, -1, vocab_index))
    description, file_path, file_name = _lab_reports(
        ctx, rows, test, arabic, patient, is_lab, description
    )
    created = np.minimum(
        facts.end + stream("medical_records", "written").integers(rows, MINUTE, 90 * MINUTE),
        ctx.as_of,
    )
    size = stream("medical_records", "size").integers(rows, 40_000, 900_000)
    return pl.DataFrame(
        {
            "id": ctx.ids("medical_records", rows),
            "patient_id": patient,
            "doctor_id": ctx.ids("doctors", facts.doctor),
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
            "is_confidential": lookups.confidential[spec],
            "created_at": ts(created),
            "updated_at": ts(created),
        }
    )


def _record_types(ordinal: I64, prescribed: npt.NDArray[np.bool_]) -> npt.NDArray[np.int8]:
    """A visit's records in order: its diagnosis, its prescription if one was written, then
    its lab result."""
    second = np.where(prescribed, RECORD_TYPE.prescription, RECORD_TYPE.lab_result)
    return np.where(
        ordinal == 0, RECORD_TYPE.diagnosis, np.where(ordinal == 1, second, RECORD_TYPE.lab_result)
    ).astype(np.int8)


def _lab_reports(
    ctx: Context,
    rows: I64,
    test: I64,
    arabic: npt.NDArray[np.bool_],
    patient: pl.Series,
    is_lab: npt.NDArray[np.bool_],
    description: pl.Series,
) -> tuple[pl.Series, pl.Series, pl.Series]:
    """(description, file_path, file_name) of each record: a lab result reads its test's
    value, unit and range, and has a PDF report filed under the patient; other records keep
    their ``description`` and have no file."""
    lookups = clinic(ctx)
    low, high = lookups.lab_low[test], lookups.lab_high[test]
    value = np.maximum(
        0.0, low + (high - low) * (ctx.stream("medical_records", "value").uniform(rows) * 1.4 - 0.2)
    )  # about 3 in 10 out of range
    decimals = lookups.lab_decimals[test]
    lab = np.flatnonzero(is_lab)
    nothing = pl.repeat(None, len(rows), dtype=pl.String, eager=True)
    if not len(lab):
        return description, nothing, nothing
    code = lookups.lab_code.gather(test[lab])
    row_number = pl.Series(rows[lab] + 1).cast(pl.String)
    file_name = "lab-" + code + "-" + row_number + ".pdf"
    described = (
        lookups.lab_before.at(arabic[lab], test[lab])
        + fixed_point(value[lab], decimals[lab])
        + lookups.lab_after.gather(test[lab])
    )
    path = "medical-records/" + patient.gather(lab) + "/" + file_name
    description = description.scatter(lab, described)
    return description, nothing.scatter(lab, path), nothing.clone().scatter(lab, file_name)
