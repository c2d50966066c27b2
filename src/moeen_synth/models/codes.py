"""The coded labels an appointment's facts carry, as int8 codes (see ``columns.Labels``),
over the value lists of ``domains``."""

from __future__ import annotations

from moeen_synth import domains
from moeen_synth.models.columns import Labels

STATUS = Labels(*domains.APPOINTMENT_STATUSES)
TYPE = Labels(*domains.APPOINTMENT_TYPES)
PAYMENT_METHOD = Labels(*domains.PAYMENT_METHODS)
PAYMENT_STATUS = Labels(*domains.PAYMENT_STATUSES)
CLAIM_STATUS = Labels(*domains.CLAIM_STATUSES)


def weights(mix: dict[str, float], names: tuple[str, ...]) -> list[float]:
    """A profile mix's weights in the order of ``names`` (0 for names it leaves out)."""
    return [mix.get(name, 0.0) for name in names]
