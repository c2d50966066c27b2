"""When a payment was made and refunded, from its appointment's facts: used by the payments
table and by the audit rows and notices about payments, so they tell the same time."""

from __future__ import annotations

import numpy as np

from moeen_synth.models.claims import ClaimTimes
from moeen_synth.models.codes import PAYMENT_METHOD, PAYMENT_STATUS, STATUS
from moeen_synth.models.context import HOUR, MINUTE, Context
from moeen_synth.models.layout import I64
from moeen_synth.models.visits import AppointmentFacts


class PaymentTimes:
    """Paid, refunded (-1: not refunded) and last-updated times of the payments ``rows``
    of the appointments in ``facts``: insurance pays when the claim is paid, the desk at
    the end of the visit, an online payment minutes after the booking."""

    def __init__(self, ctx: Context, facts: AppointmentFacts, rows: I64) -> None:
        stream = ctx.stream
        insurance = facts.payment_method == PAYMENT_METHOD.insurance
        at_desk = facts.end - stream("payments", "desk").integers(rows, 0, 20 * MINUTE)
        online = facts.created + stream("payments", "online").integers(rows, MINUTE, 30 * MINUTE)
        completed = facts.status == STATUS.completed
        paid = np.where(
            insurance, ClaimTimes(ctx, facts).paid, np.where(completed, at_desk, online)
        )
        self.paid: I64 = np.minimum(paid, ctx.as_of)
        self.refunded_flag = facts.payment_status == PAYMENT_STATUS.refunded
        refund = np.minimum(np.maximum(self.paid + HOUR, facts.start - 2 * HOUR), ctx.as_of)
        self.refunded: I64 = np.where(self.refunded_flag, np.maximum(refund, self.paid), -1)
        self.updated: I64 = np.maximum(self.paid, self.refunded)
