"""Per-doctor facts for all doctors (their number is small): speciality, fee, shift, the
patients' group a doctor sees (children, adult women, adults) and the doctor's rank in it."""

from __future__ import annotations

import numpy as np

from moeen_synth.errors import UsageError
from moeen_synth.models.bilingual import Bilingual
from moeen_synth.models.cached import cached_property
from moeen_synth.models.context import Context
from moeen_synth.models.people import People, adult_sexes, layout, patient_groups
from moeen_synth.models.specialities import doctor_specialities, pediatric

ADULTS, CHILDREN, WOMEN = 0, 1, 2  # whom a doctor sees (DoctorFacts.group)


class DoctorFacts:
    """Per-doctor facts for all doctors (their number is small): speciality, fee, age group."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        vocab = ctx.vocab
        settings = ctx.profile.tables.doctors
        doctor = np.arange(ctx.counts.doctors, dtype=np.int64)
        self.spec = doctor_specialities(ctx)
        specialities = [vocab.specialities[spec] for spec in self.spec.tolist()]
        lowest = np.array([int(speciality["fee_min"]) for speciality in specialities])
        highest = np.array([int(speciality["fee_max"]) for speciality in specialities])
        steps = ctx.stream("doctors", "fee").integers(doctor, 0, (highest - lowest) // 10 + 1)
        self.fee_halalas = (lowest + steps * 10) * 100
        self.pediatric = pediatric(ctx)
        shifts = settings.shifts
        self.shift = ctx.mix(
            "doctors", "shift", doctor, len(doctor), [shift.weight for shift in shifts.values()]
        )
        self.shift_names = list(shifts)
        women_only = np.array(
            [speciality.get("patient_sex") == "female" for speciality in specialities],
            dtype=bool,
        )
        self.group = np.where(self.pediatric, CHILDREN, np.where(women_only, WOMEN, ADULTS)).astype(
            np.int64
        )
        self.rank = np.zeros(ctx.counts.doctors, dtype=np.int64)
        self.group_size = np.zeros(3, dtype=np.int64)
        for number, group in enumerate(self.group.tolist()):
            self.rank[number] = self.group_size[group]
            self.group_size[group] += 1
        self._check_patients()

    def _check_patients(self) -> None:
        """Raise UsageError if a group of patients (children, adult women, adults) is smaller
        than the number of doctors who see it: each needs a patient at the same time slot."""
        n_child, n_adult = patient_groups(self.ctx)
        women = adult_sexes(self.ctx)[1]
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
        doctor = np.arange(self.ctx.counts.doctors, dtype=np.int64)
        return People(self.ctx, doctor + layout(self.ctx).offset("doctor"))


def doctor_facts(ctx: Context) -> DoctorFacts:
    result: DoctorFacts = ctx.cached("doctor_facts", lambda: DoctorFacts(ctx))
    return result
