"""System tables: audit log entries about rows that exist, reports, metrics and uploads."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import polars as pl

from moeen_synth import keys
from moeen_synth.models.bilingual import LG, Bilingual
from moeen_synth.models.codes import PAYMENT_METHOD
from moeen_synth.models.columns import js, json_objects, ts
from moeen_synth.models.context import DAY, HOUR, MINUTE, Context
from moeen_synth.models.layout import I64, BlockPrefix, Interleaved, blocks_of
from moeen_synth.models.payments import PaymentTimes
from moeen_synth.models.people import People, layout, patients_with_one
from moeen_synth.models.visits import appointment_facts, census, child_layout

# Documentation address blocks (RFC 5737): never a real client.
NETWORKS = ("192.0.2", "198.51.100", "203.0.113")


AUDITED = ("appointment", "payment")  # entity types, in their order within an appointment


def audit_layout(ctx: Context) -> Interleaved:
    """Per appointment: its creation, for a share of the appointments, then the completion
    of its payment, for every payment; one pass over the appointments makes both."""

    def build() -> Interleaved:
        share = ctx.profile.tables.activity.audit_per_appointment
        n_appointments = ctx.counts.appointments

        def logged(appointment: I64) -> npt.NDArray[np.bool_]:
            return ctx.share("audit_logs", "appointments", appointment, n_appointments, share)

        def flags(appointment: I64) -> npt.NDArray[np.bool_]:
            paid = appointment_facts(ctx, appointment).has_payment
            return np.stack([logged(appointment), paid], axis=1)

        payments = census(ctx)["payments"]
        totals = [
            int(logged(np.arange(first, end)).sum()) + payments[block]
            for block, (first, end) in enumerate(blocks_of(n_appointments))
        ]
        return Interleaved(n_appointments, flags, totals=totals)

    result: Interleaved = ctx.cached("audit_layout", build)
    return result


def audit_logs(ctx: Context, start: int, stop: int) -> pl.DataFrame:
    rows = np.arange(start, stop, dtype=np.int64)
    audit = audit_layout(ctx)
    parent, ordinal = audit.locate(rows)
    parts = [
        _audited(ctx, AUDITED[kind], kind_rows, appointment)
        for kind, kind_rows, appointment in audit.by_kind(rows, parent, ordinal)
    ]
    frame = pl.concat(parts, how="vertical_relaxed").sort("row")
    stream = ctx.stream
    networks = pl.Series(NETWORKS, dtype=pl.String)
    agents = pl.Series([row["user_agent"] for row in ctx.vocab.user_agents], dtype=pl.String)
    net = stream("audit_logs", "net").integers(rows, 0, len(NETWORKS))
    host = stream("audit_logs", "host").integers(rows, 1, 255)
    agent = stream("audit_logs", "agent").integers(rows, 0, len(agents))
    about = frame.select("action", "entity_type", "entity_id").to_dict()  # what each row logs
    return pl.DataFrame(
        {
            "id": ctx.ids("audit_logs", rows),
            "user_id": ctx.ids("users", frame["user"].to_numpy()),
            **about,
            "old_values": pl.Series([None] * len(rows), dtype=pl.String),
            "new_values": frame["new_values"],
            "ip_address": networks.gather(net) + "." + pl.Series(host).cast(pl.String),
            "user_agent": agents.gather(agent),
            "created_at": ts(frame["when"].to_numpy()),
        }
    )


def _audited(ctx: Context, kind: str, rows: I64, appointment: I64) -> pl.DataFrame:
    """Audit entries of one ``kind`` (of AUDITED) about ``appointment``s, by their patients:
    an appointment's creation at its created_at, or the completion of its payment at its
    paid_at."""
    facts = appointment_facts(ctx, appointment)
    if kind == "appointment":
        entity = ctx.ids("appointments", appointment)
        new = json_objects(
            status=pl.repeat("pending", len(appointment), eager=True),
            scheduled_at=pl.Series(facts.start),
        )
        when = facts.created
    else:
        payment = child_layout(ctx, "payments").rank(appointment)
        entity = ctx.ids("payments", payment)
        new = json_objects(
            status=pl.repeat("completed", len(appointment), eager=True),
            method=PAYMENT_METHOD.text(facts.payment_method),
        )
        when = PaymentTimes(ctx, facts, payment).paid  # the payment's own paid_at
    return pl.DataFrame(
        {
            "row": rows,
            "user": facts.patient + layout(ctx).offset("patient"),
            "action": f"{kind}.{'created' if kind == 'appointment' else 'completed'}",
            "entity_type": kind,
            "entity_id": entity,
            "new_values": new,
            "when": when,
        }
    )


REPORT_TYPES = (
    "dashboard_metrics",
    "patient_statistics",
    "financial_report",
    "appointment_analytics",
    "custom",
)


def report_count(ctx: Context) -> int:
    return ctx.profile.tables.activity.reports


def reports(ctx: Context, start: int, stop: int) -> pl.DataFrame:
    report = np.arange(start, stop, dtype=np.int64)
    authors = layout(ctx).users_of("admin", "supervisor")
    author = authors[ctx.stream("reports", "author").integers(report, 0, len(authors))]
    people = People(ctx, author)
    which = ctx.mix("reports", "type", report, report_count(ctx), (3, 2, 2, 2, 1))
    kind = np.array(REPORT_TYPES, dtype=object)[which]
    names = Bilingual(
        {
            language: [ctx.vocab.text(f"report.{name}", language) for name in REPORT_TYPES]
            for language in LG
        }
    )
    made = ctx.as_of - ctx.stream("reports", "made").integers(
        report, HOUR, ctx.profile.history_days * DAY
    )
    data = [
        {
            "patients": ctx.counts.patients,
            "doctors": ctx.counts.doctors,
            "appointments": ctx.counts.appointments,
        }
        for _ in report.tolist()
    ]
    params = [
        {"from": int(made_at - 30 * DAY), "to": int(made_at), "currency": "SAR"}
        for made_at in made.tolist()
    ]
    return pl.DataFrame(
        {
            "id": ctx.ids("reports", report),
            "name": names.at(people.arabic, which),
            "type": kind.tolist(),
            "generated_by": ctx.ids("users", author),
            "parameters": js(params),
            "data": js(data),
            "file_path": [
                f"reports/{report_type}-{number + 1}.pdf"
                for report_type, number in zip(kind.tolist(), report.tolist(), strict=True)
            ],
            "status": ["completed"] * len(report),
            "generated_at": ts(made),
            "expires_at": ts(made + 30 * DAY),
        }
    )


METRICS = (
    ("active_users", "count"),
    ("appointments_booked", "count"),
    ("api_latency_p95", "ms"),
    ("database_size", "MB"),
    ("chatbot_sessions", "count"),
)


def metric_count(ctx: Context) -> int:
    return ctx.profile.tables.activity.metrics


def system_metrics(ctx: Context, start: int, stop: int) -> pl.DataFrame:
    metric = np.arange(start, stop, dtype=np.int64)
    which = metric % len(METRICS)
    value = ctx.stream("system_metrics", "value").integers(metric, 10, 5000)
    frac = ctx.stream("system_metrics", "frac").integers(metric, 0, 10000)
    n_metrics = max(1, metric_count(ctx))
    window = ctx.profile.history_days * DAY
    when = ctx.as_of - window + (metric * window) // n_metrics
    return pl.DataFrame(
        {
            "id": ctx.ids("system_metrics", metric),
            "metric_key": [METRICS[kind][0] for kind in which.tolist()],
            "metric_value": [
                f"{whole}.{part:04d}"
                for whole, part in zip(value.tolist(), frac.tolist(), strict=True)
            ],
            "metric_unit": [METRICS[kind][1] for kind in which.tolist()],
            "metadata": pl.repeat(
                '{"source": "moeen-synth", "window": "1h"}', len(metric), eager=True
            ),
            "recorded_at": ts(when),
        }
    )


UPLOAD_KINDS = (
    ("medical", "application/pdf", "report"),
    ("insurance", "image/jpeg", "card"),
    ("lab_result", "application/pdf", "lab"),
    ("prescription", "image/png", "rx"),
    ("general", "image/jpeg", "id"),
)


def upload_index(ctx: Context) -> BlockPrefix:
    """The patients who uploaded a file (one each), in patient order."""
    return patients_with_one(
        ctx, "file_uploads", ctx.profile.tables.activity.file_uploads_per_patient
    )


def upload_count(ctx: Context) -> int:
    return upload_index(ctx).total


def file_uploads(ctx: Context, start: int, stop: int) -> pl.DataFrame:
    upload = np.arange(start, stop, dtype=np.int64)
    user = upload_index(ctx).locate(upload)[0] + layout(ctx).offset("patient")
    people = People(ctx, user)
    kind = ctx.mix("file_uploads", "kind", upload, upload_count(ctx), (3, 2, 2, 2, 1))
    stream = ctx.stream
    hashes = keys.hex_text(
        [stream("file_uploads", f"hash{part}").bits(upload) for part in range(4)]
    )
    kinds = pl.DataFrame(
        [(kind, mime, prefix, mime.split("/")[1]) for kind, mime, prefix in UPLOAD_KINDS],
        schema=["type", "mime", "prefix", "ext"],
        orient="row",
    )[kind]
    owner = ctx.ids("users", user)
    names = kinds["prefix"] + "-" + hashes.str.slice(0, 12) + "." + kinds["ext"]
    created = np.minimum(
        people.created + stream("file_uploads", "when").integers(upload, MINUTE, 300 * DAY),
        ctx.as_of,
    )
    return pl.DataFrame(
        {
            "id": ctx.ids("file_uploads", upload),
            "user_id": owner,
            "file_name": names,
            "original_name": kinds["prefix"]
            + "_"
            + pl.Series(upload + 1).cast(pl.String)
            + "."
            + kinds["ext"],
            "file_path": "uploads/" + owner + "/" + names,
            "file_size": stream("file_uploads", "size").integers(upload, 20_000, 5_000_000),
            "mime_type": kinds["mime"],
            "file_hash": hashes,
            "upload_type": kinds["type"],
            "is_processed": stream("file_uploads", "processed").uniform(upload) < 0.9,
            "metadata": pl.repeat('{"source": "patient_app"}', len(upload), eager=True),
            "created_at": ts(created),
        }
    )
