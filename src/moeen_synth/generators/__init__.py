"""The table generators, one module per table family, and the registry that gives each table
of the catalogue its row count and generator.

A generator is a pure function ``(ctx, start, stop) -> DataFrame`` of one table's rows
``start..stop-1``. What a child needs of its parent it recomputes from the parent's index with
the shared models (``moeen_synth.models``); a table module never imports another.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import numpy.typing as npt
import polars as pl

from moeen_synth import catalogue
from moeen_synth.generators import (
    appointments,
    billing,
    chatbot,
    crm,
    doctors,
    medical_records,
    notifications,
    patients,
    reference,
    system,
    users,
)
from moeen_synth.models.claims import claim_index
from moeen_synth.models.context import Context
from moeen_synth.models.layout import I64

Generate = Callable[[Context, int, int], pl.DataFrame]
Count = Callable[[Context], int]
Anchor = Callable[[Context, int], int]


@dataclass(frozen=True)
class Generator:
    count: Count
    generate: Generate | None
    # Tables laid out along the appointments: for a row, the last appointment of the block of
    # appointments it belongs to (found from block totals alone). Their blocks can be made
    # interleaved, in appointment order, so that the facts of a block of appointments, which
    # all of them need, are made once and not once per table (``plan.jobs``).
    anchor: Anchor | None = None
    # For those laid out by one child layout (``along``): the layout, which says whose
    # child each row is.
    layout: Callable[[Context], Along] | None = None


def _none(ctx: Context) -> int:
    return 0


class Along(Protocol):
    """A layout of rows along the appointments (``models.layout``)."""

    @property
    def total(self) -> int: ...

    def block_end(self, child: int) -> int: ...

    def locate(self, child: npt.ArrayLike) -> tuple[I64, I64]: ...


def along(layout: Callable[[Context], Along], generate: Generate) -> Generator:
    """A table laid out along the appointments by ``layout``: its count is the layout's
    total, a row's anchor the last appointment of the block it falls in."""
    return Generator(
        lambda ctx: layout(ctx).total,
        generate,
        lambda ctx, row: layout(ctx).block_end(row),
        layout,
    )


REGISTRY: dict[str, Generator] = {
    # roles and languages hold only the platform's default rows, from schema/0002.
    "roles": Generator(_none, None),
    "languages": Generator(_none, None),
    "users": Generator(users.user_count, users.users),
    "system_settings": Generator(lambda ctx: len(ctx.vocab.settings), reference.system_settings),
    "notification_templates": Generator(
        lambda ctx: len(reference.template_rows(ctx)), reference.notification_templates
    ),
    "translations": Generator(
        lambda ctx: len(reference.translation_rows(ctx)), reference.translations
    ),
    "system_metrics": Generator(system.metric_count, system.system_metrics),
    "patients": Generator(lambda ctx: ctx.counts.patients, patients.patients),
    "doctors": Generator(lambda ctx: ctx.counts.doctors, doctors.doctors),
    "appointments": Generator(
        appointments.appointment_count,
        appointments.appointments,
        appointments.appointment_anchor,
    ),
    "medical_records": along(medical_records.record_index, medical_records.medical_records),
    "file_uploads": Generator(system.upload_count, system.file_uploads),
    "insurance_claims": along(claim_index, billing.insurance_claims),
    "payments": along(billing.payment_index, billing.payments),
    "notifications": Generator(
        notifications.notification_count,
        notifications.notifications,
        notifications.notification_anchor,
    ),
    "audit_logs": along(system.audit_layout, system.audit_logs),
    "reports": Generator(system.report_count, system.reports),
    "chatbot_flows": Generator(chatbot.flow_count, chatbot.chatbot_flows),
    "chatbot_conversations": Generator(chatbot.conversation_count, chatbot.chatbot_conversations),
    "chatbot_messages": Generator(chatbot.message_count, chatbot.chatbot_messages),
    "crm_leads": Generator(crm.lead_count, crm.crm_leads),
    "crm_activities": Generator(crm.activity_count, crm.crm_activities),
}

# The table modules: those the registry's generators come from (the import-linter contract
# that keeps them independent lists the same; tests/unit/test_layers.py checks both).
MODULES = tuple(
    dict.fromkeys(
        sys.modules[generator.generate.__module__]
        for generator in REGISTRY.values()
        if generator.generate is not None
    )
)

# Children per appointment that the visit model's census counts, as the child tables
# declare them in a CENSUS dict (``Context.census``), collected from every table module.
CENSUS: Mapping[str, Callable[[Any], npt.ArrayLike]] = {
    name: count for module in MODULES for name, count in getattr(module, "CENSUS", {}).items()
}


@dataclass(frozen=True)
class TableSpec:
    """A catalogue table with its generator: what the plan schedules."""

    name: str
    count: Count
    generate: Generate | None
    anchor: Anchor | None = None

    @property
    def merge_key(self) -> tuple[str, ...] | None:
        return catalogue.BY_NAME[self.name].merge_key


def problems(
    registry: Mapping[str, Generator] = REGISTRY,
    tables: tuple[catalogue.Table, ...] = catalogue.TABLES,
) -> list[str]:
    """Every table the catalogue and the registry do not agree on, naming the place to fix."""
    named = {table.name for table in tables}
    out = [
        f"table {table.name}: in catalogue.TABLES but has no entry in generators.REGISTRY "
        "(src/moeen_synth/generators/__init__.py); add its count and generator"
        for table in tables
        if table.name not in registry
    ]
    out += [
        f"table {name}: in generators.REGISTRY but not in catalogue.TABLES "
        "(src/moeen_synth/catalogue.py); add it there in foreign-key order"
        for name in registry
        if name not in named
    ]
    for table in tables:
        if table.name not in registry:
            continue
        generated = registry[table.name].generate is not None
        if generated == (table.rows == "defaults"):
            out.append(
                f"table {table.name}: its rows are {table.rows} in catalogue.TABLES but "
                "generators.REGISTRY gives it " + ("a generator" if generated else "no generator")
            )
    return out


def specs(
    registry: Mapping[str, Generator] = REGISTRY,
    tables: tuple[catalogue.Table, ...] = catalogue.TABLES,
) -> tuple[TableSpec, ...]:
    """The catalogue's tables in its (foreign-key) order, each with its generator; raises
    RuntimeError naming every place a table is missing from."""
    found = catalogue.problems() + problems(registry, tables)
    if found:
        raise RuntimeError("the table catalogue is inconsistent:\n  " + "\n  ".join(found))
    entries = [(table.name, registry[table.name]) for table in tables]
    return tuple(
        TableSpec(name, entry.count, entry.generate, entry.anchor) for name, entry in entries
    )


TABLES = specs()
BY_NAME = {spec.name: spec for spec in TABLES}
