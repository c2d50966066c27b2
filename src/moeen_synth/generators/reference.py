"""The reference rows moeen-synth adds beside the platform's defaults: system settings,
notification templates and translations (merged on their natural keys)."""

from __future__ import annotations

import json

import numpy as np
import polars as pl

from moeen_synth.models.columns import js, ts
from moeen_synth.models.context import DAY, HOUR, MINUTE, Context
from moeen_synth.models.people import layout
from moeen_synth.profile import clock_minutes

REFERENCE_TIME_DAYS = 400  # extras were configured this long before as_of


def _admin_user(ctx: Context) -> str | None:
    lay = layout(ctx)
    if lay.counts[0] == 0:
        return None
    return str(ctx.ids("users", np.array([lay.offset("admin")]))[0])


def template_rows(ctx: Context) -> list[dict[str, str]]:
    return [row for row in ctx.vocab.templates if row["platform_default"] != "true"]


def notification_templates(ctx: Context, start: int, stop: int) -> pl.DataFrame:
    rows = template_rows(ctx)[start:stop]
    idx = np.arange(start, stop, dtype=np.int64)
    when = ctx.as_of - REFERENCE_TIME_DAYS * DAY + idx * HOUR
    return pl.DataFrame(
        {
            "id": ctx.ids("notification_templates", idx),
            "name": [row["name"] for row in rows],
            "type": [row["type"] for row in rows],
            "language": [row["language"] for row in rows],
            "subject": [row["subject"] for row in rows],
            "body": [row["body"] for row in rows],
            "variables": js([row["variables"].split(";") for row in rows]),
            "is_active": [True] * len(rows),
            "created_at": ts(when),
            "updated_at": ts(when),
        },
        schema_overrides={
            column: pl.String for column in ("name", "type", "language", "subject", "body")
        },
    )


def translation_rows(ctx: Context) -> list[tuple[str, str, str, str]]:
    """(language_code, key, value, namespace) for every added key, Arabic first."""
    out = []
    for row in ctx.vocab.translations:
        out.append(("ar", row["key"], row["value_ar"], row["namespace"]))
        out.append(("en", row["key"], row["value_en"], row["namespace"]))
    return out


def translations(ctx: Context, start: int, stop: int) -> pl.DataFrame:
    rows = translation_rows(ctx)[start:stop]
    idx = np.arange(start, stop, dtype=np.int64)
    when = ctx.as_of - REFERENCE_TIME_DAYS * DAY + idx * MINUTE
    return pl.DataFrame(
        {
            "id": ctx.ids("translations", idx),
            "language_code": [row[0] for row in rows],
            "key": [row[1] for row in rows],
            "value": [row[2] for row in rows],
            "namespace": [row[3] for row in rows],
            "is_approved": [True] * len(rows),
            "created_at": ts(when),
            "updated_at": ts(when),
        },
        schema_overrides={
            column: pl.String for column in ("language_code", "key", "value", "namespace")
        },
    )


def _setting_value(ctx: Context, row: dict[str, str]) -> str:
    """The setting's value; opening hours follow the profile's doctor shifts."""
    if row["key"] != "working_hours":
        return row["value"]
    shifts = ctx.profile.tables.doctors.shifts.values()
    opens = min((shift.start for shift in shifts), key=clock_minutes)
    closes = max((shift.end for shift in shifts), key=clock_minutes)
    return json.dumps({"start": opens, "end": closes})


def system_settings(ctx: Context, start: int, stop: int) -> pl.DataFrame:
    rows = ctx.vocab.settings[start:stop]
    idx = np.arange(start, stop, dtype=np.int64)
    when = ctx.as_of - REFERENCE_TIME_DAYS * DAY + idx * MINUTE
    admin = _admin_user(ctx)
    return pl.DataFrame(
        {
            "id": ctx.ids("system_settings", idx),
            "key": [row["key"] for row in rows],
            "value": [_setting_value(ctx, row) for row in rows],
            "type": [row["type"] for row in rows],
            "description": [row["description"] for row in rows],
            "is_public": [row["is_public"] == "true" for row in rows],
            "category": [row["category"] for row in rows],
            "updated_by": [admin] * len(rows),
            "created_at": ts(when),
            "updated_at": ts(when),
        },
        schema_overrides={
            column: pl.String
            for column in ("key", "value", "type", "description", "category", "updated_by")
        },
    )
