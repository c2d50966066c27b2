"""The table catalogue agrees with the schema and the generator registry, and a table
missing from any place it must be is named, with the place, before anything runs."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from moeen_synth import catalogue, domains, generators
from moeen_synth.catalogue import Table
from moeen_synth.sinks.sql import FILE_ORDER, seed_order
from tests.reference_schema import RLS_TABLES, TRIGGER_TABLES


def test_catalogue_schema_and_registry_agree() -> None:
    assert catalogue.problems() == []
    assert generators.problems() == []
    assert [t.name for t in generators.TABLES] == list(catalogue.NAMES)


def test_derived_facts_match_the_platform_schema() -> None:
    updated = {t.name for t in catalogue.TABLES if t.has_updated_at}
    schema = catalogue._schema()["tables"]
    foreign = [c for t in schema.values() for c in t["constraints"] if c["type"] == "f"]

    assert len(catalogue.TABLES) == len(schema)
    assert len(catalogue.foreign_keys()) == len(foreign)
    # The platform's reference: RLS on 7 tables, the updated_at trigger on 12; roles has the
    # column but no trigger.
    assert {t.name for t in catalogue.TABLES if t.touches_updated_at} == TRIGGER_TABLES
    assert updated == TRIGGER_TABLES | {"roles"}
    assert {t.name for t in catalogue.TABLES if t.rls} == RLS_TABLES
    assert {(t.name, c) for t in catalogue.TABLES for c in t.email_columns} == {
        ("users", "email"),
        ("patients", "email"),
        ("doctors", "email"),
        ("crm_leads", "email"),
    }


@pytest.mark.parametrize(
    ("table", "column", "values"),
    [
        ("appointments", "status", domains.APPOINTMENT_STATUSES),
        ("appointments", "type", domains.APPOINTMENT_TYPES),
        ("appointments", "payment_method", domains.PAYMENT_METHODS),
        ("appointments", "payment_status", domains.PAYMENT_STATUSES),
        ("insurance_claims", "status", domains.CLAIM_STATUSES),
    ],
)
def test_coded_values_are_allowed_by_the_schema(
    table: str, column: str, values: tuple[str, ...]
) -> None:
    checks = [
        c["definition"]
        for c in catalogue._schema()["tables"][table]["constraints"]
        if c["type"] == "c" and f"({column})" in c["definition"]
    ]
    allowed = set(re.findall(r"'(\w+)'::", checks[0]))

    assert set(values) <= allowed, set(values) - allowed


def test_seed_files_keep_foreign_key_order() -> None:
    order = seed_order(list(catalogue.GENERATED))

    for fk in catalogue.foreign_keys():
        if fk.table in order and fk.parent in order and fk.parent != fk.table:
            assert order.index(fk.parent) < order.index(fk.table), fk
    assert list(catalogue.SEED_FILES) == FILE_ORDER


# -- a new table missing from a required place is named, with the place ------------------
NEW = Table("lab_orders", "generated", catalogue.SEED_FILES[2])


def _schema_with(name: str, parent: str | None = None) -> dict[str, Any]:
    schema = copy.deepcopy(catalogue._schema())
    schema["tables"][name] = copy.deepcopy(schema["tables"]["file_uploads"])
    if parent:
        schema["tables"][name]["constraints"] = [
            {"type": "f", "definition": f"FOREIGN KEY (parent_id) REFERENCES {parent}(id)"}
        ]
    return schema


@pytest.fixture
def use_schema(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[dict[str, Any]], None]]:
    """Make the catalogue read other schema facts for the rest of the test."""

    def install(facts: dict[str, Any]) -> None:
        monkeypatch.setattr(catalogue, "_schema", lambda: facts)
        catalogue.foreign_keys.cache_clear()

    yield install
    catalogue.foreign_keys.cache_clear()


def test_a_table_in_the_schema_but_not_the_catalogue_is_named(
    use_schema: Callable[[dict[str, Any]], None],
) -> None:
    use_schema(_schema_with("lab_orders"))

    assert any("lab_orders" in p and "catalogue.TABLES" in p for p in catalogue.problems())


def test_a_table_in_the_catalogue_but_not_the_schema_is_named(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(catalogue, "NAMES", (*catalogue.NAMES, "lab_orders"))
    monkeypatch.setattr(catalogue, "TABLES", (*catalogue.TABLES, NEW))

    found = catalogue.problems()

    assert any("lab_orders" in p and "schema/" in p for p in found), found
    # Its schema facts are empty, not an error: the expected catalog can be regenerated.
    assert (NEW.columns, NEW.required, NEW.rls, NEW.foreign_keys) == ({}, frozenset(), False, ())


def test_a_table_without_a_generator_is_named() -> None:
    found = generators.problems(tables=(*catalogue.TABLES, NEW))

    assert any("lab_orders" in p and "generators.REGISTRY" in p for p in found), found
    with pytest.raises(RuntimeError, match=r"lab_orders.*generators\.REGISTRY"):
        generators.specs(tables=(*catalogue.TABLES, NEW))


def test_a_generator_without_a_catalogue_table_is_named() -> None:
    registry = {**generators.REGISTRY, "lab_orders": generators.REGISTRY["file_uploads"]}

    found = generators.problems(registry=registry)

    assert any("lab_orders" in p and "catalogue.TABLES" in p for p in found), found


def test_a_table_before_its_parent_is_named(
    use_schema: Callable[[dict[str, Any]], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    use_schema(_schema_with("lab_orders", parent="crm_activities"))
    names = ("lab_orders", *catalogue.NAMES)  # first, before its parent
    monkeypatch.setattr(catalogue, "NAMES", names)
    monkeypatch.setattr(catalogue, "TABLES", (NEW, *catalogue.TABLES))
    monkeypatch.setattr(catalogue, "BY_NAME", {t.name: t for t in (NEW, *catalogue.TABLES)})

    found = catalogue.problems()

    assert any("lab_orders" in p and "foreign-key order" in p for p in found), found
    assert any("lab_orders" in p and "seed files load in order" in p for p in found), found


def test_an_unknown_seed_file_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    odd = Table("file_uploads", "generated", "06_extra.sql")
    tables = tuple(odd if t.name == "file_uploads" else t for t in catalogue.TABLES)
    monkeypatch.setattr(catalogue, "TABLES", tables)

    assert any("06_extra.sql" in p and "SEED_FILES" in p for p in catalogue.problems())
