"""Notifications rendered from the templates in the recipient's language, and the template,
translation and setting rows moeen-synth adds to the platform's defaults."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import polars as pl

from moeen_synth.generators.base import (
    DAY,
    HOUR,
    I64,
    MINUTE,
    Bilingual,
    BlockPrefix,
    Context,
    Interleaved,
    Labels,
    Sources,
    by_language,
    either,
    js,
    json_objects,
    money,
    ts,
)
from moeen_synth.generators.billing import ClaimTimes, claim_numbers
from moeen_synth.generators.calendars import RIYADH_OFFSET, date_texts
from moeen_synth.generators.people import People, doctor_facts, layout
from moeen_synth.generators.scheduling import (
    CLAIM_STATUS,
    PAYMENT_METHOD,
    PAYMENT_STATUS,
    STATUS,
    AppointmentFacts,
    appointment_census,
    appointment_facts,
    facts_for,
    ranks,
)
from moeen_synth.profile import clock_minutes

CHANNELS = Labels("in_app", "email", "sms", "push")
DELIVERY = Labels("sent", "delivered", "read", "failed", "pending")


# Notices about an appointment: which appointments may send one (eligible), and which
# do: exactly round(share * eligible) of them, drawn over their ranks among the eligible.
NOTICES: dict[str, tuple[str, Callable[[AppointmentFacts], npt.NDArray[np.bool_]]]] = {
    "appointment": ("appt", lambda f: STATUS.isin(f.status, "confirmed", "completed")),
    "reminder": ("remind", lambda f: STATUS.isin(f.status, "confirmed", "pending", "completed")),
    "payment": (
        "pay",
        lambda f: f.has_payment & (f.payment_status != PAYMENT_STATUS.refunded),
    ),
    "claim": ("claim", lambda f: f.has_claim & (f.claim_status != CLAIM_STATUS.draft)),
}
KINDS = tuple(NOTICES)


def notice_layout(ctx: Context) -> Interleaved:
    """An appointment's notices, kinds in NOTICES order, appointment after appointment, so
    one pass over the appointments renders them all."""
    result: Interleaved = ctx.cached("notice_layout", lambda: _notice_layout(ctx))
    return result


def _notice_layout(ctx: Context) -> Interleaved:
    t = ctx.profile.tables.notifications
    shares = {
        "appointment": t.per_appointment,
        "reminder": t.per_reminder,
        "payment": t.per_payment,
        "claim": t.per_claim,
    }
    n = ctx.counts.appointments
    census = appointment_census(ctx)

    def eligible_prefix(kind: str) -> BlockPrefix:
        test = NOTICES[kind][1]
        return BlockPrefix(n, lambda a: test(facts_for(ctx, a)), totals=census[f"notice.{kind}"])

    ranked = {kind: eligible_prefix(kind) for kind in KINDS}

    def chosen(kind: str, rank: I64) -> npt.NDArray[np.bool_]:
        return ctx.share("notifications", NOTICES[kind][0], rank, ranked[kind].total, shares[kind])

    def flags(a: I64) -> npt.NDArray[np.bool_]:
        f = appointment_facts(ctx, a)
        columns = [NOTICES[kind][1](f) & chosen(kind, ranked[kind].rank(a)) for kind in KINDS]
        return np.stack(columns, axis=1).reshape(len(a), len(KINDS))

    # A block's eligible appointments hold the ranks starts[b]..starts[b+1]-1 of their kind,
    # so the block's chosen count follows from those ranks alone, without its facts.
    totals = [
        sum(
            int(chosen(kind, np.arange(ranked[kind].starts[b], ranked[kind].starts[b + 1])).sum())
            for kind in KINDS
        )
        for b in range(len(ranked[KINDS[0]].starts) - 1)
    ]
    return Interleaved(n, flags, totals=totals)


def notification_sources(ctx: Context) -> Sources:
    def build() -> Sources:
        t = ctx.profile.tables.notifications
        n_patients = ctx.counts.patients
        welcome = BlockPrefix(
            n_patients, lambda p: ctx.share("notifications", "welcome", p, n_patients, t.welcome)
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


def render(
    ctx: Context,
    name: str,
    arabic: npt.NDArray[np.bool_],
    values: dict[str, pl.Series],
    titled: str | None = None,
) -> tuple[pl.Series, pl.Series]:
    """(subject, body) of template ``name`` for each row, in the row's language (the Arabic
    template, or its ``_en`` counterpart), with every {{placeholder}} filled from ``values``.

    ``titled`` names a placeholder whose Arabic values carry the doctor's title themselves
    (الدكتور or الدكتورة): the template's own title before it is dropped."""
    tpl = _templates(ctx)
    ar, en = dict(tpl[name]), tpl[f"{name}_en"]
    if titled:
        title = ctx.vocab.text("doctor.word.male", "ar")
        ar["body"] = ar["body"].replace(f"{title} {{{{{titled}}}}}", f"{{{{{titled}}}}}")
    frame = pl.DataFrame({"m": arabic, **values})

    def pieces(template: str) -> list[str]:
        return [part for part in re.split(r"(\{\{\w+\}\})", template) if part]

    def filled(template: str) -> pl.Expr:
        # The template cut at its placeholders and joined again with the values: one
        # concatenation instead of a search-and-replace over the text per placeholder.
        parts = [
            pl.col(part[2:-2]) if part.startswith("{{") and part[2:-2] in values else pl.lit(part)
            for part in pieces(template)
        ]
        return pl.concat_str(parts) if parts else pl.lit("")

    def fill(field: str) -> pl.Series:
        fixed = not any(
            part.startswith("{{") and part[2:-2] in values
            for part in pieces(ar[field]) + pieces(en[field])
        )
        if fixed:  # the same text for every row of a language
            return by_language(arabic, ar[field], en[field]).alias(field)
        filler = pl.when("m").then(filled(ar[field])).otherwise(filled(en[field]))
        return frame.select(filler.alias(field)).to_series()

    return fill("subject"), fill("body")


def time_texts(ctx: Context, epoch: I64, arabic: npt.NDArray[np.bool_]) -> pl.Series:
    """Times as 11:00 صباحاً / 11:00 AM, Riyadh time."""
    minute = (np.asarray(epoch, dtype=np.int64) + RIYADH_OFFSET) % DAY // MINUTE
    return _clock_texts(ctx).gather(minute + np.asarray(arabic, dtype=np.int64) * (DAY // MINUTE))


def _clock_texts(ctx: Context) -> pl.Series:
    """Every minute of the day as English then Arabic clock text."""

    def build() -> pl.Series:
        v = ctx.vocab
        texts: dict[str, list[str]] = {"en": [], "ar": []}
        for minute in range(DAY // MINUTE):
            hour, past = divmod(minute, 60)
            clock = f"{hour % 12 or 12}:{past:02d}"
            half = "am" if hour < 12 else "pm"
            texts["en"].append(f"{clock} {half.upper()}")
            texts["ar"].append(f"{clock} {v.text(half, 'ar')}")
        return pl.Series([*texts["en"], *texts["ar"]], dtype=pl.String)

    result: pl.Series = ctx.cached("clock_texts", build)
    return result


def _titled_doctor_names(ctx: Context) -> Bilingual:
    """Doctors' names, the Arabic ones after the title in the doctor's gender (الدكتور,
    الدكتورة)."""

    def build() -> Bilingual:
        doctors = doctor_facts(ctx).people
        v = ctx.vocab
        title = either(
            doctors.female, v.text("doctor.word.female", "ar"), v.text("doctor.word.male", "ar")
        )
        return Bilingual.of(doctors.name_en, title + " " + doctors.name_ar)

    result: Bilingual = ctx.cached("notice_doctor_names", build)
    return result


def _doctor_name(
    ctx: Context, template: str, doctor: I64, arabic: npt.NDArray[np.bool_]
) -> tuple[pl.Series, str | None]:
    """The doctor_name values for ``template``, and the placeholder to pass to ``render`` as
    titled. The platform's Arabic templates say الدكتور before the name, which for a woman
    must read الدكتورة: the title then comes with the name and render drops the template's.
    """
    title = ctx.vocab.text("doctor.word.male", "ar")
    titled = f"{title} {{{{doctor_name}}}}" in _templates(ctx)[template]["body"]
    names = _titled_doctor_names(ctx) if titled else doctor_facts(ctx).names
    return names.at(arabic, doctor), "doctor_name" if titled else None


def _part(ctx: Context, kind: str, rows: I64, parent: I64) -> pl.DataFrame:
    """Notifications of one kind: rows, recipient, type, text, schedule, priority, metadata."""
    lay = layout(ctx)
    v = ctx.vocab
    if kind == "welcome":
        people = People(ctx, parent + lay.offset("patient"))
        title, body = render(ctx, "welcome_message", people.arabic, {"name": people.name})
        return pl.DataFrame(
            {
                "row": rows,
                "user": parent + lay.offset("patient"),
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
    f = appointment_facts(ctx, parent)
    patient = People(ctx, f.patient + lay.offset("patient"))
    arabic = patient.arabic
    if kind == "appointment":
        template, kind_type, priority = "appointment_confirmation", "appointment", "normal"
        doctor_name, titled = _doctor_name(ctx, template, f.doctor, arabic)
        values = {
            "doctor_name": doctor_name,
            "appointment_date": date_texts(f.start, arabic)
            + by_language(arabic, v.text("at_time", "ar"), v.text("at_time", "en"))
            + time_texts(ctx, f.start, arabic),
        }
        scheduled = f.created + 2 * MINUTE
    elif kind == "reminder":
        template, kind_type, priority = "appointment_reminder", "reminder", "high"
        doctor_name, titled = _doctor_name(ctx, template, f.doctor, arabic)
        values = {"doctor_name": doctor_name, "appointment_time": time_texts(ctx, f.start, arabic)}
        scheduled = np.maximum(f.start - DAY, f.created + MINUTE)
    elif kind == "payment":
        template, kind_type, priority = "payment_confirmation", "payment", "normal"
        titled = None
        values = {
            "amount": money(f.payment_amount),
            "currency": by_language(
                arabic, v.text("currency.sar", "ar"), v.text("currency.sar", "en")
            ),
        }
        paid = np.where(
            f.payment_method == PAYMENT_METHOD.insurance,
            ClaimTimes(ctx, f).paid,
            np.where(f.status == STATUS.completed, f.end, f.created + MINUTE),
        )
        scheduled = paid + MINUTE
    else:
        template, kind_type, priority = "claim_status_update", "payment", "normal"
        titled = None
        times = ClaimTimes(ctx, f)
        status = pl.Series(  # English then Arabic
            [v.text(f"claim.status.{x}", lg) for lg in ("en", "ar") for x in CLAIM_STATUS.names]
        )
        values = {
            "claim_number": claim_numbers(ctx, ranks(ctx).claim.rank(parent), f.start),
            "claim_status": status.gather(f.claim_status + arabic * len(CLAIM_STATUS.names)),
        }
        scheduled = (
            np.maximum.reduce([times.submitted, times.approved, times.paid, times.decided]) + MINUTE
        )
    title, body = render(ctx, template, arabic, values, titled)
    return pl.DataFrame(
        {
            "row": rows,
            "user": f.patient + lay.offset("patient"),
            "type": kind_type,
            "title": title,
            "message": body,
            "scheduled": scheduled,
            "priority": priority,
            "metadata": json_objects(
                appointment_id=ctx.ids("appointments", f.a),
                language=patient.language,
                template=pl.repeat(template, len(rows), eager=True),
            ),
        }
    )


def notifications(ctx: Context, start: int, stop: int) -> pl.DataFrame:
    parts = []
    for source, rows, parent, ordinal in notification_sources(ctx).split(start, stop):
        if source == "welcome":
            parts.append(_part(ctx, "welcome", rows, parent))
            continue
        for kind, kind_rows, kind_parent in notice_layout(ctx).by_kind(rows, parent, ordinal):
            parts.append(_part(ctx, KINDS[kind], kind_rows, kind_parent))
    frame = pl.concat(parts, how="vertical_relaxed").sort("row")
    rows = frame["row"].to_numpy()
    s = ctx.stream
    n = notification_count(ctx)
    scheduled = frame["scheduled"].to_numpy()
    due = scheduled <= ctx.as_of
    state = ctx.mix("notifications", "status", rows, n, (0.2, 0.3, 0.45, 0.05))
    status = np.where(due, state, DELIVERY.pending)
    sent = np.where(
        due & (status != DELIVERY.failed),
        scheduled + s("notifications", "sent").integers(rows, 1, 120),
        -1,
    )
    sent = np.where(sent > ctx.as_of, ctx.as_of, sent)
    read = np.where(
        status == DELIVERY.read,
        sent + s("notifications", "read").integers(rows, MINUTE, 2 * DAY),
        -1,
    )
    read = np.where((read > ctx.as_of) & (read >= 0), ctx.as_of, read)
    created = scheduled - s("notifications", "queued").integers(rows, 0, 5 * MINUTE)
    channel = ctx.mix("notifications", "channel", rows, n, (0.4, 0.2, 0.2, 0.2))
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


# -- reference rows added to the platform's defaults ------------------------------------------
REFERENCE_TIME_DAYS = 400  # extras were configured this long before as_of


def _admin_user(ctx: Context) -> str | None:
    lay = layout(ctx)
    if lay.counts[0] == 0:
        return None
    return str(ctx.ids("users", np.array([lay.offset("admin")]))[0])


def template_rows(ctx: Context) -> list[dict[str, str]]:
    return [r for r in ctx.vocab.templates if r["platform_default"] != "true"]


def notification_templates(ctx: Context, start: int, stop: int) -> pl.DataFrame:
    rows = template_rows(ctx)[start:stop]
    idx = np.arange(start, stop, dtype=np.int64)
    when = ctx.as_of - REFERENCE_TIME_DAYS * DAY + idx * HOUR
    return pl.DataFrame(
        {
            "id": ctx.ids("notification_templates", idx),
            "name": [r["name"] for r in rows],
            "type": [r["type"] for r in rows],
            "language": [r["language"] for r in rows],
            "subject": [r["subject"] for r in rows],
            "body": [r["body"] for r in rows],
            "variables": js([r["variables"].split(";") for r in rows]),
            "is_active": [True] * len(rows),
            "created_at": ts(when),
            "updated_at": ts(when),
        },
        schema_overrides={c: pl.String for c in ("name", "type", "language", "subject", "body")},
    )


def translation_rows(ctx: Context) -> list[tuple[str, str, str, str]]:
    """(language_code, key, value, namespace) for every added key, Arabic first."""
    out = []
    for r in ctx.vocab.translations:
        out.append(("ar", r["key"], r["value_ar"], r["namespace"]))
        out.append(("en", r["key"], r["value_en"], r["namespace"]))
    return out


def translations(ctx: Context, start: int, stop: int) -> pl.DataFrame:
    rows = translation_rows(ctx)[start:stop]
    idx = np.arange(start, stop, dtype=np.int64)
    when = ctx.as_of - REFERENCE_TIME_DAYS * DAY + idx * MINUTE
    return pl.DataFrame(
        {
            "id": ctx.ids("translations", idx),
            "language_code": [r[0] for r in rows],
            "key": [r[1] for r in rows],
            "value": [r[2] for r in rows],
            "namespace": [r[3] for r in rows],
            "is_approved": [True] * len(rows),
            "created_at": ts(when),
            "updated_at": ts(when),
        },
        schema_overrides={c: pl.String for c in ("language_code", "key", "value", "namespace")},
    )


def _setting_value(ctx: Context, row: dict[str, str]) -> str:
    """The setting's value; opening hours follow the profile's doctor shifts."""
    if row["key"] != "working_hours":
        return row["value"]
    shifts = ctx.profile.tables.doctors.shifts.values()
    opens = min((s.start for s in shifts), key=clock_minutes)
    closes = max((s.end for s in shifts), key=clock_minutes)
    return json.dumps({"start": opens, "end": closes})


def system_settings(ctx: Context, start: int, stop: int) -> pl.DataFrame:
    rows = ctx.vocab.settings[start:stop]
    idx = np.arange(start, stop, dtype=np.int64)
    when = ctx.as_of - REFERENCE_TIME_DAYS * DAY + idx * MINUTE
    admin = _admin_user(ctx)
    return pl.DataFrame(
        {
            "id": ctx.ids("system_settings", idx),
            "key": [r["key"] for r in rows],
            "value": [_setting_value(ctx, r) for r in rows],
            "type": [r["type"] for r in rows],
            "description": [r["description"] for r in rows],
            "is_public": [r["is_public"] == "true" for r in rows],
            "category": [r["category"] for r in rows],
            "updated_by": [admin] * len(rows),
            "created_at": ts(when),
            "updated_at": ts(when),
        },
        schema_overrides={
            c: pl.String for c in ("key", "value", "type", "description", "category", "updated_by")
        },
    )
