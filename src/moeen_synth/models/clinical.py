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
from moeen_synth.vocab import Vocab, split_list

I64 = npt.NDArray[np.int64]

AGE_BANDS = ((0, 1), (2, 11), (12, 17), (18, 39), (40, 64), (65, 120))
_BAND_STARTS = np.array([youngest for youngest, _ in AGE_BANDS[1:]], dtype=np.float64)
LANGUAGES = ("ar", "en")
RECORD_TYPE = Labels("diagnosis", "prescription", "lab_result")


def _ragged(groups: list[list[int]]) -> tuple[I64, I64, I64]:
    """Lists of indices as (flat, start, count) arrays for vectorised picking."""
    counts = np.array([len(group) for group in groups], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    flat = np.array([index for group in groups for index in group], dtype=np.int64)
    return flat, starts, counts


def pick_in_group(ragged: tuple[I64, I64, I64], group: I64, draw: npt.NDArray[np.float64]) -> I64:
    """For each row, a member of its group chosen by ``draw`` in [0, 1) (-1 where the group
    is empty)."""
    flat, starts, counts = ragged
    size = counts[group]
    at = starts[group] + (draw * np.maximum(size, 1)).astype(np.int64)
    return np.where(size > 0, flat[np.minimum(at, max(len(flat) - 1, 0))], -1)


class Clinic:
    """Vocabulary lookups for clinical rows, built once per run."""

    def __init__(self, ctx: Context) -> None:
        vocab = ctx.vocab
        self.diagnoses = _ragged(_diagnosis_groups(vocab))
        by_icd: dict[str, list[int]] = {}
        for index, row in enumerate(vocab.medications):
            for code in split_list(row["icd10"]):
                by_icd.setdefault(code, []).append(index)
        self.medications = _ragged([by_icd.get(row["icd10"], []) for row in vocab.diagnoses])
        # Lab tests a speciality orders (any test, for one that names none).
        tests = vocab.lab_tests
        by_speciality = [
            [index for index, test in enumerate(tests) if code in split_list(test["specialities"])]
            for code in (speciality["code"] for speciality in vocab.specialities)
        ]
        self.labs = _ragged([found or list(range(len(tests))) for found in by_speciality])
        self.lab_code = pl.Series([test["code"].lower() for test in tests])
        self.lab_low = np.array([float(test["ref_low"]) for test in tests])
        self.lab_high = np.array([float(test["ref_high"]) for test in tests])
        self.lab_decimals = np.array([int(test["decimals"]) for test in tests], dtype=np.int64)
        self.label = {
            kind: {language: vocab.text(f"record.{kind}", language) for language in LANGUAGES}
            for kind in ("diagnosis", "prescription", "lab_result")
        }
        self.confidential = np.array(
            [speciality["code"] == "PSY" for speciality in vocab.specialities]
        )
        self._record_texts(vocab)

    def _record_texts(self, vocab: Vocab) -> None:
        """Every text of a record that depends on the vocabulary alone, made once per run in
        both languages; a row's text is then one gather (see ``Bilingual``)."""
        diagnoses, medications, labs = vocab.diagnoses, vocab.medications, vocab.lab_tests
        low = fixed_point(self.lab_low, self.lab_decimals).to_list()
        high = fixed_point(self.lab_high, self.lab_decimals).to_list()

        def texts(make: Callable[[str, int], str], count: int) -> Bilingual:
            return Bilingual(
                {language: [make(language, i) for i in range(count)] for language in LANGUAGES}
            )

        label = self.label
        self.visit_diagnosis = texts(
            lambda lg, i: f"{diagnoses[i][f'name_{lg}']} ({diagnoses[i]['icd10']})", len(diagnoses)
        )
        self.visit_prescription = texts(
            lambda lg, i: _med_text(medications[i], lg), len(medications)
        )
        self.record_titles = ByKind(
            [
                texts(
                    lambda lg, i: f"{label['diagnosis'][lg]}: {diagnoses[i][f'name_{lg}']}",
                    len(diagnoses),
                ),
                texts(
                    lambda lg, i: f"{label['prescription'][lg]}: {medications[i][f'generic_{lg}']}",
                    len(medications),
                ),
                texts(
                    lambda lg, i: f"{label['lab_result'][lg]}: {labs[i][f'name_{lg}']}", len(labs)
                ),
            ]
        )
        self.record_descriptions = ByKind(
            [
                texts(
                    lambda lg, i: f"ICD-10 {diagnoses[i]['icd10']}: {diagnoses[i][f'name_{lg}']}",
                    len(diagnoses),
                ),
                self.visit_prescription,
                None,  # a lab result's description holds its value
            ]
        )
        # A lab result reads "<test>: <value> <unit> (<low>-<high>)"; all but the value is
        # the test's.
        self.lab_before = texts(lambda lg, i: f"{labs[i][f'name_{lg}']}: ", len(labs))
        self.lab_after = pl.Series(
            [f" {test['unit']} ({low[i]}-{high[i]})" for i, test in enumerate(labs)]
        )


def _diagnosis_groups(vocab: Vocab) -> list[list[int]]:
    """Diagnoses a speciality sees, by the patient's age band and sex (groups in the order
    speciality, age band, sex): those fitting the whole band if any, else the band in part,
    else any age."""
    seen_by = [set(split_list(row["specialities"])) for row in vocab.diagnoses]
    ages = [(int(row["min_age"]), int(row["max_age"])) for row in vocab.diagnoses]
    groups = []
    for spec in vocab.specialities:
        sees = [index for index, codes in enumerate(seen_by) if spec["code"] in codes]
        for youngest, oldest in AGE_BANDS:
            for sex in ("male", "female"):
                fits = [index for index in sees if vocab.diagnoses[index]["sex"] in ("any", sex)]
                whole = [i for i in fits if ages[i][0] <= youngest and ages[i][1] >= oldest]
                partly = [i for i in fits if ages[i][0] <= oldest and ages[i][1] >= youngest]
                groups.append(whole or partly or fits)
    return groups


def _med_text(medication: dict[str, str], language: str) -> str:
    generic, form = medication[f"generic_{language}"], medication[f"form_{language}"]
    return f"{generic} {medication['strength']} {form} - {medication[f'dosing_{language}']}"


class ByKind:
    """Bilingual texts for each record type (in RECORD_TYPE order) in one column, so that
    rows of mixed types get theirs in a single gather."""

    def __init__(self, parts: list[Bilingual | None]) -> None:
        self.size = np.array([part.size if part else 0 for part in parts], dtype=np.int64)
        self.base = np.concatenate([[0], np.cumsum(2 * self.size)[:-1]]).astype(np.int64)
        self.series = pl.concat([part.series for part in parts if part is not None])

    def at(self, kind: npt.NDArray[np.int8], arabic: npt.NDArray[np.bool_], idx: I64) -> pl.Series:
        """Text ``idx`` of each row's type in its language; NULL where ``idx`` is -1."""
        code = kind.astype(np.int64)
        at = np.where(idx >= 0, self.base[code] + idx + arabic * self.size[code], -1)
        return gather_or_null(self.series, at)


def clinic(ctx: Context) -> Clinic:
    result: Clinic = ctx.cached("clinic", lambda: Clinic(ctx))
    return result


def diagnosis_for(ctx: Context, appointment: I64, patient: I64, doctor: I64, start: I64) -> I64:
    """For appointments ``appointment``: a diagnosis the doctor's speciality sees, fitting the
    patient's age at the visit and sex."""
    people = patient_people(ctx, patient)
    spec = doctor_facts(ctx).spec[doctor]
    age = (start / DAY - people.birth_day) / 365.25
    band = np.searchsorted(_BAND_STARTS, age, side="right").astype(np.int64)
    group = (spec * len(AGE_BANDS) + band) * 2 + people.female.astype(np.int64)
    return pick_in_group(
        clinic(ctx).diagnoses, group, ctx.stream("appointments", "diagnosis").uniform(appointment)
    )


def medication_for(ctx: Context, appointment: I64, diagnosis: I64) -> I64:
    """For appointments ``appointment``: a medicine for the visit's diagnosis (-1 if it has
    none)."""
    picked = pick_in_group(
        clinic(ctx).medications,
        np.maximum(diagnosis, 0),
        ctx.stream("appointments", "medication").uniform(appointment),
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
