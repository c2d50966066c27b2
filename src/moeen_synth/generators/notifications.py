"""Notifications rendered from the templates in the recipient's language: notices about an
appointment (confirmation, reminder, payment, claim update), laid out along the
appointments, then welcome notices for new patients."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl

from moeen_synth.models.bilingual import Bilingual, in_language
from moeen_synth.models.claims import ClaimTimes, claim_index, claim_numbers
from moeen_synth.models.codes import CLAIM_STATUS, PAYMENT_STATUS, STATUS
from moeen_synth.models.columns import Labels, either, json_objects, money, ts
from moeen_synth.models.context import DAY, MINUTE, Context
from moeen_synth.models.dates import date_texts, time_texts
from moeen_synth.models.doctors import doctor_facts
from moeen_synth.models.layout import I64, BlockPrefix, Interleaved, Sources
from moeen_synth.models.payments import PaymentTimes
from moeen_synth.models.people import People, layout, patient_people
from moeen_synth.models.visits import AppointmentFacts, appointment_facts, child_layout

Mask = npt.NDArray[np.bool_]
LG = ("ar", "en")
CHANNELS = Labels("in_app", "email", "sms", "push")
DELIVERY = Labels("sent", "delivered", "read", "failed", "pending")


@dataclass
class Notice:
    """What a kind of notice says to the patients of some appointments, and when."""

    template: str
    type: str
    priority: str
    values: dict[str, pl.Series]  # placeholder -> value per row
    scheduled: I64
    titled: str | None = None  # see render


def _confirmation(ctx: Context, facts: AppointmentFacts, arabic: Mask) -> Notice:
    template = "appointment_confirmation"
    doctor_name, titled = _doctor_name(ctx, template, facts.doctor, arabic)
    at_time = ctx.vocab.text("at_time", "ar"), ctx.vocab.text("at_time", "en")
    when = (
        date_texts(facts.start, arabic)
        + in_language(arabic, *at_time)
        + time_texts(ctx, facts.start, arabic)
    )
    values = {"doctor_name": doctor_name, "appointment_date": when}
    return Notice(template, "appointment", "normal", values, facts.created + 2 * MINUTE, titled)


def _reminder(ctx: Context, facts: AppointmentFacts, arabic: Mask) -> Notice:
    template = "appointment_reminder"
    doctor_name, titled = _doctor_name(ctx, template, facts.doctor, arabic)
    values = {"doctor_name": doctor_name, "appointment_time": time_texts(ctx, facts.start, arabic)}
    scheduled = np.maximum(facts.start - DAY, facts.created + MINUTE)
    return Notice(template, "reminder", "high", values, scheduled, titled)


def _payment(ctx: Context, facts: AppointmentFacts, arabic: Mask) -> Notice:
    sar = ctx.vocab.text("currency.sar", "ar"), ctx.vocab.text("currency.sar", "en")
    values = {"amount": money(facts.payment_amount), "currency": in_language(arabic, *sar)}
    paid = PaymentTimes(ctx, facts, child_layout(ctx, "payments").rank(facts.a)).paid
    return Notice("payment_confirmation", "payment", "normal", values, paid + MINUTE)


def _claim(ctx: Context, facts: AppointmentFacts, arabic: Mask) -> Notice:
    times = ClaimTimes(ctx, facts)
    status = Bilingual(
        {
            language: [
                ctx.vocab.text(f"claim.status.{name}", language) for name in CLAIM_STATUS.names
            ]
            for language in LG
        }
    )
    values = {
        "claim_number": claim_numbers(ctx, claim_index(ctx).rank(facts.a), facts.start),
        "claim_status": status.at(arabic, facts.claim_status.astype(np.int64)),
    }
    last = np.maximum.reduce([times.submitted, times.approved, times.paid, times.decided])
    return Notice("claim_status_update", "payment", "normal", values, last + MINUTE)


Make = Callable[[Context, AppointmentFacts, Mask], Notice]


@dataclass(frozen=True)
class Kind:
    """A kind of notice about an appointment: which appointments may send one (eligible),
    and which do: exactly round(share * eligible) of them, drawn over their ranks among the
    eligible under the stream ``purpose``."""

    purpose: str
    eligible: Callable[[AppointmentFacts], Mask]
    make: Make


NOTICES: dict[str, Kind] = {
    "appointment": Kind(
        "appt", lambda f: STATUS.isin(f.status, "confirmed", "completed"), _confirmation
    ),
    "reminder": Kind(
        "remind", lambda f: STATUS.isin(f.status, "confirmed", "pending", "completed"), _reminder
    ),
    "payment": Kind(
        "pay", lambda f: f.has_payment & (f.payment_status != PAYMENT_STATUS.refunded), _payment
    ),
    "claim": Kind("claim", lambda f: f.has_claim & (f.claim_status != CLAIM_STATUS.draft), _claim),
}
KINDS = tuple(NOTICES)
# Children per appointment (models.visits): the appointments eligible for each kind.
CENSUS = {f"notice.{kind}": NOTICES[kind].eligible for kind in KINDS}


def notice_layout(ctx: Context) -> Interleaved:
    """An appointment's notices, kinds in NOTICES order, appointment after appointment, so
    one pass over the appointments renders them all."""
    result: Interleaved = ctx.cached("notice_layout", lambda: _notice_layout(ctx))
    return result


def _notice_layout(ctx: Context) -> Interleaved:
    settings = ctx.profile.tables.notifications
    shares = {
        "appointment": settings.per_appointment,
        "reminder": settings.per_reminder,
        "payment": settings.per_payment,
        "claim": settings.per_claim,
    }
    ranked = {kind: child_layout(ctx, f"notice.{kind}") for kind in KINDS}

    def chosen(kind: str, rank: I64) -> Mask:
        purpose = NOTICES[kind].purpose
        return ctx.share("notifications", purpose, rank, ranked[kind].total, shares[kind])

    def flags(appointment: I64) -> Mask:
        facts = appointment_facts(ctx, appointment)
        columns = [
            NOTICES[kind].eligible(facts) & chosen(kind, ranked[kind].rank(appointment))
            for kind in KINDS
        ]
        return np.stack(columns, axis=1).reshape(len(appointment), len(KINDS))

    def chosen_in_block(block: int) -> int:
        """A block's eligible appointments hold the ranks starts[block]..starts[block+1]-1
        of their kind, so its chosen count follows from those ranks alone, without its
        facts."""
        total = 0
        for kind in KINDS:
            starts = ranked[kind].starts
            total += int(chosen(kind, np.arange(starts[block], starts[block + 1])).sum())
        return total

    totals = [chosen_in_block(block) for block in range(len(ranked[KINDS[0]].starts) - 1)]
    return Interleaved(ctx.counts.appointments, flags, totals=totals)


def notification_sources(ctx: Context) -> Sources:
    def build() -> Sources:
        share = ctx.profile.tables.notifications.welcome
        n_patients = ctx.counts.patients
        welcome = BlockPrefix(
            n_patients,
            lambda patient: ctx.share("notifications", "welcome", patient, n_patients, share),
        )
        return Sources((("appointment", notice_layout(ctx)), ("welcome", welcome)))

    result: Sources = ctx.cached("notification_sources", build)
    return result


def notification_count(ctx: Context) -> int:
    return notification_sources(ctx).total


def notification_anchor(ctx: Context, row: int) -> int:
    """Notices about appointments lie along them; welcome notices come after them all."""
    notices = notice_layout(ctx)
    return notices.block_end(row) if row < notices.total else ctx.counts.appointments


def _templates(ctx: Context) -> dict[str, dict[str, str]]:
    result: dict[str, dict[str, str]] = ctx.cached(
        "templates", lambda: {r["name"]: r for r in ctx.vocab.templates}
    )
    return result


def _pieces(template: str) -> list[str]:
    """A template cut at its {{placeholders}}, the placeholders kept as pieces."""
    return [part for part in re.split(r"(\{\{\w+\}\})", template) if part]


def render(
    ctx: Context,
    name: str,
    arabic: Mask,
    values: dict[str, pl.Series],
    titled: str | None = None,
) -> tuple[pl.Series, pl.Series]:
    """(subject, body) of template ``name`` for each row, in the row's language (the Arabic
    template, or its ``_en`` counterpart), with every {{placeholder}} filled from ``values``.

    ``titled`` names a placeholder whose Arabic values carry the doctor's title themselves
    (الدكتور or الدكتورة): the template's own title before it is dropped."""
    templates = _templates(ctx)
    template_ar, template_en = dict(templates[name]), templates[f"{name}_en"]
    if titled:
        title = ctx.vocab.text("doctor.word.male", "ar")
        template_ar["body"] = template_ar["body"].replace(
            f"{title} {{{{{titled}}}}}", f"{{{{{titled}}}}}"
        )
    frame = pl.DataFrame(values)

    def is_value(part: str) -> bool:
        return part.startswith("{{") and part[2:-2] in values

    def filled(template: str) -> pl.Expr:
        # The template cut at its placeholders and joined again with the values: one
        # concatenation instead of a search-and-replace over the text per placeholder.
        parts = [
            pl.col(piece[2:-2]) if is_value(piece) else pl.lit(piece) for piece in _pieces(template)
        ]
        return pl.concat_str(parts) if parts else pl.lit("")

    def fill(field: str) -> pl.Series:
        text_ar, text_en = template_ar[field], template_en[field]
        if not any(map(is_value, _pieces(text_ar) + _pieces(text_en))):
            return in_language(arabic, text_ar, text_en).alias(field)  # fixed text
        forms = frame.select(filled(text_ar).alias("ar"), filled(text_en).alias("en"))
        return Bilingual.of(forms["en"], forms["ar"]).each(arabic).alias(field)

    return fill("subject"), fill("body")


def _titled_doctor_names(ctx: Context) -> Bilingual:
    """Doctors' names, the Arabic ones after the title in the doctor's gender (الدكتور,
    الدكتورة)."""

    def build() -> Bilingual:
        doctors = doctor_facts(ctx).people
        vocab = ctx.vocab
        title = either(
            doctors.female,
            vocab.text("doctor.word.female", "ar"),
            vocab.text("doctor.word.male", "ar"),
        )
        return Bilingual.of(doctors.name_en, title + " " + doctors.name_ar)

    result: Bilingual = ctx.cached("notice_doctor_names", build)
    return result


def _doctor_name(
    ctx: Context, template: str, doctor: I64, arabic: Mask
) -> tuple[pl.Series, str | None]:
    """The doctor_name values for ``template``, and the placeholder to pass to ``render`` as
    titled. The platform's Arabic templates say الدكتور before the name, which for a woman
    must read الدكتورة: the title then comes with the name and render drops the template's.
    """
    title = ctx.vocab.text("doctor.word.male", "ar")
    titled = f"{title} {{{{doctor_name}}}}" in _templates(ctx)[template]["body"]
    names = _titled_doctor_names(ctx) if titled else doctor_facts(ctx).names
    return names.at(arabic, doctor), "doctor_name" if titled else None


def _welcome(ctx: Context, rows: I64, patient: I64) -> pl.DataFrame:
    """Welcome notices of new patients."""
    user = patient + layout(ctx).offset("patient")
    people = People(ctx, user)
    title, body = render(ctx, "welcome_message", people.arabic, {"name": people.name})
    return pl.DataFrame(
        {
            "row": rows,
            "user": user,
            "type": "system",
            "title": title,
            "message": body,
            "scheduled": people.created + 5 * MINUTE,
            "priority": "low",
            "metadata": json_objects(
                language=people.language,
                template=pl.repeat("welcome_message", len(rows), eager=True),
            ),
        }
    )


def _about_appointments(ctx: Context, kind: str, rows: I64, appointment: I64) -> pl.DataFrame:
    """Notices of one kind about ``appointment``s, to their patients."""
    facts = appointment_facts(ctx, appointment)
    patient = patient_people(ctx, facts.patient)
    notice = NOTICES[kind].make(ctx, facts, patient.arabic)
    title, body = render(ctx, notice.template, patient.arabic, notice.values, notice.titled)
    return pl.DataFrame(
        {
            "row": rows,
            "user": patient.u,
            "type": notice.type,
            "title": title,
            "message": body,
            "scheduled": notice.scheduled,
            "priority": notice.priority,
            "metadata": json_objects(
                appointment_id=ctx.ids("appointments", facts.a),
                language=patient.language,
                template=pl.repeat(notice.template, len(rows), eager=True),
            ),
        }
    )


def notifications(ctx: Context, start: int, stop: int) -> pl.DataFrame:
    parts = []
    for source, rows, parent, ordinal in notification_sources(ctx).split(start, stop):
        if source == "welcome":
            parts.append(_welcome(ctx, rows, parent))
            continue
        for kind, kind_rows, kind_parent in notice_layout(ctx).by_kind(rows, parent, ordinal):
            parts.append(_about_appointments(ctx, KINDS[kind], kind_rows, kind_parent))
    frame = pl.concat(parts, how="vertical_relaxed").sort("row")
    rows = frame["row"].to_numpy()
    stream = ctx.stream
    count = notification_count(ctx)
    scheduled = frame["scheduled"].to_numpy()
    due = scheduled <= ctx.as_of
    state = ctx.mix("notifications", "status", rows, count, (0.2, 0.3, 0.45, 0.05))
    status = np.where(due, state, DELIVERY.pending)
    sent = np.where(
        due & (status != DELIVERY.failed),
        scheduled + stream("notifications", "sent").integers(rows, 1, 120),
        -1,
    )
    sent = np.where(sent > ctx.as_of, ctx.as_of, sent)
    read = np.where(
        status == DELIVERY.read,
        sent + stream("notifications", "read").integers(rows, MINUTE, 2 * DAY),
        -1,
    )
    read = np.where((read > ctx.as_of) & (read >= 0), ctx.as_of, read)
    # Queued at most a minute ahead: every notice is scheduled a minute or more after the
    # event it tells of, so it is never made before that event.
    created = scheduled - stream("notifications", "queued").integers(rows, 0, MINUTE)
    channel = ctx.mix("notifications", "channel", rows, count, (0.4, 0.2, 0.2, 0.2))
    return pl.DataFrame(
        {
            "id": ctx.ids("notifications", rows),
            "user_id": ctx.ids("users", frame["user"].to_numpy()),
            "type": frame["type"],
            "title": frame["title"],
            "message": frame["message"],
            "channel": CHANNELS.text(channel),
            "status": DELIVERY.text(status),
            "priority": frame["priority"],
            "scheduled_at": ts(scheduled),
            "sent_at": ts(sent),
            "read_at": ts(read),
            "metadata": frame["metadata"],
            "created_at": ts(np.minimum(created, ctx.as_of)),
        }
    )
