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
from moeen_synth.models.codes import CLAIM_STATUS, PAYMENT_METHOD, TYPE
from moeen_synth.models.columns import either, json_objects, money, ts
from moeen_synth.models.context import Context
from moeen_synth.models.layout import BlockPrefix
from moeen_synth.models.payments import PaymentTimes
from moeen_synth.models.people import patient_people
from moeen_synth.models.visits import AppointmentFacts, appointment_facts, child_layout


def has_payment(facts: AppointmentFacts) -> npt.NDArray[np.bool_]:
    """One payment per paid, partly paid or refunded appointment."""
    paid: npt.NDArray[np.bool_] = facts.has_payment
    return paid


CENSUS = {"payments": has_payment}  # children per appointment (models.visits)


def payment_index(ctx: Context) -> BlockPrefix:
    return child_layout(ctx, "payments")


def payments(ctx: Context, start: int, stop: int) -> pl.DataFrame:
    rows = np.arange(start, stop, dtype=np.int64)
    parent, _ = payment_index(ctx).locate(rows)
    facts = appointment_facts(ctx, parent)
    stream = ctx.stream
    times = PaymentTimes(ctx, facts, rows)
    refunded = times.refunded_flag
    methods = PAYMENT_METHOD.text(facts.payment_method)
    card = facts.payment_method == PAYMENT_METHOD.card
    transaction = (
        "TXN" + pl.Series(stream("payments", "txn").bits(rows)).cast(pl.String).str.zfill(20)
    ).set(pl.Series(facts.payment_method == PAYMENT_METHOD.cash), None)
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
            "patient_id": ctx.ids("patients", facts.patient),
            "amount": money(facts.payment_amount),
            "currency": ["SAR"] * len(rows),
            "payment_method": methods,
            "status": either(refunded, "refunded", "completed"),
            "transaction_id": transaction,
            "gateway_response": gateway,
            "paid_at": ts(times.paid),
            "created_at": ts(times.paid),
            "updated_at": ts(times.updated),
        }
    )


def insurance_claims(ctx: Context, start: int, stop: int) -> pl.DataFrame:
    vocab = ctx.vocab
    rows = np.arange(start, stop, dtype=np.int64)
    parent, _ = claim_index(ctx).locate(rows)
    facts = appointment_facts(ctx, parent)
    times = ClaimTimes(ctx, facts)
    arabic = patient_people(ctx, facts.patient).arabic
    reason_keys = [row["key"] for row in vocab.texts if row["key"].startswith("claim.reject.")]
    reasons = Bilingual(
        {language: [vocab.text(key, language) for key in reason_keys] for language in ("ar", "en")}
    )
    pick = ctx.stream("insurance_claims", "reason").integers(rows, 0, len(reason_keys))
    rejected = facts.claim_status == CLAIM_STATUS.rejected
    rejection = reasons.at(arabic, np.where(rejected, pick, -1))
    providers = pl.Series([row["name_en"] for row in vocab.insurers], dtype=pl.String)
    icd = pl.Series([row["icd10"] for row in vocab.diagnoses], dtype=pl.String)
    data = json_objects(
        icd10=icd.gather(np.maximum(facts.diagnosis, 0)).set(pl.Series(facts.diagnosis < 0), None),
        service=pl.repeat("consultation", len(rows), eager=True),
        visit_type=TYPE.text(facts.type),
    )
    return pl.DataFrame(
        {
            "id": ctx.ids("insurance_claims", rows),
            "patient_id": ctx.ids("patients", facts.patient),
            "appointment_id": ctx.ids("appointments", parent),
            "claim_number": claim_numbers(ctx, rows, facts.start),
            "provider": providers.gather(facts.insurer),
            "status": CLAIM_STATUS.text(facts.claim_status),
            "amount": money(facts.fee),
            "approved_amount": money(facts.approved_amount),
            "rejection_reason": rejection,
            "submitted_at": ts(times.submitted),
            "approved_at": ts(times.approved),
            "paid_at": ts(times.paid),
            "claim_data": data,
            "created_at": ts(times.created),
            "updated_at": ts(times.updated),
        }
    )
