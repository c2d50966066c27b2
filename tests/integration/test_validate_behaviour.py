"""validate exercises what the schema does: row-level security as a signed-in patient, a
doctor and nobody, the updated_at triggers, and views that bypass row-level security. Each
breakage fails it (exit 1, naming the table), even where the schema is not compared."""

from __future__ import annotations

import json

import psycopg
import pytest
from click.testing import CliRunner

from moeen_synth.cli import main


@pytest.fixture
def demo_dsn(fresh_dsn: str) -> str:
    assert CliRunner().invoke(main, ["--profile", "demo", "--dsn", fresh_dsn, "-q"]).exit_code == 0
    return fresh_dsn


def _validate(dsn: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["validate", "--no-schema", "--dsn", dsn])
    return result.exit_code, result.output


def test_a_loaded_demo_behaves(demo_dsn: str) -> None:
    status, shown = _validate(demo_dsn)

    assert status == 0, shown
    assert "RLS: appointments shows a signed-in patient exactly their own rows" in shown
    assert "trigger: an UPDATE of appointments moves updated_at" in shown
    # The platform's views run with their owner's rights: reported, not failed.
    assert "warning: view patient_dashboard shows a signed-in patient" in shown


@pytest.mark.parametrize(
    ("breakage", "named"),
    [
        ('DROP POLICY "Users can view own notifications" ON notifications', "notifications"),
        (
            'ALTER POLICY "Patients can view own appointments" ON appointments USING (true)',
            "appointments",
        ),
        (
            "CREATE OR REPLACE FUNCTION update_updated_at_column() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$",
            "UPDATE of payments moves updated_at",
        ),
        ("ALTER TABLE medical_records DISABLE ROW LEVEL SECURITY", "medical_records"),
    ],
)
def test_a_broken_behaviour_fails_validate_naming_the_table(
    demo_dsn: str, breakage: str, named: str
) -> None:
    with psycopg.connect(demo_dsn, autocommit=True) as conn:
        conn.execute(breakage)  # type: ignore[arg-type]

    status, shown = _validate(demo_dsn)

    assert status == 1, shown
    failing = [line for line in shown.splitlines() if "wrong" in line]
    assert any(named in line for line in failing), shown


def test_validate_leaves_nothing_behind(demo_dsn: str) -> None:
    def state() -> tuple[object, ...]:
        with psycopg.connect(demo_dsn) as conn:
            roles = conn.execute("SELECT count(*) FROM pg_roles").fetchone()
            stamps = conn.execute("SELECT max(updated_at) FROM appointments").fetchone()
            return roles, stamps

    before = state()
    _validate(demo_dsn)

    assert state() == before


def test_validate_gives_statistics_and_json(demo_dsn: str) -> None:
    shown = CliRunner().invoke(main, ["validate", "--dsn", demo_dsn])
    as_json = CliRunner().invoke(main, ["validate", "--json", "--dsn", demo_dsn])

    assert shown.exit_code == 0 and "statistics" in shown.output, shown.output
    assert "8 policies, 12 triggers, 3 views" in shown.output
    data = json.loads(as_json.output)
    assert as_json.exit_code == 0 and data["valid"] is True
    assert data["rows"]["appointments"] == 6
    assert data["statistics"]["tables"]["appointments"]["rows"] == 6
    assert data["statistics"]["database_bytes"] > 0
    assert any(item["name"].startswith("RLS: ") for item in data["behaviour"])
