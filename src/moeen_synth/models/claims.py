"""An insurance claim's history and number, from its appointment's facts: used by the
claims table, the payments it pays, and the notices about it."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
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

    def __init__(self, ctx: Context, facts: AppointmentFacts) -> None:
        appointment = facts.a

        def draw(purpose: str) -> npt.NDArray[np.float64]:
            return ctx.stream("insurance_claims", purpose).uniform(appointment)

        drafting = ctx.stream("insurance_claims", "drafted").integers(appointment, MINUTE, HOUR)
        # Fractions of the time left before as_of, so a visit that ended minutes before it
        # still gets a claim history that ends by then.
        span = np.maximum(ctx.as_of - facts.end, 0)
        done = facts.claim_status != CLAIM_STATUS.draft
        self.submitted = np.where(
            done, facts.end + (span * (0.05 + 0.25 * draw("sub"))).astype(np.int64), -1
        )
        rest = np.maximum(ctx.as_of - self.submitted, 0)
        approved = CLAIM_STATUS.isin(facts.claim_status, "approved", "paid")
        self.approved = np.where(
            approved, self.submitted + (rest * 0.5 * draw("appr")).astype(np.int64), -1
        )
        rest_after_approval = np.maximum(ctx.as_of - self.approved, 0)
        self.paid = np.where(
            facts.claim_status == CLAIM_STATUS.paid,
            self.approved + (rest_after_approval * 0.9 * draw("paid")).astype(np.int64),
            -1,
        )
        self.created = np.where(
            done,
            self.submitted - np.minimum(drafting, self.submitted - facts.end),
            facts.created + drafting,
        )
        self.created = np.minimum(self.created, ctx.as_of)
        rejected = facts.claim_status == CLAIM_STATUS.rejected
        self.decided = np.where(
            rejected, self.submitted + (rest * 0.5 * draw("rej")).astype(np.int64), -1
        )
        self.updated = np.maximum.reduce(
            [self.created, self.submitted, self.approved, self.paid, self.decided]
        )


def claim_numbers(ctx: Context, claim_rows: I64, visit_start: I64) -> pl.Series:
    """CLM-<year of the visit>-<claim row + 1>: unique because the row is."""
    namespace_suffix = f"-{ctx.namespace}" if ctx.namespace else ""
    years = pl.Series(1970 + visit_start // 31_556_952).cast(pl.String)
    return "CLM-" + years + "-" + digits(claim_rows + 1, 8) + namespace_suffix
