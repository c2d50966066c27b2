"""Each table's column types, as the platform's schema declares them.

Read from ``schema/expected_catalog.json`` (the catalog a migrated database must match), so
file formats map types from the same source that ``validate`` checks against.
"""

from __future__ import annotations

import functools
import json

from moeen_synth import paths


@functools.cache
def sql_types() -> dict[str, dict[str, str]]:
    """``{table: {column: type}}``, e.g. ``numeric(10,2)``, ``timestamp with time zone``."""
    catalog = json.loads((paths.schema_dir() / "expected_catalog.json").read_text("utf-8"))
    return {
        table: {c["name"]: c["type"] for c in spec["columns"]}
        for table, spec in catalog["tables"].items()
    }


@functools.cache
def required() -> dict[str, frozenset[str]]:
    """``{table: columns declared NOT NULL}``."""
    catalog = json.loads((paths.schema_dir() / "expected_catalog.json").read_text("utf-8"))
    return {
        table: frozenset(c["name"] for c in spec["columns"] if c["not_null"])
        for table, spec in catalog["tables"].items()
    }
