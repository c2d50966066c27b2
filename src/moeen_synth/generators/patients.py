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
from moeen_synth.vocab import split_list


def patients(ctx: Context, start: int, stop: int) -> pl.DataFrame:
    pi = np.arange(start, stop, dtype=np.int64)
    lay = layout(ctx)
    u = pi + lay.offset("patient")
    p = People(ctx, u)
    s = ctx.stream
    t = ctx.profile.tables.patients
    bg = background(ctx)
    ins = insurer_of(ctx, pi)
    insured = ins >= 0
    k = np.where(insured, ins, 0)
    width = bg.policy_digits[k]
    number = s("patients", "policy").integers(pi, 0, 10**9) % (10**width)
    expiry = ctx.as_of // DAY + s("patients", "expiry").integers(pi, 30, 730)
    activated = s("patients", "activated").uniform(pi) < t.activated_share
    activation = np.where(activated, p.created + s("patients", "act").integers(pi, 60, 3 * DAY), -1)
    mrn = "MRN" + digits(pi + 1, 8) + (f"-{ctx.namespace}" if ctx.namespace else "")
    frame = pl.DataFrame(
        {
            "ok": insured,
            "provider": bg.insurer_en.gather(k),
            "prefix": bg.policy_prefix.gather(k),
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
    # Emergency contact: the father, who shares the family name.
    names = p.pools
    father = Bilingual.of(
        names.first_en.gather(p.father) + " " + names.family_en.gather(p.family),
        names.first_ar.gather(p.father) + " " + names.family_ar.gather(p.family),
    ).each(p.arabic)
    history, allergies, medications = _clinical_background(ctx, pi, p)
    return pl.DataFrame(
        {
            "id": ctx.ids("patients", pi),
            "user_id": ctx.ids("users", u),
            "medical_record_number": mrn,
            "full_name": p.name,
            "date_of_birth": date(p.birth_day),
            "gender": either(p.female, "female", "male"),
            "phone": p.phone,
            "email": p.email,
            "address": p.address,
            "emergency_contact_name": father,
            "emergency_contact_phone": "+9665"
            + digits(s("patients", "ephone").integers(pi, 0, 10**8), 8),
            "insurance_provider": insurance["provider"],
            "insurance_number": insurance["number"],
            "insurance_expiry": date(np.where(insured, expiry, 0)).set(pl.Series(~insured), None),
            "is_activated": activated,
            "activation_date": ts(activation),
            "medical_history": history,
            "allergies": allergies,
            "medications": medications,
            "created_at": ts(p.created),
            "updated_at": ts(np.maximum(p.created, activation)),
        }
    )


class Background:
    """Lookups for patients' insurance and long-term history, built once per run."""

    def __init__(self, ctx: Context) -> None:
        v = ctx.vocab
        self.insurer_en = text_column(v.insurers, "name_en")
        self.policy_prefix = text_column(v.insurers, "policy_prefix")
        self.policy_digits = np.array([int(r["policy_digits"]) for r in v.insurers])
        first_med: dict[str, int] = {}
        for i, r in enumerate(v.medications):
            for code in split_list(r["icd10"]):
                first_med.setdefault(code, i)
        # Long-term conditions an adult over 35 carries: chronic (E, I, J4, M, K2 codes) that
        # fit every age from 36 on, by sex.
        self.chronic: dict[str, I64] = {}
        for sex in GENDERS:
            self.chronic[sex] = np.array(
                [
                    i
                    for i, r in enumerate(v.diagnoses)
                    if r["icd10"][:1] in "EIM"
                    and r["sex"] in ("any", sex)
                    and int(r["min_age"]) <= 36
                    and int(r["max_age"]) >= 80
                ],
                dtype=np.int64,
            )
            if len(self.chronic[sex]) < 2:
                raise UsageError(f"vocabulary: too few chronic diagnoses for {sex} adults")
        self.item: dict[str, pl.Series] = {}  # diagnosis -> JSON object text, per language
        self.med: dict[
            str, pl.Series
        ] = {}  # diagnosis -> JSON string of its first medicine, per language ("" if none)
        for lg in ("ar", "en"):
            self.item[lg] = pl.Series(
                [
                    '{"condition": '
                    + json.dumps(r[f"name_{lg}"], ensure_ascii=False)
                    + ', "icd10": '
                    + json.dumps(r["icd10"])
                    + "}"
                    for r in v.diagnoses
                ]
            )
            self.med[lg] = pl.Series(
                [
                    json.dumps(
                        f"{v.medications[first_med[r['icd10']]][f'generic_{lg}']} "
                        f"{v.medications[first_med[r['icd10']]]['strength']}",
                        ensure_ascii=False,
                    )
                    if r["icd10"] in first_med
                    else ""
                    for r in v.diagnoses
                ]
            )
        keys = [r["key"] for r in v.texts if r["key"].startswith("allergy.")]
        self.allergy = {
            lg: pl.Series([json.dumps(v.text(k, lg), ensure_ascii=False) for k in keys])
            for lg in ("ar", "en")
        }


def background(ctx: Context) -> Background:
    result: Background = ctx.cached("background", lambda: Background(ctx))
    return result


def _clinical_background(
    ctx: Context, pi: I64, p: People
) -> tuple[pl.Series, pl.Series, pl.Series]:
    """Chronic history, allergies and regular medicines as JSON arrays, in the patient's
    language: adults over 35 carry up to two long-term conditions fitting their sex."""
    s, bg = ctx.stream, background(ctx)
    n = len(pi)
    n_hist = np.where(p.age_years > 35, s("patients", "nhist").integers(pi, 0, 3), 0)
    first = np.zeros(n, dtype=np.int64)
    second = np.zeros(n, dtype=np.int64)
    for female in (False, True):
        sel = p.female == female
        pool = bg.chronic["female" if female else "male"]
        a = s("patients", "hist").integers(pi[sel], 0, len(pool))
        b = (a + 1 + s("patients", "hist2").integers(pi[sel], 0, len(pool) - 1)) % len(pool)
        first[sel], second[sel] = pool[a], pool[b]
    has_allergy = s("patients", "nall").uniform(pi) < 0.2
    allergy = s("patients", "all").integers(pi, 0, len(bg.allergy["ar"]))
    frame = pl.DataFrame({"n": n_hist, "al": has_allergy})

    def arrays(lg: str) -> pl.DataFrame:
        """The three JSON arrays in language ``lg``."""
        count = pl.col("n")
        return frame.with_columns(
            i1=bg.item[lg].gather(first),
            i2=bg.item[lg].gather(second),
            m1=bg.med[lg].gather(first),
            m2=bg.med[lg].gather(second),
            allergy=bg.allergy[lg].gather(allergy),
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

    ar, en = arrays("ar"), arrays("en")
    history, allergies, medications = (
        Bilingual.of(en[name], ar[name]).each(p.arabic).alias(name)
        for name in ("history", "allergies", "medications")
    )
    return history, allergies, medications


def _array(items: list[tuple[pl.Expr, pl.Expr]]) -> pl.Expr:
    """A JSON array of the items whose condition holds (items are JSON texts)."""
    present = [pl.when(cond).then(item) for cond, item in items]
    return pl.concat_str(
        [pl.lit("["), pl.concat_str(present, separator=", ", ignore_nulls=True), pl.lit("]")]
    )
