"""People: the user accounts of every role, and the patients and doctors behind them.

A person is drawn once, from the user index, with an Arabic and an English form of the same
name; patients and doctors recompute their person from their user index.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from moeen_synth.errors import UsageError
from moeen_synth.generators.base import DAY, I64, Context, date, js, local_time, pick, ts

ROLES = ("admin", "supervisor", "staff", "doctor", "patient")
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
    """Name indices grouped by gender and origin, built once per run."""

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
            for g in ("male", "female")
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
        weights = np.array([float(c["population_weight"]) for c in v.cities])
        self.city_weights = weights / weights.sum()
        self.districts = {
            c["city_code"]: np.array(
                [i for i, d in enumerate(v.districts) if d["city_code"] == c["city_code"]],
                dtype=np.int64,
            )
            for c in v.cities
        }


def _pool_pick(pools: Mapping[Any, I64], key_of: Sequence[Any], u: np.ndarray) -> I64:
    out = np.empty(len(key_of), dtype=np.int64)
    for i, (k, x) in enumerate(zip(key_of, u.tolist(), strict=True)):
        pool = pools[k]
        out[i] = pool[int(x * len(pool))]
    return out


def _ascii(name: str) -> str:
    return re.sub(r"[^a-z]", "", name.lower())


def luhn_complete(body: str) -> str:
    """Append the Luhn check digit (Saudi national and iqama numbers use it)."""
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return body + str((10 - total % 10) % 10)


class People:
    """Facts about the people behind user indices ``u`` (vectorised)."""

    def __init__(self, ctx: Context, u: I64) -> None:
        self.ctx = ctx
        self.u = np.asarray(u, dtype=np.int64)
        self.lay: Layout = ctx.cached("layout", lambda: layout(ctx))
        self.role = self.lay.role_index(self.u)
        v, t = ctx.vocab, ctx.profile.tables
        n = len(self.u)
        pools: Pools = ctx.cached("pools", lambda: Pools(ctx))
        s = ctx.stream

        n_users = self.lay.users
        self.origin = ctx.mix("users", "origin", self.u, n_users, ORIGIN_WEIGHTS)
        is_patient = self.role == ROLES.index("patient")
        female_p = ctx.share("users", "female", self.u, n_users, t.patients.female_share)
        female_o = s("users", "female_staff").uniform(self.u) < 0.35
        self.female = np.where(is_patient, female_p, female_o)
        arab = self.origin <= 1
        arab_fraction = ORIGIN_WEIGHTS[0] + ORIGIN_WEIGHTS[1]
        q = min(1.0, ctx.profile.arabic_share / arab_fraction)
        self.arabic = arab & ctx.share("users", "language", self.u, n_users, q)

        genders = ["female" if f else "male" for f in self.female.tolist()]
        origins = [ORIGINS[o] for o in self.origin.tolist()]
        self.first = _pool_pick(
            pools.first,
            list(zip(genders, origins, strict=True)),
            s("users", "first").uniform(self.u),
        )
        self.father = _pool_pick(
            pools.first, [("male", o) for o in origins], s("users", "father").uniform(self.u)
        )
        self.family = _pool_pick(pools.family, list(origins), s("users", "family").uniform(self.u))

        # Ages: children and adults among patients by layout (see ``patient_groups``).
        as_of_day = ctx.as_of // DAY
        age_u = s("users", "age").uniform(self.u)
        lo = np.full(n, 24.0)
        hi = np.full(n, 58.0)
        lo[self.role == ROLES.index("doctor")] = 30.0
        hi[self.role == ROLES.index("doctor")] = 66.0
        child = self.is_child()
        lo[is_patient & ~child], hi[is_patient & ~child] = 18.0, 85.0
        lo[child], hi[child] = 0.1, 17.9
        skew = np.where(is_patient & ~child, age_u**1.6, age_u)  # more young adults
        self.age_years = lo + (hi - lo) * skew
        self.birth_day = as_of_day - (self.age_years * 365.25).astype(np.int64)

        # Accounts exist before the history window opens, so every event follows them.
        window_start = ctx.as_of - ctx.profile.history_days * DAY
        self.created = window_start - s("users", "created").integers(self.u, 30 * DAY, 900 * DAY)
        self.nationality_i = s("users", "nationality").integers(self.u, 0, 60)
        self.phone_n = s("users", "phone").integers(self.u, 0, 100_000_000)
        self.v = v

    def is_child(self) -> npt.NDArray[np.bool_]:
        p = self.u - self.lay.offset("patient")
        n_child = patient_groups(self.ctx)[0]
        child: npt.NDArray[np.bool_] = (self.role == ROLES.index("patient")) & (p < n_child)
        return child

    # -- names ------------------------------------------------------------------------
    @cached_property
    def name_ar(self) -> list[str]:
        f = pick(self.v.first_names, self.first, "name_ar")
        fa = pick(self.v.first_names, self.father, "name_ar")
        fam = pick(self.v.family_names, self.family, "name_ar")
        return [f"{a} {b} {c}" for a, b, c in zip(f, fa, fam, strict=True)]

    @cached_property
    def name_en(self) -> list[str]:
        f = pick(self.v.first_names, self.first, "name_en")
        fa = pick(self.v.first_names, self.father, "name_en")
        fam = pick(self.v.family_names, self.family, "name_en")
        return [f"{a} {b} {c}" for a, b, c in zip(f, fa, fam, strict=True)]

    @cached_property
    def name(self) -> list[str]:
        """The name in the person's own language."""
        return [
            a if ar else e
            for a, e, ar in zip(self.name_ar, self.name_en, self.arabic.tolist(), strict=True)
        ]

    @cached_property
    def language(self) -> list[str]:
        return ["ar" if a else "en" for a in self.arabic.tolist()]

    @cached_property
    def email(self) -> list[str]:
        domains = self.ctx.profile.email_domains
        first = pick(self.v.first_names, self.first, "name_en")
        fam = pick(self.v.family_names, self.family, "name_en")
        d = self.ctx.stream("users", "domain").integers(self.u, 0, len(domains)).tolist()
        ns = f"n{self.ctx.namespace}" if self.ctx.namespace else ""
        return [
            f"{_ascii(a)}.{_ascii(b)}{u + 1}{ns}@{domains[k]}"
            for a, b, u, k in zip(first, fam, self.u.tolist(), d, strict=True)
        ]

    @cached_property
    def phone(self) -> list[str]:
        return [f"+9665{n:08d}" for n in self.phone_n.tolist()]

    @cached_property
    def nationality(self) -> list[str]:
        return [
            NATIONALITIES[ORIGINS[o]][i % len(NATIONALITIES[ORIGINS[o]])]
            for o, i in zip(self.origin.tolist(), self.nationality_i.tolist(), strict=True)
        ]

    @cached_property
    def national_id(self) -> list[str]:
        body = self.ctx.stream("users", "national_id").integers(self.u, 0, 100_000_000).tolist()
        return [
            luhn_complete(("1" if nat == "SA" else "2") + f"{b:08d}")
            for nat, b in zip(self.nationality, body, strict=True)
        ]

    @cached_property
    def address(self) -> list[str]:
        v, s = self.v, self.ctx.stream
        pools: Pools = self.ctx.cached("pools", lambda: Pools(self.ctx))
        city = s("users", "city").choice(self.u, pools.city_weights).tolist()
        du = s("users", "district").uniform(self.u).tolist()
        street = s("users", "street").integers(self.u, 0, len(v.streets)).tolist()
        building = s("users", "building").integers(self.u, 1000, 10000).tolist()
        postal = s("users", "postal").integers(self.u, 0, 1000).tolist()
        out = []
        for c, x, st, b, pc, ar in zip(
            city, du, street, building, postal, self.arabic.tolist(), strict=True
        ):
            crow = v.cities[c]
            dpool = pools.districts[crow["city_code"]]
            drow = v.districts[int(dpool[int(x * len(dpool))])] if len(dpool) else None
            code = f"{crow['postal_prefix']}{pc:03d}"
            srow = v.streets[st]
            if ar:
                district = f"حي {drow['name_ar']}، " if drow else ""
                out.append(f"{b} {srow['name_ar']}، {district}{crow['name_ar']} {code}")
            else:
                district = f"{drow['name_en']} District, " if drow else ""
                out.append(f"{b} {srow['name_en']}, {district}{crow['name_en']} {code}")
        return out


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
USER_COLUMNS = (
    "id",
    "email",
    "password_hash",
    "role",
    "is_active",
    "is_verified",
    "last_login",
    "created_at",
    "updated_at",
    "profile",
    "preferences",
)


def user_count(ctx: Context) -> int:
    return layout(ctx).users


def users(ctx: Context, start: int, stop: int) -> pl.DataFrame:
    u = np.arange(start, stop, dtype=np.int64)
    p = People(ctx, u)
    s = ctx.stream
    active = s("users", "active").uniform(u) < 0.97
    verified = s("users", "verified").uniform(u) < 0.9
    last_login = ctx.as_of - s("users", "last_login").integers(u, 600, 60 * DAY)
    last_login = np.where(verified, last_login, -1)
    updated = np.maximum(p.created, last_login)
    digest = s("users", "password").bits(u).tolist()
    # bcrypt-shaped hashes that match no password (the platform stores bcrypt hashes).
    alphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    hashes = [
        "$2b$12$" + "".join(alphabet[(h >> (6 * (k % 10)) ^ k * 7) % 64] for k in range(53))
        for h in digest
    ]
    profiles = [
        {
            "fullName": n,
            "fullNameAr": a,
            "fullNameEn": e,
            "nationalId": nid,
            "nationality": nat,
            "gender": "female" if f else "male",
            "phone": ph,
        }
        for n, a, e, nid, nat, f, ph in zip(
            p.name,
            p.name_ar,
            p.name_en,
            p.national_id,
            p.nationality,
            p.female.tolist(),
            p.phone,
            strict=True,
        )
    ]
    prefs = [
        {
            "language": lang,
            "timezone": "Asia/Riyadh",
            "notifications": {"email": True, "sms": True, "push": bool(k % 2)},
        }
        for lang, k in zip(p.language, u.tolist(), strict=True)
    ]
    return pl.DataFrame(
        {
            "id": ctx.ids("users", u),
            "email": p.email,
            "password_hash": hashes,
            "role": [ROLES[r] for r in p.role.tolist()],
            "is_active": active,
            "is_verified": verified,
            "last_login": ts(last_login),
            "created_at": ts(p.created),
            "updated_at": ts(updated),
            "profile": js(profiles),
            "preferences": js(prefs),
        }
    )


# -- doctors ------------------------------------------------------------------------------------
class DoctorFacts:
    """Per-doctor facts for all doctors (their number is small): speciality, fee, age group."""

    def __init__(self, ctx: Context) -> None:
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
        self.group = self.pediatric.astype(np.int64)  # 1: children, 0: adults
        self.rank = np.zeros(ctx.counts.doctors, dtype=np.int64)
        self.group_size = np.zeros(2, dtype=np.int64)
        for i, g in enumerate(self.group.tolist()):
            self.rank[i] = self.group_size[g]
            self.group_size[g] += 1
        n_child, n_adult = patient_groups(ctx)
        for g, have, label in ((1, n_child, "children"), (0, n_adult, "adults")):
            if self.group_size[g] > have:
                raise UsageError(
                    f"tables.patients: {have} {label} among patients, but "
                    f"{self.group_size[g]} doctors see {label}; each needs a patient at the same "
                    "time slot. Raise the number of patients or adjust child_share."
                )


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
    schedule = {day: {"start": "09:00", "end": "17:00"} for day in DAYS}
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
                [{"days": schedule, "slot_minutes": 30, "timezone": "Asia/Riyadh"}] * len(d)
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
    v, s = ctx.vocab, ctx.stream
    t = ctx.profile.tables.patients
    ins = insurer_of(ctx, pi)
    digits = s("patients", "policy").integers(pi, 0, 10**9).tolist()
    ins_provider: list[str | None] = []
    ins_number: list[str | None] = []
    for k, dgt in zip(ins.tolist(), digits, strict=True):
        if k < 0:
            ins_provider.append(None)
            ins_number.append(None)
            continue
        row = v.insurers[k]
        n = int(row["policy_digits"])
        ins_provider.append(row["name_en"])
        ins_number.append(f"{row['policy_prefix']}{dgt % 10**n:0{n}d}")
    expiry = ctx.as_of // DAY + s("patients", "expiry").integers(pi, 30, 730)
    expiry = np.where(ins >= 0, expiry, -1)
    activated = s("patients", "activated").uniform(pi) < t.activated_share
    activation = np.where(activated, p.created + s("patients", "act").integers(pi, 60, 3 * DAY), -1)
    # Emergency contact: the father (same family name), or for adults sometimes a brother.
    rel_name = []
    for fa, fam, ar in zip(
        pick(v.first_names, p.father, "name_ar"),
        pick(v.family_names, p.family, "name_ar"),
        p.arabic.tolist(),
        strict=True,
    ):
        rel_name.append((fa, fam, ar))
    fa_en = pick(v.first_names, p.father, "name_en")
    fam_en = pick(v.family_names, p.family, "name_en")
    emergency_name = [
        f"{a} {b}" if ar else f"{e} {f}"
        for (a, b, ar), e, f in zip(rel_name, fa_en, fam_en, strict=True)
    ]
    emergency_phone = [
        f"+9665{n:08d}" for n in s("patients", "ephone").integers(pi, 0, 10**8).tolist()
    ]
    lang = ["ar" if a else "en" for a in p.arabic.tolist()]
    history, allergies, meds = _clinical_background(ctx, pi, p, lang)
    return pl.DataFrame(
        {
            "id": ctx.ids("patients", pi),
            "user_id": ctx.ids("users", u),
            "medical_record_number": [
                f"MRN{(i + 1):08d}" + (f"-{ctx.namespace}" if ctx.namespace else "")
                for i in pi.tolist()
            ],
            "full_name": p.name,
            "date_of_birth": date(p.birth_day),
            "gender": ["female" if f else "male" for f in p.female.tolist()],
            "phone": p.phone,
            "email": p.email,
            "address": p.address,
            "emergency_contact_name": emergency_name,
            "emergency_contact_phone": emergency_phone,
            "insurance_provider": ins_provider,
            "insurance_number": ins_number,
            "insurance_expiry": date(np.where(expiry < 0, 0, expiry)).set(
                pl.Series(expiry < 0), None
            ),
            "is_activated": activated,
            "activation_date": ts(activation),
            "medical_history": js(history),
            "allergies": js(allergies),
            "medications": js(meds),
            "created_at": ts(p.created),
            "updated_at": ts(np.maximum(p.created, activation)),
        }
    )


def _clinical_background(
    ctx: Context, pi: I64, p: People, lang: list[str]
) -> tuple[list[list[dict[str, str]]], list[list[str]], list[list[str]]]:
    """Chronic history, allergies and regular medicines, in the patient's language."""
    v, s = ctx.vocab, ctx.stream
    chronic = [i for i, r in enumerate(v.diagnoses) if r["icd10"][:1] in "EI"]
    allergy_keys = [r["key"] for r in v.texts if r["key"].startswith("allergy.")]
    n_hist = np.where(p.age_years > 35, s("patients", "nhist").integers(pi, 0, 3), 0).tolist()
    n_all = (s("patients", "nall").uniform(pi) < 0.2).astype(int).tolist()
    h_pick = s("patients", "hist").integers(pi, 0, max(1, len(chronic))).tolist()
    a_pick = s("patients", "all").integers(pi, 0, len(allergy_keys)).tolist()
    history, allergies, meds = [], [], []
    meds_by_icd = _medications_by_icd(ctx)
    for nh, na, h, a, lg in zip(n_hist, n_all, h_pick, a_pick, lang, strict=True):
        rows = [v.diagnoses[chronic[(h + k) % len(chronic)]] for k in range(nh)] if chronic else []
        history.append([{"icd10": r["icd10"], "condition": r[f"name_{lg}"]} for r in rows])
        allergies.append([v.text(allergy_keys[a], lg)] if na else [])
        m = []
        for r in rows:
            options = meds_by_icd.get(r["icd10"], [])
            if options:
                med = v.medications[options[0]]
                m.append(f"{med[f'generic_{lg}']} {med['strength']}")
        meds.append(m)
    return history, allergies, meds


def _medications_by_icd(ctx: Context) -> dict[str, list[int]]:
    def build() -> dict[str, list[int]]:
        out: dict[str, list[int]] = {}
        for i, r in enumerate(ctx.vocab.medications):
            for code in r["icd10"].split(";"):
                out.setdefault(code.strip(), []).append(i)
        return out

    result: dict[str, list[int]] = ctx.cached("meds_by_icd", build)
    return result


def local_date_text(epoch: int, language: str) -> str:
    t = local_time(epoch)
    return t.strftime("%Y-%m-%d") if language == "en" else t.strftime("%Y/%m/%d")
