"""Generators are pure functions of (seed, table, row range), for any profile."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import polars as pl
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from moeen_synth import paths, plan
from moeen_synth import profile as profiles
from moeen_synth.errors import UsageError
from moeen_synth.generators import notifications
from moeen_synth.models import slots
from moeen_synth.profile import Profile
from tests.demo_counts import DEMO_COUNTS


def small_profile(draw: Any) -> Profile:
    data: dict[str, Any] = yaml.safe_load((paths.profiles_dir() / "demo.yaml").read_text())
    t = data["tables"]
    data["seed"] = draw(st.integers(0, 10**6))
    t["users"] = {
        "admins": draw(st.integers(1, 2)),
        "supervisors": draw(st.integers(0, 2)),
        "staff": draw(st.integers(1, 3)),
    }
    t["doctors"] = {"count": draw(st.integers(1, 6))}
    t["patients"] = {
        "count": draw(st.integers(12, 40)),
        "child_share": draw(st.sampled_from([0.25, 0.3, 0.4])),
        "insured_share": draw(st.floats(0, 1)),
    }
    t["appointments"] = {"count": draw(st.integers(0, 80)), "future_share": draw(st.floats(0, 1))}
    t["insurance_claims"] = {}
    t["activity"]["crm_leads"] = draw(st.integers(0, 5))
    data["arabic_share"] = draw(st.floats(0, 1))
    return profiles.parse(data, "hypothesis")


profiles_strategy = st.composite(small_profile)


def frames(prof: Profile, block_rows: int) -> dict[str, pl.DataFrame]:
    ctx = plan.context(prof)
    out = {}
    for spec, total in plan.plan(ctx):
        parts = list(plan.blocks(ctx, spec, total, block_rows))
        if parts:
            out[spec.name] = pl.concat(parts, how="vertical_relaxed")
    return out


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(prof=profiles_strategy(), block=st.sampled_from([1, 3, 7]))
def test_rows_do_not_depend_on_the_block_size(prof: Profile, block: int) -> None:
    whole = frames(prof, 1_000_000)
    cut = frames(prof, block)

    assert whole.keys() == cut.keys()
    for table in whole:
        assert whole[table].equals(cut[table]), table


@settings(max_examples=10, deadline=None)
@given(prof=profiles_strategy())
def test_same_seed_same_rows_and_another_seed_other_ids(prof: Profile) -> None:
    first = frames(prof, 50)
    second = frames(prof, 50)
    other = frames(prof.with_overrides(seed=prof.seed + 1), 50)

    for table in first:
        assert first[table].equals(second[table]), table
    assert set(first["users"]["id"]).isdisjoint(other["users"]["id"])


def test_demo_counts_are_the_canonical_ones() -> None:
    ctx = plan.context(profiles.load("demo"))

    counts = {spec.name: n for spec, n in plan.plan(ctx)}

    assert {k: counts[k] for k in DEMO_COUNTS} == DEMO_COUNTS


def test_impossible_calendar_is_a_clear_error() -> None:
    data: dict[str, Any] = yaml.safe_load((paths.profiles_dir() / "demo.yaml").read_text())
    data["tables"]["appointments"]["count"] = 100_000
    ctx = plan.context(profiles.parse(data, "x"))

    with pytest.raises(UsageError, match=r"raise history_days/future_days, tables\.doctors\.count"):
        plan.plan(ctx)


def test_nothing_is_dated_after_as_of_even_for_visits_just_before_it() -> None:
    # Visits in the last slots before as_of: their claims and payments must still end by then.
    data: dict[str, Any] = yaml.safe_load((paths.profiles_dir() / "clinic.yaml").read_text())
    data.update(scale=400, history_days=20)
    data["tables"]["doctors"] = {"count": 20, "shifts": {"day": {"start": "09:00", "end": "17:00"}}}
    data["tables"]["appointments"].update(per_patient=10.5, future_share=0.0)
    data["tables"]["appointments"]["past_status"] = {"completed": 1}
    ctx = plan.context(profiles.parse(data, "dense"))
    as_of = ctx.profile.as_of

    tables = frames(ctx.profile, 10_000)

    visits = tables["appointments"].select("id", "scheduled_at")
    late = tables["insurance_claims"].join(visits, left_on="appointment_id", right_on="id")
    late = late.filter(pl.col("scheduled_at") > as_of - dt.timedelta(hours=1))
    assert late.height > 0, "precondition: some claims are for visits in the last hour"
    for table, column in (
        ("insurance_claims", "updated_at"),
        ("insurance_claims", "created_at"),
        ("payments", "paid_at"),
        ("appointments", "created_at"),
        ("medical_records", "created_at"),
    ):
        assert tables[table].filter(pl.col(column) > as_of).height == 0, (table, column)


def test_no_doctor_is_booked_twice_when_slots_outnumber_a_calendar() -> None:
    # A short history and a long future: a doctor's slot indexes run past the number of
    # past slots, though the past ones still fit. Placing by the slot index itself would
    # put two past visits in one slot (load-1m's validate caught that once).
    data: dict[str, Any] = yaml.safe_load((paths.profiles_dir() / "clinic.yaml").read_text())
    data.update(scale=300, history_days=14, future_days=60)
    data["tables"]["doctors"] = {"count": 2, "specialities": ["Internal Medicine"]}
    data["tables"]["appointments"].update(per_patient=2.4, future_share=0.7)
    data["tables"]["patients"]["child_share"] = 0.0
    ctx = plan.context(profiles.parse(data, "long future"))
    cal = slots.calendars(ctx)
    per_doctor = -(-ctx.counts.appointments // ctx.counts.doctors)
    assert per_doctor > min(len(c.past) for c in cal), "precondition: indexes outrun the past"

    visits = frames(ctx.profile, 10_000)["appointments"]

    assert visits.select("doctor_id", "scheduled_at").is_duplicated().sum() == 0
    assert visits.select("patient_id", "scheduled_at").is_duplicated().sum() == 0


@settings(max_examples=30, deadline=None)
@given(
    epochs=st.lists(st.integers(-631_152_000, 4_102_444_800), min_size=1, max_size=30),
    data=st.data(),
)
def test_clock_texts_are_riyadh_local_time(epochs: list[int], data: st.DataObject) -> None:
    from moeen_synth.models.dates import time_texts

    arabic = data.draw(st.lists(st.booleans(), min_size=len(epochs), max_size=len(epochs)))
    ctx = plan.context(profiles.load("demo"))
    local = (
        (pl.Series(epochs, dtype=pl.Int64) * 1_000_000)
        .cast(pl.Datetime("us", "UTC"))
        .dt.convert_time_zone("Asia/Riyadh")
    )
    half = [
        ctx.vocab.text("am" if h < 12 else "pm", "ar") if ar else ("AM" if h < 12 else "PM")
        for h, ar in zip(local.dt.hour().to_list(), arabic, strict=True)
    ]
    expected = [
        f"{c} {h}" for c, h in zip(local.dt.strftime("%-I:%M").to_list(), half, strict=True)
    ]

    got = time_texts(ctx, np.array(epochs, dtype=np.int64), np.array(arabic)).to_list()

    assert got == expected


def test_doctor_title_follows_the_doctors_gender_and_only_where_a_template_has_one() -> None:
    from moeen_synth.models.doctors import doctor_facts

    ctx = plan.context(profiles.load("demo"))
    plan.plan(ctx)
    doctors = doctor_facts(ctx).people
    d = np.arange(ctx.counts.doctors)
    arabic = np.ones(len(d), dtype=bool)
    male, female = (
        ctx.vocab.text("doctor.word.male", "ar"),
        ctx.vocab.text("doctor.word.female", "ar"),
    )

    names, titled = notifications._doctor_name(ctx, "appointment_reminder", d, arabic)
    assert titled == "doctor_name"
    expected = [
        f"{female if woman else male} {name}"
        for woman, name in zip(doctors.female, doctors.name_ar, strict=True)
    ]
    assert names.to_list() == expected
    _, body = notifications.render(
        ctx,
        "appointment_reminder",
        arabic,
        {"doctor_name": names, "appointment_time": pl.Series(["x"] * len(d))},
        titled,
    )
    assert all(f"{male} {female}" not in b and f"{male} {male}" not in b for b in body)
    assert all(n in b for n, b in zip(expected, body, strict=True))

    # A template without the title before the name gets none added.
    templates = {r["name"]: dict(r) for r in ctx.vocab.templates}
    templates["appointment_reminder"]["body"] = "موعدك مع {{doctor_name}}"
    ctx._cache["templates"] = templates
    names, titled = notifications._doctor_name(ctx, "appointment_reminder", d, arabic)
    assert titled is None
    assert names.to_list() == doctors.name_ar.to_list()
