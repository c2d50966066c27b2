"""The tables moeen-synth fills, in foreign-key order, with each one's row count and
generator."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from moeen_synth.generators import (
    billing,
    chatbot,
    clinical,
    crm,
    messaging,
    people,
    scheduling,
    system,
)
from moeen_synth.generators.base import Context

Generate = Callable[[Context, int, int], pl.DataFrame]
Count = Callable[[Context], int]
Anchor = Callable[[Context, int], int]


@dataclass(frozen=True)
class TableSpec:
    name: str
    count: Count
    generate: Generate | None
    # Reference tables merge with rows already there (the platform's defaults): rows whose
    # natural key exists are skipped instead of failing the load.
    merge_key: tuple[str, ...] | None = None
    # Tables laid out along the appointments: for a row, the last appointment of the block of
    # appointments it belongs to (found from block totals alone). Their blocks can be made
    # interleaved, in appointment order, so that the facts of a block of appointments, which
    # all of them need, are made once and not once per table (``run.jobs``).
    anchor: Anchor | None = None


def _none(ctx: Context) -> int:
    return 0


TABLES: tuple[TableSpec, ...] = (
    # roles and languages hold only the platform's default rows, from schema/0002.
    TableSpec("roles", _none, None),
    TableSpec("languages", _none, None),
    TableSpec("users", people.user_count, people.users),
    TableSpec(
        "system_settings", lambda c: len(c.vocab.settings), messaging.system_settings, ("key",)
    ),
    TableSpec(
        "notification_templates",
        lambda c: len(messaging.template_rows(c)),
        messaging.notification_templates,
        ("name",),
    ),
    TableSpec(
        "translations",
        lambda c: len(messaging.translation_rows(c)),
        messaging.translations,
        ("language_code", "key", "namespace"),
    ),
    TableSpec("system_metrics", system.metric_count, system.system_metrics),
    TableSpec("patients", lambda c: c.counts.patients, people.patients),
    TableSpec("doctors", lambda c: c.counts.doctors, people.doctors),
    TableSpec(
        "appointments",
        scheduling.appointment_count,
        scheduling.appointments,
        anchor=scheduling.appointment_anchor,
    ),
    TableSpec(
        "medical_records",
        clinical.record_count,
        clinical.medical_records,
        anchor=clinical.record_anchor,
    ),
    TableSpec("file_uploads", system.upload_count, system.file_uploads),
    TableSpec(
        "insurance_claims",
        billing.claim_count,
        billing.insurance_claims,
        anchor=billing.claim_anchor,
    ),
    TableSpec("payments", billing.payment_count, billing.payments, anchor=billing.payment_anchor),
    TableSpec(
        "notifications",
        messaging.notification_count,
        messaging.notifications,
        anchor=messaging.notification_anchor,
    ),
    TableSpec("audit_logs", system.audit_count, system.audit_logs, anchor=system.audit_anchor),
    TableSpec("reports", system.report_count, system.reports),
    TableSpec("chatbot_flows", chatbot.flow_count, chatbot.chatbot_flows),
    TableSpec("chatbot_conversations", chatbot.conversation_count, chatbot.chatbot_conversations),
    TableSpec("chatbot_messages", chatbot.message_count, chatbot.chatbot_messages),
    TableSpec("crm_leads", crm.lead_count, crm.crm_leads),
    TableSpec("crm_activities", crm.activity_count, crm.crm_activities),
)

BY_NAME = {t.name: t for t in TABLES}
