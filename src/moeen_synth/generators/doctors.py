"""The doctors table: profile, schedule and fee of each doctor."""

from __future__ import annotations

import numpy as np
import polars as pl

from moeen_synth.models.bilingual import Bilingual, in_language
from moeen_synth.models.columns import js, pick, ts
from moeen_synth.models.context import DAY, Context
from moeen_synth.models.doctors import doctor_facts
from moeen_synth.models.people import People, layout

DAYS = ("sunday", "monday", "tuesday", "wednesday", "thursday")


def doctors(ctx: Context, start: int, stop: int) -> pl.DataFrame:
    d = np.arange(start, stop, dtype=np.int64)
    lay = layout(ctx)
    u = d + lay.offset("doctor")
    p = People(ctx, u)
    f = doctor_facts(ctx)
    v, s = ctx.vocab, ctx.stream
    spec = f.spec[d]
    subs = [v.specialities[i]["sub_specialities_en"].split(";") for i in spec.tolist()]
    sub_i = s("doctors", "sub").uniform(d).tolist()
    sub = [
        opts[int(x * len(opts))].strip() if x < 0.6 and opts[0] else None
        for opts, x in zip(subs, sub_i, strict=True)
    ]
    title = in_language(p.arabic, v.text("doctor.title", "ar"), v.text("doctor.title", "en"))
    full = title + " " + p.name
    experience = np.maximum(1, (p.age_years - 27).astype(np.int64))
    schools = [r for r in v.universities if r["kind"] == "school"]
    boards = [r for r in v.universities if r["kind"] == "board"]
    school = _names(schools).at(p.arabic, s("doctors", "school").integers(d, 0, len(schools)))
    board = _names(boards).at(p.arabic, s("doctors", "board").integers(d, 0, len(boards)))
    grad = (ctx.as_of // DAY - (experience * 365)) // 365 + 1970
    education = [
        [{"degree": "MBBS", "institution": k, "year": int(y)}]
        for k, y in zip(school, grad.tolist(), strict=True)
    ]
    certs = [[{"name": k, "year": int(y) + 5}] for k, y in zip(board, grad.tolist(), strict=True)]
    shifts = list(ctx.profile.tables.doctors.shifts.values())
    hours = [shifts[i] for i in f.shift[d].tolist()]
    rating = 350 + s("doctors", "rating").integers(d, 0, 151)
    reviews = s("doctors", "reviews").integers(d, 0, 400)
    updated = p.created + s("doctors", "updated").integers(d, 0, 30 * DAY)
    return pl.DataFrame(
        {
            "id": ctx.ids("doctors", d),
            "user_id": ctx.ids("users", u),
            "license_number": [
                f"SCFHS-{(i + 1):08d}" + (f"-{ctx.namespace}" if ctx.namespace else "")
                for i in d.tolist()
            ],
            "full_name": full,
            "speciality": pick(v.specialities, spec, "name_en"),
            "sub_speciality": sub,
            "phone": p.phone,
            "email": p.email,
            "address": p.address,
            "experience_years": experience,
            "education": js(education),
            "certifications": js(certs),
            "schedule": js(
                [
                    {
                        "days": {day: {"start": h.start, "end": h.end} for day in DAYS},
                        "slot_minutes": 30,
                        "timezone": "Asia/Riyadh",
                    }
                    for h in hours
                ]
            ),
            "consultation_fee": _money_list(f.fee_halalas[d]),
            "is_available": s("doctors", "available").uniform(d)
            < ctx.profile.tables.doctors.available_share,
            "rating": [f"{r // 100}.{r % 100:02d}" for r in rating.tolist()],
            "total_reviews": reviews,
            "created_at": ts(p.created),
            "updated_at": ts(updated),
        }
    )


def _names(rows: list[dict[str, str]]) -> Bilingual:
    return Bilingual({lg: [r[f"name_{lg}"] for r in rows] for lg in ("ar", "en")})


def _money_list(halalas: np.ndarray) -> list[str]:
    return [f"{h // 100}.{h % 100:02d}" for h in halalas.tolist()]
