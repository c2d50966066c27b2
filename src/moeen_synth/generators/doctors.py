"""The doctors table: profile, schedule and fee of each doctor."""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from moeen_synth.models.bilingual import Bilingual, in_language
from moeen_synth.models.columns import js, pick, ts
from moeen_synth.models.context import DAY, I64, Context
from moeen_synth.models.doctors import doctor_facts
from moeen_synth.models.people import People, layout

DAYS = ("sunday", "monday", "tuesday", "wednesday", "thursday")


def doctors(ctx: Context, start: int, stop: int) -> pl.DataFrame:
    doctor = np.arange(start, stop, dtype=np.int64)
    user = doctor + layout(ctx).offset("doctor")
    people = People(ctx, user)
    facts = doctor_facts(ctx)
    vocab, stream = ctx.vocab, ctx.stream
    spec = facts.spec[doctor]
    title = in_language(
        people.arabic, vocab.text("doctor.title", "ar"), vocab.text("doctor.title", "en")
    )
    full = title + " " + people.name
    experience, education, certifications = _training(ctx, doctor, people)
    rating = 350 + stream("doctors", "rating").integers(doctor, 0, 151)
    reviews = stream("doctors", "reviews").integers(doctor, 0, 400)
    updated = people.created + stream("doctors", "updated").integers(doctor, 0, 30 * DAY)
    return pl.DataFrame(
        {
            "id": ctx.ids("doctors", doctor),
            "user_id": ctx.ids("users", user),
            "license_number": [
                f"SCFHS-{(index + 1):08d}" + (f"-{ctx.namespace}" if ctx.namespace else "")
                for index in doctor.tolist()
            ],
            "full_name": full,
            "speciality": pick(vocab.specialities, spec, "name_en"),
            "sub_speciality": _sub_specialities(ctx, doctor, spec),
            "phone": people.phone,
            "email": people.email,
            "address": people.address,
            "experience_years": experience,
            "education": js(education),
            "certifications": js(certifications),
            "schedule": js(_schedules(ctx, facts.shift[doctor])),
            "consultation_fee": _money_list(facts.fee_halalas[doctor]),
            "is_available": stream("doctors", "available").uniform(doctor)
            < ctx.profile.tables.doctors.available_share,
            "rating": [f"{r // 100}.{r % 100:02d}" for r in rating.tolist()],
            "total_reviews": reviews,
            "created_at": ts(people.created),
            "updated_at": ts(updated),
        }
    )


def _sub_specialities(ctx: Context, doctor: I64, spec: I64) -> list[str | None]:
    """A sub-speciality of the doctor's speciality for six in ten doctors (where it has any)."""
    specialities = ctx.vocab.specialities
    options = [specialities[i]["sub_specialities_en"].split(";") for i in spec.tolist()]
    draws = ctx.stream("doctors", "sub").uniform(doctor).tolist()
    return [
        subs[int(draw * len(subs))].strip() if draw < 0.6 and subs[0] else None
        for subs, draw in zip(options, draws, strict=True)
    ]


def _training(
    ctx: Context, doctor: I64, people: People
) -> tuple[I64, list[list[dict[str, Any]]], list[list[dict[str, Any]]]]:
    """Years of experience, and the medical school and board certification (with their
    years) in the doctor's language, as JSON-ready lists."""
    vocab, stream = ctx.vocab, ctx.stream
    experience = np.maximum(1, (people.age_years - 27).astype(np.int64))
    schools = [row for row in vocab.universities if row["kind"] == "school"]
    boards = [row for row in vocab.universities if row["kind"] == "board"]
    school_pick = stream("doctors", "school").integers(doctor, 0, len(schools))
    board_pick = stream("doctors", "board").integers(doctor, 0, len(boards))
    school = _names(schools).at(people.arabic, school_pick)
    board = _names(boards).at(people.arabic, board_pick)
    graduated = (ctx.as_of // DAY - (experience * 365)) // 365 + 1970
    education = [
        [{"degree": "MBBS", "institution": institution, "year": int(year)}]
        for institution, year in zip(school, graduated.tolist(), strict=True)
    ]
    certifications = [
        [{"name": name, "year": int(year) + 5}]
        for name, year in zip(board, graduated.tolist(), strict=True)
    ]
    return experience, education, certifications


def _schedules(ctx: Context, shift: I64) -> list[dict[str, Any]]:
    """The weekly schedule of each doctor's shift."""
    shifts = list(ctx.profile.tables.doctors.shifts.values())
    return [
        {
            "days": {day: {"start": hours.start, "end": hours.end} for day in DAYS},
            "slot_minutes": 30,
            "timezone": "Asia/Riyadh",
        }
        for hours in (shifts[index] for index in shift.tolist())
    ]


def _names(rows: list[dict[str, str]]) -> Bilingual:
    return Bilingual(
        {language: [row[f"name_{language}"] for row in rows] for language in ("ar", "en")}
    )


def _money_list(halalas: np.ndarray) -> list[str]:
    return [f"{amount // 100}.{amount % 100:02d}" for amount in halalas.tolist()]
