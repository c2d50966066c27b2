"""The visit model: what follows from an appointment's index, which six tables hang from.

``AppointmentFacts`` of appointments (their indices in ``.a``): doctor, slot, time and
patient (``slots``), status, type, fee, insurance, payment, claim and clinical outcome.
``Ranks`` ranks each appointment among those of its kind, so mixes within a kind hold exact
shares. The census counts, per block of appointments, the children that the child tables
declare (``Context.census``), and ``child_layout`` lays those children out appointment after
appointment.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from moeen_synth import domains
from moeen_synth.errors import UsageError
from moeen_synth.models import clinical
from moeen_synth.models.cached import cached_property
from moeen_synth.models.codes import (
    CLAIM_STATUS,
    PAYMENT_METHOD,
    PAYMENT_STATUS,
    STATUS,
    TYPE,
    weights,
)
from moeen_synth.models.context import DAY, HOUR, MINUTE, Context
from moeen_synth.models.doctors import doctor_facts
from moeen_synth.models.layout import PARENT_BLOCK, BlockCache, BlockPrefix, blocks_of
from moeen_synth.models.people import insurer_of, not_before
from moeen_synth.models.slots import SLOT, slot_patients, slot_times

I64 = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]


class AppointmentCore:
    """What follows from an appointment's index alone: doctor, slot, time, patient, status."""

    def __init__(self, ctx: Context, appointment: I64) -> None:
        self.ctx = ctx
        self.a = appointment = np.asarray(appointment, dtype=np.int64)
        doctors = ctx.counts.doctors
        self.doctor = appointment % doctors
        slot = appointment // doctors
        self.future, self.start = slot_times(ctx, self.doctor, slot)
        self.end = self.start + SLOT
        self.patient = slot_patients(ctx, self.doctor, slot, self.start)
        self._outcome()

    def _outcome(self) -> None:
        """Status and type in the profile's exact mixes, fee, booking time, and whether the
        visit goes to insurance, is paid ahead online, or is paid at the desk."""
        ctx, appointment = self.ctx, self.a
        visits = ctx.profile.tables.appointments
        n_appointments = ctx.counts.appointments

        def drawn(purpose: str, mix: dict[str, float], names: tuple[str, ...]) -> I64:
            return ctx.mix(
                "appointments", purpose, appointment, n_appointments, weights(mix, names)
            )

        past = drawn("past_status", visits.past_status, domains.PAST_STATUSES)
        future = drawn("future_status", visits.future_status, domains.FUTURE_STATUSES)
        self.status = np.where(
            self.future,
            STATUS.codes(domains.FUTURE_STATUSES)[future],
            STATUS.codes(domains.PAST_STATUSES)[past],
        )
        self.type = ctx.mix(
            "appointments", "type", appointment, n_appointments, weights(visits.types, TYPE.names)
        ).astype(np.int8)
        self.fee = doctor_facts(ctx).fee_halalas[self.doctor]
        # Booked before the visit and never after as_of.
        booked = self.start - ctx.stream("appointments", "booked").integers(
            appointment, 2 * HOUR, 21 * DAY
        )
        self.created = np.minimum(
            booked,
            ctx.as_of
            - ctx.stream("appointments", "lag").integers(appointment, 10 * MINUTE, 3 * DAY),
        )
        # ... and not before the patient's account (a child born in the window has a new
        # one; models.people.ChildPool keeps its visits a week after the birth).
        self.created = np.maximum(self.created, not_before(ctx, self.patient) + MINUTE)
        self.insurer = insurer_of(ctx, self.patient)
        self.tries_insurance = (self.insurer >= 0) & ctx.share(
            "appointments", "use_insurance", appointment, n_appointments, visits.insurance_share
        )
        self.completed = self.status == STATUS.completed
        self.has_claim = self.tries_insurance & (self.completed | (self.status == STATUS.confirmed))
        self.prepaid = (
            ctx.share("appointments", "prepaid", appointment, n_appointments, visits.prepaid_share)
            & ~self.tries_insurance
            & STATUS.isin(self.status, "confirmed", "cancelled")
        )
        self.self_pay = ~self.tries_insurance & self.completed


T = TypeVar("T")
PREPASS_THREADS = 2


def prepass(work: Callable[[tuple[int, int]], T], blocks: list[tuple[int, int]]) -> list[T]:
    """``work`` of every block of appointments, in block order, on two threads. Every run
    makes a few passes over all appointments (ranks, census, each patient's own doctor)
    before its first child row; numpy runs without the GIL for about a third of a block's
    work, so two threads take 0.5 s where one takes 0.8 (the census at load-1m)."""
    with ThreadPoolExecutor(PREPASS_THREADS, thread_name_prefix="prepass") as pool:
        return list(pool.map(work, blocks))


_FLAG_CACHE_BLOCKS = 32  # 32 blocks x 65,536 appointments x 4 flags: 8 MiB at most


class Ranks:
    """Each appointment's rank among those of its kind, over all appointments.

    Mixes within a kind (claim outcomes among claims, prescriptions among completed visits)
    are drawn over these ranks, so their shares hold exactly even for a handful of rows. The
    claim rank is also the claim's row number.
    """

    FLAGS = ("completed", "has_claim", "self_pay", "prepaid")

    def __init__(self, ctx: Context) -> None:
        n_appointments = ctx.counts.appointments
        # The four prefixes ask for the same parent blocks: one AppointmentCore answers all
        # four, and the flags (four booleans per appointment) are kept for a few blocks.
        self._flags: BlockCache[tuple[int, int], dict[str, Mask]] = BlockCache(_FLAG_CACHE_BLOCKS)

        # One pass over the appointments counts all four kinds per block.
        def count(bounds: tuple[int, int]) -> list[int]:
            core = AppointmentCore(ctx, np.arange(*bounds, dtype=np.int64))
            self.offer(core)
            return [int(getattr(core, name).sum()) for name in self.FLAGS]

        per_block = prepass(count, blocks_of(n_appointments))
        totals = {name: [b[k] for b in per_block] for k, name in enumerate(self.FLAGS)}

        def flags_of(appointment: I64) -> dict[str, Mask]:
            def compute() -> dict[str, Mask]:
                return self._flags_of(AppointmentCore(ctx, appointment))

            key = self._key(appointment)
            return compute() if key is None else self._flags.get(key, compute)

        def flag(name: str) -> BlockPrefix:
            return BlockPrefix(
                n_appointments, lambda appointment: flags_of(appointment)[name], totals=totals[name]
            )

        self.completed = flag("completed")
        self.claim = flag("has_claim")
        self.self_pay = flag("self_pay")
        self.prepaid = flag("prepaid")

    @staticmethod
    def _key(appointment: I64) -> tuple[int, int] | None:
        """The cache key of a run of consecutive appointments (blocks are such runs)."""
        count = len(appointment)
        if not count or int(appointment[-1]) - int(appointment[0]) + 1 != count:
            return None
        return int(appointment[0]), count

    def _flags_of(self, core: AppointmentCore) -> dict[str, Mask]:
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
    """Everything derivable about appointments ``appointment`` (kept as ``a``): money, claim
    and clinical outcome."""

    def __init__(self, ctx: Context, appointment: I64) -> None:
        super().__init__(ctx, appointment)
        ranked = ranks(ctx)
        ranked.offer(self)
        self._claim(ranked)
        self._payment(ranked)
        self._clinical(ranked)

    def _claim(self, ranked: Ranks) -> None:
        """A claim's outcome (drafts for visits to come) and the amount approved."""
        ctx, appointment = self.ctx, self.a
        claims = ctx.profile.tables.insurance_claims
        outcome = ctx.mix(
            "insurance_claims",
            "status",
            ranked.claim.rank(appointment),
            ranked.claim.total,
            weights(claims.status, domains.CLAIM_OUTCOMES),
        )
        self.claim_status = np.where(
            self.has_claim & self.completed,
            CLAIM_STATUS.codes(domains.CLAIM_OUTCOMES)[outcome],
            np.where(self.has_claim, CLAIM_STATUS.draft, -1),
        ).astype(np.int8)
        full = ctx.stream("insurance_claims", "full").uniform(appointment) < 0.6
        approved_share = np.where(full, 1.0, claims.coverage)
        self.approved_amount = np.where(
            CLAIM_STATUS.isin(self.claim_status, "approved", "paid"),
            (self.fee * approved_share).astype(np.int64) // 100 * 100,
            -1,
        )

    def _payment(self, ranked: Ranks) -> None:
        """How the visit is paid, whether it is paid yet, and how much."""
        ctx, appointment = self.ctx, self.a
        self_pay = PAYMENT_METHOD.codes(domains.SELF_PAY_METHODS)[
            ctx.mix(
                "appointments",
                "method",
                ranked.self_pay.rank(appointment),
                ranked.self_pay.total,
                weights(ctx.profile.tables.appointments.self_pay_methods, domains.SELF_PAY_METHODS),
            )
        ]
        online = np.where(
            ctx.share(
                "appointments",
                "online",
                ranked.prepaid.rank(appointment),
                ranked.prepaid.total,
                0.5,
            ),
            PAYMENT_METHOD.card,
            PAYMENT_METHOD.bank_transfer,
        )
        rejected = self.claim_status == CLAIM_STATUS.rejected
        claim_paid = self.claim_status == CLAIM_STATUS.paid
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
        self.payment_status = np.full(len(appointment), PAYMENT_STATUS.unpaid, dtype=np.int8)
        self.payment_status[self.self_pay | (self.completed & rejected)] = PAYMENT_STATUS.paid
        self.payment_status[self.prepaid & ~cancelled] = PAYMENT_STATUS.paid
        self.payment_status[claim_paid] = np.where(
            self.approved_amount[claim_paid] < self.fee[claim_paid],
            PAYMENT_STATUS.partial,
            PAYMENT_STATUS.paid,
        )
        self.payment_status[self.prepaid & cancelled] = PAYMENT_STATUS.refunded
        self.has_payment = self.payment_status != PAYMENT_STATUS.unpaid
        self.payment_amount = np.where(claim_paid, self.approved_amount, self.fee)

    def _clinical(self, ranked: Ranks) -> None:
        """Which completed visits end with a prescription, a lab test, a follow-up."""
        ctx, appointment = self.ctx, self.a
        records = ctx.profile.tables.medical_records
        rank, total = ranked.completed.rank(appointment), ranked.completed.total
        self.has_rx = self.completed & ctx.share(
            "medical_records", "rx", rank, total, records.prescription_share
        )
        self.has_lab = self.completed & ctx.share(
            "medical_records", "lab", rank, total, records.lab_share
        )
        self.follow_up = self.completed & ctx.share(
            "appointments",
            "follow_up",
            rank,
            total,
            ctx.profile.tables.appointments.follow_up_share,
        )

    @cached_property
    def diagnosis(self) -> I64:
        """Index into the diagnoses vocabulary: one the doctor's speciality sees, fitting the
        patient's age and sex."""
        return clinical.diagnosis_for(self.ctx, self.a, self.patient, self.doctor, self.start)

    @cached_property
    def medication(self) -> I64:
        """Index into the medications vocabulary for the diagnosis (-1: none)."""
        return clinical.medication_for(self.ctx, self.a, self.diagnosis)

    @cached_property
    def prescribed(self) -> Mask:
        """A prescription was written: the visit called for one and the diagnosis has one."""
        result: Mask = self.has_rx & (self.medication >= 0)
        return result


_FACTS_CACHE_BLOCKS = 4  # 7 MiB each at most; the interleaved walk needs about 2


def facts_for(ctx: Context, appointment: I64) -> AppointmentFacts:
    """AppointmentFacts for ``appointment``, memoised when it is a whole parent block: the
    unit in which BlockPrefix asks, so the several child layouts over appointments share
    one."""
    n_appointments = ctx.counts.appointments
    whole = (
        len(appointment) > 0
        and int(appointment[0]) % PARENT_BLOCK == 0
        and (len(appointment) == min(PARENT_BLOCK, n_appointments - int(appointment[0])))
        and int(appointment[-1]) - int(appointment[0]) + 1 == len(appointment)
    )
    if not whole:
        return AppointmentFacts(ctx, appointment)
    cache: BlockCache[int, AppointmentFacts] = ctx.cached(
        "facts_blocks", lambda: BlockCache(_FACTS_CACHE_BLOCKS)
    )
    return cache.get(int(appointment[0]), lambda: AppointmentFacts(ctx, appointment))


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
        for (positions, _, block_positions), value in zip(self._parts, values, strict=True):
            column[positions] = value[block_positions]
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


def appointment_facts(ctx: Context, appointment: npt.ArrayLike) -> AppointmentFacts:
    """AppointmentFacts for any appointments ``appointment``, gathered from the memoised facts of
    their parent blocks. Every fact is a function of its appointment's index alone, so a
    gathered row equals a computed one; child tables walk their parents in order, so the
    blocks they need are the ones just cached."""
    appointment = np.asarray(appointment, dtype=np.int64)
    n_appointments = ctx.counts.appointments
    if len(appointment) == 0:
        return AppointmentFacts(ctx, appointment)
    block_of = appointment // PARENT_BLOCK
    parts = []
    for number in range(int(block_of.min()), int(block_of.max()) + 1):
        sel = np.flatnonzero(block_of == number)
        if len(sel):
            first = number * PARENT_BLOCK
            block = facts_for(
                ctx, np.arange(first, min(n_appointments, first + PARENT_BLOCK), dtype=np.int64)
            )
            parts.append((sel, block, appointment[sel] - first))
    return GatheredFacts(ctx, len(appointment), parts)


Count = Callable[[AppointmentFacts], npt.ArrayLike]  # children per appointment


def census(ctx: Context) -> dict[str, list[int]]:
    """Per parent block, the totals of every count in ``ctx.census`` (the children the
    child tables declare: payments, medical records, each kind of notice), made in one pass
    over the appointments' facts."""

    def build() -> dict[str, list[int]]:
        counts: dict[str, Count] = dict(ctx.census)

        def block(bounds: tuple[int, int]) -> list[int]:
            facts = facts_for(ctx, np.arange(*bounds, dtype=np.int64))
            return [int(np.asarray(n(facts), dtype=np.int64).sum()) for n in counts.values()]

        per_block = prepass(block, blocks_of(ctx.counts.appointments))
        return {name: [b[k] for b in per_block] for k, name in enumerate(counts)}

    result: dict[str, list[int]] = ctx.cached("appointment_census", build)
    return result


def child_layout(ctx: Context, name: str) -> BlockPrefix:
    """The children counted by ``ctx.census[name]``, laid out appointment after appointment,
    their block totals from the census."""

    def build() -> BlockPrefix:
        if name not in ctx.census:
            raise UsageError(
                f"no census count named {name!r}: a child table declares it in its CENSUS "
                "and the registry must hold a table of that module"
            )
        count = ctx.census[name]
        return BlockPrefix(
            ctx.counts.appointments,
            lambda appointment: count(facts_for(ctx, appointment)),
            totals=census(ctx)[name],
        )

    result: BlockPrefix = ctx.cached(f"appointment_children.{name}", build)
    return result
