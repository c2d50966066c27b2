"""Appointments: each doctor's calendar, the patient in each slot, and what became of it.

Appointment ``a`` is doctor ``a % D``'s ``k = a // D``-th slot. Slot ``k`` maps to one start
time for every doctor of a shift (a keyed permutation of that shift's working slots, in the
past or the future of ``as_of``), so a doctor never has two appointments at once. The patients
of the ``D`` appointments at slot ``k`` are distinct positions in their age group's pool, and
shifts never share hours, so a patient never has two at once either. Everything else
(status, payment, claim, records) follows from the appointment's index, time and people.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from moeen_synth import keys
from moeen_synth.errors import UsageError
from moeen_synth.generators.base import (
    DAY,
    HOUR,
    I64,
    MINUTE,
    PARENT_BLOCK,
    BlockCache,
    BlockPrefix,
    Context,
    Labels,
    blocks_of,
    ts,
)
from moeen_synth.generators.people import (
    ADULT_SEX,
    doctor_facts,
    insurer_of,
    patient_groups,
)
from moeen_synth.profile import clock_minutes

SLOT = 30 * MINUTE
UTC_OFFSET = 3 * HOUR  # Asia/Riyadh: UTC+3, no daylight saving
WORK_WEEKDAYS = (6, 0, 1, 2, 3)  # Python weekday(): Sunday..Thursday


@dataclass(frozen=True)
class Calendar:
    """Working slot start times (epoch seconds) before and after ``as_of``."""

    past: I64
    future: I64


def _coprime_step(n: int) -> int:
    step = max(1, int(n * 0.6180339887)) | 1
    while math.gcd(step, n) != 1:
        step += 2
    return step


def calendars(ctx: Context) -> list[Calendar]:
    """One calendar per shift of the profile, in its order."""

    def build() -> list[Calendar]:
        pr = ctx.profile
        first_day = (ctx.as_of + UTC_OFFSET) // DAY - pr.history_days
        last_day = (ctx.as_of + UTC_OFFSET) // DAY + pr.future_days
        days = np.arange(first_day, last_day + 1, dtype=np.int64)
        weekday = (days + 3) % 7  # 1970-01-01 was a Thursday (weekday 3)
        days = days[np.isin(weekday, WORK_WEEKDAYS)]
        out = []
        for shift in pr.tables.doctors.shifts.values():
            opens, closes = clock_minutes(shift.start) * MINUTE, clock_minutes(shift.end) * MINUTE
            offsets = np.arange(opens, closes, SLOT, dtype=np.int64)
            starts = (days[:, None] * DAY - UTC_OFFSET + offsets[None, :]).ravel()
            out.append(
                Calendar(starts[starts + SLOT <= ctx.as_of], starts[starts >= ctx.as_of + HOUR])
            )
        return out

    result: list[Calendar] = ctx.cached("calendars", build)
    return result


# The labels an appointment's facts carry, as int8 codes (see Labels).
STATUS = Labels("pending", "confirmed", "completed", "no_show", "cancelled")
STATUS_PAST = ("completed", "no_show", "cancelled")
STATUS_FUTURE = ("pending", "confirmed", "cancelled")
TYPE = Labels("consultation", "follow_up", "emergency", "surgery", "checkup")
PAYMENT_METHOD = Labels("cash", "card", "bank_transfer", "insurance")
SELF_PAY = ("cash", "card", "bank_transfer")
PAYMENT_STATUS = Labels("unpaid", "paid", "partial", "refunded")
CLAIM_STATUS = Labels("submitted", "under_review", "approved", "rejected", "paid", "draft")
CLAIM_DONE = ("submitted", "under_review", "approved", "rejected", "paid")


def check_capacity(ctx: Context) -> None:
    t = ctx.profile.tables
    n = ctx.counts
    slots_needed = -(-n.appointments // n.doctors)
    share = t.appointments.future_share
    # The same exact split as AppointmentCore makes.
    need_past, need_future = (int(x) for x in keys.apportion(slots_needed, (1.0 - share, share)))
    used = set(doctor_facts(ctx).shift.tolist())
    for i, (name, cal) in enumerate(zip(t.doctors.shifts, calendars(ctx), strict=True)):
        if i not in used:
            continue
        for label, have, need in (
            ("past", len(cal.past), need_past),
            ("future", len(cal.future), need_future),
        ):
            if need > have:
                raise UsageError(
                    f"tables.appointments: {n.appointments} appointments for "
                    f"{n.doctors} doctors need about {need} {label} slots per doctor, but "
                    f"the {name} shift has {have} in the window; raise history_days/"
                    "future_days, tables.doctors.count or the shift's hours"
                )


def _weights(mix: dict[str, float], names: tuple[str, ...]) -> list[float]:
    return [mix.get(n, 0.0) for n in names]


class AppointmentCore:
    """What follows from an appointment's index alone: doctor, slot, time, patient, status."""

    def __init__(self, ctx: Context, a: I64) -> None:
        self.ctx = ctx
        self.a = a = np.asarray(a, dtype=np.int64)
        t = ctx.profile.tables
        ta = t.appointments
        n = ctx.counts.appointments
        D = ctx.counts.doctors
        df = doctor_facts(ctx)
        self.doctor = a % D
        k = a // D
        n_slots = -(-n // D)
        # Each doctor's slots k split into past and future in exact shares; a slot's rank
        # among its kind is a bijection onto 0..count-1, so the slots of one kind take
        # distinct places in the shift's calendar (check_capacity makes sure they fit).
        kind, rank = keys.quota_ranked(
            ctx.seed,
            ctx.namespace,
            "appointments",
            "future",
            idx=k,
            n=n_slots,
            weights=(1.0 - ta.future_share, ta.future_share),
        )
        self.future = kind == 1
        shift = df.shift[self.doctor]
        self.start = np.zeros_like(a)
        for i, cal in enumerate(calendars(ctx)):
            sel = shift == i
            if not sel.any():
                continue
            ks = rank[sel]
            n_past, n_fut = max(1, len(cal.past)), max(1, len(cal.future))
            past_t = cal.past[(ks * _coprime_step(n_past) + 7) % n_past] if len(cal.past) else 0
            fut_t = cal.future[(ks * _coprime_step(n_fut) + 3) % n_fut] if len(cal.future) else 0
            self.start[sel] = np.where(self.future[sel], fut_t, past_t)
        self.end = self.start + SLOT

        # Patient: a distinct pool position for each doctor of the group at slot k.
        n_child, n_adult = patient_groups(ctx)
        g = df.group[self.doctor]
        # The G appointments at slot k (one per doctor of the group, all at the same time)
        # take G consecutive pool positions from an offset, so their patients differ. The
        # offset falls among the first ``frequent_patients_share`` of the pool for
        # ``frequent_visits_share`` of the slots: those patients visit more often. A fixed
        # permutation of the pool spreads the frequent ones over the patient indices.
        s = ctx.stream
        frequent = s("appointments", "frequent").uniform(k) < ta.frequent_visits_share
        u = s("appointments", "patient_offset").uniform(k)
        fps = ta.frequent_patients_share
        rank = df.rank[self.doctor]
        patient = np.zeros_like(a)
        # Children: a block of G1 consecutive pool positions, spread by a fixed permutation.
        kids = g == 1
        if kids.any():
            span = np.where(frequent[kids], max(1, round(n_child * fps)), n_child)
            offset = (u[kids] * span).astype(np.int64)
            position = (offset + rank[kids]) % n_child
            patient[kids] = (position * _coprime_step(max(1, n_child)) + 1) % n_child
        # Adults, in the order of the quota that makes them men (first) or women: doctors of
        # women take G2 consecutive places among the women, the others G0 consecutive places
        # anywhere, moved past the women's block when they would meet it. The regulars are
        # the places around the men/women boundary: a fps share of each sex.
        grown = ~kids
        if grown.any():
            share = ctx.profile.tables.patients.female_share
            men, women = (int(x) for x in keys.apportion(n_adult, (1.0 - share, share)))
            g0, g2 = int(df.group_size[0]), int(df.group_size[2])
            ug, fg = u[grown], frequent[grown]
            near = max(1, round(men * fps) + round(women * fps))
            o0 = np.where(
                fg,
                men - round(men * fps) + (ug * near).astype(np.int64),
                (ug * n_adult).astype(np.int64),
            ) % max(1, n_adult)
            room = max(1, women - g2 + 1)
            o2 = men + (ug * np.where(fg, min(room, max(1, round(women * fps))), room)).astype(
                np.int64
            )
            meets = ((o2 - o0) % max(1, n_adult) < g0) | ((o0 - o2) % max(1, n_adult) < g2)
            o0 = np.where(meets & (g2 > 0), (o2 + g2) % max(1, n_adult), o0)
            place = np.where(g[grown] == 2, o2 + rank[grown], (o0 + rank[grown]) % max(1, n_adult))
            patient[grown] = n_child + keys.quota_member(
                ctx.seed, ctx.namespace, *ADULT_SEX, position=place, n=max(1, n_adult)
            )
        self.patient = patient

        past_s = ctx.mix("appointments", "past_status", a, n, _weights(ta.past_status, STATUS_PAST))
        fut_s = ctx.mix(
            "appointments", "future_status", a, n, _weights(ta.future_status, STATUS_FUTURE)
        )
        self.status = np.where(
            self.future, STATUS.codes(STATUS_FUTURE)[fut_s], STATUS.codes(STATUS_PAST)[past_s]
        )
        self.type = ctx.mix("appointments", "type", a, n, _weights(ta.types, TYPE.names)).astype(
            np.int8
        )
        self.fee = df.fee_halalas[self.doctor]
        # Booked before the visit and never after as_of.
        booked = self.start - ctx.stream("appointments", "booked").integers(a, 2 * HOUR, 21 * DAY)
        self.created = np.minimum(
            booked, ctx.as_of - ctx.stream("appointments", "lag").integers(a, 10 * MINUTE, 3 * DAY)
        )
        self.insurer = insurer_of(ctx, self.patient)
        self.tries_insurance = (self.insurer >= 0) & ctx.share(
            "appointments", "use_insurance", a, n, ta.insurance_share
        )
        self.completed = self.status == STATUS.completed
        self.has_claim = self.tries_insurance & (self.completed | (self.status == STATUS.confirmed))
        self.prepaid = (
            ctx.share("appointments", "prepaid", a, n, ta.prepaid_share)
            & ~self.tries_insurance
            & STATUS.isin(self.status, "confirmed", "cancelled")
        )
        self.self_pay = ~self.tries_insurance & self.completed


_FLAG_CACHE_BLOCKS = 32  # 32 blocks x 65,536 appointments x 4 flags: 8 MiB at most


class Ranks:
    """Each appointment's rank among those of its kind, over all appointments.

    Mixes within a kind (claim outcomes among claims, prescriptions among completed visits)
    are drawn over these ranks, so their shares hold exactly even for a handful of rows. The
    claim rank is also the claim's row number.
    """

    FLAGS = ("completed", "has_claim", "self_pay", "prepaid")

    def __init__(self, ctx: Context) -> None:
        n = ctx.counts.appointments
        # The four prefixes ask for the same parent blocks: one AppointmentCore answers all
        # four, and the flags (four booleans per appointment) are kept for a few blocks.
        self._flags: BlockCache[tuple[int, int], dict[str, npt.NDArray[np.bool_]]] = BlockCache(
            _FLAG_CACHE_BLOCKS
        )
        # One pass over the appointments counts all four kinds per block.
        totals: dict[str, list[int]] = {name: [] for name in self.FLAGS}
        for lo, hi in blocks_of(n):
            core = AppointmentCore(ctx, np.arange(lo, hi, dtype=np.int64))
            self.offer(core)
            for name in self.FLAGS:
                totals[name].append(int(getattr(core, name).sum()))

        def flags_of(a: I64) -> dict[str, npt.NDArray[np.bool_]]:
            def compute() -> dict[str, npt.NDArray[np.bool_]]:
                return self._flags_of(AppointmentCore(ctx, a))

            key = self._key(a)
            return compute() if key is None else self._flags.get(key, compute)

        def flag(name: str) -> BlockPrefix:
            return BlockPrefix(n, lambda a: flags_of(a)[name], totals=totals[name])

        self.completed = flag("completed")
        self.claim = flag("has_claim")
        self.self_pay = flag("self_pay")
        self.prepaid = flag("prepaid")

    @staticmethod
    def _key(a: I64) -> tuple[int, int] | None:
        """The cache key of a run of consecutive appointments (blocks are such runs)."""
        if not len(a) or int(a[-1]) - int(a[0]) + 1 != len(a):
            return None
        return int(a[0]), len(a)

    def _flags_of(self, core: AppointmentCore) -> dict[str, npt.NDArray[np.bool_]]:
        return {name: getattr(core, name) for name in self.FLAGS}

    def offer(self, core: AppointmentCore) -> None:
        """Keep the flags of appointments whose core is already made (AppointmentFacts of a
        block makes it, then asks for the ranks of that very block)."""
        key = self._key(core.a)
        if key is not None:
            self._flags.put(key, self._flags_of(core))


def ranks(ctx: Context) -> Ranks:
    result: Ranks = ctx.cached("appointment_ranks", lambda: Ranks(ctx))
    return result


class AppointmentFacts(AppointmentCore):
    """Everything derivable about appointments ``a``: money, claim and clinical outcome."""

    def __init__(self, ctx: Context, a: I64) -> None:
        super().__init__(ctx, a)
        a = self.a
        t = ctx.profile.tables
        ta = t.appointments
        r = ranks(ctx)
        r.offer(self)
        completed = self.completed

        claim_i = ctx.mix(
            "insurance_claims",
            "status",
            r.claim.rank(a),
            r.claim.total,
            _weights(t.insurance_claims.status, CLAIM_DONE),
        )
        self.claim_status = np.where(
            self.has_claim & completed,
            CLAIM_STATUS.codes(CLAIM_DONE)[claim_i],
            np.where(self.has_claim, CLAIM_STATUS.draft, -1),
        ).astype(np.int8)
        self_pay = PAYMENT_METHOD.codes(SELF_PAY)[
            ctx.mix(
                "appointments",
                "method",
                r.self_pay.rank(a),
                r.self_pay.total,
                _weights(ta.self_pay_methods, SELF_PAY),
            )
        ]
        online = np.where(
            ctx.share("appointments", "online", r.prepaid.rank(a), r.prepaid.total, 0.5),
            PAYMENT_METHOD.card,
            PAYMENT_METHOD.bank_transfer,
        )
        rejected = self.claim_status == CLAIM_STATUS.rejected
        claim_paid = self.claim_status == CLAIM_STATUS.paid
        full = ctx.stream("insurance_claims", "full").uniform(a) < 0.6
        approved_share = np.where(full, 1.0, t.insurance_claims.coverage)
        self.approved_amount = np.where(
            CLAIM_STATUS.isin(self.claim_status, "approved", "paid"),
            (self.fee * approved_share).astype(np.int64) // 100 * 100,
            -1,
        )
        # A rejected claim turns into self-pay at the desk.
        self.payment_method = np.where(
            self.tries_insurance & ~rejected,
            PAYMENT_METHOD.insurance,
            np.where(self.prepaid, online, self_pay),
        ).astype(np.int8)
        status = self.status
        cancelled = status == STATUS.cancelled
        unpaid_yet = (
            ((status == STATUS.pending) & ~self.prepaid)
            | (status == STATUS.no_show)
            | (cancelled & ~self.prepaid)
        )
        self.payment_method[unpaid_yet] = -1
        self.payment_status = np.full(len(a), PAYMENT_STATUS.unpaid, dtype=np.int8)
        self.payment_status[self.self_pay | (completed & rejected)] = PAYMENT_STATUS.paid
        self.payment_status[self.prepaid & ~cancelled] = PAYMENT_STATUS.paid
        self.payment_status[claim_paid] = np.where(
            self.approved_amount[claim_paid] < self.fee[claim_paid],
            PAYMENT_STATUS.partial,
            PAYMENT_STATUS.paid,
        )
        self.payment_status[self.prepaid & cancelled] = PAYMENT_STATUS.refunded
        self.has_payment = self.payment_status != PAYMENT_STATUS.unpaid
        self.payment_amount = np.where(claim_paid, self.approved_amount, self.fee)

        tr = t.medical_records
        self.has_rx = completed & ctx.share(
            "medical_records", "rx", r.completed.rank(a), r.completed.total, tr.prescription_share
        )
        self.has_lab = completed & ctx.share(
            "medical_records", "lab", r.completed.rank(a), r.completed.total, tr.lab_share
        )
        self.follow_up = completed & ctx.share(
            "appointments", "follow_up", r.completed.rank(a), r.completed.total, ta.follow_up_share
        )

    @cached_property
    def diagnosis(self) -> I64:
        """Index into the diagnoses vocabulary: one the doctor's speciality sees, fitting the
        patient's age and sex."""
        from moeen_synth.generators.clinical import diagnosis_for

        return diagnosis_for(self.ctx, self)

    @cached_property
    def medication(self) -> I64:
        from moeen_synth.generators.clinical import medication_for

        return medication_for(self.ctx, self)


def appointment_count(ctx: Context) -> int:
    check_capacity(ctx)
    return ctx.counts.appointments


def appointment_anchor(ctx: Context, row: int) -> int:
    return row


_FACTS_CACHE_BLOCKS = 4  # 7 MiB each at most; the interleaved walk needs about 2


def facts_for(ctx: Context, a: I64) -> AppointmentFacts:
    """AppointmentFacts for ``a``, memoised when ``a`` is a whole parent block: the unit in
    which BlockPrefix asks, so the several child layouts over appointments share one."""
    n = ctx.counts.appointments
    whole = (
        len(a) > 0
        and int(a[0]) % PARENT_BLOCK == 0
        and (len(a) == min(PARENT_BLOCK, n - int(a[0])))
        and int(a[-1]) - int(a[0]) + 1 == len(a)
    )
    if not whole:
        return AppointmentFacts(ctx, a)
    cache: BlockCache[int, AppointmentFacts] = ctx.cached(
        "facts_blocks", lambda: BlockCache(_FACTS_CACHE_BLOCKS)
    )
    return cache.get(int(a[0]), lambda: AppointmentFacts(ctx, a))


class GatheredFacts(AppointmentFacts):
    """The facts of some appointments, gathered from the facts of their parent blocks one
    fact at a time, when first read: a child table reads a handful of the thirty, and the
    lazily made ones (diagnosis, medication) are made for the block, once."""

    def __init__(
        self, ctx: Context, rows: int, parts: list[tuple[I64, AppointmentFacts, I64]]
    ) -> None:
        """``parts``: (positions in these facts, a block's facts, positions in that block)."""
        self.ctx = ctx
        self._rows = rows
        self._parts = parts

    def _gather(self, name: str) -> Any:
        values = [getattr(block, name) for _, block, _ in self._parts]
        first_block = self._parts[0][1]
        if not (isinstance(values[0], np.ndarray) and values[0].shape[:1] == first_block.a.shape):
            return values[0]  # not a per-appointment fact
        if len(self._parts) == 1:
            return values[0][self._parts[0][2]]
        column = np.empty((self._rows, *values[0].shape[1:]), dtype=values[0].dtype)
        for (positions, _, at), value in zip(self._parts, values, strict=True):
            column[positions] = value[at]
        return column

    def __getattr__(self, name: str) -> Any:
        # Called only for what is not yet in __dict__: gather it, then keep it there.
        if name.startswith("_"):
            raise AttributeError(name)
        value = self._gather(name)
        self.__dict__[name] = value
        return value

    @cached_property
    def diagnosis(self) -> I64:
        result: I64 = self._gather("diagnosis")
        return result

    @cached_property
    def medication(self) -> I64:
        result: I64 = self._gather("medication")
        return result


def appointment_facts(ctx: Context, a: npt.ArrayLike) -> AppointmentFacts:
    """AppointmentFacts for any appointments ``a``, gathered from the memoised facts of
    their parent blocks. Every fact is a function of its appointment's index alone, so a
    gathered row equals a computed one; child tables walk their parents in order, so the
    blocks they need are the ones just cached."""
    a = np.asarray(a, dtype=np.int64)
    n = ctx.counts.appointments
    if len(a) == 0:
        return AppointmentFacts(ctx, a)
    block_of = a // PARENT_BLOCK
    parts = []
    for b in range(int(block_of.min()), int(block_of.max()) + 1):
        sel = np.flatnonzero(block_of == b)
        if len(sel):
            lo = b * PARENT_BLOCK
            block = facts_for(ctx, np.arange(lo, min(n, lo + PARENT_BLOCK), dtype=np.int64))
            parts.append((sel, block, a[sel] - lo))
    return GatheredFacts(ctx, len(a), parts)


Count = Callable[[AppointmentFacts], npt.ArrayLike]  # children per appointment


def _child_counts() -> dict[str, Count]:
    """Payments (one per paid, partly paid or refunded visit) and medical records (a
    diagnosis, then a prescription and a lab result, per completed visit)."""
    from moeen_synth.generators.clinical import record_counts

    return {"payments": lambda f: f.has_payment, "medical_records": record_counts}


def appointment_census(ctx: Context) -> dict[str, list[int]]:
    """Per parent block, the totals the child layouts over appointments need, made in one
    pass over the appointments' facts: payments, medical records, and the appointments
    eligible for each kind of notice."""
    from moeen_synth.generators.messaging import NOTICES

    def build() -> dict[str, list[int]]:
        counts: dict[str, Count] = {
            **_child_counts(),
            **{f"notice.{kind}": eligible for kind, (_, eligible) in NOTICES.items()},
        }
        totals: dict[str, list[int]] = {name: [] for name in counts}
        for lo, hi in blocks_of(ctx.counts.appointments):
            f = facts_for(ctx, np.arange(lo, hi, dtype=np.int64))
            for name, count in counts.items():
                totals[name].append(int(np.asarray(count(f), dtype=np.int64).sum()))
        return totals

    result: dict[str, list[int]] = ctx.cached("appointment_census", build)
    return result


def appointment_children(ctx: Context) -> dict[str, BlockPrefix]:
    """The layouts of the children that follow from AppointmentFacts (``_child_counts``),
    their block totals from the census."""

    def build() -> dict[str, BlockPrefix]:
        n = ctx.counts.appointments
        census = appointment_census(ctx)

        def prefix(count: Count, name: str) -> BlockPrefix:
            return BlockPrefix(n, lambda a: count(facts_for(ctx, a)), totals=census[name])

        return {name: prefix(count, name) for name, count in _child_counts().items()}

    result: dict[str, BlockPrefix] = ctx.cached("appointment_children", build)
    return result


def appointments(ctx: Context, start: int, stop: int) -> pl.DataFrame:
    from moeen_synth.generators.clinical import appointment_texts

    a = np.arange(start, stop, dtype=np.int64)
    f = appointment_facts(ctx, a)  # from the blocks the tables along the appointments share
    diagnosis, prescription = appointment_texts(ctx, f)
    follow_date = np.where(
        f.follow_up, f.start + ctx.stream("appointments", "fu_days").integers(a, 7, 43) * DAY, -1
    )
    done = STATUS.isin(f.status, "completed", "no_show")
    updated = np.where(
        done,
        f.end + ctx.stream("appointments", "closed").integers(a, 60, HOUR),
        f.created + ctx.stream("appointments", "touched").integers(a, 0, HOUR),
    )
    updated = np.minimum(updated, ctx.as_of)
    updated = np.maximum(updated, f.created)
    return pl.DataFrame(
        {
            "id": ctx.ids("appointments", a),
            "patient_id": ctx.ids("patients", f.patient),
            "doctor_id": ctx.ids("doctors", f.doctor),
            "scheduled_at": ts(f.start),
            "duration_minutes": np.full(len(a), SLOT // MINUTE),
            "type": TYPE.text(f.type),
            "status": STATUS.text(f.status),
            "payment_status": PAYMENT_STATUS.text(f.payment_status),
            "payment_method": PAYMENT_METHOD.text(f.payment_method),
            "notes": pl.Series([None] * len(a), dtype=pl.String),
            "diagnosis": diagnosis,
            "prescription": prescription,
            "follow_up_required": f.follow_up,
            "follow_up_date": ts(follow_date),
            "created_at": ts(f.created),
            "updated_at": ts(updated),
        }
    )
