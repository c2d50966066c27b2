"""Money: payments for appointments and insurance claims with their insurers.

An appointment's payment_status and payment_method are decided by the visit model
(``models.visits.AppointmentFacts``); here they become rows: one payment per paid, partly
paid or refunded appointment, one claim per appointment billed to insurance (a draft for
future visits).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import polars as pl

from moeen_synth.models.bilingual import Bilingual
from moeen_synth.models.claims import ClaimTimes, claim_index, claim_numbers
from moeen_synth.models.codes import CLAIM_STATUS, PAYMENT_METHOD, PAYMENT_STATUS, STATUS, TYPE
from moeen_synth.models.columns import either, json_objects, money, ts
from moeen_synth.models.context import HOUR, MINUTE, Context
from moeen_synth.models.layout import BlockPrefix
from moeen_synth.models.people import patient_people
from moeen_synth.models.visits import AppointmentFacts, appointment_facts, child_layout


def has_payment(f: AppointmentFacts) -> npt.NDArray[np.bool_]:
    """One payment per paid, partly paid or refunded appointment."""
    paid: npt.NDArray[np.bool_] = f.has_payment
    return paid


CENSUS = {"payments": has_payment}  # children per appointment (models.visits)


def payment_index(ctx: Context) -> BlockPrefix:
    return child_layout(ctx, "payments")


def payments(ctx: Context, start: int, stop: int) -> pl.DataFrame:
    rows = np.arange(start, stop, dtype=np.int64)
    parent, _ = payment_index(ctx).locate(rows)
    f = appointment_facts(ctx, parent)
    s = ctx.stream
    insurance = f.payment_method == PAYMENT_METHOD.insurance
    claim_t = ClaimTimes(ctx, f)
    at_desk = f.end - s("payments", "desk").integers(rows, 0, 20 * MINUTE)
    prepaid_at = f.created + s("payments", "online").integers(rows, MINUTE, 30 * MINUTE)
    completed = f.status == STATUS.completed
    paid_at = np.where(insurance, claim_t.paid, np.where(completed, at_desk, prepaid_at))
    paid_at = np.minimum(paid_at, ctx.as_of)
    refunded = f.payment_status == PAYMENT_STATUS.refunded
    refund_at = np.minimum(np.maximum(paid_at + HOUR, f.start - 2 * HOUR), ctx.as_of)
    updated = np.where(refunded, np.maximum(refund_at, paid_at), paid_at)
    methods = PAYMENT_METHOD.text(f.payment_method)
    card = f.payment_method == PAYMENT_METHOD.card
    transaction = (
        "TXN" + pl.Series(s("payments", "txn").bits(rows)).cast(pl.String).str.zfill(20)
    ).set(pl.Series(f.payment_method == PAYMENT_METHOD.cash), None)
    gateway = json_objects(
        gateway=pl.repeat("moyasar", len(rows), eager=True),
        id=transaction,
        status=either(refunded, "refunded", "paid"),
    )
    gateway = (
        pl.DataFrame({"c": card, "g": gateway})
        .select(pl.when("c").then("g").otherwise(pl.lit("{}")))
        .to_series()
    )
    return pl.DataFrame(
        {
            "id": ctx.ids("payments", rows),
            "appointment_id": ctx.ids("appointments", parent),
            "patient_id": ctx.ids("patients", f.patient),
            "amount": money(f.payment_amount),
            "currency": ["SAR"] * len(rows),
            "payment_method": methods,
            "status": either(refunded, "refunded", "completed"),
            "transaction_id": transaction,
            "gateway_response": gateway,
            "paid_at": ts(paid_at),
            "created_at": ts(paid_at),
            "updated_at": ts(updated),
        }
    )


def insurance_claims(ctx: Context, start: int, stop: int) -> pl.DataFrame:
    v = ctx.vocab
    rows = np.arange(start, stop, dtype=np.int64)
    parent, _ = claim_index(ctx).locate(rows)
    f = appointment_facts(ctx, parent)
    t = ClaimTimes(ctx, f)
    arabic = patient_people(ctx, f.patient).arabic
    keys = [r["key"] for r in v.texts if r["key"].startswith("claim.reject.")]
    reasons = Bilingual({lg: [v.text(k, lg) for k in keys] for lg in ("ar", "en")})
    pick = ctx.stream("insurance_claims", "reason").integers(rows, 0, len(keys))
    rejection = reasons.at(arabic, np.where(f.claim_status == CLAIM_STATUS.rejected, pick, -1))
    providers = pl.Series([r["name_en"] for r in v.insurers], dtype=pl.String)
    icd = pl.Series([r["icd10"] for r in v.diagnoses], dtype=pl.String)
    data = json_objects(
        icd10=icd.gather(np.maximum(f.diagnosis, 0)).set(pl.Series(f.diagnosis < 0), None),
        service=pl.repeat("consultation", len(rows), eager=True),
        visit_type=TYPE.text(f.type),
    )
    return pl.DataFrame(
        {
            "id": ctx.ids("insurance_claims", rows),
            "patient_id": ctx.ids("patients", f.patient),
            "appointment_id": ctx.ids("appointments", parent),
            "claim_number": claim_numbers(ctx, rows, f.start),
            "provider": providers.gather(f.insurer),
            "status": CLAIM_STATUS.text(f.claim_status),
            "amount": money(f.fee),
            "approved_amount": money(f.approved_amount),
            "rejection_reason": rejection,
            "submitted_at": ts(t.submitted),
            "approved_at": ts(t.approved),
            "paid_at": ts(t.paid),
            "claim_data": data,
            "created_at": ts(t.created),
            "updated_at": ts(t.updated),
        }
    )
