"""People: the user accounts of every role, and the patients and doctors behind them.

A person is drawn once, from the user index, with an Arabic and an English form of the same
name; patients and doctors recompute their person from their user index.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from moeen_synth import keys
from moeen_synth.errors import UsageError
from moeen_synth.generators.base import (
    DAY,
    I64,
    Bilingual,
    Context,
    by_language,
    date,
    digits,
    either,
    js,
    json_objects,
    pick,
    pick_language,
    ts,
)
from moeen_synth.keys import F64
from moeen_synth.profile import age_band
from moeen_synth.vocab import split_list

ROLES = ("admin", "supervisor", "staff", "doctor", "patient")
GENDERS = ("male", "female")
ORIGINS = ("saudi", "arab", "south_asian", "filipino")
ORIGIN_WEIGHTS = (0.76, 0.10, 0.10, 0.04)
NATIONALITIES = {
    "saudi": ("SA",),
    "arab": ("EG", "JO", "SY", "YE", "SD"),
    "south_asian": ("IN", "PK", "BD"),
    "filipino": ("PH",),
}


@dataclass(frozen=True)
class Layout:
    """User indices by role: admins, supervisors, staff, doctors, patients, in that order."""

    counts: tuple[int, int, int, int, int]

    @property
    def users(self) -> int:
        return sum(self.counts)

    def offset(self, role: str) -> int:
        return sum(self.counts[: ROLES.index(role)])

    def role_index(self, u: I64) -> I64:
        bounds = np.cumsum(self.counts)
        return np.searchsorted(bounds, u, side="right").astype(np.int64)

    def users_of(self, *roles: str) -> I64:
        return np.concatenate(
            [np.arange(self.offset(r), self.offset(r) + self.counts[ROLES.index(r)]) for r in roles]
        ).astype(np.int64)


def layout(ctx: Context) -> Layout:
    n = ctx.counts
    return Layout((n.admins, n.supervisors, n.staff, n.doctors, n.patients))


class Pools:
    """Vocabulary lookups built once per run: name pools by gender and origin, name and place
    columns as polars Series to gather from, districts grouped by city."""

    def __init__(self, ctx: Context) -> None:
        v = ctx.vocab

        def group(o: str) -> str:
            return "arab" if o in ("saudi", "arab") else o

        self.first = {
            (g, o): np.array(
                [
                    i
                    for i, r in enumerate(v.first_names)
                    if r["gender"] == g and r["origin"] == group(o)
                ],
                dtype=np.int64,
            )
            for g in GENDERS
            for o in ORIGINS
        }
        self.family = {
            o: np.array(
                [i for i, r in enumerate(v.family_names) if r["origin"] == group(o)], dtype=np.int64
            )
            for o in ORIGINS
        }
        for name, pool in [*self.first.items(), *self.family.items()]:
            if len(pool) == 0:
                raise UsageError(f"vocabulary has no names for {name}")
        self.first_ar = _column(v.first_names, "name_ar")
        self.first_en = _column(v.first_names, "name_en")
        self.first_ascii = pl.Series([_ascii(r["name_en"]) for r in v.first_names])
        self.family_ar = _column(v.family_names, "name_ar")
        self.family_en = _column(v.family_names, "name_en")
        self.family_ascii = pl.Series([_ascii(r["name_en"]) for r in v.family_names])
        weights = np.array([float(c["population_weight"]) for c in v.cities])
        self.city_weights = weights / weights.sum()
        codes = [c["city_code"] for c in v.cities]
        by_city = sorted(
            range(len(v.districts)), key=lambda i: codes.index(v.districts[i]["city_code"])
        )
        counts = np.array([sum(1 for d in v.districts if d["city_code"] == c) for c in codes])
        if (counts == 0).any():
            raise UsageError("vocabulary: every city in cities.csv needs a district")
        self.district_flat = np.array(by_city, dtype=np.int64)
        self.district_start = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
        self.district_count = counts.astype(np.int64)
        self.city_ar, self.city_en = _column(v.cities, "name_ar"), _column(v.cities, "name_en")
        self.postal_prefix = _column(v.cities, "postal_prefix")
        self.district_ar = _column(v.districts, "name_ar")
        self.district_en = _column(v.districts, "name_en")
        self.street_ar, self.street_en = (
            _column(v.streets, "name_ar"),
            _column(v.streets, "name_en"),
        )


def pools(ctx: Context) -> Pools:
    result: Pools = ctx.cached("pools", lambda: Pools(ctx))
    return result


def _column(rows: Sequence[dict[str, str]], key: str) -> pl.Series:
    return pl.Series([r[key] for r in rows], dtype=pl.String)


def _pool_pick(pool_of: Mapping[Any, I64], keys: Sequence[Any], code: I64, u: F64) -> I64:
    """For each row, an element of the pool ``keys[code]`` chosen by ``u`` in [0, 1)."""
    out = np.empty(len(code), dtype=np.int64)
    for c in np.unique(code).tolist():
        sel = code == c
        pool = pool_of[keys[c]]
        out[sel] = pool[(u[sel] * len(pool)).astype(np.int64)]
    return out


def _ascii(name: str) -> str:
    return re.sub(r"[^a-z]", "", name.lower())


def luhn_check_digits(body: I64, width: int) -> I64:
    """Luhn check digits for numbers of ``width`` digits (Saudi ids and iqamas use Luhn)."""
    total = np.zeros(len(body), dtype=np.int64)
    x = body.copy()
    for i in range(width):  # i = 0 is the rightmost digit, which is doubled
        d = x % 10
        x //= 10
        if i % 2 == 0:
            d = d * 2
            d = np.where(d > 9, d - 9, d)
        total += d
    check: I64 = (10 - total % 10) % 10
    return check


class People:
    """Facts about the people behind user indices ``u`` (vectorised)."""

    def __init__(self, ctx: Context, u: I64) -> None:
        self.ctx = ctx
        self.u = np.asarray(u, dtype=np.int64)
        self.lay: Layout = ctx.cached("layout", lambda: layout(ctx))
        self.role = self.lay.role_index(self.u)
        self.pools = pools(ctx)
        n_users = self.lay.users
        self.origin = ctx.mix("users", "origin", self.u, n_users, ORIGIN_WEIGHTS)
        arab = self.origin <= 1
        arab_fraction = ORIGIN_WEIGHTS[0] + ORIGIN_WEIGHTS[1]
        q = min(1.0, ctx.profile.arabic_share / arab_fraction)
        self.arabic = arab & ctx.share("users", "language", self.u, n_users, q)

    # The rest is made when first asked for: many child tables need only a person's
    # language or sex, and names and ages are most of a People's cost.
    @cached_property
    def female(self) -> npt.NDArray[np.bool_]:
        is_patient = self.role == ROLES.index("patient")
        female_p = patient_female(self.ctx, self.u - self.lay.offset("patient"))
        female_o = self.ctx.stream("users", "female_staff").uniform(self.u) < 0.35
        result: npt.NDArray[np.bool_] = np.where(is_patient, female_p, female_o)
        return result

    @cached_property
    def _names(self) -> tuple[I64, I64, I64]:
        """Indices of (first, father's, family) name in the name pools."""
        s, pl_ = self.ctx.stream, self.pools
        combos = [(g, o) for g in GENDERS for o in ORIGINS]
        gender_code = self.female.astype(np.int64)
        first = _pool_pick(
            pl_.first,
            combos,
            gender_code * len(ORIGINS) + self.origin,
            s("users", "first").uniform(self.u),
        )
        father = _pool_pick(pl_.first, combos, self.origin, s("users", "father").uniform(self.u))
        # A son is rarely named after his own father: draw again on a clash.
        for attempt in range(4):
            clash = father == first
            if not clash.any():
                break
            again = _pool_pick(
                pl_.first, combos, self.origin, s("users", f"father_again{attempt}").uniform(self.u)
            )
            father = np.where(clash, again, father)
        family = _pool_pick(pl_.family, ORIGINS, self.origin, s("users", "family").uniform(self.u))
        return first, father, family

    @property
    def first(self) -> I64:
        return self._names[0]

    @property
    def father(self) -> I64:
        return self._names[1]

    @property
    def family(self) -> I64:
        return self._names[2]

    @cached_property
    def age_years(self) -> npt.NDArray[np.float64]:
        """Ages: children and adults among patients by layout (see ``patient_groups``)."""
        ctx, s, n = self.ctx, self.ctx.stream, len(self.u)
        n_users = self.lay.users
        age_u = s("users", "age").uniform(self.u)
        lo = np.full(n, 24.0)
        hi = np.full(n, 58.0)
        lo[self.role == ROLES.index("doctor")] = 30.0
        hi[self.role == ROLES.index("doctor")] = 66.0
        child = self.is_child()
        adult = (self.role == ROLES.index("patient")) & ~child
        bands = ctx.profile.tables.patients.adult_ages
        edges = np.array([age_band(label) for label in bands], dtype=np.float64)
        band = ctx.mix("users", "adult_age", self.u, n_users, list(bands.values()))
        lo[adult], hi[adult] = edges[band[adult], 0], edges[band[adult], 1] - 0.01
        lo[child], hi[child] = 0.1, 17.9
        age: npt.NDArray[np.float64] = lo + (hi - lo) * age_u
        return age

    @cached_property
    def birth_day(self) -> I64:
        birth: I64 = self.ctx.as_of // DAY - (self.age_years * 365.25).astype(np.int64)
        return birth

    @cached_property
    def created(self) -> I64:
        """Accounts exist before the history window opens, so every event follows them."""
        window_start = self.ctx.as_of - self.ctx.profile.history_days * DAY
        return window_start - self.ctx.stream("users", "created").integers(
            self.u, 30 * DAY, 900 * DAY
        )

    @cached_property
    def nationality_i(self) -> I64:
        return self.ctx.stream("users", "nationality").integers(self.u, 0, 60)

    @cached_property
    def phone_n(self) -> I64:
        return self.ctx.stream("users", "phone").integers(self.u, 0, 100_000_000)

    def is_child(self) -> npt.NDArray[np.bool_]:
        p = self.u - self.lay.offset("patient")
        n_child = patient_groups(self.ctx)[0]
        child: npt.NDArray[np.bool_] = (self.role == ROLES.index("patient")) & (p < n_child)
        return child

    # -- names ------------------------------------------------------------------------
    def _join(self, first: pl.Series, father: pl.Series, family: pl.Series) -> pl.Series:
        return (
            pl.DataFrame(
                {
                    "a": first.gather(self.first),
                    "b": father.gather(self.father),
                    "c": family.gather(self.family),
                }
            )
            .select(pl.concat_str(["a", "b", "c"], separator=" "))
            .to_series()
        )

    @cached_property
    def name_ar(self) -> pl.Series:
        return self._join(self.pools.first_ar, self.pools.first_ar, self.pools.family_ar)

    @cached_property
    def name_en(self) -> pl.Series:
        return self._join(self.pools.first_en, self.pools.first_en, self.pools.family_en)

    @cached_property
    def name(self) -> pl.Series:
        """The name in the person's own language."""
        return pick_language(self.arabic, self.name_ar, self.name_en)

    @cached_property
    def language(self) -> pl.Series:
        return by_language(self.arabic, "ar", "en")

    @cached_property
    def email(self) -> pl.Series:
        domains = pl.Series(self.ctx.profile.email_domains, dtype=pl.String)
        d = self.ctx.stream("users", "domain").integers(self.u, 0, len(domains))
        ns = f"n{self.ctx.namespace}" if self.ctx.namespace else ""
        return (
            pl.DataFrame(
                {
                    "f": self.pools.first_ascii.gather(self.first),
                    "l": self.pools.family_ascii.gather(self.family),
                    "k": pl.Series(self.u + 1).cast(pl.String),
                    "d": domains.gather(d),
                }
            )
            .select(pl.concat_str(["f", pl.lit("."), "l", "k", pl.lit(ns + "@"), "d"]))
            .to_series()
        )

    @cached_property
    def phone(self) -> pl.Series:
        return "+9665" + digits(self.phone_n, 8)

    @cached_property
    def nationality(self) -> pl.Series:
        codes = pl.Series([c for o in ORIGINS for c in NATIONALITIES[o]], dtype=pl.String)
        sizes = np.array([len(NATIONALITIES[o]) for o in ORIGINS], dtype=np.int64)
        first = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        return codes.gather(first[self.origin] + self.nationality_i % sizes[self.origin])

    @cached_property
    def national_id(self) -> pl.Series:
        citizen = (self.nationality == "SA").to_numpy()
        body = np.where(citizen, 100_000_000, 200_000_000) + self.ctx.stream(
            "users", "national_id"
        ).integers(self.u, 0, 100_000_000)
        return digits(body * 10 + luhn_check_digits(body, 9), 10)

    @cached_property
    def address(self) -> pl.Series:
        """Saudi national address form, in the person's language."""
        pl_, s = self.pools, self.ctx.stream
        city = s("users", "city").choice(self.u, pl_.city_weights)
        pick = (s("users", "district").uniform(self.u) * pl_.district_count[city]).astype(np.int64)
        district = pl_.district_flat[pl_.district_start[city] + pick]
        street = s("users", "street").integers(self.u, 0, len(pl_.street_ar))
        parts = pl.DataFrame(
            {
                "m": self.arabic,
                "b": digits(s("users", "building").integers(self.u, 1000, 10000), 4),
                "sa": pl_.street_ar.gather(street),
                "se": pl_.street_en.gather(street),
                "da": pl_.district_ar.gather(district),
                "de": pl_.district_en.gather(district),
                "ca": pl_.city_ar.gather(city),
                "ce": pl_.city_en.gather(city),
                "pc": pl_.postal_prefix.gather(city)
                + digits(s("users", "postal").integers(self.u, 0, 1000), 3),
            }
        )
        return parts.select(
            pl.when("m")
            .then(
                pl.concat_str(
                    [
                        "b",
                        pl.lit(" "),
                        "sa",
                        pl.lit("، حي "),
                        "da",
                        pl.lit("، "),
                        "ca",
                        pl.lit(" "),
                        "pc",
                    ]
                )
            )
            .otherwise(
                pl.concat_str(
                    [
                        "b",
                        pl.lit(" "),
                        "se",
                        pl.lit(", "),
                        "de",
                        pl.lit(" District, "),
                        "ce",
                        pl.lit(" "),
                        "pc",
                    ]
                )
            )
        ).to_series()


ADULT_SEX = ("patients", "adult_female")  # the quota that makes adult patients women


def adult_sexes(ctx: Context) -> tuple[int, int]:
    """(men, women) among adult patients, in the profile's exact share."""
    share = ctx.profile.tables.patients.female_share
    men, women = keys.apportion(patient_groups(ctx)[1], (1.0 - share, share))
    return int(men), int(women)


def patient_female(ctx: Context, p: I64) -> npt.NDArray[np.bool_]:
    """Sex of patients ``p`` (values outside 0..patients-1 give False), in exact shares among
    children and among adults. Adult women are a quota over adult indexes, so scheduling can
    find the k-th woman (keys.quota_member) for the specialities that see women only."""
    n_child, n_adult = patient_groups(ctx)
    share = ctx.profile.tables.patients.female_share
    p = np.asarray(p, dtype=np.int64)
    child = (p >= 0) & (p < n_child)
    adult = (p >= n_child) & (p < n_child + n_adult)
    girls = ctx.share("patients", "child_female", np.where(child, p, 0), max(1, n_child), share)
    women = (
        keys.quota(
            ctx.seed,
            ctx.namespace,
            *ADULT_SEX,
            idx=np.where(adult, p - n_child, 0),
            n=max(1, n_adult),
            weights=(1.0 - share, share),
        )
        == 1
    )
    female: npt.NDArray[np.bool_] = (child & girls) | (adult & women)
    return female


def patient_groups(ctx: Context) -> tuple[int, int]:
    """(children, adults) among patients: children take the first patient indices."""

    def build() -> tuple[int, int]:
        p = ctx.profile.tables.patients
        n = ctx.counts.patients
        n_child = round(n * p.child_share)
        return n_child, n - n_child

    result: tuple[int, int] = ctx.cached("patient_groups", build)
    return result


# -- tables -----------------------------------------------------------------------------------
def user_count(ctx: Context) -> int:
    return layout(ctx).users


_BCRYPT_ALPHABET = np.frombuffer(
    b"./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", dtype=np.uint8
)


def password_hashes(ctx: Context, u: I64) -> pl.Series:
    """bcrypt-shaped strings that match no password (the platform stores bcrypt hashes)."""
    words = [ctx.stream("users", f"password{j}").bits(u) for j in range(6)]
    chars = np.empty((len(u), 53), dtype=np.uint8)
    for k in range(53):
        chars[:, k] = _BCRYPT_ALPHABET[(words[k // 10] >> np.uint64(6 * (k % 10))) & np.uint64(63)]
    return "$2b$12$" + pl.Series(chars.view("S53").ravel()).cast(pl.String)


def users(ctx: Context, start: int, stop: int) -> pl.DataFrame:
    u = np.arange(start, stop, dtype=np.int64)
    p = People(ctx, u)
    s = ctx.stream
    active = s("users", "active").uniform(u) < 0.97
    verified = s("users", "verified").uniform(u) < 0.9
    last_login = ctx.as_of - s("users", "last_login").integers(u, 600, 60 * DAY)
    last_login = np.where(verified, last_login, -1)
    updated = np.maximum(p.created, last_login)
    profile = json_objects(
        fullName=p.name,
        fullNameAr=p.name_ar,
        fullNameEn=p.name_en,
        nationalId=p.national_id,
        nationality=p.nationality,
        gender=either(p.female, "female", "male"),
        phone=p.phone,
    )
    preferences = json_objects(
        language=p.language,
        timezone=pl.repeat("Asia/Riyadh", len(u), eager=True),
        notifications=pl.DataFrame(
            {
                "email": np.ones(len(u), dtype=bool),
                "push": (u % 2).astype(bool),
                "sms": np.ones(len(u), dtype=bool),
            }
        ).to_struct(),
    )
    return pl.DataFrame(
        {
            "id": ctx.ids("users", u),
            "email": p.email,
            "password_hash": password_hashes(ctx, u),
            "role": pl.Series(ROLES, dtype=pl.String).gather(p.role),
            "is_active": active,
            "is_verified": verified,
            "last_login": ts(last_login),
            "created_at": ts(p.created),
            "updated_at": ts(updated),
            "profile": profile,
            "preferences": preferences,
        }
    )


# -- doctors ------------------------------------------------------------------------------------
class DoctorFacts:
    """Per-doctor facts for all doctors (their number is small): speciality, fee, age group."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        v = ctx.vocab
        t = ctx.profile.tables.doctors
        names = t.specialities or [r["name_en"] for r in v.specialities]
        for name in names:
            try:
                v.speciality(name)
            except KeyError as exc:
                raise UsageError(f"tables.doctors.specialities: {exc.args[0]}") from None
        index = {r["name_en"]: i for i, r in enumerate(v.specialities)}
        d = np.arange(ctx.counts.doctors, dtype=np.int64)
        self.spec = np.array([index[names[i % len(names)]] for i in d.tolist()], dtype=np.int64)
        lo = np.array([int(v.specialities[i]["fee_min"]) for i in self.spec.tolist()])
        hi = np.array([int(v.specialities[i]["fee_max"]) for i in self.spec.tolist()])
        steps = ctx.stream("doctors", "fee").integers(d, 0, (hi - lo) // 10 + 1)
        self.fee_halalas = (lo + steps * 10) * 100
        self.pediatric = np.array(
            [int(v.specialities[i]["max_patient_age"]) < 18 for i in self.spec.tolist()], dtype=bool
        )
        shifts = t.shifts
        self.shift = ctx.mix("doctors", "shift", d, len(d), [s.weight for s in shifts.values()])
        self.shift_names = list(shifts)
        women_only = np.array(
            [v.specialities[i].get("patient_sex") == "female" for i in self.spec.tolist()],
            dtype=bool,
        )
        # 1: children; 2: adult women only; 0: adults
        self.group = np.where(self.pediatric, 1, np.where(women_only, 2, 0)).astype(np.int64)
        self.rank = np.zeros(ctx.counts.doctors, dtype=np.int64)
        self.group_size = np.zeros(3, dtype=np.int64)
        for i, g in enumerate(self.group.tolist()):
            self.rank[i] = self.group_size[g]
            self.group_size[g] += 1
        n_child, n_adult = patient_groups(ctx)
        women = adult_sexes(ctx)[1]
        for have, need, label in (
            (n_child, self.group_size[1], "children"),
            (women, self.group_size[2], "adult women"),
            (n_adult, self.group_size[0] + self.group_size[2], "adults"),
        ):
            if need > have:
                raise UsageError(
                    f"tables.patients: {have} {label} among patients, but "
                    f"{need} doctors see {label}; each needs a patient at the same "
                    "time slot. Raise the number of patients or adjust child_share."
                )

    @cached_property
    def names(self) -> Bilingual:
        """All doctors' names in both languages, for a row's doctor in its language."""
        return Bilingual.of(self.people.name_en, self.people.name_ar)

    @cached_property
    def people(self) -> People:
        """All doctors as People, made once: notices and replies gather names from here."""
        d = np.arange(self.ctx.counts.doctors, dtype=np.int64)
        return People(self.ctx, d + layout(self.ctx).offset("doctor"))


def doctor_facts(ctx: Context) -> DoctorFacts:
    result: DoctorFacts = ctx.cached("doctor_facts", lambda: DoctorFacts(ctx))
    return result


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
    title_ar, title_en = v.text("doctor.title", "ar"), v.text("doctor.title", "en")
    full = [
        f"{title_ar} {n}" if ar else f"{title_en} {n}"
        for n, ar in zip(p.name, p.arabic.tolist(), strict=True)
    ]
    experience = np.maximum(1, (p.age_years - 27).astype(np.int64))
    schools = [r for r in v.universities if r["kind"] == "school"]
    boards = [r for r in v.universities if r["kind"] == "board"]
    school = s("doctors", "school").integers(d, 0, len(schools)).tolist()
    board = s("doctors", "board").integers(d, 0, len(boards)).tolist()
    grad = (ctx.as_of // DAY - (experience * 365)) // 365 + 1970
    lang_key = ["name_ar" if a else "name_en" for a in p.arabic.tolist()]
    education = [
        [{"degree": "MBBS", "institution": schools[k][lk], "year": int(y)}]
        for k, lk, y in zip(school, lang_key, grad.tolist(), strict=True)
    ]
    certs = [
        [{"name": boards[k][lk], "year": int(y) + 5}]
        for k, lk, y in zip(board, lang_key, grad.tolist(), strict=True)
    ]
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


def _money_list(halalas: np.ndarray) -> list[str]:
    return [f"{h // 100}.{h % 100:02d}" for h in halalas.tolist()]


# -- patients -----------------------------------------------------------------------------------
def insurer_of(ctx: Context, p: I64) -> I64:
    """The patient's insurer (index into the insurers vocabulary), or -1 if uninsured."""
    t = ctx.profile.tables.patients
    insured = ctx.share("patients", "insured", p, ctx.counts.patients, t.insured_share)
    weights = [float(r["market_weight"]) for r in ctx.vocab.insurers]
    which = ctx.stream("patients", "insurer").choice(p, weights)
    return np.where(insured, which, -1)


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
            "m": p.arabic,
            "ok": insured,
            "fa": p.pools.first_ar.gather(p.father),
            "fe": p.pools.first_en.gather(p.father),
            "la": p.pools.family_ar.gather(p.family),
            "le": p.pools.family_en.gather(p.family),
            "provider": bg.insurer_en.gather(k),
            "prefix": bg.policy_prefix.gather(k),
            "number": pl.Series(number).cast(pl.String),
            "width": width,
        }
    )
    extra = frame.select(
        # Emergency contact: the father, who shares the family name.
        pl.when("m")
        .then(pl.concat_str(["fa", "la"], separator=" "))
        .otherwise(pl.concat_str(["fe", "le"], separator=" "))
        .alias("emergency"),
        pl.when("ok").then("provider").alias("provider"),
        pl.when("ok")
        .then(pl.concat_str(["prefix", pl.col("number").str.zfill(pl.col("width"))]))
        .alias("number"),
    )
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
            "emergency_contact_name": extra["emergency"],
            "emergency_contact_phone": "+9665"
            + digits(s("patients", "ephone").integers(pi, 0, 10**8), 8),
            "insurance_provider": extra["provider"],
            "insurance_number": extra["number"],
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
        self.insurer_en = _column(v.insurers, "name_en")
        self.policy_prefix = _column(v.insurers, "policy_prefix")
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
    frame = pl.DataFrame(
        {
            "m": p.arabic,
            "n": n_hist,
            "al": has_allergy,
            "i1a": bg.item["ar"].gather(first),
            "i1e": bg.item["en"].gather(first),
            "i2a": bg.item["ar"].gather(second),
            "i2e": bg.item["en"].gather(second),
            "m1a": bg.med["ar"].gather(first),
            "m1e": bg.med["en"].gather(first),
            "m2a": bg.med["ar"].gather(second),
            "m2e": bg.med["en"].gather(second),
            "ala": bg.allergy["ar"].gather(allergy),
            "ale": bg.allergy["en"].gather(allergy),
        }
    )

    def lang(stem: str) -> pl.Expr:
        return pl.when("m").then(pl.col(f"{stem}a")).otherwise(pl.col(f"{stem}e"))

    def array(items: list[tuple[pl.Expr, pl.Expr]]) -> pl.Expr:
        present = [pl.when(cond).then(item) for cond, item in items]
        return pl.concat_str(
            [pl.lit("["), pl.concat_str(present, separator=", ", ignore_nulls=True), pl.lit("]")]
        )

    n_col = pl.col("n")
    out = frame.select(
        array([(n_col >= 1, lang("i1")), (n_col >= 2, lang("i2"))]).alias("history"),
        array([(pl.col("al"), lang("al"))]).alias("allergies"),
        array(
            [
                ((n_col >= 1) & (lang("m1") != ""), lang("m1")),
                ((n_col >= 2) & (lang("m2") != ""), lang("m2")),
            ]
        ).alias("medications"),
    )
    return out["history"], out["allergies"], out["medications"]
