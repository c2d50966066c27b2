"""The profile's targets beside what was measured, each with a tolerance and a verdict.

A share's tolerance is one point, plus one row's worth of rounding, plus three standard
errors of a share of that many rows: the generators hold most mixes exactly, so a share
outside it means the data does not follow the profile. Counts of rows and rule breaks have
no tolerance.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import polars as pl

from moeen_synth import catalogue, domains, plan
from moeen_synth.jobs.report.sources import Measured
from moeen_synth.models.pools import ORIGIN_WEIGHTS
from moeen_synth.profile import Profile, age_band, clock_minutes
from moeen_synth.vocab import load as load_vocab
from moeen_synth.vocab import split_list

SLOT_MINUTES = 30
WORK_DAYS = (0, 1, 2, 3, 4)  # Sunday..Thursday, as PostgreSQL's dow counts


@dataclass(frozen=True)
class Target:
    section: str  # label key of the page section
    label: str  # label key of what is measured (see labels.csv)
    item: str  # the category measured ("" if none): a status, a band, a table...
    measured: float
    low: float  # the accepted range
    high: float
    expected: float  # the profile's value
    n: int  # rows behind the measure

    @property
    def ok(self) -> bool:
        return self.low - 1e-9 <= self.measured <= self.high + 1e-9

    def as_json(self) -> dict[str, Any]:
        """JSON has no infinity: an open range ends in null."""
        fields = {k: (None if v == math.inf else v) for k, v in asdict(self).items()}
        return {**fields, "ok": self.ok}


def tolerance(share: float, n: int) -> float:
    if n <= 0:
        return 1.0
    return 0.01 + 1.0 / n + 3.0 * math.sqrt(max(share * (1.0 - share), 0.0) / n)


def _shares(
    section: str, label: str, counts: dict[str, int], expected: dict[str, float]
) -> list[Target]:
    """A target per category of ``expected`` (a profile's mix: weights, normalised here):
    its share of the rows counted."""
    total = sum(counts.values())
    weight = sum(expected.values()) or 1.0
    out = []
    for item, share in ((item, w / weight) for item, w in expected.items()):
        measured = counts.get(item, 0) / total if total else 0.0
        tol = tolerance(share, total)
        out.append(Target(section, label, item, measured, *_range(share, tol), share, total))
    return out


def _counts(frame: pl.DataFrame, key: str, where: pl.Expr | None = None) -> dict[str, int]:
    if where is not None:
        frame = frame.filter(where)
    grouped = frame.group_by(key).agg(pl.col("n").sum())
    return {str(k): int(v) for k, v in grouped.iter_rows()}


def patients(m: Measured) -> list[Target]:
    settings = m.profile.tables.patients
    ages = m.frames["ages"]
    total = int(ages["n"].sum())
    children = int(ages.filter(pl.col("age") < 18)["n"].sum())
    women = int(ages.filter(pl.col("gender") == "female")["n"].sum())
    out = [
        _share_target("patients", "child_share", "", children, total, settings.child_share),
        _share_target("patients", "female_share", "", women, total, settings.female_share),
    ]
    adults = ages.filter(pl.col("age") >= 18)
    bands = {}
    for band in settings.adult_ages:
        low, high = age_band(band)
        bands[band] = int(adults.filter(pl.col("age").is_between(low, high - 1))["n"].sum())
    return out + _shares("patients", "adult_age_band", bands, adult_band_shares(m.profile))


def adult_band_shares(profile: Profile) -> dict[str, float]:
    """The profile's adult age bands as shares of the adults (its weights normalised)."""
    weights = profile.tables.patients.adult_ages
    total = sum(weights.values()) or 1.0
    return {band: weight / total for band, weight in weights.items()}


def _share_target(
    section: str, label: str, item: str, part: int, total: int, expected: float
) -> Target:
    measured = part / total if total else 0.0
    tol = tolerance(expected, total)
    return Target(section, label, item, measured, *_range(expected, tol), expected, total)


def _range(share: float, tol: float) -> tuple[float, float]:
    """A share's accepted range, inside 0..1."""
    return max(0.0, share - tol), min(1.0, share + tol)


def appointments(m: Measured) -> list[Target]:
    visits = m.profile.tables.appointments
    statuses = m.frames["statuses"]
    out = _shares(
        "appointments",
        "past_status",
        _counts(statuses, "status", pl.col("time") == "past"),
        dict(visits.past_status),
    )
    out += _shares(
        "appointments",
        "future_status",
        _counts(statuses, "status", pl.col("time") == "future"),
        dict(visits.future_status),
    )
    out += _shares("appointments", "visit_type", _counts(statuses, "type"), dict(visits.types))
    times = m.frames["visit_times"]
    total = int(times["n"].sum())
    off_days = int(times.filter(~pl.col("dow").is_in(WORK_DAYS))["n"].sum())
    in_shift = pl.lit(False)
    for shift in m.profile.tables.doctors.shifts.values():
        opens, closes = clock_minutes(shift.start), clock_minutes(shift.end)
        in_shift = in_shift | pl.col("minute").is_between(opens, closes - SLOT_MINUTES)
    off_hours = int(times.filter(~in_shift)["n"].sum())
    out.append(Target("appointments", "off_days", "", _of(off_days, total), 0, 0, 0, total))
    out.append(Target("appointments", "off_shift", "", _of(off_hours, total), 0, 0, 0, total))
    per_patient = m.frames["visits_per_patient"]
    patients_n = int(per_patient["patients"].sum())
    visits_n = int((per_patient["visits"] * per_patient["patients"]).sum())
    mean = visits_n / patients_n if patients_n else 0.0
    expected = m.profile.tables.appointments.per_patient
    if expected is not None:
        tol = 0.01 * expected + 1.0 / max(1, patients_n)
        out.append(
            Target(
                "appointments",
                "visits_per_patient",
                "",
                mean,
                expected - tol,
                expected + tol,
                expected,
                patients_n,
            )
        )
    out.append(_regulars(m, per_patient, visits_n))
    return out


def _of(part: int, total: int) -> float:
    return part / total if total else 0.0


def _regulars(m: Measured, per_patient: pl.DataFrame, visits_n: int) -> Target:
    """The share of visits the most frequent ``frequent_patients_share`` of patients make:
    at least the profile's ``frequent_visits_share`` (less a tolerance)."""
    visits = m.profile.tables.appointments
    ordered = per_patient.sort("visits", descending=True)
    top = round(int(per_patient["patients"].sum()) * visits.frequent_patients_share)
    taken, made = 0, 0
    for count, people in ordered.select("visits", "patients").iter_rows():
        take = min(int(people), top - taken)
        if take <= 0:
            break
        taken += take
        made += take * int(count)
    measured = _of(made, visits_n)
    expected = visits.frequent_visits_share
    tol = tolerance(expected, visits_n)
    return Target(
        "appointments",
        "regulars_share",
        f"{visits.frequent_patients_share:.0%}",
        measured,
        expected - tol,
        1.0,
        expected,
        visits_n,
    )


def money(m: Measured) -> list[Target]:
    profile = m.profile
    payments = m.frames["payments"]
    self_pay = _counts(
        payments,
        "method",
        (pl.col("visit_status") == "completed")
        & pl.col("method").is_in(list(domains.SELF_PAY_METHODS)),
    )
    out = _shares(
        "money", "self_pay_method", self_pay, dict(profile.tables.appointments.self_pay_methods)
    )
    claims = m.frames["claims"]
    outcomes = _counts(claims, "status", pl.col("status") != "draft")
    out += _shares("money", "claim_outcome", outcomes, dict(profile.tables.insurance_claims.status))
    coverage = profile.tables.insurance_claims.coverage
    decided = (
        claims.filter(pl.col("status").is_in(["approved", "paid"]))
        .group_by("provider")
        .agg(pl.col("n").sum(), pl.col("claimed").sum(), pl.col("approved").sum())
        .sort("provider")
    )
    for provider, n, claimed, approved in decided.iter_rows():
        ratio = approved / claimed if claimed else 0.0
        tol = 1.0 / max(1, n)
        out.append(
            Target(
                "money",
                "approved_ratio",
                str(provider),
                ratio,
                coverage - tol,
                1.0,
                coverage,
                int(n),
            )
        )
    return out


# notice template -> (profile setting, what the share is of)
NOTICE_KINDS = {
    "appointment_confirmation": "per_appointment",
    "appointment_reminder": "per_reminder",
    "payment_confirmation": "per_payment",
    "claim_status_update": "per_claim",
    "welcome_message": "welcome",
}


def notices(m: Measured) -> list[Target]:
    settings = m.profile.tables.notifications
    sent = _counts(m.frames["notices"], "template")
    statuses = _counts(m.frames["statuses"], "status")
    payments = _counts(m.frames["payments"], "status")
    claims = _counts(m.frames["claims"], "status")
    eligible = {
        "appointment_confirmation": statuses.get("confirmed", 0) + statuses.get("completed", 0),
        "appointment_reminder": sum(
            statuses.get(s, 0) for s in ("confirmed", "pending", "completed")
        ),
        "payment_confirmation": payments.get("completed", 0),
        "claim_status_update": sum(n for s, n in claims.items() if s != "draft"),
        "welcome_message": int(m.frames["ages"]["n"].sum()),
    }
    return [
        _share_target(
            "notices",
            "notice_share",
            template,
            sent.get(template, 0),
            eligible[template],
            float(getattr(settings, setting)),
        )
        for template, setting in NOTICE_KINDS.items()
    ]


def people(m: Measured) -> list[Target]:
    users = m.frames["people"]
    total = int(users["n"].sum())
    arabic = int(users.filter(pl.col("language") == "ar")["n"].sum())
    saudi = int(users.filter(pl.col("nationality") == "SA")["n"].sum())
    return [
        _share_target("people", "arabic_share", "", arabic, total, m.profile.arabic_share),
        _share_target("people", "saudi_share", "", saudi, total, ORIGIN_WEIGHTS[0]),
    ]


def diagnoses(m: Measured) -> list[Target]:
    """Every diagnosis is one its doctor's speciality makes (the vocabulary's lists)."""
    vocab = load_vocab()
    code_of = {row["name_en"]: row["code"] for row in vocab.specialities}
    fits = {
        (spec_code, row["icd10"])
        for row in vocab.diagnoses
        for spec_code in split_list(row["specialities"])
    }
    frame = m.frames["diagnoses"]
    total = int(frame["n"].sum())
    wrong = sum(
        int(n)
        for speciality, code, n in frame.select("speciality", "code", "n").iter_rows()
        if (code_of.get(str(speciality)), code) not in fits
    )
    return [Target("clinical", "diagnosis_fits", "", _of(total - wrong, total), 1, 1, 1, total)]


def rows(m: Measured, planned: dict[str, int]) -> list[Target]:
    """Generated tables hold exactly the planned rows; reference tables at least them (the
    platform's own rows sit beside moeen-synth's)."""
    kinds = {table.name: table.rows for table in catalogue.TABLES}
    return [
        Target(
            "rows",
            "table_rows",
            table,
            float(m.rows.get(table, 0)),
            want,
            want if kinds.get(table) == "generated" else math.inf,
            want,
            want,
        )
        for table, want in planned.items()
    ]


def checks(m: Measured) -> list[Target]:
    return [
        Target("checks", "check", name, float(found), 0, 0, 0, 0)
        for name, found in (m.checks or [])
        if found is not None
    ]


def planned_rows(profile: Profile) -> dict[str, int]:
    return {spec.name: total for spec, total in plan.plan(plan.context(profile))}


def all_targets(m: Measured) -> list[Target]:
    return [
        *patients(m),
        *appointments(m),
        *money(m),
        *notices(m),
        *people(m),
        *diagnoses(m),
        *rows(m, planned_rows(m.profile)),
        *checks(m),
    ]
