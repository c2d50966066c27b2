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
