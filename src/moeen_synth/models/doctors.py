"""Per-doctor facts for all doctors (their number is small): speciality, fee, shift, the
patients' group a doctor sees (children, adult women, adults) and the doctor's rank in it."""

from __future__ import annotations

from functools import cached_property

import numpy as np

from moeen_synth.errors import UsageError
from moeen_synth.models.bilingual import Bilingual
from moeen_synth.models.context import Context
from moeen_synth.models.people import People, adult_sexes, layout, patient_groups

ADULTS, CHILDREN, WOMEN = 0, 1, 2  # whom a doctor sees (DoctorFacts.group)


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
        self.group = np.where(self.pediatric, CHILDREN, np.where(women_only, WOMEN, ADULTS)).astype(
            np.int64
        )
        self.rank = np.zeros(ctx.counts.doctors, dtype=np.int64)
        self.group_size = np.zeros(3, dtype=np.int64)
        for i, g in enumerate(self.group.tolist()):
            self.rank[i] = self.group_size[g]
            self.group_size[g] += 1
        n_child, n_adult = patient_groups(ctx)
        women = adult_sexes(ctx)[1]
        for have, need, label in (
            (n_child, self.group_size[CHILDREN], "children"),
            (women, self.group_size[WOMEN], "adult women"),
            (n_adult, self.group_size[ADULTS] + self.group_size[WOMEN], "adults"),
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
