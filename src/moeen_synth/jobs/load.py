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
from psycopg import sql

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
    passed through ``prepare`` (the sink's encoding) where they are made. ``one_now``: the
    rows share the profile's as_of (fixtures with dates moved per patient do not)."""

    @property
    def one_now(self) -> bool: ...

    def plan(self, ctx: Context) -> list[tuple[TableSpec, int]]: ...

    def blocks(
        self, ctx: Context, work: list[tuple[TableSpec, int]], prepare: Prepare
    ) -> Iterator[tuple[str, Prepared]]: ...


@dataclass
class Generated:
    """The default source: the profile's rows, generated and encoded ahead on threads."""

    workers: int = 2
    block_rows: int = plan.BLOCK_ROWS
    one_now: bool = True

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
    streams_why: str = ""  # how a chosen number of streams was chosen
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
    streams: int | None = 1,
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
    ``None`` chooses: one stream for small loads, --append, or tables that cannot be
    staged, else ``stage.suggested_streams``.
    """
    if source is not None and mode == "append":
        raise UsageError("--append applies to generated loads; exported files have fixed ids")
    if streams is not None and streams > 1 and mode == "append":
        raise UsageError(
            "--streams above 1 fills empty tables; with --append the load takes one stream"
        )
    if streams is not None and streams > 1 and connect is None:
        raise UsageError("a load through several streams needs a way to open connections")
    started = time.perf_counter()
    result = LoadResult()
    result.schema_state, result.migrated = loads.prepare_schema(conn, no_migrate=no_migrate)
    try:
        if stage.remove_abandoned(conn):
            log.info("removed the staging schema a load killed mid-way left")
    except psycopg.Error as exc:  # not this load's to fail on
        log.warning("could not remove the staging schema a killed load left: %s", exc)
    feed = source or Generated(workers=workers, block_rows=block_rows)
    # The plan of an empty target (namespace 0), made once for the choice of streams and
    # for the load (it takes about 1.4 s at load-1m).
    planned = feed.plan(plan.context(profile, 0)) if mode != "append" else None
    staging = None
    if streams is None:
        result.streams, result.streams_why = _choose_streams(conn, planned, connect is not None)
    else:
        result.streams = streams
    if result.streams > 1 and planned is not None:
        staging, why = _stage(conn, planned, result.streams, explicit=streams is not None)
        if staging is None:
            result.streams, result.streams_why = 1, why
    try:
        conn.autocommit = False
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (migrations.LOCK_ID,))
            ctx = _make_room(conn, profile, mode)
            work = planned if planned is not None and ctx.namespace == 0 else feed.plan(ctx)
            _copy_rebuild_check(
                conn, ctx, feed, work, mode, bulk, result, progress, staging, connect
            )
            result.auth = db_auth.add_accounts(conn, accounts, with_auth=with_auth)
            if result.auth.accounts:
                result.auth.examples = auth_users.sign_in_examples(ctx)
            loads.record(
                conn,
                profile,
                ctx.namespace,
                {t.table: t.rows for t in result.tables},
                one_now=feed.one_now,
            )
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


def _choose_streams(
    conn: psycopg.Connection[Any], planned: list[tuple[TableSpec, int]] | None, can_connect: bool
) -> tuple[int, str]:
    """--streams auto: one stream unless the load is large, fills empty tables (a plan
    for them, not --append) and may open connections; then ``stage.suggested_streams``."""
    if planned is None or not can_connect:
        return 1, "1: --append" if planned is None else "1"
    rows = sum(n for _, n in planned)
    if rows < BULK_THRESHOLD:
        return 1, f"1 for {rows:,} rows"
    return stage.suggested_streams(conn)


def _stage(
    conn: psycopg.Connection[Any],
    work: list[tuple[TableSpec, int]],
    streams: int,
    *,
    explicit: bool = True,
) -> tuple[Staging | None, str]:
    """Share the tables out among ``streams`` (the load's own transaction is the first) by
    their planned size, and make the staged look-alikes of those the others take. Tables
    that cannot be staged stop an ``explicit`` request; a chosen number falls back to one
    stream (None, and why)."""
    weights = {
        spec.name: total * max(1, len(catalogue.sql_types().get(spec.name, {})))
        for spec, total in work
        if total
    }
    stageable = loads.freezable(list(weights))
    reasons = stage.unfit(conn, stageable)
    if reasons and not explicit:
        log.info("one stream: the tables cannot be staged: %s", "; ".join(reasons))
        return None, "1: the tables cannot be staged (see the log)"
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
    if not staged:
        return None, "1: no table large enough to stage"
    try:
        builds = {b.table: b for b in stage.create(conn, staged)}
    except LoadError as exc:
        if explicit:
            raise
        log.info("one stream: %s", exc)
        return None, "1: no staging schema here (see the log)"
    return Staging(further, builds), ""


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
    work: list[tuple[TableSpec, int]],
    mode: Mode,
    bulk: bool | None,
    result: LoadResult,
    progress: Progress | None,
    staging: Staging | None = None,
    connect: Connect | None = None,
) -> None:
    types: Types = target_types(conn)
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
            sink = StreamsSink(own, [])
            builds = {t: b.statements for t, b in staging.builds.items()}
            row = conn.execute("SELECT current_setting('search_path')").fetchone()
            # The stage first, then the load's own path: index and key definitions name
            # functions, types and operator classes as that path sees them.
            path = sql.SQL("{}, ").format(sql.Identifier(stage.SCHEMA)).as_string(conn) + (
                str(row[0]) if row else "public"
            )
            for share in staging.streams:
                opened.append(connect())
                sink.add(Stream(opened[-1], path, share, builds, types))
            log.info(
                "%s streams: %s",
                len(sink.streams) + 1,
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
        as_of=ctx.profile.as_of if feed.one_now else None,
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
