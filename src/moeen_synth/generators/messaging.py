"""Notifications rendered from the templates in the recipient's language, and the template,
translation and setting rows moeen-synth adds to the platform's defaults."""

from __future__ import annotations

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
    BlockPrefix,
    Context,
    Sources,
    js,
    local_time,
    ts,
)
from moeen_synth.generators.billing import ClaimTimes, claim_index, claim_numbers, payment_index
from moeen_synth.generators.people import People, layout
from moeen_synth.generators.scheduling import AppointmentCore, AppointmentFacts

CHANNELS = ("in_app", "email", "sms", "push")
DELIVERY = ("sent", "delivered", "read", "failed")


def _selected(
    ctx: Context, purpose: str, n: int, eligible: Callable[[I64], npt.ArrayLike], share: float
) -> BlockPrefix:
    """Exactly round(share * eligible) of the eligible parents send one notification."""
    ranked = BlockPrefix(n, lambda x: np.asarray(eligible(x), dtype=np.int64))

    def counts(x: I64) -> npt.NDArray[np.bool_]:
        chosen: npt.NDArray[np.bool_] = np.asarray(eligible(x), dtype=bool) & ctx.share(
            "notifications", purpose, ranked.rank(x), ranked.total, share
        )
        return chosen

    return BlockPrefix(n, counts)


def _appointment_of_payment(ctx: Context, j: I64) -> I64:
    appointment: I64 = payment_index(ctx).locate(j)[0]
    return appointment


def _appointment_of_claim(ctx: Context, c: I64) -> I64:
    appointment: I64 = claim_index(ctx).locate(c)[0]
    return appointment


def notification_sources(ctx: Context) -> Sources:
    def build() -> Sources:
        t = ctx.profile.tables.notifications
        n_appointments = ctx.counts.appointments

        def confirmed(a: I64) -> npt.NDArray[np.bool_]:
            return np.isin(AppointmentCore(ctx, a).status, ["confirmed", "completed"])

        def reminded(a: I64) -> npt.NDArray[np.bool_]:
            return np.isin(AppointmentCore(ctx, a).status, ["confirmed", "pending", "completed"])

        def paid(j: I64) -> npt.NDArray[np.bool_]:
            f = AppointmentFacts(ctx, _appointment_of_payment(ctx, j))
            return np.asarray(f.payment_status != "refunded", dtype=bool)

        def decided(c: I64) -> npt.NDArray[np.bool_]:
            f = AppointmentFacts(ctx, _appointment_of_claim(ctx, c))
            return np.asarray(f.claim_status != "draft", dtype=bool)

        def everyone(p: I64) -> npt.NDArray[np.bool_]:
            return np.ones(len(p), dtype=bool)

        return Sources(
            (
                (
                    "appointment",
                    _selected(ctx, "appt", n_appointments, confirmed, t.per_appointment),
                ),
                ("reminder", _selected(ctx, "remind", n_appointments, reminded, t.per_reminder)),
                ("payment", _selected(ctx, "pay", payment_index(ctx).total, paid, t.per_payment)),
                ("claim", _selected(ctx, "claim", claim_index(ctx).total, decided, t.per_claim)),
                (
                    "welcome",
                    _selected(ctx, "welcome", ctx.counts.patients, everyone, t.welcome),
                ),
            )
        )

    result: Sources = ctx.cached("notification_sources", build)
    return result


def notification_count(ctx: Context) -> int:
    return notification_sources(ctx).total


def _templates(ctx: Context) -> dict[str, dict[str, str]]:
    return {r["name"]: r for r in ctx.vocab.templates}


def render(ctx: Context, name: str, language: str, values: dict[str, str]) -> tuple[str, str]:
    """(subject, body) of template ``name`` in ``language``, every placeholder filled."""
    tpl = _templates(ctx)[name if language == "ar" else f"{name}_en"]

    def fill(text: str) -> str:
        return re.sub(r"\{\{(\w+)\}\}", lambda m: values[m.group(1)], text)

    return fill(tpl["subject"]), fill(tpl["body"])


def date_text(epoch: int, language: str) -> str:
    t = local_time(epoch)
    return t.strftime("%Y/%m/%d") if language == "ar" else t.strftime("%d %b %Y")


def time_text(ctx: Context, epoch: int, language: str) -> str:
    t = local_time(epoch)
    hour = t.hour % 12 or 12
    if language == "ar":
        suffix = ctx.vocab.text("am" if t.hour < 12 else "pm", "ar")
        return f"{hour}:{t.minute:02d} {suffix}"
    return f"{hour}:{t.minute:02d} {'AM' if t.hour < 12 else 'PM'}"


def amount_text(ctx: Context, halalas: int, language: str) -> tuple[str, str]:
    return f"{halalas // 100}.{halalas % 100:02d}", ctx.vocab.text("currency.sar", language)


def notifications(ctx: Context, start: int, stop: int) -> pl.DataFrame:
    cols: dict[str, list[object]] = {
        c: [] for c in ("row", "user", "type", "title", "message", "scheduled", "priority", "meta")
    }
    lay = layout(ctx)
    for kind, rows, parent, _ in notification_sources(ctx).split(start, stop):
        if kind == "welcome":
            people = People(ctx, parent + lay.offset("patient"))
            sched = people.created + 5 * MINUTE
            for r, n, lg, sc in zip(
                rows.tolist(), people.name, people.language, sched.tolist(), strict=True
            ):
                title, body = render(ctx, "welcome_message", lg, {"name": n})
                _add(
                    cols,
                    r,
                    None,
                    "system",
                    title,
                    body,
                    sc,
                    "low",
                    {"template": "welcome_message", "language": lg},
                )
            cols["user"][-len(rows) :] = (parent + lay.offset("patient")).tolist()
            continue
        appt = parent
        if kind == "payment":
            appt = _appointment_of_payment(ctx, parent)
        elif kind == "claim":
            appt = _appointment_of_claim(ctx, parent)
        f = AppointmentFacts(ctx, appt)
        patient = People(ctx, f.patient + lay.offset("patient"))
        doctor = People(ctx, f.doctor + lay.offset("doctor"))
        times = ClaimTimes(ctx, f) if kind in ("claim", "payment") else None
        for i, r in enumerate(rows.tolist()):
            lg = patient.language[i]
            doc = doctor.name_ar[i] if lg == "ar" else doctor.name_en[i]
            start_t = int(f.start[i])
            meta = {"appointment_id": ctx.ids("appointments", f.a[i : i + 1])[0], "language": lg}
            if kind == "appointment":
                title, body = render(
                    ctx,
                    "appointment_confirmation",
                    lg,
                    {
                        "doctor_name": doc,
                        "appointment_date": f"{date_text(start_t, lg)} "
                        f"{time_text(ctx, start_t, lg)}",
                    },
                )
                sc = int(f.created[i]) + 2 * MINUTE
                _add(
                    cols,
                    r,
                    None,
                    "appointment",
                    title,
                    body,
                    sc,
                    "normal",
                    {**meta, "template": "appointment_confirmation"},
                )
            elif kind == "reminder":
                title, body = render(
                    ctx,
                    "appointment_reminder",
                    lg,
                    {"doctor_name": doc, "appointment_time": time_text(ctx, start_t, lg)},
                )
                sc = max(start_t - DAY, int(f.created[i]) + MINUTE)
                _add(
                    cols,
                    r,
                    None,
                    "reminder",
                    title,
                    body,
                    sc,
                    "high",
                    {**meta, "template": "appointment_reminder"},
                )
            elif kind == "payment":
                assert times is not None
                amount, currency = amount_text(ctx, int(f.payment_amount[i]), lg)
                title, body = render(
                    ctx, "payment_confirmation", lg, {"amount": amount, "currency": currency}
                )
                paid = (
                    int(times.paid[i])
                    if f.payment_method[i] == "insurance"
                    else (
                        int(f.end[i]) if f.status[i] == "completed" else int(f.created[i]) + MINUTE
                    )
                )
                _add(
                    cols,
                    r,
                    None,
                    "payment",
                    title,
                    body,
                    paid + MINUTE,
                    "normal",
                    {**meta, "template": "payment_confirmation"},
                )
            else:
                assert times is not None
                status = str(f.claim_status[i])
                claim_no = claim_numbers(ctx, parent[i : i + 1], f.start[i : i + 1])[0]
                title, body = render(
                    ctx,
                    "claim_status_update",
                    lg,
                    {
                        "claim_number": claim_no,
                        "claim_status": ctx.vocab.text(f"claim.status.{status}", lg),
                    },
                )
                sc = int(
                    max(times.submitted[i], times.approved[i], times.paid[i], times.decided[i])
                )
                _add(
                    cols,
                    r,
                    None,
                    "payment",
                    title,
                    body,
                    sc + MINUTE,
                    "normal",
                    {**meta, "template": "claim_status_update"},
                )
            cols["user"][-1] = int(f.patient[i]) + lay.offset("patient")
    return _frame(ctx, cols)


def _add(
    cols: dict[str, list[object]],
    row: int,
    user: int | None,
    kind: str,
    title: str,
    body: str,
    scheduled: int,
    priority: str,
    meta: dict[str, str],
) -> None:
    for key, value in (
        ("row", row),
        ("user", user),
        ("type", kind),
        ("title", title),
        ("message", body),
        ("scheduled", scheduled),
        ("priority", priority),
        ("meta", meta),
    ):
        cols[key].append(value)


def _frame(ctx: Context, cols: dict[str, list[object]]) -> pl.DataFrame:
    rows = np.array(cols["row"], dtype=np.int64)
    s = ctx.stream
    scheduled = np.array(cols["scheduled"], dtype=np.int64)
    due = scheduled <= ctx.as_of
    state = np.array(DELIVERY, dtype=object)[
        ctx.mix("notifications", "status", rows, notification_count(ctx), (0.2, 0.3, 0.45, 0.05))
    ]
    status = np.where(due, state, "pending")
    sent = np.where(
        due & (status != "failed"),
        scheduled + s("notifications", "sent").integers(rows, 1, 120),
        -1,
    )
    sent = np.where(sent > ctx.as_of, ctx.as_of, sent)
    read = np.where(
        status == "read", sent + s("notifications", "read").integers(rows, MINUTE, 2 * DAY), -1
    )
    read = np.where((read > ctx.as_of) & (read >= 0), ctx.as_of, read)
    created = scheduled - s("notifications", "queued").integers(rows, 0, 5 * MINUTE)
    channel = np.array(CHANNELS, dtype=object)[
        ctx.mix("notifications", "channel", rows, notification_count(ctx), (0.4, 0.2, 0.2, 0.2))
    ]
    users = np.array(cols["user"], dtype=np.int64)
    return pl.DataFrame(
        {
            "id": ctx.ids("notifications", rows),
            "user_id": ctx.ids("users", users),
            "type": cols["type"],
            "title": cols["title"],
            "message": cols["message"],
            "channel": channel.tolist(),
            "status": status.tolist(),
            "priority": cols["priority"],
            "scheduled_at": ts(scheduled),
            "sent_at": ts(sent),
            "read_at": ts(read),
            "metadata": js(cols["meta"]),
            "created_at": ts(np.minimum(created, ctx.as_of)),
        },
        schema_overrides={
            "type": pl.String,
            "title": pl.String,
            "message": pl.String,
            "priority": pl.String,
        },
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


def system_settings(ctx: Context, start: int, stop: int) -> pl.DataFrame:
    rows = ctx.vocab.settings[start:stop]
    idx = np.arange(start, stop, dtype=np.int64)
    when = ctx.as_of - REFERENCE_TIME_DAYS * DAY + idx * MINUTE
    admin = _admin_user(ctx)
    return pl.DataFrame(
        {
            "id": ctx.ids("system_settings", idx),
            "key": [r["key"] for r in rows],
            "value": [r["value"] for r in rows],
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
