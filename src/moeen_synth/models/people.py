"""People: who is behind each user index, drawn once with an Arabic and an English form of
the same name; patients and doctors recompute their person from their user index.

User indices run by role (admins, supervisors, staff, doctors, patients); children take the
first patient indices, and adult women are a quota over the adults, so the visit model can
find the k-th woman without drawing anyone else.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl

from moeen_synth import keys
from moeen_synth.models import contact
from moeen_synth.models.bilingual import Bilingual, in_language
from moeen_synth.models.cached import cached_property
from moeen_synth.models.context import DAY, Context
from moeen_synth.models.layout import BlockPrefix
from moeen_synth.models.pools import GENDERS, ORIGIN_WEIGHTS, ORIGINS, pool_pick, pools
from moeen_synth.models.specialities import pediatric
from moeen_synth.profile import age_band

I64 = npt.NDArray[np.int64]

ROLES = ("admin", "supervisor", "staff", "doctor", "patient")


@dataclass(frozen=True)
class Layout:
    """User indices by role: admins, supervisors, staff, doctors, patients, in that order."""

    counts: tuple[int, int, int, int, int]

    @property
    def users(self) -> int:
        return sum(self.counts)

    def offset(self, role: str) -> int:
        return sum(self.counts[: ROLES.index(role)])

    def role_index(self, user: I64) -> I64:
        bounds = np.cumsum(self.counts)
        return np.searchsorted(bounds, user, side="right").astype(np.int64)

    def users_of(self, *roles: str) -> I64:
        return np.concatenate(
            [
                np.arange(self.offset(role), self.offset(role) + self.counts[ROLES.index(role)])
                for role in roles
            ]
        ).astype(np.int64)


def layout(ctx: Context) -> Layout:
    counts = ctx.counts
    return Layout(
        (counts.admins, counts.supervisors, counts.staff, counts.doctors, counts.patients)
    )


class People:
    """Facts about the people behind user indices ``user`` (kept as ``u``), vectorised."""

    def __init__(self, ctx: Context, user: I64) -> None:
        self.ctx = ctx
        self.u = np.asarray(user, dtype=np.int64)
        self.lay: Layout = ctx.cached("layout", lambda: layout(ctx))
        self.role = self.lay.role_index(self.u)
        self.pools = pools(ctx)
        n_users = self.lay.users
        self.origin = ctx.mix("users", "origin", self.u, n_users, ORIGIN_WEIGHTS)
        arab = self.origin <= 1
        arab_fraction = ORIGIN_WEIGHTS[0] + ORIGIN_WEIGHTS[1]
        arabic_among_arabs = min(1.0, ctx.profile.arabic_share / arab_fraction)
        self.arabic = arab & ctx.share("users", "language", self.u, n_users, arabic_among_arabs)

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
        names = self.pools

        def draw(purpose: str) -> npt.NDArray[np.float64]:
            return self.ctx.stream("users", purpose).uniform(self.u)

        combos = [(gender, origin) for gender in GENDERS for origin in ORIGINS]
        gender_code = self.female.astype(np.int64)
        first = pool_pick(
            names.first, combos, gender_code * len(ORIGINS) + self.origin, draw("first")
        )
        father = pool_pick(names.first, combos, self.origin, draw("father"))
        # A son is rarely named after his own father: draw again on a clash.
        for attempt in range(4):
            clash = father == first
            if not clash.any():
                break
            again = pool_pick(names.first, combos, self.origin, draw(f"father_again{attempt}"))
            father = np.where(clash, again, father)
        family = pool_pick(names.family, ORIGINS, self.origin, draw("family"))
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
        """Ages: adults in the profile's bands; children by their place in the child pool
        (``ChildPool``), oldest first."""
        ctx, n_rows = self.ctx, len(self.u)
        n_users = self.lay.users
        age_draw = ctx.stream("users", "age").uniform(self.u)
        youngest = np.full(n_rows, 24.0)
        oldest = np.full(n_rows, 58.0)
        youngest[self.role == ROLES.index("doctor")] = 30.0
        oldest[self.role == ROLES.index("doctor")] = 66.0
        child = self.is_child()
        adult = (self.role == ROLES.index("patient")) & ~child
        bands = ctx.profile.tables.patients.adult_ages
        edges = np.array([age_band(label) for label in bands], dtype=np.float64)
        band = ctx.mix("users", "adult_age", self.u, n_users, list(bands.values()))
        youngest[adult], oldest[adult] = edges[band[adult], 0], edges[band[adult], 1] - 0.01
        age: npt.NDArray[np.float64] = youngest + (oldest - youngest) * age_draw
        if child.any():
            pool = child_pool(ctx)
            age[child] = pool.age(pool.position(self.u[child] - self.lay.offset("patient")))
        return age

    @cached_property
    def birth_day(self) -> I64:
        birth: I64 = self.ctx.as_of // DAY - (self.age_years * 365.25).astype(np.int64)
        return birth

    @cached_property
    def created(self) -> I64:
        """Accounts exist before the history window opens, so every event follows them;
        a child born later has one opened by a guardian in the days after the birth."""
        window_start = self.ctx.as_of - self.ctx.profile.history_days * DAY
        opened = window_start - self.ctx.stream("users", "created").integers(self.u, *ACCOUNT_AGE)
        after_birth = self.birth_day * DAY + self.ctx.stream("users", "registered").integers(
            self.u, *REGISTERED
        )
        result: I64 = np.maximum(opened, after_birth)
        return result

    @cached_property
    def nationality_i(self) -> I64:
        return self.ctx.stream("users", "nationality").integers(self.u, 0, 60)

    @cached_property
    def phone_n(self) -> I64:
        return self.ctx.stream("users", "phone").integers(self.u, 0, 100_000_000)

    def is_child(self) -> npt.NDArray[np.bool_]:
        patient = self.u - self.lay.offset("patient")
        n_child = patient_groups(self.ctx)[0]
        child: npt.NDArray[np.bool_] = (self.role == ROLES.index("patient")) & (patient < n_child)
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
        return Bilingual.of(self.name_en, self.name_ar).each(self.arabic)

    @cached_property
    def language(self) -> pl.Series:
        return in_language(self.arabic, "ar", "en")

    @cached_property
    def email(self) -> pl.Series:
        """A child's account is its guardian's: the mailbox is the father's (the patient's
        emergency contact), as are the account's mobile number and the contact phone."""
        local_first = np.where(self.is_child(), self.father, self.first)
        return contact.email(self.ctx, self.u, local_first, self.family, self.pools)

    @cached_property
    def phone(self) -> pl.Series:
        return contact.phone(self.phone_n)

    @cached_property
    def nationality(self) -> pl.Series:
        return contact.nationality(self.origin, self.nationality_i)

    @cached_property
    def national_id(self) -> pl.Series:
        return contact.national_id(self.ctx, self.u, self.nationality)

    @cached_property
    def address(self) -> pl.Series:
        """Saudi national address form, in the person's language."""
        return contact.address(self.ctx, self.u, self.arabic, self.pools)


ACCOUNT_AGE = (30 * DAY, 900 * DAY)  # how long before the history window accounts were made
CHILD_AGES = (0.1, 17.9)  # years: the youngest and the oldest child patient at as_of
# A guardian opens a newborn's account between one and six days after the birth, and its
# first visit comes at least a week after the birth, so the account is there by then.
REGISTERED = (DAY, 6 * DAY)
FIRST_VISIT = 7 * DAY


class ChildPool:
    """Child patients in pool positions, oldest first: position ``p`` holds child patient
    ``(p * step + 1) % n`` (a fixed permutation, so patient numbers do not follow age), and
    ages fall with the position, so the children old enough to be seen on a day are a prefix
    of the pool (``seen_by``). The first positions, one per paediatrician, are born before
    the history window opens: every paediatrician's slot finds a child, whatever the day."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.n = n = patient_groups(ctx)[0]
        self.step = keys.coprime_step(max(1, n))
        self.inverse = pow(self.step, -1, n) if n > 1 else 0
        window = ctx.profile.history_days * DAY + FIRST_VISIT + DAY
        self.always = min(int(pediatric(ctx).sum()), n)
        self.oldest_of_always = max(CHILD_AGES[0], window / (365.25 * DAY) + 0.01)
        position = np.arange(n, dtype=np.int64)
        birth = ctx.as_of // DAY - (self.age(position) * 365.25).astype(np.int64)
        # Ages fall with position, so birth days do not: searchsorted counts the born.
        self.birth_by_position = np.maximum.accumulate(birth) if n else birth

    def patient(self, position: I64) -> I64:
        result: I64 = (position * self.step + 1) % max(1, self.n)
        return result

    def position(self, patient: I64) -> I64:
        result: I64 = ((patient - 1) * self.inverse) % max(1, self.n)
        return result

    def age(self, position: I64) -> npt.NDArray[np.float64]:
        """Age in years at as_of: evenly spread over CHILD_AGES, one stratum per position,
        drawn inside it from the child's own stream."""
        youngest, oldest = CHILD_AGES
        user = self.patient(position) + layout(self.ctx).offset("patient")
        draw = self.ctx.stream("users", "age").uniform(user)
        age = oldest - (oldest - youngest) * (position + draw) / max(1, self.n)
        age = np.where(position < self.always, np.clip(age, self.oldest_of_always, oldest), age)
        return np.minimum(age, oldest)

    def seen_by(self, moment: I64) -> I64:
        """How many children (a prefix of the pool) are old enough for a visit at
        ``moment`` (epoch seconds): born at least FIRST_VISIT before it."""
        latest_birth = (moment - FIRST_VISIT) // DAY
        seen: I64 = np.searchsorted(self.birth_by_position, latest_birth, side="right").astype(
            np.int64
        )
        return np.maximum(seen, self.always)


def child_pool(ctx: Context) -> ChildPool:
    result: ChildPool = ctx.cached("child_pool", lambda: ChildPool(ctx))
    return result


ADULT_SEX = ("patients", "adult_female")  # the quota that makes adult patients women


def adult_sexes(ctx: Context) -> tuple[int, int]:
    """(men, women) among adult patients, in the profile's exact share."""
    share = ctx.profile.tables.patients.female_share
    men, women = keys.apportion(patient_groups(ctx)[1], (1.0 - share, share))
    return int(men), int(women)


def patient_female(ctx: Context, patient: I64) -> npt.NDArray[np.bool_]:
    """Sex of patients ``patient`` (values outside 0..patients-1 give False), in exact shares among
    children and among adults. Adult women are a quota over adult indexes, so scheduling can
    find the k-th woman (keys.quota_member) for the specialities that see women only."""
    n_child, n_adult = patient_groups(ctx)
    share = ctx.profile.tables.patients.female_share
    patient = np.asarray(patient, dtype=np.int64)
    child = (patient >= 0) & (patient < n_child)
    adult = (patient >= n_child) & (patient < n_child + n_adult)
    girls = ctx.share(
        "patients", "child_female", np.where(child, patient, 0), max(1, n_child), share
    )
    women = (
        keys.quota(
            ctx.seed,
            ctx.namespace,
            *ADULT_SEX,
            idx=np.where(adult, patient - n_child, 0),
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
        n_patients = ctx.counts.patients
        n_child = round(n_patients * ctx.profile.tables.patients.child_share)
        return n_child, n_patients - n_child

    result: tuple[int, int] = ctx.cached("patient_groups", build)
    return result


# -- patients -----------------------------------------------------------------------------------
def insurer_of(ctx: Context, patient: I64) -> I64:
    """The patient's insurer (index into the insurers vocabulary), or -1 if uninsured."""
    share = ctx.profile.tables.patients.insured_share
    insured = ctx.share("patients", "insured", patient, ctx.counts.patients, share)
    weights = [float(row["market_weight"]) for row in ctx.vocab.insurers]
    which = ctx.stream("patients", "insurer").choice(patient, weights)
    return np.where(insured, which, -1)


def patient_people(ctx: Context, patient: I64) -> People:
    """The people behind patients ``patient`` (patient indices, not user indices)."""
    return People(ctx, patient + layout(ctx).offset("patient"))


def not_before(ctx: Context, patient: I64) -> I64:
    """The earliest moment anything may happen to each patient: their account's opening.
    Adults' accounts are older than ACCOUNT_AGE[0] before the window, so they get that
    bound without drawing them; children's are drawn (one born late has a newer one)."""
    patient = np.asarray(patient, dtype=np.int64)
    window_start = ctx.as_of - ctx.profile.history_days * DAY
    earliest = np.full(len(patient), window_start - ACCOUNT_AGE[0], dtype=np.int64)
    child = patient < patient_groups(ctx)[0]
    if child.any():
        earliest[child] = np.maximum(earliest[child], patient_people(ctx, patient[child]).created)
    return earliest


def patients_with_one(ctx: Context, table: str, share: float) -> BlockPrefix:
    """The patients with one row of ``table`` each (exactly ``share`` of them, drawn under
    the stream ``who``), in patient order."""

    def build() -> BlockPrefix:
        patients = ctx.counts.patients
        return BlockPrefix(
            patients, lambda patient: ctx.share(table, "who", patient, patients, share)
        )

    result: BlockPrefix = ctx.cached(f"patients_with_one.{table}", build)
    return result
