"""Property test: for random small profiles and seeds, every invariant validate checks holds
on the loaded database (the load itself validates before committing; this asserts it)."""

from __future__ import annotations

from collections.abc import Callable

import psycopg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from moeen_synth.db.validate import validate
from moeen_synth.jobs import load as load_job
from moeen_synth.profile import Profile
from tests.unit.test_generators import profiles_strategy


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(prof=profiles_strategy(), bulk=st.booleans())
def test_every_invariant_holds_for_random_profiles(
    make_db: Callable[[], str], prof: Profile, bulk: bool
) -> None:
    dsn = make_db()
    with psycopg.connect(dsn, autocommit=True) as conn:
        # bulk: the large-load path (indexes and foreign keys rebuilt, COPY FREEZE)
        result = load_job.load(conn, prof, bulk=bulk)
        report = validate(conn)

    assert result.report is not None and result.report.ok, result.report.failures
    assert report.ok, report.failures
    assert all(n is not None for _, n in report.check_results)  # as_of known: none skipped
    for spec in result.tables:
        assert report.row_counts.get(spec.table, 0) >= spec.rows
