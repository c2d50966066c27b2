"""Clinical content: diagnoses that fit the doctor's speciality and the patient, medicines for
them, lab results with units and ranges, and the medical records of completed visits."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import polars as pl

from moeen_synth.generators.base import DAY, I64, MINUTE, BlockPrefix, Context, Labels, ts
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
        groups = []
        for spec in v.specialities:
            for lo, hi in AGE_BANDS:
                for sex in ("male", "female"):
                    fits = [
                        i
                        for i, r in enumerate(v.diagnoses)
                        if spec["code"] in split_list(r["specialities"])
                        and r["sex"] in ("any", sex)
                    ]
                    whole = [
                        i
                        for i in fits
                        if int(v.diagnoses[i]["min_age"]) <= lo
                        and int(v.diagnoses[i]["max_age"]) >= hi
                    ]
                    partly = [
                        i
                        for i in fits
                        if int(v.diagnoses[i]["min_age"]) <= hi
                        and int(v.diagnoses[i]["max_age"]) >= lo
                    ]
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
        self.icd = pl.Series([r["icd10"] for r in v.diagnoses])
        self.dx_name = {lg: pl.Series([r[f"name_{lg}"] for r in v.diagnoses]) for lg in LANGUAGES}
        self.generic = {
            lg: pl.Series([m[f"generic_{lg}"] for m in v.medications]) for lg in LANGUAGES
        }
        self.med_text = {
            lg: pl.Series(
                [
                    f"{m[f'generic_{lg}']} {m['strength']} {m[f'form_{lg}']} - {m[f'dosing_{lg}']}"
                    for m in v.medications
                ]
            )
            for lg in LANGUAGES
        }
        self.lab_name = {lg: pl.Series([t[f"name_{lg}"] for t in v.lab_tests]) for lg in LANGUAGES}
        self.lab_code = pl.Series([t["code"].lower() for t in v.lab_tests])
        self.lab_unit = pl.Series([t["unit"] for t in v.lab_tests])
        self.lab_low = np.array([float(t["ref_low"]) for t in v.lab_tests])
        self.lab_high = np.array([float(t["ref_high"]) for t in v.lab_tests])
        self.lab_decimals = np.array([int(t["decimals"]) for t in v.lab_tests], dtype=np.int64)
        self.label = {
            kind: {lg: v.text(f"record.{kind}", lg) for lg in LANGUAGES}
            for kind in ("diagnosis", "prescription", "lab_result")
        }
        self.confidential = np.array([s["code"] == "PSY" for s in v.specialities])


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


def _by_language(
    arabic: npt.NDArray[np.bool_], series: dict[str, pl.Series], idx: I64
) -> pl.Series:
    """series[language].gather(idx), row by row in each row's language."""
    safe = np.maximum(idx, 0)
    frame = pl.DataFrame(
        {"m": arabic, "ar": series["ar"].gather(safe), "en": series["en"].gather(safe)}
    )
    return frame.select(pl.when("m").then("ar").otherwise("en")).to_series()


def appointment_texts(ctx: Context, f: AppointmentFacts) -> tuple[pl.Series, pl.Series]:
    """diagnosis and prescription columns, in the patient's language."""
    c = clinic(ctx)
    arabic = patient_people(ctx, f.patient).arabic
    frame = pl.DataFrame(
        {
            "done": f.completed & (f.diagnosis >= 0),
            "rx": has_prescription(f),
            "name": _by_language(arabic, c.dx_name, f.diagnosis),
            "icd": c.icd.gather(np.maximum(f.diagnosis, 0)),
            "med": _by_language(arabic, c.med_text, f.medication),
        }
    )
    out = frame.select(
        pl.when("done")
        .then(pl.concat_str(["name", pl.lit(" ("), "icd", pl.lit(")")]))
        .alias("diagnosis"),
        pl.when(pl.col("done") & pl.col("rx")).then("med").alias("prescription"),
    )
    return out["diagnosis"], out["prescription"]


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


def _on(rows: npt.NDArray[np.bool_], make: Callable[[], pl.Series]) -> pl.Series:
    """A string column with ``make()``'s values at ``rows`` and NULL elsewhere."""
    out = pl.repeat(None, len(rows), dtype=pl.String, eager=True)
    return out.scatter(np.flatnonzero(rows), make()) if rows.any() else out


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
    labels = pl.Series(
        [c.label[k][lg] for k in RECORD_TYPE.names for lg in ("en", "ar")], dtype=pl.String
    )
    frame = pl.DataFrame(
        {
            "kind": RECORD_TYPE.text(kind),
            "label": labels.gather(kind * 2 + arabic),
            "dx": _by_language(arabic, c.dx_name, f.diagnosis),
            "icd": c.icd.gather(np.maximum(f.diagnosis, 0)),
            "generic": _by_language(arabic, c.generic, f.medication),
            "med": _by_language(arabic, c.med_text, f.medication),
            "lab": _by_language(arabic, c.lab_name, test),
            "unit": c.lab_unit.gather(test),
            # formatted for the lab rows only (the others never show them)
            "value": _on(is_lab, lambda: _fixed(value[is_lab], dec[is_lab])),
            "lo": _on(is_lab, lambda: _fixed(lo[is_lab], dec[is_lab])),
            "hi": _on(is_lab, lambda: _fixed(hi[is_lab], dec[is_lab])),
            "code": c.lab_code.gather(test),
            "row": pl.Series(rows + 1).cast(pl.String),
            "patient": ctx.ids("patients", f.patient),
        }
    )
    k = pl.col("kind")
    frame = frame.with_columns(
        pl.concat_str([pl.lit("lab-"), "code", pl.lit("-"), "row", pl.lit(".pdf")]).alias("file")
    )
    text = frame.select(
        pl.when(k == "diagnosis")
        .then(pl.concat_str(["label", pl.lit(": "), "dx"]))
        .when(k == "prescription")
        .then(pl.concat_str(["label", pl.lit(": "), "generic"]))
        .otherwise(pl.concat_str(["label", pl.lit(": "), "lab"]))
        .alias("title"),
        pl.when(k == "diagnosis")
        .then(pl.concat_str([pl.lit("ICD-10 "), "icd", pl.lit(": "), "dx"]))
        .when(k == "prescription")
        .then("med")
        .otherwise(
            pl.concat_str(
                [
                    "lab",
                    pl.lit(": "),
                    "value",
                    pl.lit(" "),
                    "unit",
                    pl.lit(" ("),
                    "lo",
                    pl.lit("-"),
                    "hi",
                    pl.lit(")"),
                ]
            )
        )
        .alias("description"),
        pl.when(k == "lab_result")
        .then(pl.concat_str([pl.lit("medical-records/"), "patient", pl.lit("/"), "file"]))
        .alias("file_path"),
        pl.when(k == "lab_result").then("file").alias("file_name"),
    )
    created = np.minimum(
        f.end + s("medical_records", "written").integers(rows, MINUTE, 90 * MINUTE), ctx.as_of
    )
    size = s("medical_records", "size").integers(rows, 40_000, 900_000)
    return pl.DataFrame(
        {
            "id": ctx.ids("medical_records", rows),
            "patient_id": frame["patient"],
            "doctor_id": ctx.ids("doctors", f.doctor),
            "appointment_id": ctx.ids("appointments", parent),
            "record_type": frame["kind"],
            "title": text["title"],
            "description": text["description"],
            "file_path": text["file_path"],
            "file_name": text["file_name"],
            "file_size": pl.Series(size).set(pl.Series(~is_lab), None),
            "mime_type": pl.repeat("application/pdf", len(rows), eager=True).set(
                pl.Series(~is_lab), None
            ),
            "is_confidential": c.confidential[spec],
            "created_at": ts(created),
            "updated_at": ts(created),
        }
    )
