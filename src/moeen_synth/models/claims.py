"""An insurance claim's history and number, from its appointment's facts: used by the
claims table, the payments it pays, and the notices about it."""

from __future__ import annotations

import numpy as np
import polars as pl

from moeen_synth.models.codes import CLAIM_STATUS
from moeen_synth.models.columns import digits
from moeen_synth.models.context import HOUR, MINUTE, Context
from moeen_synth.models.layout import I64, BlockPrefix
from moeen_synth.models.visits import AppointmentFacts, ranks


def claim_index(ctx: Context) -> BlockPrefix:
    """One claim per appointment billed to insurance; the claim's row is its rank."""
    return ranks(ctx).claim


class ClaimTimes:
    """Submitted, approved and paid times in that order, all between the visit and as_of."""

    def __init__(self, ctx: Context, f: AppointmentFacts) -> None:
        s = ctx.stream
        a = f.a
        # Fractions of the time left before as_of, so a visit that ended minutes before it
        # still gets a claim history that ends by then.
        span = np.maximum(ctx.as_of - f.end, 0)
        done = f.claim_status != CLAIM_STATUS.draft
        self.submitted = np.where(
            done,
            f.end
            + (span * (0.05 + 0.25 * s("insurance_claims", "sub").uniform(a))).astype(np.int64),
            -1,
        )
        rest = np.maximum(ctx.as_of - self.submitted, 0)
        approved = CLAIM_STATUS.isin(f.claim_status, "approved", "paid")
        self.approved = np.where(
            approved,
            self.submitted
            + (rest * 0.5 * s("insurance_claims", "appr").uniform(a)).astype(np.int64),
            -1,
        )
        rest2 = np.maximum(ctx.as_of - self.approved, 0)
        self.paid = np.where(
            f.claim_status == CLAIM_STATUS.paid,
            self.approved
            + (rest2 * 0.9 * s("insurance_claims", "paid").uniform(a)).astype(np.int64),
            -1,
        )
        self.created = np.where(
            done,
            self.submitted
            - np.minimum(
                s("insurance_claims", "drafted").integers(a, MINUTE, HOUR), self.submitted - f.end
            ),
            f.created + s("insurance_claims", "drafted").integers(a, MINUTE, HOUR),
        )
        self.created = np.minimum(self.created, ctx.as_of)
        rejected = f.claim_status == CLAIM_STATUS.rejected
        self.decided = np.where(
            rejected,
            self.submitted
            + (rest * 0.5 * s("insurance_claims", "rej").uniform(a)).astype(np.int64),
            -1,
        )
        self.updated = np.maximum.reduce(
            [self.created, self.submitted, self.approved, self.paid, self.decided]
        )


def claim_numbers(ctx: Context, claim_rows: I64, visit_start: I64) -> pl.Series:
    """CLM-<year of the visit>-<claim row + 1>: unique because the row is."""
    ns = f"-{ctx.namespace}" if ctx.namespace else ""
    years = pl.Series(1970 + visit_start // 31_556_952).cast(pl.String)
    return "CLM-" + years + "-" + digits(claim_rows + 1, 8) + ns
