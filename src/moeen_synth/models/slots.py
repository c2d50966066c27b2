"""Each doctor's calendar of slots, and who sits in each slot.

Appointment ``a`` is doctor ``a % doctors``'s slot ``a // doctors``. Slot ``k`` maps to one
start time for every doctor of a shift (a keyed permutation of that shift's working slots, in
the past or the future of ``as_of``), so a doctor never has two appointments at once. The
patients of the doctors at slot ``k`` are distinct positions in their group's pool (children,
adult women, adults), and shifts never share hours, so a patient never has two at once either.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from moeen_synth import keys
from moeen_synth.errors import UsageError
from moeen_synth.models.context import DAY, HOUR, MINUTE, RIYADH_OFFSET, Context
from moeen_synth.models.doctors import ADULTS, CHILDREN, WOMEN, doctor_facts
from moeen_synth.models.people import ADULT_SEX, adult_sexes, child_pool, patient_groups
from moeen_synth.profile import clock_minutes

I64 = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]
SLOT = 30 * MINUTE
WORK_WEEKDAYS = (6, 0, 1, 2, 3)  # Python weekday(): Sunday..Thursday


@dataclass(frozen=True)
class Calendar:
    """Working slot start times (epoch seconds) before and after ``as_of``."""

    past: I64
    future: I64


def calendars(ctx: Context) -> list[Calendar]:
    """One calendar per shift of the profile, in its order."""

    def build() -> list[Calendar]:
        profile = ctx.profile
        first_day = (ctx.as_of + RIYADH_OFFSET) // DAY - profile.history_days
        last_day = (ctx.as_of + RIYADH_OFFSET) // DAY + profile.future_days
        days = np.arange(first_day, last_day + 1, dtype=np.int64)
        weekday = (days + 3) % 7  # 1970-01-01 was a Thursday (weekday 3)
        days = days[np.isin(weekday, WORK_WEEKDAYS)]
        out = []
        for shift in profile.tables.doctors.shifts.values():
            opens, closes = clock_minutes(shift.start) * MINUTE, clock_minutes(shift.end) * MINUTE
            offsets = np.arange(opens, closes, SLOT, dtype=np.int64)
            starts = (days[:, None] * DAY - RIYADH_OFFSET + offsets[None, :]).ravel()
            out.append(
                Calendar(starts[starts + SLOT <= ctx.as_of], starts[starts >= ctx.as_of + HOUR])
            )
        return out

    result: list[Calendar] = ctx.cached("calendars", build)
    return result


def _past_and_future(ctx: Context) -> tuple[float, float]:
    share = ctx.profile.tables.appointments.future_share
    return 1.0 - share, share


def check_capacity(ctx: Context) -> None:
    """Raise UsageError if some doctor's shift has fewer past or future slots in the window
    than the doctor's appointments need."""
    tables = ctx.profile.tables
    counts = ctx.counts
    slots_needed = -(-counts.appointments // counts.doctors)
    # The same exact split as slot_times makes.
    split = keys.apportion(slots_needed, _past_and_future(ctx))
    need_past, need_future = (int(count) for count in split)
    used = set(doctor_facts(ctx).shift.tolist())
    shifts = zip(tables.doctors.shifts, calendars(ctx), strict=True)
    for number, (name, cal) in enumerate(shifts):
        if number not in used:
            continue
        for label, have, need in (
            ("past", len(cal.past), need_past),
            ("future", len(cal.future), need_future),
        ):
            if need > have:
                raise UsageError(
                    f"tables.appointments: {counts.appointments} appointments for "
                    f"{counts.doctors} doctors need about {need} {label} slots per doctor, but "
                    f"the {name} shift has {have} in the window; raise history_days/"
                    "future_days, tables.doctors.count or the shift's hours"
                )


def slot_times(ctx: Context, doctor: I64, slot: I64) -> tuple[Mask, I64]:
    """(in the future, start time) of each doctor's slot.

    Each doctor's slots split into past and future in exact shares; a slot's rank among its
    kind is a bijection onto 0..count-1, so the slots of one kind take distinct places in
    the shift's calendar (check_capacity makes sure they fit)."""
    slots_per_doctor = -(-ctx.counts.appointments // ctx.counts.doctors)
    kind, rank = keys.quota_ranked(
        ctx.seed,
        ctx.namespace,
        "appointments",
        "future",
        idx=slot,
        n=slots_per_doctor,
        weights=_past_and_future(ctx),
    )
    future = kind == 1
    shift = doctor_facts(ctx).shift[doctor]
    start = np.zeros_like(slot)
    for number, cal in enumerate(calendars(ctx)):
        on_shift = shift == number
        if not on_shift.any():
            continue
        ranks = rank[on_shift]
        n_past, n_future = max(1, len(cal.past)), max(1, len(cal.future))
        past_at = cal.past[(ranks * keys.coprime_step(n_past) + 7) % n_past] if len(cal.past) else 0
        future_at = (
            cal.future[(ranks * keys.coprime_step(n_future) + 3) % n_future]
            if len(cal.future)
            else 0
        )
        start[on_shift] = np.where(future[on_shift], future_at, past_at)
    return future, start


def slot_patients(ctx: Context, doctor: I64, slot: I64, start: I64) -> I64:
    """The patient of each doctor's slot (starting at ``start``): the doctors of a group at
    slot ``k`` (all at the same time) take consecutive pool positions from an offset, so
    their patients differ.

    The offset falls among the first ``frequent_patients_share`` of the pool for
    ``frequent_visits_share`` of the slots: those patients visit more often."""
    visits = ctx.profile.tables.appointments
    facts = doctor_facts(ctx)
    regular = ctx.stream("appointments", "frequent").uniform(slot) < visits.frequent_visits_share
    draw = ctx.stream("appointments", "patient_offset").uniform(slot)
    group = facts.group[doctor]
    rank = facts.rank[doctor]
    patient = np.zeros_like(doctor)
    kids = group == CHILDREN
    if kids.any():
        patient[kids] = _child_patients(ctx, draw[kids], regular[kids], rank[kids], start[kids])
    grown = ~kids
    if grown.any():
        patient[grown] = _adult_patients(
            ctx, draw[grown], regular[grown], rank[grown], group[grown]
        )
    return patient


def _child_patients(
    ctx: Context, draw: npt.NDArray[np.float64], regular: Mask, rank: I64, start: I64
) -> I64:
    """Children: consecutive positions of the child pool among those old enough to be seen
    at ``start`` (a prefix of the pool, oldest first). The regulars are the youngest
    children seen throughout the window: infants and toddlers visit most."""
    pool = child_pool(ctx)
    seen = pool.seen_by(start)
    always_seen = int(pool.seen_by(np.array([_first_slot(ctx)]))[0])
    regulars = ctx.profile.tables.appointments.frequent_patients_share
    span = min(always_seen, max(1, round(pool.n * regulars)))
    offset = np.where(
        regular,
        always_seen - span + (draw * span).astype(np.int64),
        (draw * seen).astype(np.int64),
    )
    return pool.patient((offset + rank) % seen)


def _first_slot(ctx: Context) -> int:
    """The earliest slot start of any shift's calendar."""
    starts = [int(cal.past[0]) for cal in calendars(ctx) if len(cal.past)]
    starts += [int(cal.future[0]) for cal in calendars(ctx) if len(cal.future)]
    return min(starts, default=ctx.as_of)


def _adult_patients(
    ctx: Context, draw: npt.NDArray[np.float64], regular: Mask, rank: I64, group: I64
) -> I64:
    """Adults, in the order of the quota that makes them men (first) or women: doctors of
    women take consecutive places among the women, the others consecutive places anywhere,
    moved past the women's block when they would meet it. The regulars are the places around
    the men/women boundary: a ``frequent_patients_share`` of each sex."""
    n_child, n_adult = patient_groups(ctx)
    pool = max(1, n_adult)
    regulars = ctx.profile.tables.appointments.frequent_patients_share
    men, women = adult_sexes(ctx)
    group_size = doctor_facts(ctx).group_size
    seeing_adults, seeing_women = int(group_size[ADULTS]), int(group_size[WOMEN])
    near_boundary = max(1, round(men * regulars) + round(women * regulars))
    anywhere = (
        np.where(
            regular,
            men - round(men * regulars) + (draw * near_boundary).astype(np.int64),
            (draw * n_adult).astype(np.int64),
        )
        % pool
    )
    room = max(1, women - seeing_women + 1)
    regular_women = min(room, max(1, round(women * regulars)))
    among_women = men + (draw * np.where(regular, regular_women, room)).astype(np.int64)
    meets = ((among_women - anywhere) % pool < seeing_adults) | (
        (anywhere - among_women) % pool < seeing_women
    )
    anywhere = np.where(meets & (seeing_women > 0), (among_women + seeing_women) % pool, anywhere)
    place = np.where(group == WOMEN, among_women + rank, (anywhere + rank) % pool)
    patient: I64 = n_child + keys.quota_member(
        ctx.seed, ctx.namespace, *ADULT_SEX, position=place, n=pool
    )
    return patient
