"""Clinical content: diagnoses that fit the doctor's speciality and the patient, medicines for
them, lab results with units and ranges, and the medical records of completed visits."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import polars as pl

from moeen_synth.generators.base import DAY, I64, MINUTE, BlockPrefix, Context, ts
from moeen_synth.generators.people import People, doctor_facts, layout
from moeen_synth.generators.scheduling import AppointmentFacts
from moeen_synth.vocab import split_list

AGE_BANDS = ((0, 1), (2, 11), (12, 17), (18, 39), (40, 64), (65, 120))


def _band(age: float) -> int:
    for i, (_, hi) in enumerate(AGE_BANDS):
        if age < hi + 1:
            return i
    return len(AGE_BANDS) - 1


def _diagnosis_pool(ctx: Context, spec: int, band: int, sex: str) -> list[int]:
    key = f"dx:{spec}:{band}:{sex}"

    def build() -> list[int]:
        v = ctx.vocab
        code = v.specialities[spec]["code"]
        lo, hi = AGE_BANDS[band]
        fits = [
            i
            for i, r in enumerate(v.diagnoses)
            if code in split_list(r["specialities"]) and r["sex"] in ("any", sex)
        ]
        whole = [
            i
            for i in fits
            if int(v.diagnoses[i]["min_age"]) <= lo and int(v.diagnoses[i]["max_age"]) >= hi
        ]
        partly = [
            i
            for i in fits
            if int(v.diagnoses[i]["min_age"]) <= hi and int(v.diagnoses[i]["max_age"]) >= lo
        ]
        return whole or partly or fits

    result: list[int] = ctx.cached(key, build)
    return result


def patient_people(ctx: Context, patient: I64) -> People:
    return People(ctx, patient + layout(ctx).offset("patient"))


def diagnosis_for(ctx: Context, f: AppointmentFacts) -> I64:
    people = patient_people(ctx, f.patient)
    spec = doctor_facts(ctx).spec[f.doctor]
    age = (f.start / DAY - people.birth_day) / 365.25
    u = ctx.stream("appointments", "diagnosis").uniform(f.a).tolist()
    out = np.empty(len(f.a), dtype=np.int64)
    for i, (s, ag, fem, x) in enumerate(
        zip(spec.tolist(), age.tolist(), people.female.tolist(), u, strict=True)
    ):
        pool = _diagnosis_pool(ctx, s, _band(ag), "female" if fem else "male")
        out[i] = pool[int(x * len(pool))] if pool else -1
    return out


def medication_for(ctx: Context, f: AppointmentFacts) -> I64:
    from moeen_synth.generators.people import _medications_by_icd

    by_icd = _medications_by_icd(ctx)
    u = ctx.stream("appointments", "medication").uniform(f.a).tolist()
    out = np.full(len(f.a), -1, dtype=np.int64)
    for i, (d, x) in enumerate(zip(f.diagnosis.tolist(), u, strict=True)):
        if d >= 0:
            options = by_icd.get(ctx.vocab.diagnoses[d]["icd10"], [])
            if options:
                out[i] = options[int(x * len(options))]
    return out


def has_prescription(f: AppointmentFacts) -> npt.NDArray[np.bool_]:
    rx: npt.NDArray[np.bool_] = f.has_rx & (f.medication >= 0)
    return rx


def _languages(ctx: Context, f: AppointmentFacts) -> list[str]:
    languages: list[str] = patient_people(ctx, f.patient).language.to_list()
    return languages


def appointment_texts(
    ctx: Context, f: AppointmentFacts
) -> tuple[list[str | None], list[str | None], list[str | None]]:
    """diagnosis, prescription and notes columns, in the patient's language."""
    v = ctx.vocab
    langs = _languages(ctx, f)
    completed = (f.status == "completed").tolist()
    rx = has_prescription(f).tolist()
    diagnosis: list[str | None] = []
    prescription: list[str | None] = []
    notes: list[str | None] = []
    for done, d, m, r, lg in zip(
        completed, f.diagnosis.tolist(), f.medication.tolist(), rx, langs, strict=True
    ):
        if not done or d < 0:
            diagnosis.append(None)
            prescription.append(None)
            notes.append(None)
            continue
        row = v.diagnoses[d]
        diagnosis.append(f"{row[f'name_{lg}']} ({row['icd10']})")
        prescription.append(medication_text(ctx, m, lg) if r else None)
        notes.append(None)
    return diagnosis, prescription, notes


def medication_text(ctx: Context, m: int, lang: str) -> str:
    med = ctx.vocab.medications[m]
    name = f"{med[f'generic_{lang}']} {med['strength']} {med[f'form_{lang}']}"
    return f"{name} - {med[f'dosing_{lang}']}"


# -- medical records ------------------------------------------------------------------------
def record_index(ctx: Context) -> BlockPrefix:
    """Records per completed visit: a diagnosis, then a prescription and a lab result."""

    def counts(a: I64) -> I64:
        f = AppointmentFacts(ctx, a)
        n: I64 = f.completed.astype(np.int64) + has_prescription(f) + (f.completed & f.has_lab)
        return n

    result: BlockPrefix = ctx.cached(
        "record_index",
        lambda: BlockPrefix(ctx.counts.appointments, counts),
    )
    return result


def record_count(ctx: Context) -> int:
    return record_index(ctx).total


def _lab_for(ctx: Context, spec: int, x: float) -> int:
    code = ctx.vocab.specialities[spec]["code"]
    tests = [i for i, r in enumerate(ctx.vocab.lab_tests) if code in split_list(r["specialities"])]
    tests = tests or list(range(len(ctx.vocab.lab_tests)))
    return tests[int(x * len(tests))]


def medical_records(ctx: Context, start: int, stop: int) -> pl.DataFrame:
    v = ctx.vocab
    rows = np.arange(start, stop, dtype=np.int64)
    parent, ordinal = record_index(ctx).locate(rows)
    f = AppointmentFacts(ctx, parent)
    rx = has_prescription(f)
    kind = np.where(
        ordinal == 0, "diagnosis", np.where((ordinal == 1) & rx, "prescription", "lab_result")
    )
    langs = _languages(ctx, f)
    spec = doctor_facts(ctx).spec[f.doctor]
    s = ctx.stream
    lab_u = s("medical_records", "lab").uniform(rows).tolist()
    val_u = s("medical_records", "value").uniform(rows).tolist()
    size = s("medical_records", "size").integers(rows, 40_000, 900_000).tolist()
    titles: list[str] = []
    descriptions: list[str] = []
    paths: list[str | None] = []
    names: list[str | None] = []
    sizes: list[int | None] = []
    mimes: list[str | None] = []
    for i, (k, lg, d, m) in enumerate(
        zip(kind.tolist(), langs, f.diagnosis.tolist(), f.medication.tolist(), strict=True)
    ):
        label = v.text(f"record.{k}", lg)
        if k == "diagnosis":
            row = v.diagnoses[d]
            titles.append(f"{label}: {row[f'name_{lg}']}")
            descriptions.append(f"ICD-10 {row['icd10']}: {row[f'name_{lg}']}")
            paths.append(None)
            names.append(None)
            sizes.append(None)
            mimes.append(None)
        elif k == "prescription":
            med = v.medications[m]
            titles.append(f"{label}: {med[f'generic_{lg}']}")
            descriptions.append(medication_text(ctx, m, lg))
            paths.append(None)
            names.append(None)
            sizes.append(None)
            mimes.append(None)
        else:
            t = v.lab_tests[_lab_for(ctx, int(spec[i]), lab_u[i])]
            lo, hi = float(t["ref_low"]), float(t["ref_high"])
            value = lo + (hi - lo) * (val_u[i] * 1.4 - 0.2)  # about 3 in 10 out of range
            dec = int(t["decimals"])
            text = f"{t[f'name_{lg}']}: {value:.{dec}f} {t['unit']} ({lo:.{dec}f}-{hi:.{dec}f})"
            titles.append(f"{label}: {t[f'name_{lg}']}")
            descriptions.append(text)
            name = f"lab-{t['code'].lower()}-{rows[i] + 1}.pdf"
            paths.append(f"medical-records/{ctx.ids('patients', f.patient[i : i + 1])[0]}/{name}")
            names.append(name)
            sizes.append(size[i])
            mimes.append("application/pdf")
    created = f.end + s("medical_records", "written").integers(rows, MINUTE, 90 * MINUTE)
    created = np.minimum(created, ctx.as_of)
    confidential = np.array([v.specialities[int(x)]["code"] in ("PSY",) for x in spec.tolist()])
    return pl.DataFrame(
        {
            "id": ctx.ids("medical_records", rows),
            "patient_id": ctx.ids("patients", f.patient),
            "doctor_id": ctx.ids("doctors", f.doctor),
            "appointment_id": ctx.ids("appointments", parent),
            "record_type": kind.tolist(),
            "title": titles,
            "description": descriptions,
            "file_path": paths,
            "file_name": names,
            "file_size": pl.Series(sizes, dtype=pl.Int64),
            "mime_type": mimes,
            "is_confidential": confidential,
            "created_at": ts(created),
            "updated_at": ts(created),
        }
    )
