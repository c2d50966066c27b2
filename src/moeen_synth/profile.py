"""Profiles: versioned YAML files that say how many of what, with which mixes.

Validation collects every problem with its path (``tables.appointments.count: ...``) and the
fix, and raises once. ``--scale`` and ``--seed`` override a loaded profile.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from hijridate.ummalqura import GREGORIAN_RANGE
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from moeen_synth import domains, paths
from moeen_synth.errors import ProfileError, UsageError

Share = Annotated[float, Field(ge=0.0, le=1.0)]
Count = Annotated[int, Field(ge=0)]
Mix = dict[str, Annotated[float, Field(ge=0.0)]]

RESERVED_DOMAINS = ("example.com", "example.org", "example.net")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_mix(value: Mix, allowed: tuple[str, ...]) -> Mix:
    unknown = sorted(set(value) - set(allowed))
    if unknown:
        raise ValueError(f"unknown value(s) {unknown}; allowed: {list(allowed)}")
    if value and sum(value.values()) <= 0:
        raise ValueError("weights must not all be zero")
    return value


def _mix_of(allowed: tuple[str, ...]) -> AfterValidator:
    """A validator for a mix over ``allowed`` values (``domains``)."""
    return AfterValidator(functools.partial(_check_mix, allowed=allowed))


PastMix = Annotated[Mix, _mix_of(domains.PAST_STATUSES)]
FutureMix = Annotated[Mix, _mix_of(domains.FUTURE_STATUSES)]
TypeMix = Annotated[Mix, _mix_of(domains.APPOINTMENT_TYPES)]
SelfPayMix = Annotated[Mix, _mix_of(domains.SELF_PAY_METHODS)]
ClaimMix = Annotated[Mix, _mix_of(domains.CLAIM_OUTCOMES)]


class Users(_Strict):
    admins: Count = 1
    supervisors: Count = 1
    staff: Count = 1
    staff_per_1000_patients: Annotated[float, Field(ge=0)] = 0.0  # added to ``staff``


def clock_minutes(text: str) -> int:
    """``"16:30"`` -> 990; only whole and half hours, as appointments last 30 minutes."""
    hours, _, minutes = text.partition(":")
    if not (hours.isdigit() and minutes in ("00", "30")) or not 0 <= int(hours) <= 23:
        raise ValueError(f"{text!r}: write a time as HH:MM on the hour or half hour")
    return int(hours) * 60 + int(minutes)


class Shift(_Strict):
    """A doctor's working hours on each clinic day (Sunday to Thursday), Riyadh time."""

    start: str
    end: str
    weight: Annotated[float, Field(ge=0.0)] = 1.0

    @model_validator(mode="after")
    def _hours(self) -> Shift:
        if clock_minutes(self.start) >= clock_minutes(self.end):
            raise ValueError(f"start {self.start} must come before end {self.end}")
        return self


def _default_shifts() -> dict[str, Shift]:
    return {
        "morning": Shift(start="08:00", end="16:00", weight=0.6),
        "evening": Shift(start="16:00", end="22:00", weight=0.4),
    }


class Doctors(_Strict):
    count: Annotated[int, Field(ge=1)] | None = None
    per_1000_patients: Annotated[float, Field(gt=0)] | None = None
    specialities: list[str] = Field(default_factory=list)
    available_share: Share = 0.9
    # Weekly schedules: each doctor works one shift, chosen by weight. Shifts must not
    # overlap, so that a patient seen in two shifts is never booked twice at once.
    shifts: dict[str, Shift] = Field(default_factory=_default_shifts)

    @field_validator("shifts")
    @classmethod
    def _disjoint(cls, v: dict[str, Shift]) -> dict[str, Shift]:
        if not v or sum(s.weight for s in v.values()) <= 0:
            raise ValueError("give at least one shift with a positive weight")
        spans = sorted((clock_minutes(s.start), clock_minutes(s.end), n) for n, s in v.items())
        for (_, end, a), (start, _, b) in itertools.pairwise(spans):
            if start < end:
                raise ValueError(f"shifts {a} and {b} overlap; shifts must not share hours")
        return v


def age_band(label: str) -> tuple[int, int]:
    """``"30-44"`` -> (30, 45): ages from 30 up to, not including, 45."""
    lo, _, hi = label.partition("-")
    if not (lo.isdigit() and hi.isdigit()) or not 18 <= int(lo) <= int(hi) <= 100:
        raise ValueError(
            f"age band {label!r}: write it as LOW-HIGH years, 18 <= LOW <= HIGH <= 100"
        )
    return int(lo), int(hi) + 1


# The default approximates the adult age structure of the Saudi 2022 census (GASTAT): a
# young, working-age population with few over 75.
_ADULT_AGES = {"18-29": 27.0, "30-44": 36.0, "45-59": 23.0, "60-74": 11.0, "75-90": 3.0}


class Patients(_Strict):
    count: Annotated[int, Field(ge=1)] | None = None  # or the profile's ``scale``
    child_share: Share = 0.25
    insured_share: Share = 0.7
    activated_share: Share = 0.9
    female_share: Share = 0.5
    # Adult patients by age band (weights).
    adult_ages: Mix = Field(default_factory=lambda: dict(_ADULT_AGES))

    @field_validator("adult_ages")
    @classmethod
    def _bands(cls, v: Mix) -> Mix:
        for label in v:
            age_band(label)
        if not v or sum(v.values()) <= 0:
            raise ValueError("give at least one age band with a positive weight")
        return v


class Appointments(_Strict):
    count: Count | None = None
    per_patient: Annotated[float, Field(ge=0)] | None = None
    future_share: Share = 0.3
    past_status: PastMix = Field(
        default_factory=lambda: {"completed": 0.8, "no_show": 0.1, "cancelled": 0.1}
    )
    future_status: FutureMix = Field(default_factory=lambda: {"pending": 0.5, "confirmed": 0.5})
    types: TypeMix = Field(
        default_factory=lambda: {"consultation": 0.6, "follow_up": 0.25, "checkup": 0.15}
    )
    insurance_share: Share = 0.8
    self_pay_methods: SelfPayMix = Field(
        default_factory=lambda: {"cash": 0.3, "card": 0.6, "bank_transfer": 0.1}
    )
    prepaid_share: Share = 0.3
    follow_up_share: Share = 0.3
    # Visits per patient are skewed: this share of patients (the chronically ill, the
    # regulars) takes ``frequent_visits_share`` of the visits; the rest share the others.
    frequent_patients_share: Annotated[float, Field(gt=0.0, le=1.0)] = 0.2
    frequent_visits_share: Share = 0.45


class MedicalRecords(_Strict):
    prescription_share: Share = 0.8
    lab_share: Share = 0.4


_CLAIMS = {"submitted": 0.1, "under_review": 0.1, "approved": 0.15, "rejected": 0.1, "paid": 0.55}


class InsuranceClaims(_Strict):
    status: ClaimMix = Field(default_factory=lambda: dict(_CLAIMS))
    coverage: Annotated[float, Field(gt=0.0, le=1.0)] = 0.8


class Notifications(_Strict):
    per_appointment: Share = 0.8
    per_reminder: Share = 0.5
    per_payment: Share = 0.8
    per_claim: Share = 0.5
    welcome: Share = 0.5


class Activity(_Strict):
    """Rows in the supporting tables."""

    file_uploads_per_patient: Share = 0.5
    audit_per_appointment: Share = 0.5
    conversations_per_patient: Share = 0.5
    abandoned_share: Share = 0.2
    crm_leads: Count | None = None
    crm_leads_per_1000_patients: Annotated[float, Field(ge=0)] | None = None
    activities_per_lead: Annotated[int, Field(ge=0, le=20)] = 2
    reports: Count = 2
    metrics: Count = 4


class Tables(_Strict):
    users: Users = Field(default_factory=Users)
    doctors: Doctors = Field(default_factory=Doctors)
    patients: Patients = Field(default_factory=Patients)
    appointments: Appointments = Field(default_factory=Appointments)
    medical_records: MedicalRecords = Field(default_factory=MedicalRecords)
    insurance_claims: InsuranceClaims = Field(default_factory=InsuranceClaims)
    notifications: Notifications = Field(default_factory=Notifications)
    activity: Activity = Field(default_factory=Activity)


@dataclass(frozen=True)
class Counts:
    """Row counts resolved from ``scale`` (patients) and the per-patient ratios."""

    patients: int
    doctors: int
    appointments: int
    admins: int
    supervisors: int
    staff: int
    crm_leads: int


class Auth(_Strict):
    """Sign-in accounts (Supabase Auth's auth.users and auth.identities) for every user."""

    users: bool = False
    # One password for every account; for demo data only, and never a real-looking secret.
    password: Annotated[str, Field(min_length=6)] | None = None


class Profile(_Strict):
    profile_version: Literal[1]
    name: str
    description: str = ""
    seed: Annotated[int, Field(ge=0)] = 0
    scale: Annotated[int, Field(ge=1)] | None = None  # number of patients
    as_of: dt.datetime
    history_days: Annotated[int, Field(ge=1, le=3650)] = 180
    future_days: Annotated[int, Field(ge=1, le=365)] = 30
    arabic_share: Share = 0.8
    email_domains: list[str] = Field(default_factory=lambda: list(RESERVED_DOMAINS))
    tables: Tables = Field(default_factory=Tables)
    auth: Auth = Field(default_factory=Auth)

    @field_validator("as_of")
    @classmethod
    def _aware(cls, v: dt.datetime) -> dt.datetime:
        if v.tzinfo is None:
            raise ValueError("needs a UTC offset, e.g. 2026-01-15T12:00:00+03:00")
        return v

    @field_validator("email_domains")
    @classmethod
    def _reserved(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError("give at least one domain")
        bad = [d for d in v if d not in RESERVED_DOMAINS and not d.endswith(".test")]
        if bad:
            raise ValueError(
                f"{bad} not reserved; use example.com, example.org, example.net or a *.test "
                "domain so generated e-mail can never reach a real inbox"
            )
        return v

    @model_validator(mode="after")
    def _counts(self) -> Profile:
        t = self.tables
        problems = []
        if (self.scale is None) == (t.patients.count is None):
            problems.append("give either scale or tables.patients.count (the number of patients)")
        for path, count, ratio in (
            ("tables.doctors", t.doctors.count, t.doctors.per_1000_patients),
            ("tables.appointments", t.appointments.count, t.appointments.per_patient),
            ("tables.activity", t.activity.crm_leads, t.activity.crm_leads_per_1000_patients),
        ):
            if count is not None and ratio is not None:
                problems.append(f"{path}: give a count or a per-patient ratio, not both")
        first, last = (dt.date(*d) for d in GREGORIAN_RANGE)
        window = (
            (self.as_of - dt.timedelta(days=self.history_days + 366)).date(),
            (self.as_of + dt.timedelta(days=self.future_days + 366)).date(),
        )
        if window[0] < first or window[1] > last:
            problems.append(
                f"as_of: the dates around it must stay within {first}..{last}, the range of "
                "the Umm al-Qura calendar that Arabic texts date by; choose an as_of inside it"
            )
        if problems:
            raise ValueError("; ".join(problems))
        n = self.counts
        if t.activity.reports and not (n.admins + n.supervisors):
            raise ValueError("tables.activity.reports > 0 needs at least one admin or supervisor")
        if n.crm_leads and not (n.staff + n.supervisors):
            raise ValueError("tables.activity.crm_leads > 0 needs at least one staff or supervisor")
        return self

    @property
    def counts(self) -> Counts:
        t = self.tables
        patients = self.scale if self.scale is not None else (t.patients.count or 0)

        def per(count: int | None, ratio: float | None, unit: float, default: int) -> int:
            if count is not None:
                return count
            return default if ratio is None else round(ratio * patients / unit)

        return Counts(
            patients=patients,
            doctors=max(1, per(t.doctors.count, t.doctors.per_1000_patients, 1000, 3)),
            appointments=per(t.appointments.count, t.appointments.per_patient, 1, 6),
            admins=t.users.admins,
            supervisors=t.users.supervisors,
            staff=t.users.staff + round(t.users.staff_per_1000_patients * patients / 1000),
            crm_leads=per(t.activity.crm_leads, t.activity.crm_leads_per_1000_patients, 1000, 3),
        )

    @property
    def sha256(self) -> str:
        """Hash of the resolved profile: the same settings give the same hash."""
        return settings_sha256(self.model_dump(mode="json"))

    def with_overrides(self, *, seed: int | None = None, scale: int | None = None) -> Profile:
        """The profile with ``--seed`` and ``--scale`` applied (scale replaces a patient count,
        and the per-patient ratios follow it)."""
        data = self.model_dump(mode="python")
        if seed is not None:
            data["seed"] = seed
        if scale is not None:
            data["scale"] = scale
            data["tables"]["patients"]["count"] = None
        return parse(data, f"{self.name} (with overrides)")


def settings_sha256(settings: dict[str, Any]) -> str:
    """Hash of a resolved profile's settings as JSON data (``Profile.model_dump``)."""
    text = json.dumps(settings, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _format_error(err: dict[str, Any]) -> str:
    where = ".".join(str(p) for p in err["loc"]) or "(top level)"
    msg = str(err["msg"]).removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        msg = "unknown key; check its spelling against profiles/README.md"
    elif err["type"] == "missing":
        msg = "required key is missing"
    return f"{where}: {msg}"


def parse(data: Any, source: str) -> Profile:
    """Validate already-loaded YAML data; raise ProfileError listing every problem."""
    if not isinstance(data, dict):
        raise ProfileError(source, ["(top level): expected a mapping of keys to values"])
    try:
        return Profile.model_validate(data)
    except ValidationError as exc:
        raise ProfileError(source, [_format_error(dict(e)) for e in exc.errors()]) from None


def resolve_path(name_or_path: str) -> Path:
    """A profile name (``demo``) from the shipped profiles, or a path to a YAML file."""
    candidate = Path(name_or_path)
    if candidate.suffix in {".yaml", ".yml"} or candidate.exists():
        if not candidate.is_file():
            raise UsageError(f"profile file {candidate} does not exist")
        return candidate
    shipped = paths.profiles_dir() / f"{name_or_path}.yaml"
    if shipped.is_file():
        return shipped
    names = ", ".join(sorted(p.stem for p in paths.profiles_dir().glob("*.yaml")))
    raise UsageError(
        f"no profile named {name_or_path!r}; shipped profiles: {names}; "
        "or give a path to a .yaml file"
    )


def load(name_or_path: str) -> Profile:
    path = resolve_path(name_or_path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ProfileError(str(path), [f"not valid YAML: {exc}"]) from None
    return parse(data, str(path))
