"""The patients table: identity, insurance and long-term clinical background, in the
patient's language."""

from __future__ import annotations

import json

import numpy as np
import polars as pl

from moeen_synth.errors import UsageError
from moeen_synth.models.bilingual import Bilingual
from moeen_synth.models.columns import date, digits, either, text_column, ts
from moeen_synth.models.context import DAY, I64, Context
from moeen_synth.models.people import People, insurer_of, layout
from moeen_synth.models.pools import GENDERS
from moeen_synth.vocab import Vocab, split_list


def patients(ctx: Context, start: int, stop: int) -> pl.DataFrame:
    patient = np.arange(start, stop, dtype=np.int64)
    user = patient + layout(ctx).offset("patient")
    people = People(ctx, user)
    stream = ctx.stream
    settings = ctx.profile.tables.patients
    provider, policy, expiry = _insurance(ctx, patient)
    activated = stream("patients", "activated").uniform(patient) < settings.activated_share
    activation = np.where(
        activated, people.created + stream("patients", "act").integers(patient, 60, 3 * DAY), -1
    )
    mrn = "MRN" + digits(patient + 1, 8) + (f"-{ctx.namespace}" if ctx.namespace else "")
    history, allergies, medications = _clinical_background(ctx, patient, people)
    return pl.DataFrame(
        {
            "id": ctx.ids("patients", patient),
            "user_id": ctx.ids("users", user),
            "medical_record_number": mrn,
            "full_name": people.name,
            "date_of_birth": date(people.birth_day),
            "gender": either(people.female, "female", "male"),
            "phone": people.phone,
            "email": people.email,
            "address": people.address,
            "emergency_contact_name": _fathers(people),
            "emergency_contact_phone": _contact_phones(ctx, patient, people),
            "insurance_provider": provider,
            "insurance_number": policy,
            "insurance_expiry": expiry,
            "is_activated": activated,
            "activation_date": ts(activation),
            "medical_history": history,
            "allergies": allergies,
            "medications": medications,
            "created_at": ts(people.created),
            "updated_at": ts(np.maximum(people.created, activation)),
        }
    )


def _insurance(ctx: Context, patient: I64) -> tuple[pl.Series, pl.Series, pl.Series]:
    """Insurance provider, policy number (the insurer's prefix and digits) and expiry date of
    each patient; NULL for the uninsured."""
    stream = ctx.stream
    lookups = background(ctx)
    insurer = insurer_of(ctx, patient)
    insured = insurer >= 0
    known = np.where(insured, insurer, 0)
    width = lookups.policy_digits[known]
    number = stream("patients", "policy").integers(patient, 0, 10**9) % (10**width)
    expiry = ctx.as_of // DAY + stream("patients", "expiry").integers(patient, 30, 730)
    frame = pl.DataFrame(
        {
            "ok": insured,
            "provider": lookups.insurer_en.gather(known),
            "prefix": lookups.policy_prefix.gather(known),
            "number": pl.Series(number).cast(pl.String),
            "width": width,
        }
    )
    insurance = frame.select(
        pl.when("ok").then("provider").alias("provider"),
        pl.when("ok")
        .then(pl.concat_str(["prefix", pl.col("number").str.zfill(pl.col("width"))]))
        .alias("number"),
    )
    expiry_date = date(np.where(insured, expiry, 0)).set(pl.Series(~insured), None)
    return insurance["provider"], insurance["number"], expiry_date


def _contact_phones(ctx: Context, patient: I64, people: People) -> pl.Series:
    """The father's mobile: a child's account is its guardian's, so for a child it is the
    account's own number."""
    father = "+9665" + digits(ctx.stream("patients", "ephone").integers(patient, 0, 10**8), 8)
    return pl.select(
        pl.when(pl.Series(people.is_child())).then(people.phone).otherwise(father)
    ).to_series()


def _fathers(people: People) -> pl.Series:
    """The emergency contact: the father, who shares the family name, in the patient's
    language."""
    names = people.pools
    return Bilingual.of(
        names.first_en.gather(people.father) + " " + names.family_en.gather(people.family),
        names.first_ar.gather(people.father) + " " + names.family_ar.gather(people.family),
    ).each(people.arabic)


class Background:
    """Lookups for patients' insurance and long-term history, built once per run."""

    def __init__(self, ctx: Context) -> None:
        vocab = ctx.vocab
        self.insurer_en = text_column(vocab.insurers, "name_en")
        self.policy_prefix = text_column(vocab.insurers, "policy_prefix")
        self.policy_digits = np.array([int(row["policy_digits"]) for row in vocab.insurers])
        self.chronic = _chronic_conditions(vocab)
        # diagnosis -> JSON object text, per language; diagnosis -> JSON string of its first
        # medicine, per language ("" if none)
        self.item, self.med = _condition_texts(vocab)
        keys = [row["key"] for row in vocab.texts if row["key"].startswith("allergy.")]
        self.allergy = {
            language: pl.Series(
                [json.dumps(vocab.text(key, language), ensure_ascii=False) for key in keys]
            )
            for language in ("ar", "en")
        }


def _chronic_conditions(vocab: Vocab) -> dict[str, I64]:
    """Long-term conditions an adult over 35 carries, by sex: chronic (E, I, M codes) that
    fit every age from 36 on."""
    chronic: dict[str, I64] = {}
    for sex in GENDERS:
        chronic[sex] = np.array(
            [
                index
                for index, row in enumerate(vocab.diagnoses)
                if row["icd10"][:1] in "EIM"
                and row["sex"] in ("any", sex)
                and int(row["min_age"]) <= 36
                and int(row["max_age"]) >= 80
            ],
            dtype=np.int64,
        )
        if len(chronic[sex]) < 2:
            raise UsageError(f"vocabulary: too few chronic diagnoses for {sex} adults")
    return chronic


def _condition_texts(vocab: Vocab) -> tuple[dict[str, pl.Series], dict[str, pl.Series]]:
    """Per language, each diagnosis as a JSON object (condition and ICD-10 code), and the
    first medicine for it as a JSON string ("" if it has none)."""
    first_med: dict[str, int] = {}
    for index, row in enumerate(vocab.medications):
        for code in split_list(row["icd10"]):
            first_med.setdefault(code, index)
    items: dict[str, pl.Series] = {}
    medicines: dict[str, pl.Series] = {}
    for language in ("ar", "en"):
        items[language] = pl.Series(
            [
                '{"condition": '
                + json.dumps(row[f"name_{language}"], ensure_ascii=False)
                + ', "icd10": '
                + json.dumps(row["icd10"])
                + "}"
                for row in vocab.diagnoses
            ]
        )
        medicines[language] = pl.Series(
            [
                json.dumps(
                    f"{vocab.medications[first_med[row['icd10']]][f'generic_{language}']} "
                    f"{vocab.medications[first_med[row['icd10']]]['strength']}",
                    ensure_ascii=False,
                )
                if row["icd10"] in first_med
                else ""
                for row in vocab.diagnoses
            ]
        )
    return items, medicines


def background(ctx: Context) -> Background:
    result: Background = ctx.cached("background", lambda: Background(ctx))
    return result


def _clinical_background(
    ctx: Context, patient: I64, people: People
) -> tuple[pl.Series, pl.Series, pl.Series]:
    """Chronic history, allergies and regular medicines as JSON arrays, in the patient's
    language: adults over 35 carry up to two long-term conditions fitting their sex."""
    stream, lookups = ctx.stream, background(ctx)
    n_rows = len(patient)
    n_hist = np.where(people.age_years > 35, stream("patients", "nhist").integers(patient, 0, 3), 0)
    first = np.zeros(n_rows, dtype=np.int64)
    second = np.zeros(n_rows, dtype=np.int64)
    for female in (False, True):
        sel = people.female == female
        pool = lookups.chronic["female" if female else "male"]
        one = stream("patients", "hist").integers(patient[sel], 0, len(pool))
        other = (
            one + 1 + stream("patients", "hist2").integers(patient[sel], 0, len(pool) - 1)
        ) % len(pool)
        first[sel], second[sel] = pool[one], pool[other]
    has_allergy = stream("patients", "nall").uniform(patient) < 0.2
    allergy = stream("patients", "all").integers(patient, 0, len(lookups.allergy["ar"]))
    frame = pl.DataFrame({"n": n_hist, "al": has_allergy})

    def arrays(language: str) -> pl.DataFrame:
        """The three JSON arrays in ``language``."""
        count = pl.col("n")
        return frame.with_columns(
            i1=lookups.item[language].gather(first),
            i2=lookups.item[language].gather(second),
            m1=lookups.med[language].gather(first),
            m2=lookups.med[language].gather(second),
            allergy=lookups.allergy[language].gather(allergy),
        ).select(
            _array([(count >= 1, pl.col("i1")), (count >= 2, pl.col("i2"))]).alias("history"),
            _array([(pl.col("al"), pl.col("allergy"))]).alias("allergies"),
            _array(
                [
                    ((count >= 1) & (pl.col("m1") != ""), pl.col("m1")),
                    ((count >= 2) & (pl.col("m2") != ""), pl.col("m2")),
                ]
            ).alias("medications"),
        )

    arabic, english = arrays("ar"), arrays("en")
    history, allergies, medications = (
        Bilingual.of(english[name], arabic[name]).each(people.arabic).alias(name)
        for name in ("history", "allergies", "medications")
    )
    return history, allergies, medications


def _array(items: list[tuple[pl.Expr, pl.Expr]]) -> pl.Expr:
    """A JSON array of the items whose condition holds (items are JSON texts)."""
    present = [pl.when(cond).then(item) for cond, item in items]
    return pl.concat_str(
        [pl.lit("["), pl.concat_str(present, separator=", ", ignore_nulls=True), pl.lit("]")]
    )
