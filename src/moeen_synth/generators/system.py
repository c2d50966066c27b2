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
from moeen_synth.models.people import People, layout
from moeen_synth.models.visits import appointment_facts, census, child_layout

# Documentation address blocks (RFC 5737): never a real client.
NETWORKS = ("192.0.2", "198.51.100", "203.0.113")


AUDITED = ("appointment", "payment")  # entity types, in their order within an appointment


def audit_layout(ctx: Context) -> Interleaved:
    """Per appointment: its creation, for a share of the appointments, then the completion
    of its payment, for every payment; one pass over the appointments makes both."""

    def build() -> Interleaved:
        share = ctx.profile.tables.activity.audit_per_appointment
        n = ctx.counts.appointments

        def flags(a: I64) -> npt.NDArray[np.bool_]:
            logged = ctx.share("audit_logs", "appointments", a, n, share)
            return np.stack([logged, appointment_facts(ctx, a).has_payment], axis=1)

        payments = census(ctx)["payments"]
        totals = [
            int(ctx.share("audit_logs", "appointments", np.arange(lo, hi), n, share).sum())
            + payments[b]
            for b, (lo, hi) in enumerate(blocks_of(n))
        ]
        return Interleaved(n, flags, totals=totals)

    result: Interleaved = ctx.cached("audit_layout", build)
    return result


def audit_logs(ctx: Context, start: int, stop: int) -> pl.DataFrame:
    lay = layout(ctx)
    rows = np.arange(start, stop, dtype=np.int64)
    audit = audit_layout(ctx)
    parent, ordinal = audit.locate(rows)
    parts = []
    for k, kind_rows, a in audit.by_kind(rows, parent, ordinal):
        kind = AUDITED[k]
        f = appointment_facts(ctx, a)
        if kind == "appointment":
            entity = ctx.ids("appointments", a)
            new = json_objects(
                status=pl.repeat("pending", len(a), eager=True), scheduled_at=pl.Series(f.start)
            )
            when = f.created
        else:
            entity = ctx.ids("payments", child_layout(ctx, "payments").rank(a))
            new = json_objects(
                status=pl.repeat("completed", len(a), eager=True),
                method=PAYMENT_METHOD.text(f.payment_method),
            )
            when = np.minimum(f.end, ctx.as_of)
        parts.append(
            pl.DataFrame(
                {
                    "row": kind_rows,
                    "user": f.patient + lay.offset("patient"),
                    "action": f"{kind}.{'created' if kind == 'appointment' else 'completed'}",
                    "entity_type": kind,
                    "entity_id": entity,
                    "new_values": new,
                    "when": when,
                }
            )
        )
    frame = pl.concat(parts, how="vertical_relaxed").sort("row")
    s = ctx.stream
    networks = pl.Series(NETWORKS, dtype=pl.String)
    agents = pl.Series([r["user_agent"] for r in ctx.vocab.user_agents], dtype=pl.String)
    net = s("audit_logs", "net").integers(rows, 0, len(NETWORKS))
    host = s("audit_logs", "host").integers(rows, 1, 255)
    return pl.DataFrame(
        {
            "id": ctx.ids("audit_logs", rows),
            "user_id": ctx.ids("users", frame["user"].to_numpy()),
            "action": frame["action"],
            "entity_type": frame["entity_type"],
            "entity_id": frame["entity_id"],
            "old_values": pl.Series([None] * len(rows), dtype=pl.String),
            "new_values": frame["new_values"],
            "ip_address": networks.gather(net) + "." + pl.Series(host).cast(pl.String),
            "user_agent": agents.gather(s("audit_logs", "agent").integers(rows, 0, len(agents))),
            "created_at": ts(frame["when"].to_numpy()),
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
    r = np.arange(start, stop, dtype=np.int64)
    lay = layout(ctx)
    authors = lay.users_of("admin", "supervisor")
    author = authors[ctx.stream("reports", "author").integers(r, 0, len(authors))]
    people = People(ctx, author)
    which = ctx.mix("reports", "type", r, report_count(ctx), (3, 2, 2, 2, 1))
    kind = np.array(REPORT_TYPES, dtype=object)[which]
    names = Bilingual({lg: [ctx.vocab.text(f"report.{k}", lg) for k in REPORT_TYPES] for lg in LG})
    made = ctx.as_of - ctx.stream("reports", "made").integers(
        r, HOUR, ctx.profile.history_days * DAY
    )
    data = [
        {
            "patients": ctx.counts.patients,
            "doctors": ctx.counts.doctors,
            "appointments": ctx.counts.appointments,
        }
        for _ in r.tolist()
    ]
    params = [{"from": int(m - 30 * DAY), "to": int(m), "currency": "SAR"} for m in made.tolist()]
    return pl.DataFrame(
        {
            "id": ctx.ids("reports", r),
            "name": names.at(people.arabic, which),
            "type": kind.tolist(),
            "generated_by": ctx.ids("users", author),
            "parameters": js(params),
            "data": js(data),
            "file_path": [
                f"reports/{k}-{i + 1}.pdf" for k, i in zip(kind.tolist(), r.tolist(), strict=True)
            ],
            "status": ["completed"] * len(r),
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
    m = np.arange(start, stop, dtype=np.int64)
    which = m % len(METRICS)
    value = ctx.stream("system_metrics", "value").integers(m, 10, 5000)
    frac = ctx.stream("system_metrics", "frac").integers(m, 0, 10000)
    n = max(1, metric_count(ctx))
    when = ctx.as_of - ctx.profile.history_days * DAY + (m * ctx.profile.history_days * DAY) // n
    return pl.DataFrame(
        {
            "id": ctx.ids("system_metrics", m),
            "metric_key": [METRICS[k][0] for k in which.tolist()],
            "metric_value": [
                f"{v}.{f:04d}" for v, f in zip(value.tolist(), frac.tolist(), strict=True)
            ],
            "metric_unit": [METRICS[k][1] for k in which.tolist()],
            "metadata": pl.repeat('{"source": "moeen-synth", "window": "1h"}', len(m), eager=True),
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

    def build() -> BlockPrefix:
        n = ctx.counts.patients
        share = ctx.profile.tables.activity.file_uploads_per_patient
        return BlockPrefix(n, lambda p: ctx.share("file_uploads", "who", p, n, share))

    result: BlockPrefix = ctx.cached("upload_index", build)
    return result


def upload_count(ctx: Context) -> int:
    return upload_index(ctx).total


def file_uploads(ctx: Context, start: int, stop: int) -> pl.DataFrame:
    r = np.arange(start, stop, dtype=np.int64)
    lay = layout(ctx)
    u = upload_index(ctx).locate(r)[0] + lay.offset("patient")
    people = People(ctx, u)
    kind = ctx.mix("file_uploads", "kind", r, upload_count(ctx), (3, 2, 2, 2, 1))
    s = ctx.stream
    hashes = keys.hex_text([s("file_uploads", f"hash{k}").bits(r) for k in range(4)])
    kinds = pl.DataFrame(
        [(t, mime, prefix, mime.split("/")[1]) for t, mime, prefix in UPLOAD_KINDS],
        schema=["type", "mime", "prefix", "ext"],
        orient="row",
    )[kind]
    owner = ctx.ids("users", u)
    names = kinds["prefix"] + "-" + hashes.str.slice(0, 12) + "." + kinds["ext"]
    created = np.minimum(
        people.created + s("file_uploads", "when").integers(r, MINUTE, 300 * DAY), ctx.as_of
    )
    return pl.DataFrame(
        {
            "id": ctx.ids("file_uploads", r),
            "user_id": owner,
            "file_name": names,
            "original_name": kinds["prefix"]
            + "_"
            + pl.Series(r + 1).cast(pl.String)
            + "."
            + kinds["ext"],
            "file_path": "uploads/" + owner + "/" + names,
            "file_size": s("file_uploads", "size").integers(r, 20_000, 5_000_000),
            "mime_type": kinds["mime"],
            "file_hash": hashes,
            "upload_type": kinds["type"],
            "is_processed": s("file_uploads", "processed").uniform(r) < 0.9,
            "metadata": pl.repeat('{"source": "patient_app"}', len(r), eager=True),
            "created_at": ts(created),
        }
    )
