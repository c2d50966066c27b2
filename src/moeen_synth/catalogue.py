"""The table catalogue: every fact about a platform table that the tool acts on, stated once.

Stated here, per table: its place in foreign-key order (parents first: the order rows are
generated, loaded and listed), what its rows are, the key that merges reference rows with the
platform's defaults, and the platform seed file it goes into. Read from the schema
(``schema/expected_catalog.json``, the catalog a database migrated by ``schema/`` matches, as
a test proves): columns and their types, NOT NULL, foreign keys, ``updated_at``, row-level
security, e-mail columns. ``problems()`` lists every way the two disagree.

Regenerate the expected catalog after changing ``schema/``:
``python -m moeen_synth.db.expected_catalog`` (see ``docs/ARCHITECTURE.md``).
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from typing import Any, Literal

from moeen_synth import paths

# What a table's rows are:
#   defaults  - only the platform's default rows (schema/0002); moeen-synth adds none (files
#               of a whole database, such as fixtures --all, carry them: merged on merge_key)
#   reference - rows moeen-synth adds beside the platform's or anyone's (merged on merge_key,
#               or told apart by their content), kept by --truncate unless they are its own
#   generated - rows only moeen-synth makes; --truncate empties the table
Rows = Literal["defaults", "reference", "generated"]

SEED_FILES = (  # the platform's seed-file layout (database/seeds/), in load order
    "01_roles_and_users.sql",
    "02_doctors_and_patients.sql",
    "03_appointments_and_medical_records.sql",
    "04_payments_and_insurance.sql",
    "05_notifications_and_system_data.sql",
)


@dataclass(frozen=True)
class Table:
    name: str
    rows: Rows
    seed_file: str
    merge_key: tuple[str, ...] | None = None

    @property
    def columns(self) -> dict[str, str]:
        """Column name -> type as ``format_type()`` spells it, in the schema's order (none
        for a table the schema lacks: ``problems()`` names it)."""
        return sql_types().get(self.name, {})

    @property
    def required(self) -> frozenset[str]:
        """Columns declared NOT NULL."""
        return required().get(self.name, frozenset())

    @property
    def has_updated_at(self) -> bool:
        return "updated_at" in self.columns

    @property
    def email_columns(self) -> tuple[str, ...]:
        return tuple(c for c in self.columns if c == "email" or c.endswith("_email"))

    @property
    def rls(self) -> bool:
        """Row-level security is enabled on the table."""
        return bool(_schema()["tables"].get(self.name, {}).get("rls_enabled"))

    @property
    def touches_updated_at(self) -> bool:
        """A trigger sets updated_at on every UPDATE (update_updated_at_column)."""
        triggers = _schema()["tables"].get(self.name, {}).get("triggers", [])
        return any("update_updated_at_column" in t["definition"] for t in triggers)

    @property
    def foreign_keys(self) -> tuple[ForeignKey, ...]:
        return tuple(fk for fk in foreign_keys() if fk.table == self.name)


FIRST, SECOND, THIRD, FOURTH, LAST = SEED_FILES

TABLES: tuple[Table, ...] = (
    Table("roles", "defaults", FIRST, ("role",)),
    Table("languages", "defaults", LAST, ("code",)),
    Table("users", "generated", FIRST),
    Table("system_settings", "reference", LAST, ("key",)),
    Table("notification_templates", "reference", LAST, ("name",)),
    Table("translations", "reference", LAST, ("language_code", "key", "namespace")),
    Table("system_metrics", "reference", LAST, ("id",)),
    Table("patients", "generated", SECOND),
    Table("doctors", "generated", SECOND),
    Table("appointments", "generated", THIRD),
    Table("medical_records", "generated", THIRD),
    Table("file_uploads", "generated", THIRD),
    Table("insurance_claims", "generated", FOURTH),
    Table("payments", "generated", FOURTH),
    Table("notifications", "generated", LAST),
    Table("audit_logs", "generated", LAST),
    Table("reports", "generated", LAST),
    Table("chatbot_flows", "generated", LAST),
    Table("chatbot_conversations", "generated", LAST),
    Table("chatbot_messages", "generated", LAST),
    Table("crm_leads", "generated", LAST),
    Table("crm_activities", "generated", LAST),
)

BY_NAME = {t.name: t for t in TABLES}
NAMES = tuple(t.name for t in TABLES)
GENERATED = tuple(t.name for t in TABLES if t.rows == "generated")
MERGE_KEYS = {t.name: t.merge_key for t in TABLES if t.merge_key}


@dataclass(frozen=True)
class ForeignKey:
    table: str
    column: str
    parent: str
    parent_column: str


@functools.cache
def _schema() -> dict[str, Any]:
    path = paths.schema_dir() / "expected_catalog.json"
    result: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return result


@functools.cache
def sql_types() -> dict[str, dict[str, str]]:
    """``{table: {column: type}}``, e.g. ``numeric(10,2)``, ``timestamp with time zone``."""
    return {
        table: {c["name"]: c["type"] for c in spec["columns"]}
        for table, spec in _schema()["tables"].items()
    }


@functools.cache
def required() -> dict[str, frozenset[str]]:
    """``{table: columns declared NOT NULL}``."""
    return {
        table: frozenset(c["name"] for c in spec["columns"] if c["not_null"])
        for table, spec in _schema()["tables"].items()
    }


def views() -> list[str]:
    """The platform's views, by name."""
    return sorted(_schema().get("views", {}))


def functions() -> list[dict[str, str]]:
    """The platform's own functions: name, arguments, result."""
    return list(_schema().get("functions", []))


_FOREIGN_KEY = re.compile(r"FOREIGN KEY \((\w+)\) REFERENCES (\w+)\((\w+)\)")


@functools.cache
def foreign_keys() -> tuple[ForeignKey, ...]:
    """Every single-column foreign key of the schema, child tables in catalogue order."""
    tables = _schema()["tables"]
    found = []
    for name in [n for n in NAMES if n in tables] + sorted(set(tables) - set(NAMES)):
        for constraint in tables[name]["constraints"]:
            match = _FOREIGN_KEY.match(constraint["definition"])
            if constraint["type"] == "f" and match:
                found.append(ForeignKey(name, match[1], match[2], match[3]))
    return tuple(sorted(found, key=lambda fk: (_place(fk.table), fk.column)))


def _place(name: str) -> int:
    return NAMES.index(name) if name in NAMES else len(NAMES)


def problems() -> list[str]:
    """Every disagreement between this catalogue and the schema, each naming the place to
    fix (empty: they agree)."""
    schema_tables = set(_schema()["tables"])
    out = [
        f"table {name}: in schema/expected_catalog.json but not in catalogue.TABLES; add it "
        "there in foreign-key order"
        for name in sorted(schema_tables - set(NAMES))
    ]
    out += [
        f"table {name}: in catalogue.TABLES but not in schema/expected_catalog.json; add it to "
        "a migration under schema/ and regenerate the expected catalog"
        for name in NAMES
        if name not in schema_tables
    ]
    if len(set(NAMES)) != len(NAMES):
        out.append("catalogue.TABLES names a table twice")
    for fk in foreign_keys():
        if fk.parent != fk.table and _place(fk.parent) > _place(fk.table):
            out.append(
                f"table {fk.table}: its foreign key {fk.column} -> {fk.parent} needs "
                f"{fk.parent} before it in catalogue.TABLES (foreign-key order)"
            )
    for table in TABLES:
        if table.seed_file not in SEED_FILES:
            out.append(f"table {table.name}: seed file {table.seed_file!r} is not in SEED_FILES")
        if table.name in schema_tables and table.merge_key:
            missing = [c for c in table.merge_key if c not in table.columns]
            if missing:
                out.append(f"table {table.name}: merge key column(s) {missing} not in the schema")
    for fk in foreign_keys():
        child, parent = BY_NAME.get(fk.table), BY_NAME.get(fk.parent)
        if not (child and parent) or {child.seed_file, parent.seed_file} - set(SEED_FILES):
            continue
        if SEED_FILES.index(parent.seed_file) > SEED_FILES.index(child.seed_file):
            out.append(
                f"table {fk.table}: in {child.seed_file}, before its parent {fk.parent} "
                f"({parent.seed_file}); seed files load in order"
            )
    return out
