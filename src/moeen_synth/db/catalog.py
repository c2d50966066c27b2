"""Describe a live PostgreSQL schema, and compare two descriptions.

``read_catalog`` turns the tables, views and functions of one schema into plain JSON data
(dicts, lists, strings, booleans), ordered the same way on every run, so that a database
migrated with ``schema/`` can be compared with one made by the platform's own
``complete_schema.sql``, or with a description saved earlier. ``diff_catalogs`` lists the
differences in words; an empty list means the two schemas match.

Expressions are rendered by PostgreSQL itself (``format_type``, ``pg_get_expr``,
``pg_get_constraintdef``, ``pg_get_indexdef``, ``pg_get_triggerdef``, ``pg_policies``)
with the search path set to the described schema alone, so names in that schema appear
unqualified and names elsewhere (``auth.uid()``) qualified, whatever the caller's
search path. Constraints are compared by kind and definition, not by name; NOT NULL is
a column property (PostgreSQL 18 also lists it as a constraint, which is left out here).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import psycopg

__all__ = ["diff_catalogs", "read_catalog"]

_TABLES = """
SELECT c.relname, c.relrowsecurity
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = %(schema)s AND c.relkind IN ('r', 'p')
ORDER BY c.relname COLLATE "C"
"""

_VIEWS = """
SELECT c.relname
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = %(schema)s AND c.relkind = 'v'
ORDER BY c.relname COLLATE "C"
"""

_COLUMNS = """
SELECT c.relname, a.attname,
       pg_catalog.format_type(a.atttypid, a.atttypmod),
       a.attnotnull, a.attgenerated::text,
       pg_catalog.pg_get_expr(d.adbin, d.adrelid)
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE n.nspname = %(schema)s AND c.relkind IN ('r', 'p', 'v')
  AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY c.relname COLLATE "C", a.attnum
"""

_CONSTRAINTS = """
SELECT c.relname, con.conname, con.contype::text, pg_catalog.pg_get_constraintdef(con.oid)
FROM pg_catalog.pg_constraint con
JOIN pg_catalog.pg_class c ON c.oid = con.conrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = %(schema)s AND c.relkind IN ('r', 'p') AND con.contype <> 'n'
"""

_INDEXES = """
SELECT t.relname, i.relname, pg_catalog.pg_get_indexdef(i.oid)
FROM pg_catalog.pg_index x
JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid
JOIN pg_catalog.pg_class t ON t.oid = x.indrelid
JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace
WHERE n.nspname = %(schema)s AND t.relkind IN ('r', 'p')
"""

_POLICIES = """
SELECT tablename, policyname, permissive, roles::text[], cmd, qual, with_check
FROM pg_catalog.pg_policies
WHERE schemaname = %(schema)s
"""

_TRIGGERS = """
SELECT c.relname, t.tgname, pg_catalog.pg_get_triggerdef(t.oid)
FROM pg_catalog.pg_trigger t
JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = %(schema)s AND c.relkind IN ('r', 'p') AND NOT t.tgisinternal
"""

# Functions that belong to an extension (uuid-ossp, pgcrypto) are not the schema's own.
_FUNCTIONS = """
SELECT p.proname, pg_catalog.pg_get_function_identity_arguments(p.oid),
       pg_catalog.pg_get_function_result(p.oid)
FROM pg_catalog.pg_proc p
JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = %(schema)s
  AND NOT EXISTS (
      SELECT 1 FROM pg_catalog.pg_depend d
      WHERE d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass
        AND d.objid = p.oid AND d.deptype = 'e')
"""

_AUTH_UID = """
SELECT EXISTS (
    SELECT 1 FROM pg_catalog.pg_proc p
    JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname = 'auth' AND p.proname = 'uid' AND p.pronargs = 0
      AND p.prorettype = 'pg_catalog.uuid'::pg_catalog.regtype)
"""

_GENERATED_KINDS = {"s": "stored", "v": "virtual"}


def read_catalog(conn: psycopg.Connection[Any], schema: str = "public") -> dict[str, Any]:
    """Describe the tables, views and functions of ``schema`` as JSON-serialisable data.

    The result has the keys ``schema``, ``tables`` (name -> columns, constraints,
    constraint_names, indexes, rls_enabled, policies, triggers), ``views`` (name ->
    columns), ``functions`` (the schema's own, extension members left out) and
    ``auth_uid`` (whether ``auth.uid()`` returning uuid exists). Everything is sorted,
    except columns, which keep their table order.

    Runs in its own transaction (a savepoint if one is open); the connection's search
    path is the same afterwards.
    """
    params = {"schema": schema}
    with conn.transaction():
        previous = _scalar(conn, "SELECT pg_catalog.current_setting('search_path')")
        only_schema = _scalar(conn, "SELECT pg_catalog.quote_ident(%s)", [schema])
        conn.execute("SELECT pg_catalog.set_config('search_path', %s, false)", [only_schema])
        tables: dict[str, dict[str, Any]] = {
            name: {
                "columns": [],
                "constraints": [],
                "constraint_names": [],
                "indexes": [],
                "rls_enabled": bool(rls),
                "policies": [],
                "triggers": [],
            }
            for name, rls in conn.execute(_TABLES, params).fetchall()
        }
        views: dict[str, dict[str, Any]] = {
            name: {"columns": []} for (name,) in conn.execute(_VIEWS, params).fetchall()
        }
        _read_columns(conn, params, tables, views)
        _read_table_objects(conn, params, tables, qualifier=f"{only_schema}.")
        functions = sorted(
            (
                {"name": name, "arguments": args, "returns": result}
                for name, args, result in conn.execute(_FUNCTIONS, params)
            ),
            key=lambda f: (f["name"], f["arguments"]),
        )
        auth_uid = bool(_scalar(conn, _AUTH_UID))
        conn.execute("SELECT pg_catalog.set_config('search_path', %s, false)", [previous])

    for table in tables.values():
        table["constraints"].sort(key=lambda c: (c["type"], c["definition"]))
        table["constraint_names"].sort()
        table["indexes"].sort(key=lambda i: i["name"])
        table["policies"].sort(key=lambda p: p["name"])
        table["triggers"].sort(key=lambda t: t["name"])
    return {
        "schema": schema,
        "tables": dict(sorted(tables.items())),
        "views": dict(sorted(views.items())),
        "functions": functions,
        "auth_uid": auth_uid,
    }


def _read_columns(
    conn: psycopg.Connection[Any],
    params: dict[str, str],
    tables: dict[str, dict[str, Any]],
    views: dict[str, dict[str, Any]],
) -> None:
    """Append every table's and view's columns, in their order."""
    for relation, column, sql_type, not_null, generated, expr in conn.execute(_COLUMNS, params):
        if relation in views:
            views[relation]["columns"].append({"name": column, "type": sql_type})
            continue
        kind = _GENERATED_KINDS.get(generated)
        tables[relation]["columns"].append(
            {
                "name": column,
                "type": sql_type,
                "not_null": bool(not_null),
                "default": None if kind else expr,
                "generated": expr if kind else None,
                "generated_kind": kind,
            }
        )


def _read_table_objects(
    conn: psycopg.Connection[Any],
    params: dict[str, str],
    tables: dict[str, dict[str, Any]],
    *,
    qualifier: str,
) -> None:
    """Append every table's constraints, indexes, policies and triggers."""
    for relation, name, contype, definition in conn.execute(_CONSTRAINTS, params):
        tables[relation]["constraints"].append({"type": contype, "definition": definition})
        tables[relation]["constraint_names"].append(name)
    for relation, name, definition in conn.execute(_INDEXES, params):
        tables[relation]["indexes"].append(
            {"name": name, "definition": _unqualify_on(definition, qualifier)}
        )
    for relation, name, permissive, roles, command, using, check in conn.execute(_POLICIES, params):
        if relation not in tables:
            continue
        tables[relation]["policies"].append(
            {
                "name": name,
                "command": command,
                "permissive": permissive,
                "roles": sorted(roles),
                "using": _one_line(using),
                "with_check": _one_line(check),
            }
        )
    for relation, name, definition in conn.execute(_TRIGGERS, params):
        tables[relation]["triggers"].append(
            {"name": name, "definition": _unqualify_on(definition, qualifier)}
        )


def diff_catalogs(expected: Mapping[str, Any], actual: Mapping[str, Any]) -> list[str]:
    """List the differences between two ``read_catalog`` results; empty when they match.

    Each line names where the difference is and shows ``<expected> != <actual>``, e.g.
    ``table users: column email: type character varying(100) != character varying(255)``.
    The schema name itself is not compared.
    """
    out = _diff_named("table", expected.get("tables", {}), actual.get("tables", {}), _diff_table)
    out += _diff_named("view", expected.get("views", {}), actual.get("views", {}), _diff_view)

    out.extend(
        _diff_keyed(
            "function",
            expected.get("functions", []),
            actual.get("functions", []),
            key=lambda f: f"{f['name']}({f['arguments']})",
        )
    )
    if expected.get("auth_uid") != actual.get("auth_uid"):
        out.append(f"auth.uid(): exists {expected.get('auth_uid')} != {actual.get('auth_uid')}")
    return out


def _diff_named(
    kind: str,
    expected: Mapping[str, Any],
    actual: Mapping[str, Any],
    diff_one: Callable[[Mapping[str, Any], Mapping[str, Any]], list[str]],
) -> list[str]:
    """Objects of ``kind`` missing, unexpected, or different (by ``diff_one``)."""
    out = [f"{kind} {name}: missing" for name in _missing(expected, actual)]
    out += [f"{kind} {name}: unexpected" for name in _missing(actual, expected)]
    for name in sorted(expected.keys() & actual.keys()):
        out.extend(f"{kind} {name}: {d}" for d in diff_one(expected[name], actual[name]))
    return out


def _diff_view(expected: Mapping[str, Any], actual: Mapping[str, Any]) -> list[str]:
    expected_columns = _render_columns(expected.get("columns", []))
    actual_columns = _render_columns(actual.get("columns", []))
    if expected_columns != actual_columns:
        return [f"columns {expected_columns} != {actual_columns}"]
    return []


def _diff_table(expected: Mapping[str, Any], actual: Mapping[str, Any]) -> list[str]:
    out: list[str] = []
    exp_cols = {c["name"]: c for c in expected.get("columns", [])}
    act_cols = {c["name"]: c for c in actual.get("columns", [])}
    for name in _missing(exp_cols, act_cols):
        out.append(f"column {name}: missing")
    for name in _missing(act_cols, exp_cols):
        out.append(f"column {name}: unexpected")
    for name in [c for c in exp_cols if c in act_cols]:
        out.extend(f"column {name}: {d}" for d in _diff_fields(exp_cols[name], act_cols[name]))
    common = set(exp_cols) & set(act_cols)
    exp_order = [c for c in exp_cols if c in common]
    act_order = [c for c in act_cols if c in common]
    if exp_order != act_order:
        out.append(f"column order {', '.join(exp_order)} != {', '.join(act_order)}")

    # By meaning: a dump and restore prints some expressions differently (casts moved).
    exp_cons = {_meaning(_constraint_text(c)): c for c in expected.get("constraints", [])}
    act_cons = {_meaning(_constraint_text(c)): c for c in actual.get("constraints", [])}
    out.extend(
        f"constraint missing: {_constraint_text(exp_cons[k])}"
        for k in sorted(exp_cons.keys() - act_cons.keys())
    )
    out.extend(
        f"constraint unexpected: {_constraint_text(act_cons[k])}"
        for k in sorted(act_cons.keys() - exp_cons.keys())
    )
    exp_names = set(expected.get("constraint_names", []))
    act_names = set(actual.get("constraint_names", []))
    out.extend(f"constraint name missing: {n}" for n in sorted(exp_names - act_names))
    out.extend(f"constraint name unexpected: {n}" for n in sorted(act_names - exp_names))

    if expected.get("rls_enabled") != actual.get("rls_enabled"):
        out.append(f"rls_enabled {expected.get('rls_enabled')} != {actual.get('rls_enabled')}")
    for kind in ("indexes", "policies", "triggers"):
        label = {"indexes": "index", "policies": "policy", "triggers": "trigger"}[kind]
        out.extend(
            _diff_keyed(
                label,
                expected.get(kind, []),
                actual.get(kind, []),
                key=lambda item: str(item["name"]),
            )
        )
    return out


def _diff_keyed(
    label: str,
    expected: Iterable[Mapping[str, Any]],
    actual: Iterable[Mapping[str, Any]],
    *,
    key: Callable[[Mapping[str, Any]], str],
) -> list[str]:
    exp = {key(item): item for item in expected}
    act = {key(item): item for item in actual}
    out = [f"{label} {name}: missing" for name in _missing(exp, act)]
    out.extend(f"{label} {name}: unexpected" for name in _missing(act, exp))
    for name in sorted(exp.keys() & act.keys()):
        out.extend(f"{label} {name}: {d}" for d in _diff_fields(exp[name], act[name]))
    return out


def _diff_fields(expected: Mapping[str, Any], actual: Mapping[str, Any]) -> list[str]:
    return [
        f"{field} {expected.get(field)} != {actual.get(field)}"
        for field in sorted(expected.keys() | actual.keys())
        if field != "name" and expected.get(field) != actual.get(field)
    ]


def _missing(present: Iterable[str], other: Iterable[str]) -> list[str]:
    return sorted(set(present) - set(other))


def _render_columns(columns: Iterable[Mapping[str, Any]]) -> str:
    return ", ".join(f"{c['name']} {c['type']}" for c in columns)


def _constraint_text(constraint: Mapping[str, Any]) -> str:
    return f"{constraint['type']} {constraint['definition']}"


# Casts PostgreSQL adds or moves when it prints an expression back (a dump and restore of
# `col::text = ANY ((ARRAY['a'::character varying])::text[])` reads back as
# `col::text = ANY (ARRAY[('a'::character varying)::text])`).
_CASTS = re.compile(
    r"::(?:character varying|character|text|bpchar|varchar|integer|bigint|numeric|boolean"
    r"|timestamp with time zone|jsonb|uuid|regclass)(?:\(\d+\))?(?:\[\])?"
)


_ATOM = re.compile(r"\(\s*(\w+|\x00\d+\x00)\s*\)")  # (name) or (literal)
_DOUBLED = re.compile(r"\(\s*\(([^()]*)\)\s*\)")  # ((x)) with no parentheses in x


def _meaning(expression: str) -> str:
    """An expression with casts, parentheses around a single name or literal, doubled
    parentheses and white space left out, outside its literals: two printings of the same
    constraint give the same text, while parentheses that group still count."""
    parts = expression.split("'")
    literals = parts[1::2]
    # Literals become placeholders, so that nothing inside them is touched.
    text = "".join(part if i % 2 == 0 else f"\x00{i // 2}\x00" for i, part in enumerate(parts))
    text = _CASTS.sub("", text)
    while True:
        simpler = _DOUBLED.sub(r"(\1)", _ATOM.sub(r"\1", text))
        if simpler == text:
            break
        text = simpler
    text = re.sub(r"\s+", "", text)
    return re.sub("\x00(\\d+)\x00", lambda m: "'" + literals[int(m[1])] + "'", text)


def _unqualify_on(definition: str, qualifier: str) -> str:
    """Drop the schema from ``ON <schema>.<table>``, which PostgreSQL always prints."""
    for on in (" ON ONLY ", " ON "):
        if f"{on}{qualifier}" in definition:
            return definition.replace(f"{on}{qualifier}", on, 1)
    return definition


def _one_line(expr: str | None) -> str | None:
    """Collapse the line breaks and indentation of pretty-printed SQL, outside literals."""
    if expr is None:
        return None
    parts = expr.split("'")
    # Even-numbered parts are outside quotes ('' inside a literal yields an empty odd part).
    for i in range(0, len(parts), 2):
        parts[i] = re.sub(r"\s+", " ", parts[i])
    return "'".join(parts)


def _scalar(conn: psycopg.Connection[Any], query: str, params: Sequence[Any] = ()) -> Any:
    row = conn.execute(query, params).fetchone()
    if row is None:  # pragma: no cover - a SELECT without FROM always returns a row
        raise RuntimeError(f"no row from {query!r}")
    return row[0]
