"""The load job: a profile's rows (generated, or read back from exported files) into
PostgreSQL, all or nothing.

Migrate if needed; then, in one transaction: refuse, empty or make room beside existing rows;
in bulk mode drop foreign keys and secondary indexes; COPY every block through the sink
driver; rebuild; validate; record the load; commit only if everything held.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import psycopg

from moeen_synth import auth_users, catalogue, plan
from moeen_synth.db import auth as db_auth
from moeen_synth.db import bulk as bulk_load
from moeen_synth.db import loads, stage
from moeen_synth.db import migrate as migrations
from moeen_synth.db.validate import Report, validate
from moeen_synth.errors import LoadError, TargetNotEmptyError, UsageError
from moeen_synth.generators import TableSpec
from moeen_synth.models.context import Context
from moeen_synth.profile import Profile
from moeen_synth.sinks.driver import Prepared, Progress, SinkClock, drive, preparer
from moeen_synth.sinks.postgres import PostgresSink, Types, target_types
from moeen_synth.sinks.postgres_streams import Stream, StreamsSink

Mode = Literal["refuse", "truncate", "append"]
Prepare = Callable[[str, Any], Prepared]  # the sinks' encoding of a block
Connect = Callable[[], psycopg.Connection[Any]]  # a further connection to the same target
log = logging.getLogger(__name__)
BULK_THRESHOLD = 100_000  # rows; below this, dropping and rebuilding indexes costs more


class Source(Protocol):
    """Where a load's rows come from: each table's row count, then its blocks in order,
    passed through ``prepare`` (the sink's encoding) where they are made."""

    def plan(self, ctx: Context) -> list[tuple[TableSpec, int]]: ...

    def blocks(
        self, ctx: Context, work: list[tuple[TableSpec, int]], prepare: Prepare
    ) -> Iterator[tuple[str, Prepared]]: ...


@dataclass
class Generated:
    """The default source: the profile's rows, generated and encoded ahead on threads."""

    workers: int = 2
    block_rows: int = plan.BLOCK_ROWS

    def plan(self, ctx: Context) -> list[tuple[TableSpec, int]]:
        return plan.plan(ctx)

    def blocks(
        self, ctx: Context, work: list[tuple[TableSpec, int]], prepare: Prepare
    ) -> Iterator[tuple[str, Prepared]]:
        slices = [(spec, range(total)) for spec, total in work]
        for spec, _, block in plan.generate_ahead(
            ctx,
            slices,
            lambda spec, frame: prepare(spec.name, frame),
            block_rows=self.block_rows,
            workers=self.workers,
            interleave=PostgresSink.interleaves,
        ):
            yield spec.name, block


@dataclass
class TableResult:
    table: str
    rows: int
    seconds: float


@dataclass
class LoadResult:
    tables: list[TableResult] = field(default_factory=list)
    migrated: list[str] = field(default_factory=list)
    schema_state: str = ""
    report: Report | None = None
    seconds: float = 0.0
    rebuild_seconds: float = 0.0
    check_seconds: float = 0.0
    streams: int = 1
    staged: list[str] = field(default_factory=list)  # tables loaded by the further streams
    auth: db_auth.AuthResult = field(default_factory=db_auth.AuthResult)

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)


def load(
    conn: psycopg.Connection[Any],
    profile: Profile,
    *,
    mode: Mode = "refuse",
    no_migrate: bool = False,
    progress: Progress | None = None,
    bulk: bool | None = None,
    workers: int = 2,
    block_rows: int = plan.BLOCK_ROWS,
    source: Source | None = None,
    accounts: auth_users.Accounts | None = None,
    with_auth: bool = False,
    streams: int = 1,
    connect: Connect | None = None,
) -> LoadResult:
    """Migrate if needed, then load every table in one transaction, validate inside it and
    commit only if everything held.

    ``source`` replaces generation with other blocks of the same profile's rows (files
    written by the export job); by default the rows are generated here. ``bulk`` (default:
    from 100,000 rows on) drops the foreign keys and secondary indexes for the COPY and
    rebuilds them before validating, still inside the transaction.

    ``accounts`` gives every loaded user a sign-in account where the target has an auth
    schema (Supabase, or the stand-in that ``with_auth`` makes on a plain PostgreSQL).

    ``streams`` > 1 COPYs the largest tables through further connections made by
    ``connect`` into a staging schema, where their keys and indexes are built in parallel,
    and swaps them in inside the load's transaction (``db.stage``); always in bulk mode.
    """
    if source is not None and mode == "append":
        raise UsageError("--append applies to generated loads; exported files have fixed ids")
    if streams > 1 and mode == "append":
        raise UsageError(
            "--streams above 1 fills empty tables; with --append the load takes one stream"
        )
    if streams > 1 and connect is None:
        raise UsageError("a load through several streams needs a way to open connections")
    started = time.perf_counter()
    result = LoadResult(streams=streams)
    result.schema_state, result.migrated = loads.prepare_schema(conn, no_migrate=no_migrate)
    if stage.remove_abandoned(conn):
        log.info("removed the staging schema a load killed mid-way left")
    feed = source or Generated(workers=workers, block_rows=block_rows)
    staging = _stage(conn, profile, feed, streams) if streams > 1 else None
    try:
        conn.autocommit = False
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (migrations.LOCK_ID,))
            ctx = _make_room(conn, profile, mode)
            _copy_rebuild_check(conn, ctx, feed, mode, bulk, result, progress, staging, connect)
            result.auth = db_auth.add_accounts(conn, accounts, with_auth=with_auth)
            if result.auth.accounts:
                result.auth.examples = auth_users.sign_in_examples(ctx)
            loads.record(conn, profile, ctx.namespace, {t.table: t.rows for t in result.tables})
    finally:
        conn.autocommit = True
        if staging is not None:
            with contextlib.suppress(psycopg.Error):  # else the next load removes it
                stage.discard(conn)
    result.seconds = time.perf_counter() - started
    return result


@dataclass
class Staging:
    """Which tables each further stream loads, and what it builds on them."""

    streams: list[list[str]]
    builds: dict[str, stage.Build]

    @property
    def tables(self) -> list[str]:
        return [t for tables in self.streams for t in tables]


def _stage(conn: psycopg.Connection[Any], profile: Profile, feed: Source, streams: int) -> Staging:
    """Share the tables out among ``streams`` (the load's own transaction is the first) by
    their planned size, and make the staged look-alikes of those the others take."""
    work = feed.plan(plan.context(profile, 0))
    weights = {
        spec.name: total * max(1, len(catalogue.sql_types().get(spec.name, {})))
        for spec, total in work
        if total
    }
    stageable = loads.freezable(list(weights))
    reasons = stage.unfit(conn, stageable)
    if reasons:
        raise UsageError(
            "--streams above 1 cannot swap these tables in, so nothing was loaded: "
            + "; ".join(reasons[:5])
            + (" ..." if len(reasons) > 5 else "")
            + ". Load with --streams 1"
        )
    loads_of = [sum(w for t, w in weights.items() if t not in stageable)] + [0] * (streams - 1)
    shares: list[list[str]] = [[] for _ in range(streams)]
    for table in sorted(stageable, key=lambda t: (-weights[t], t)):
        lightest = min(range(streams), key=lambda i: (loads_of[i], i))
        shares[lightest].append(table)
        loads_of[lightest] += weights[table]
    further = [tables for tables in shares[1:] if tables]
    staged = [t for tables in further for t in tables]
    builds = {b.table: b for b in stage.create(conn, staged)} if staged else {}
    return Staging(further, builds)


def _make_room(conn: psycopg.Connection[Any], profile: Profile, mode: Mode) -> Context:
    """Refuse a target holding generated rows, empty it, or pick a namespace beside them;
    return the run's context."""
    loads.ensure_ledger(conn)
    busy = loads.existing_rows(conn)
    if busy and mode == "refuse":
        raise TargetNotEmptyError(
            f"the target already holds rows in {', '.join(busy[:5])}"
            f"{' ...' if len(busy) > 5 else ''}; nothing was loaded. Use --truncate to "
            "replace them or --append to add a further data set beside them"
        )
    namespace = loads.next_namespace(conn, busy) if mode == "append" else 0
    ctx = plan.context(profile, namespace)
    if mode == "truncate":
        loads.truncate(conn, ctx.vocab)
    return ctx


def _copy_rebuild_check(
    conn: psycopg.Connection[Any],
    ctx: Context,
    feed: Source,
    mode: Mode,
    bulk: bool | None,
    result: LoadResult,
    progress: Progress | None,
    staging: Staging | None = None,
    connect: Connect | None = None,
) -> None:
    types: Types = target_types(conn)
    work = feed.plan(ctx)
    total_rows = sum(n for _, n in work)
    log.info(
        "profile %s, seed %s: %s rows in %s tables",
        ctx.profile.name,
        ctx.seed,
        f"{total_rows:,}",
        sum(1 for _, n in work if n),
    )
    if progress:
        tables = sum(1 for _, n in work if n)
        progress(f"plan: {total_rows:,} rows in {tables} tables", 0, 0)
    filled = [spec.name for spec, n in work if n]
    staged = staging.tables if staging else []
    use_bulk = bool(staged) or (total_rows >= BULK_THRESHOLD if bulk is None else bulk)
    emptied = loads.freezable(filled) if use_bulk and mode != "append" else []
    deferred = bulk_load.defer(conn, filled, keys=emptied) if use_bulk else None
    frozen = loads.empty_for_freeze(conn, [t for t in emptied if t not in staged])
    own = PostgresSink(conn, catalogue.MERGE_KEYS, frozenset(frozen), types)
    sink: PostgresSink | StreamsSink = own
    opened: list[psycopg.Connection[Any]] = []
    try:
        if staging is not None and connect is not None:
            parallel = []
            builds = {t: b.statements for t, b in staging.builds.items()}
            for share in staging.streams:
                opened.append(connect())
                parallel.append(Stream(opened[-1], stage.SCHEMA, share, builds, types))
                parallel[-1].start()
            sink = StreamsSink(own, parallel)
            log.info(
                "%s streams: %s",
                len(parallel) + 1,
                "; ".join(", ".join(share) for share in staging.streams),
            )
        clock = SinkClock([sink.format])
        totals = {spec.name: total for spec, total in work}
        stream = feed.blocks(ctx, work, preparer({sink.format: sink}, clock))
        driven = drive(stream, {sink.format: sink}, totals, clock, progress=progress)
    except BaseException:
        if isinstance(sink, StreamsSink):
            sink.abandon()
        raise
    finally:
        for c in opened:
            c.close()
    result.tables = [
        TableResult(name, driven.rows.get(name, 0), driven.seconds.get(name, 0.0))
        for name in totals
    ]
    for table in result.tables:
        log.info("copied %s: %s rows in %.2f s", table.table, f"{table.rows:,}", table.seconds)
    if staged and deferred is not None:
        t0 = time.perf_counter()
        if progress:
            progress(f"swap: {len(staged)} staged tables in", 0, 0)
        try:
            stage.swap(conn, staged)
        except psycopg.Error as exc:
            reason = str(exc).strip().splitlines()[0]
            raise LoadError(f"swapping the staged tables in failed: {reason}") from exc
        log.info("swapped in %s staged tables in %.2f s", len(staged), time.perf_counter() - t0)
        result.staged = staged
        deferred = deferred.without(staged)  # their keys, indexes and statistics are made
    if deferred is not None:
        result.rebuild_seconds = _rebuild(conn, deferred, progress)
        log.info("rebuilt indexes and foreign keys in %.2f s", result.rebuild_seconds)
    t0 = time.perf_counter()
    report = validate(
        conn,
        as_of=ctx.profile.as_of,
        schema=result.schema_state != "foreign",
        step=(lambda name, i, n: progress(f"check {i + 1}/{n}: {name}", 0, 0))
        if progress
        else None,
    )
    result.report = report
    result.check_seconds = time.perf_counter() - t0
    log.info(
        "%s checks in %.2f s, %s failed",
        len(report.check_results),
        result.check_seconds,
        len(report.failures),
    )
    for failure in report.failures:
        log.error("check failed: %s", failure)
    if not report.ok:
        raise LoadError(
            "the loaded data failed validation; nothing was kept:\n  "
            + "\n  ".join(report.failures)
        )


def _rebuild(
    conn: psycopg.Connection[Any], deferred: bulk_load.Deferred, progress: Progress | None
) -> float:
    """Put back the indexes and foreign keys dropped for the COPY; seconds taken."""
    t0 = time.perf_counter()
    try:
        bulk_load.restore(
            conn,
            deferred,
            step=(lambda what: progress(f"rebuild: {what}", 0, 0)) if progress else None,
        )
    except psycopg.Error as exc:
        raise LoadError(
            f"rebuilding indexes and foreign keys failed: {str(exc).strip().splitlines()[0]}"
        ) from exc
    return time.perf_counter() - t0
