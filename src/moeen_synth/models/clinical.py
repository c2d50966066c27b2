"""Clinical choices and texts: diagnoses that fit the doctor's speciality and the patient,
medicines for them, lab tests with units and ranges, and every record text that depends on
the vocabulary alone, made once per run in both languages."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import polars as pl

from moeen_synth.models.bilingual import Bilingual
from moeen_synth.models.columns import Labels, gather_or_null
from moeen_synth.models.context import DAY, Context
from moeen_synth.models.doctors import doctor_facts
from moeen_synth.models.people import patient_people
from moeen_synth.vocab import split_list

I64 = npt.NDArray[np.int64]

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


def pick_in_group(ragged: tuple[I64, I64, I64], group: I64, u: npt.NDArray[np.float64]) -> I64:
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
        low = fixed_point(self.lab_low, self.lab_decimals).to_list()
        high = fixed_point(self.lab_high, self.lab_decimals).to_list()

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


def diagnosis_for(ctx: Context, a: I64, patient: I64, doctor: I64, start: I64) -> I64:
    """For appointments ``a``: a diagnosis the doctor's speciality sees, fitting the
    patient's age at the visit and sex."""
    people = patient_people(ctx, patient)
    spec = doctor_facts(ctx).spec[doctor]
    age = (start / DAY - people.birth_day) / 365.25
    band = np.searchsorted(_BAND_STARTS, age, side="right").astype(np.int64)
    group = (spec * len(AGE_BANDS) + band) * 2 + people.female.astype(np.int64)
    return pick_in_group(
        clinic(ctx).diagnoses, group, ctx.stream("appointments", "diagnosis").uniform(a)
    )


def medication_for(ctx: Context, a: I64, diagnosis: I64) -> I64:
    """For appointments ``a``: a medicine for the visit's diagnosis (-1 if it has none)."""
    picked = pick_in_group(
        clinic(ctx).medications,
        np.maximum(diagnosis, 0),
        ctx.stream("appointments", "medication").uniform(a),
    )
    return np.where(diagnosis >= 0, picked, -1)


def fixed_point(values: npt.NDArray[np.float64], decimals: I64) -> pl.Series:
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
