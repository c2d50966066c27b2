"""The order blocks are made in: interleaved along the appointments, the same blocks."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from moeen_synth import generators, plan
from moeen_synth import profile as profiles
from moeen_synth.generators import notifications
from moeen_synth.models import visits
from moeen_synth.models.context import PARENT_BLOCK, Context


def parent_of(ctx: Context, table: str, row: int) -> int | None:
    """The appointment row ``row`` of an anchored table belongs to (None: no appointment)."""
    if table == "notifications":
        notices = notifications.notice_layout(ctx)
        if row >= notices.total:
            return None  # a welcome notice
        return int(notices.locate(np.array([row]))[0][0])
    layout = generators.REGISTRY[table].layout
    assert layout is not None, f"{table} is anchored but has no layout"
    return int(layout(ctx).locate(np.array([row]))[0][0])


@pytest.fixture(scope="module")
def ctx() -> Context:
    # About 180,000 appointments: three parent blocks, every table filled.
    return plan.context(profiles.load("load-1m").with_overrides(scale=30_000))


def test_interleaving_reorders_the_blocks_and_keeps_each_tables_order(ctx: Context) -> None:
    work = [(spec, range(total)) for spec, total in plan.plan(ctx)]
    plain = plan.jobs(ctx, work, block_rows=7_000)
    mixed = plan.jobs(ctx, work, block_rows=7_000, interleave=True)

    key = [(spec.name, start, stop) for spec, _, start, stop in plain]
    assert sorted(key) == sorted((spec.name, start, stop) for spec, _, start, stop in mixed)
    assert [j[0].name for j in mixed] != [j[0].name for j in plain]
    for name in {spec.name for spec, *_ in plain}:
        starts = [start for spec, _, start, _ in mixed if spec.name == name]
        assert starts == sorted(starts)


def test_a_child_block_comes_after_the_appointments_of_its_rows(ctx: Context) -> None:
    work = [(spec, range(total)) for spec, total in plan.plan(ctx)]
    loaded = 0  # appointments whose blocks came before
    for spec, _, start, stop in plan.jobs(ctx, work, block_rows=7_000, interleave=True):
        if spec.name == "appointments":
            assert start == loaded
            loaded = stop
        elif spec.anchor is not None:
            parent = parent_of(ctx, spec.name, stop - 1)  # the last row's is the latest
            assert parent is None or parent < loaded, (spec.name, start, parent, loaded)


def test_interleaved_blocks_make_each_block_of_appointment_facts_once(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = [(spec, range(total)) for spec, total in plan.plan(ctx)]  # the census is made here
    ctx._cache.pop("facts_blocks")  # the census's blocks, kept for the first children
    made: Counter[int] = Counter()
    facts = visits.AppointmentFacts.__init__

    def counted(self: visits.AppointmentFacts, c: Context, a: np.ndarray) -> None:
        made[int(a[0]) if len(a) else -1] += 1
        facts(self, c, a)

    monkeypatch.setattr(visits.AppointmentFacts, "__init__", counted)
    for spec, _, start, stop in plan.jobs(ctx, work, block_rows=7_000, interleave=True):
        assert spec.generate is not None
        spec.generate(ctx, start, stop)

    blocks = range(0, ctx.counts.appointments, PARENT_BLOCK)
    assert made == Counter(dict.fromkeys(blocks, 1))
