"""Compare a ``read_catalog`` result with the platform's schema reference (markdown), row by
row: columns, types, nullability, defaults, generated columns, CHECK lists, keys, indexes,
RLS and policies, triggers, views."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

RLS_TABLES = {
    "users",
    "patients",
    "doctors",
    "appointments",
    "medical_records",
    "notifications",
    "audit_logs",
}
TRIGGER_TABLES = {
    "users",
    "patients",
    "doctors",
    "appointments",
    "medical_records",
    "insurance_claims",
    "payments",
    "notification_templates",
    "system_settings",
    "translations",
    "chatbot_flows",
    "crm_leads",
}
VIEW_COLUMNS = {
    "patient_dashboard": "id public_id full_name medical_record_number phone email is_activated "
    "insurance_provider insurance_number last_login total_appointments completed_appointments "
    "pending_appointments",
    "doctor_dashboard": "id public_id full_name speciality license_number phone email "
    "consultation_fee rating total_reviews is_available last_login total_appointments "
    "completed_appointments pending_appointments",
    "appointment_details": "id public_id scheduled_at duration_minutes type status payment_status "
    "payment_method notes diagnosis prescription patient_name medical_record_number "
    "patient_phone doctor_name speciality license_number",
}


def reference_path() -> Path | None:
    repo = Path(__file__).resolve().parent.parent
    for candidate in (repo.parent / "shared" / "reference" / "moeen-schema.md",):
        if candidate.is_file():
            return candidate
    return None


def _strip_casts(s: str) -> str:
    return re.sub(r"::(text|jsonb|character varying|numeric|integer)", "", s)


def _sections(reference: str) -> dict[str, str]:
    body = reference.split("## Tables", 1)[1]
    parts = re.split(r"^### ", body, flags=re.M)[1:]
    return {p.split("\n", 1)[0].strip(): p for p in parts}


def _column_problems(name: str, section: str, table: dict[str, Any]) -> tuple[list[str], set[Any]]:
    problems: list[str] = []
    expected: set[Any] = set()
    cols = {c["name"]: c for c in table["columns"]}
    order = []
    for row in section.splitlines():
        if not row.startswith("| ") or row.startswith("| column"):
            continue
        col, typ, null, default, rule = (c.strip() for c in re.split(r"(?<!\\)\|", row)[1:-1])
        default = default.replace("\\|", "|")
        order.append(col)
        c = cols.get(col)
        if c is None:
            problems.append(f"{name}.{col}: missing")
            continue
        if c["type"] != typ:
            problems.append(f"{name}.{col}: type {c['type']} != {typ}")
        if c["not_null"] != (null == "NOT NULL"):
            problems.append(f"{name}.{col}: nullability differs")
        if default.startswith("GENERATED: "):
            if (
                c["generated_kind"] != "stored"
                or _strip_casts(c["generated"] or "") != default[11:]
            ):
                problems.append(f"{name}.{col}: generated {c['generated']} != {default}")
        elif _strip_casts(c["default"] or "") != default:
            problems.append(f"{name}.{col}: default {c['default']!r} != {default!r}")
        if rule == "primary key":
            expected.add(("p", f"PRIMARY KEY ({col})"))
        elif rule == "unique":
            expected.add(("u", f"UNIQUE ({col})"))
        elif rule.startswith("FK → "):
            m = re.match(r"FK → (\w+)\.(\w+) \(on delete (.+)\)", rule)
            assert m, rule
            expected.add(
                ("f", f"FOREIGN KEY ({col}) REFERENCES {m[1]}({m[2]}) ON DELETE {m[3].upper()}")
            )
        elif rule.startswith("one of: "):
            expected.add(("c", col + ":" + ",".join(rule[8:].split(", "))))
        elif rule:
            problems.append(f"{name}.{col}: rule not understood: {rule}")
    if order != [c["name"] for c in table["columns"]]:
        problems.append(f"{name}: columns {[c['name'] for c in table['columns']]} != {order}")
    return problems, expected


def _constraints(name: str, table: dict[str, Any]) -> tuple[list[str], set[Any]]:
    problems, got = [], set()
    for con in table["constraints"]:
        d = con["definition"]
        if con["type"] == "c":
            m = re.match(r"CHECK \(\(\((\w+)\)::text = ANY \(\(ARRAY\[(.+)\]\)::text\[\]\)\)\)$", d)
            if not m:
                problems.append(f"{name}: CHECK not understood: {d}")
                continue
            values = re.findall(r"'([^']*)'::character varying", m[2])
            got.add(("c", m[1] + ":" + ",".join(values)))
        else:
            got.add((con["type"], d))
    return problems, got


def reference_problems(catalog: dict[str, Any], reference: str) -> list[str]:
    problems: list[str] = []
    sections = _sections(reference)
    if set(catalog["tables"]) != set(sections):
        problems.append(f"tables differ: {sorted(set(catalog['tables']) ^ set(sections))}")
    for name, section in sections.items():
        table = catalog["tables"].get(name)
        if table is None:
            continue
        col_problems, expected = _column_problems(name, section, table)
        problems += col_problems
        m = re.search(r"Table rules: unique \((.+)\)", section)
        if m:
            expected.add(("u", f"UNIQUE ({m[1]})"))
        con_problems, got = _constraints(name, table)
        problems += con_problems
        if got != expected:
            problems.append(f"{name}: constraints extra {got - expected}, missing {expected - got}")
        m = re.search(r"^Indexes: (.+)$", section, re.M)
        want_idx = set(m[1].split(", ")) if m else set()
        got_idx = set()
        for i in table["indexes"]:
            if i["name"].startswith("idx_"):
                mm = re.fullmatch(
                    rf"CREATE INDEX {i['name']} ON {name} USING btree \((\w+)\)", i["definition"]
                )
                if not mm or not i["name"].startswith(f"idx_{name}_"):
                    problems.append(f"{name}: index {i['definition']}")
                else:
                    got_idx.add(mm[1])
        if got_idx != want_idx:
            problems.append(f"{name}: indexed columns {got_idx} != {want_idx}")
        want_pol = dict(re.findall(r'^RLS policy "([^"]+)" \(SELECT\): `(.+)`$', section, re.M))
        got_pol = {p["name"]: p["using"] for p in table["policies"]}
        if want_pol != got_pol:
            problems.append(f"{name}: policies {got_pol} != {want_pol}")
        if any(p["command"] != "SELECT" for p in table["policies"]):
            problems.append(f"{name}: a policy is not FOR SELECT")
        if table["rls_enabled"] != (name in RLS_TABLES):
            problems.append(f"{name}: RLS enabled is {table['rls_enabled']}")
        want_trig = (
            [
                f"CREATE TRIGGER update_{name}_updated_at BEFORE UPDATE ON {name} FOR EACH "
                "ROW EXECUTE FUNCTION update_updated_at_column()"
            ]
            if name in TRIGGER_TABLES
            else []
        )
        if [t["definition"] for t in table["triggers"]] != want_trig:
            problems.append(f"{name}: triggers {table['triggers']}")
    views = {k: " ".join(c["name"] for c in v["columns"]) for k, v in catalog["views"].items()}
    if views != VIEW_COLUMNS:
        problems.append(f"views {views}")
    if not catalog["auth_uid"]:
        problems.append("auth.uid() missing")
    return problems
