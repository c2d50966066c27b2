"""Clinical content: diagnoses that fit the doctor's speciality and the patient, medicines for
them, lab results with units and ranges, and the medical records of completed visits."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import polars as pl

from moeen_synth.generators.base import (
    DAY,
    I64,
    MINUTE,
    Bilingual,
    BlockPrefix,
    Context,
    Labels,
    gather_or_null,
    ts,
)
from moeen_synth.generators.people import People, doctor_facts, layout
from moeen_synth.generators.scheduling import AppointmentFacts, appointment_facts
from moeen_synth.vocab import split_list

AGE_BANDS = ((0, 1), (2, 11), (12, 17), (18, 39), (40, 64), (65, 120))
_BAND_STARTS = np.array([lo for lo, _ in AGE_BANDS[1:]], dtype=np.float64)
LANGUAGES = ("ar", "en")
RECORD_TYPE = Labels("diagnosis", "prescription", "lab_result")


def _ragged(groups: list[list[int]]) -> tuple[I64, I64, I64]:
    """Lists of indices as (flat, start, count) arrays for vectorised picking."""
    counts = np.array([len(g) for g in groups], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    flat = np.array([i for g in groups for i in g], dtype=np.int64)
    return flat, starts, counts


def _pick(ragged: tuple[I64, I64, I64], group: I64, u: npt.NDArray[np.float64]) -> I64:
    """For each row, a member of its group chosen by ``u`` (-1 where the group is empty)."""
    flat, starts, counts = ragged
    n = counts[group]
    at = starts[group] + (u * np.maximum(n, 1)).astype(np.int64)
    return np.where(n > 0, flat[np.minimum(at, max(len(flat) - 1, 0))], -1)


class Clinic:
    """Vocabulary lookups for clinical rows, built once per run."""

    def __init__(self, ctx: Context) -> None:
        v = ctx.vocab
        # Diagnoses a speciality sees, by the patient's age band and sex: those fitting the
        # whole band if any, else the band in part, else any age.
        seen_by = [set(split_list(r["specialities"])) for r in v.diagnoses]
        ages = [(int(r["min_age"]), int(r["max_age"])) for r in v.diagnoses]
        groups = []
        for spec in v.specialities:
            sees = [i for i, codes in enumerate(seen_by) if spec["code"] in codes]
            for lo, hi in AGE_BANDS:
                for sex in ("male", "female"):
                    fits = [i for i in sees if v.diagnoses[i]["sex"] in ("any", sex)]
                    whole = [i for i in fits if ages[i][0] <= lo and ages[i][1] >= hi]
                    partly = [i for i in fits if ages[i][0] <= hi and ages[i][1] >= lo]
                    groups.append(whole or partly or fits)
        self.diagnoses = _ragged(groups)
        by_icd: dict[str, list[int]] = {}
        for i, r in enumerate(v.medications):
            for code in split_list(r["icd10"]):
                by_icd.setdefault(code, []).append(i)
        self.medications = _ragged([by_icd.get(r["icd10"], []) for r in v.diagnoses])
        codes = [s["code"] for s in v.specialities]
        tests = [
            [i for i, t in enumerate(v.lab_tests) if c in split_list(t["specialities"])]
            for c in codes
        ]
        self.labs = _ragged([t or list(range(len(v.lab_tests))) for t in tests])
        self.lab_code = pl.Series([t["code"].lower() for t in v.lab_tests])
        self.lab_low = np.array([float(t["ref_low"]) for t in v.lab_tests])
        self.lab_high = np.array([float(t["ref_high"]) for t in v.lab_tests])
        self.lab_decimals = np.array([int(t["decimals"]) for t in v.lab_tests], dtype=np.int64)
        self.label = {
            kind: {lg: v.text(f"record.{kind}", lg) for lg in LANGUAGES}
            for kind in ("diagnosis", "prescription", "lab_result")
        }
        self.confidential = np.array([s["code"] == "PSY" for s in v.specialities])
        # Every text of a record that depends on the vocabulary alone, made once per run in
        # both languages; a row's text is then one gather (see ``Bilingual``).
        dx, med, lab = v.diagnoses, v.medications, v.lab_tests
        low = _fixed(self.lab_low, self.lab_decimals).to_list()
        high = _fixed(self.lab_high, self.lab_decimals).to_list()

        def texts(make: Callable[[str, int], str], n: int) -> Bilingual:
            return Bilingual({lg: [make(lg, i) for i in range(n)] for lg in LANGUAGES})

        label = self.label
        self.visit_diagnosis = texts(
            lambda lg, i: f"{dx[i][f'name_{lg}']} ({dx[i]['icd10']})", len(dx)
        )
        self.visit_prescription = texts(lambda lg, i: _med_text(med[i], lg), len(med))
        self.record_titles = ByKind(
            [
                texts(lambda lg, i: f"{label['diagnosis'][lg]}: {dx[i][f'name_{lg}']}", len(dx)),
                texts(
                    lambda lg, i: f"{label['prescription'][lg]}: {med[i][f'generic_{lg}']}",
                    len(med),
                ),
                texts(lambda lg, i: f"{label['lab_result'][lg]}: {lab[i][f'name_{lg}']}", len(lab)),
            ]
        )
        self.record_descriptions = ByKind(
            [
                texts(lambda lg, i: f"ICD-10 {dx[i]['icd10']}: {dx[i][f'name_{lg}']}", len(dx)),
                self.visit_prescription,
                None,  # a lab result's description holds its value
            ]
        )
        # A lab result reads "<test>: <value> <unit> (<low>-<high>)"; all but the value is
        # the test's.
        self.lab_before = texts(lambda lg, i: f"{lab[i][f'name_{lg}']}: ", len(lab))
        self.lab_after = pl.Series(
            [f" {t['unit']} ({low[i]}-{high[i]})" for i, t in enumerate(lab)]
        )


def _med_text(m: dict[str, str], lg: str) -> str:
    return f"{m[f'generic_{lg}']} {m['strength']} {m[f'form_{lg}']} - {m[f'dosing_{lg}']}"


class ByKind:
    """Bilingual texts for each record type (in RECORD_TYPE order) in one column, so that
    rows of mixed types get theirs in a single gather."""

    def __init__(self, parts: list[Bilingual | None]) -> None:
        self.size = np.array([p.size if p else 0 for p in parts], dtype=np.int64)
        self.base = np.concatenate([[0], np.cumsum(2 * self.size)[:-1]]).astype(np.int64)
        self.series = pl.concat([p.series for p in parts if p is not None])

    def at(self, kind: npt.NDArray[np.int8], arabic: npt.NDArray[np.bool_], idx: I64) -> pl.Series:
        """Text ``idx`` of each row's type in its language; NULL where ``idx`` is -1."""
        k = kind.astype(np.int64)
        return gather_or_null(
            self.series, np.where(idx >= 0, self.base[k] + idx + arabic * self.size[k], -1)
        )


def clinic(ctx: Context) -> Clinic:
    result: Clinic = ctx.cached("clinic", lambda: Clinic(ctx))
    return result


def patient_people(ctx: Context, patient: I64) -> People:
    return People(ctx, patient + layout(ctx).offset("patient"))


def diagnosis_for(ctx: Context, f: AppointmentFacts) -> I64:
    """A diagnosis the doctor's speciality sees, fitting the patient's age and sex."""
    people = patient_people(ctx, f.patient)
    spec = doctor_facts(ctx).spec[f.doctor]
    age = (f.start / DAY - people.birth_day) / 365.25
    band = np.searchsorted(_BAND_STARTS, age, side="right").astype(np.int64)
    group = (spec * len(AGE_BANDS) + band) * 2 + people.female.astype(np.int64)
    return _pick(clinic(ctx).diagnoses, group, ctx.stream("appointments", "diagnosis").uniform(f.a))


def medication_for(ctx: Context, f: AppointmentFacts) -> I64:
    """A medicine for the visit's diagnosis (-1 if the diagnosis has none)."""
    d = f.diagnosis
    picked = _pick(
        clinic(ctx).medications,
        np.maximum(d, 0),
        ctx.stream("appointments", "medication").uniform(f.a),
    )
    return np.where(d >= 0, picked, -1)


def has_prescription(f: AppointmentFacts) -> npt.NDArray[np.bool_]:
    rx: npt.NDArray[np.bool_] = f.has_rx & (f.medication >= 0)
    return rx


def appointment_texts(ctx: Context, f: AppointmentFacts) -> tuple[pl.Series, pl.Series]:
    """diagnosis and prescription columns, in the patient's language."""
    c = clinic(ctx)
    arabic = patient_people(ctx, f.patient).arabic
    done = f.completed & (f.diagnosis >= 0)
    diagnosis = c.visit_diagnosis.at(arabic, np.where(done, f.diagnosis, -1))
    rx = done & has_prescription(f)
    return diagnosis, c.visit_prescription.at(arabic, np.where(rx, f.medication, -1))


# -- medical records ------------------------------------------------------------------------
def record_counts(f: AppointmentFacts) -> I64:
    """Records per visit: a diagnosis, a prescription and a lab result for completed ones."""
    n: I64 = f.completed.astype(np.int64) + has_prescription(f) + (f.completed & f.has_lab)
    return n


def record_index(ctx: Context) -> BlockPrefix:
    from moeen_synth.generators.scheduling import appointment_children

    return appointment_children(ctx)["medical_records"]


def record_count(ctx: Context) -> int:
    return record_index(ctx).total


def record_anchor(ctx: Context, row: int) -> int:
    return record_index(ctx).block_end(row)


def _fixed(values: npt.NDArray[np.float64], decimals: I64) -> pl.Series:
    """Numbers as text with a per-row number of decimals."""
    scale = 10**decimals
    scaled = np.round(values * scale).astype(np.int64)
    frame = pl.DataFrame({"i": scaled // scale, "f": scaled % scale, "d": decimals})
    return frame.select(
        pl.when(pl.col("d") > 0)
        .then(
            pl.concat_str(
                [
                    pl.col("i").cast(pl.String),
                    pl.lit("."),
                    pl.col("f").cast(pl.String).str.zfill(pl.col("d")),
                ]
            )
        )
        .otherwise(pl.col("i").cast(pl.String))
    ).to_series()


def medical_records(ctx: Context, start: int, stop: int) -> pl.DataFrame:
    c = clinic(ctx)
    s = ctx.stream
    rows = np.arange(start, stop, dtype=np.int64)
    parent, ordinal = record_index(ctx).locate(rows)
    f = appointment_facts(ctx, parent)
    rx = has_prescription(f)
    kind = np.where(
        ordinal == 0,
        RECORD_TYPE.diagnosis,
        np.where((ordinal == 1) & rx, RECORD_TYPE.prescription, RECORD_TYPE.lab_result),
    ).astype(np.int8)
    arabic = patient_people(ctx, f.patient).arabic
    spec = doctor_facts(ctx).spec[f.doctor]
    test = _pick(c.labs, spec, s("medical_records", "lab").uniform(rows))
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
            + _fixed(value[lab], dec[lab])
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
