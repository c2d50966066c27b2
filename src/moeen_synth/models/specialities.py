"""Each doctor's speciality, and which doctors see children: the profile's list of
specialities dealt out to the doctors in turn."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from moeen_synth.errors import UsageError
from moeen_synth.models.context import Context

I64 = npt.NDArray[np.int64]


def doctor_specialities(ctx: Context) -> I64:
    """Index into the specialities vocabulary of every doctor."""

    def build() -> I64:
        vocab = ctx.vocab
        names = ctx.profile.tables.doctors.specialities or [
            row["name_en"] for row in vocab.specialities
        ]
        for name in names:
            try:
                vocab.speciality(name)
            except KeyError as exc:
                raise UsageError(f"tables.doctors.specialities: {exc.args[0]}") from None
        index = {row["name_en"]: number for number, row in enumerate(vocab.specialities)}
        return np.array(
            [index[names[number % len(names)]] for number in range(ctx.counts.doctors)],
            dtype=np.int64,
        )

    result: I64 = ctx.cached("doctor_specialities", build)
    return result


def pediatric(ctx: Context) -> npt.NDArray[np.bool_]:
    """Whether each doctor sees children only."""
    specialities = ctx.vocab.specialities
    return np.array(
        [int(specialities[spec]["max_patient_age"]) < 18 for spec in doctor_specialities(ctx)],
        dtype=bool,
    )
