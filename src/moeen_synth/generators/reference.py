"""The reference rows moeen-synth adds beside the platform's defaults: system settings,
notification templates and translations (merged on their natural keys)."""

from __future__ import annotations

import json
from typing import Any

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


def _configured(
    ctx: Context,
    table: str,
    start: int,
    step: int,
    columns: dict[str, list[Any]],
    texts: tuple[str, ...],
) -> pl.DataFrame:
    """Reference rows ``start...`` of ``table``: their ids, ``columns`` in order (``texts``
    among them as strings, also when empty), and the times they were configured, ``step``
    seconds apart from REFERENCE_TIME_DAYS before as_of."""
    index = np.arange(start, start + len(next(iter(columns.values()))), dtype=np.int64)
    when = ts(ctx.as_of - REFERENCE_TIME_DAYS * DAY + index * step)
    return pl.DataFrame(
        {"id": ctx.ids(table, index), **columns, "created_at": when, "updated_at": when},
        schema_overrides=dict.fromkeys(texts, pl.String),
    )


def notification_templates(ctx: Context, start: int, stop: int) -> pl.DataFrame:
    rows = template_rows(ctx)[start:stop]
    texts = ("name", "type", "language", "subject", "body")
    columns: dict[str, list[Any]] = {name: [row[name] for row in rows] for name in texts}
    columns["variables"] = js([row["variables"].split(";") for row in rows])
    columns["is_active"] = [True] * len(rows)
    return _configured(ctx, "notification_templates", start, HOUR, columns, texts)


def translation_rows(ctx: Context) -> list[tuple[str, str, str, str]]:
    """(language_code, key, value, namespace) for every added key, Arabic first."""
    out = []
    for row in ctx.vocab.translations:
        out.append(("ar", row["key"], row["value_ar"], row["namespace"]))
        out.append(("en", row["key"], row["value_en"], row["namespace"]))
    return out


def translations(ctx: Context, start: int, stop: int) -> pl.DataFrame:
    rows = translation_rows(ctx)[start:stop]
    texts = ("language_code", "key", "value", "namespace")
    columns: dict[str, list[Any]] = {name: [row[i] for row in rows] for i, name in enumerate(texts)}
    columns["is_approved"] = [True] * len(rows)
    return _configured(ctx, "translations", start, MINUTE, columns, texts)


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
    admin = _admin_user(ctx)
    columns: dict[str, list[Any]] = {
        "key": [row["key"] for row in rows],
        "value": [_setting_value(ctx, row) for row in rows],
        "type": [row["type"] for row in rows],
        "description": [row["description"] for row in rows],
        "is_public": [row["is_public"] == "true" for row in rows],
        "category": [row["category"] for row in rows],
        "updated_by": [admin] * len(rows),
    }
    texts = ("key", "value", "type", "description", "category", "updated_by")
    return _configured(ctx, "system_settings", start, MINUTE, columns, texts)
