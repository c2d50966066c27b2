"""The main job: generate a profile's rows and load them into PostgreSQL, all or nothing."""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, TypeVar

import polars as pl
import psycopg
from psycopg import sql

from moeen_synth import __version__, vocab
from moeen_synth.db import bulk as bulk_load
from moeen_synth.db import migrate as migrations
from moeen_synth.db.validate import Report, validate
from moeen_synth.errors import LoadError, SchemaError, TargetNotEmptyError, UsageError
from moeen_synth.generators import TABLES, TableSpec
from moeen_synth.generators.base import Context
from moeen_synth.profile import Profile
from moeen_synth.sinks.postgres import Block, PostgresSink, Types, encode_block, target_types

BLOCK_ROWS = 50_000  # default rows per generated block (--chunk-size); rows never depend on it
REFERENCE_TABLES = (
    "roles",
    "languages",
    "system_settings",
    "notification_templates",
    "translations",
    "system_metrics",
)
GENERATED_TABLES = tuple(t.name for t in TABLES if t.name not in REFERENCE_TABLES)

Mode = Literal["refuse", "truncate", "append"]
T = TypeVar("T")
Progress = Callable[[str, int, int], None]  # table, rows done, rows total


def context(profile: Profile, namespace: int = 0) -> Context:
    return Context(profile=profile, vocab=vocab.load(), namespace=namespace)


def plan(ctx: Context) -> list[tuple[TableSpec, int]]:
    """Tables in foreign-key order with their row counts."""
    return [(spec, spec.count(ctx)) for spec in TABLES]


def blocks(
    ctx: Context, spec: TableSpec, total: int, block_rows: int = BLOCK_ROWS
) -> Iterator[pl.DataFrame]:
    """The table's rows, ``block_rows`` at a time; the rows never depend on the cut."""
    if spec.generate is None:
        return
    for start in range(0, total, block_rows):
        yield spec.generate(ctx, start, min(total, start + block_rows))


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

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)


def _existing_rows(conn: psycopg.Connection[Any]) -> list[str]:
    busy = []
    for table in GENERATED_TABLES:
        row = conn.execute(
            sql.SQL("SELECT EXISTS (SELECT 1 FROM {})").format(sql.Identifier(table))
        ).fetchone()
        if row and row[0]:
            busy.append(table)
    return busy


def _ensure_loads_table(conn: psycopg.Connection[Any]) -> None:
    conn.execute("CREATE SCHEMA IF NOT EXISTS moeen_synth")
    conn.execute("""CREATE TABLE IF NOT EXISTS moeen_synth.loads (
        id serial PRIMARY KEY, loaded_at timestamptz NOT NULL DEFAULT now(),
        tool_version text NOT NULL, profile text NOT NULL, profile_sha256 text NOT NULL,
        seed bigint NOT NULL, as_of timestamptz NOT NULL, namespace int NOT NULL,
        row_counts jsonb NOT NULL)""")


def _truncate(conn: psycopg.Connection[Any], ctx: Context) -> None:
    v = ctx.vocab
    # system_settings references users, so TRUNCATE must take it too: keep the settings that
    # are not ours (the platform's defaults, anything an admin added) and put them back.
    kept = "moeen_keep_settings"
    columns = "id, key, value, type, description, is_public, category, created_at, updated_at"
    conn.execute(
        f"CREATE TEMP TABLE {kept} ON COMMIT DROP AS SELECT {columns} "
        "FROM system_settings WHERE NOT key = ANY(%s)",
        ([r["key"] for r in v.settings],),
    )
    conn.execute(
        sql.SQL("TRUNCATE {}, system_settings").format(
            sql.SQL(", ").join(sql.Identifier(t) for t in GENERATED_TABLES)
        )
    )
    conn.execute(f"INSERT INTO system_settings ({columns}) SELECT {columns} FROM {kept}")
    conn.execute(f"DROP TABLE {kept}")
    conn.execute(
        "DELETE FROM notification_templates WHERE name = ANY(%s)",
        ([r["name"] for r in v.templates if r["platform_default"] != "true"],),
    )
    conn.execute(
        "DELETE FROM translations WHERE key = ANY(%s)", ([r["key"] for r in v.translations],)
    )
    conn.execute("DELETE FROM system_metrics WHERE metadata->>'source' = 'moeen-synth'")
    conn.execute("DELETE FROM moeen_synth.loads")


def prepare_schema(conn: psycopg.Connection[Any], *, no_migrate: bool) -> tuple[str, list[str]]:
    """Migrate an empty or managed target; accept a platform-made one as it is."""
    found = migrations.state(conn)
    if found == "foreign":
        raise SchemaError(
            "the target has some of the platform's tables but not all 22, and no record of "
            "moeen-synth's migrations; point at an empty database or a complete platform schema"
        )
    if no_migrate or found == "platform":
        if found == "empty":
            raise SchemaError(
                "--no-migrate was given but the target has no platform tables; "
                "run `moeen-synth migrate` first or drop --no-migrate"
            )
        return found, []
    applied = migrations.migrate(conn)
    return found, [f"{m.version}_{m.name}" for m in applied]


BULK_THRESHOLD = 100_000  # rows; below this, dropping and rebuilding indexes costs more


class Source(Protocol):
    """Where a load's rows come from: each table's row count, then its blocks in order."""

    def plan(self, ctx: Context) -> list[tuple[TableSpec, int]]: ...

    def blocks(
        self, ctx: Context, work: list[tuple[TableSpec, int]]
    ) -> Iterator[tuple[TableSpec, Block]]: ...


@dataclass
class Generated:
    """The default source: the profile's rows, generated ahead on threads."""

    workers: int = 2
    block_rows: int = BLOCK_ROWS
    types: Types | None = None  # the target's column types, for binary COPY

    def plan(self, ctx: Context) -> list[tuple[TableSpec, int]]:
        return plan(ctx)

    def blocks(
        self, ctx: Context, work: list[tuple[TableSpec, int]]
    ) -> Iterator[tuple[TableSpec, Block]]:
        slices = [(spec, range(total)) for spec, total in work]
        for spec, _, block in generate_ahead(
            ctx,
            slices,
            # encoded on the generating threads
            lambda spec, frame: encode_block(spec.name, frame, self.types),
            block_rows=self.block_rows,
            workers=self.workers,
            interleave=True,  # a database takes blocks of several tables in any order
        ):
            yield spec, block


Work = list[tuple[TableSpec, range]]  # each table with the row indexes to produce
Job = tuple[TableSpec, range, int, int]  # table, its rows in this run, block start and stop
WALKED = "appointments"  # the parent table the anchored tables are laid out along


def jobs(ctx: Context, work: Work, *, block_rows: int, interleave: bool = False) -> list[Job]:
    """Every block of every table, in the order to produce them: table after table, or, with
    ``interleave``, the tables laid out along the appointments (``TableSpec.anchor``) merged
    into one walk over the appointments, so each block of appointments' facts is made once
    for all of them instead of once per table. The rows are the same either way; a sink
    that takes interleaved blocks must keep one state per table.

    An interleaved child block comes after the appointments of its last row, so the blocks
    can be loaded in this order with the foreign keys in place."""
    out: list[Job] = []
    walk: list[tuple[int, int, Job]] = []  # (appointment, table's place, job)
    at = 0  # where the walk goes: at the first anchored table's place
    for place, (spec, rows) in enumerate(work):
        if spec.generate is None:
            continue
        for start in range(rows.start, rows.stop, block_rows):
            job = (spec, rows, start, min(rows.stop, start + block_rows))
            if not (interleave and spec.anchor):
                out.append(job)
                continue
            if not walk:
                at = len(out)
            # An appointments block sorts by its first appointment, a child block by the
            # anchor of its last row, at or after that row's appointment: the parents of a
            # child block come before it.
            row = start if spec.name == WALKED else job[3] - 1
            walk.append((spec.anchor(ctx, row), place, job))
    walk.sort(key=lambda w: (w[0], w[1], w[2][2]))
    return out[:at] + [job for _, _, job in walk] + out[at:]


def generate_ahead(
    ctx: Context,
    work: Work,
    then: Callable[[TableSpec, pl.DataFrame], T],
    *,
    block_rows: int,
    workers: int,
    interleave: bool = False,
) -> Iterator[tuple[TableSpec, range, T]]:
    """Every block of every table, in ``jobs`` order, generated and passed through ``then``
    (the sinks' encoding) up to ``2 * workers`` blocks ahead on threads (numpy, polars and
    pyarrow release the GIL) while the caller writes the previous ones."""

    def job(spec: TableSpec, start: int, stop: int) -> T:
        assert spec.generate is not None
        return then(spec, spec.generate(ctx, start, stop))

    ahead = 2 * max(1, workers)
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="generate") as pool:
        pending: deque[tuple[TableSpec, range, Future[T]]] = deque()
        for spec, rows, start, stop in jobs(
            ctx, work, block_rows=block_rows, interleave=interleave
        ):
            pending.append((spec, rows, pool.submit(job, spec, start, stop)))
            if len(pending) > ahead:
                spec0, rows0, future = pending.popleft()
                yield spec0, rows0, future.result()
        while pending:
            spec0, rows0, future = pending.popleft()
            yield spec0, rows0, future.result()


def load(
    conn: psycopg.Connection[Any],
    profile: Profile,
    *,
    mode: Mode = "refuse",
    no_migrate: bool = False,
    progress: Progress | None = None,
    fail_after: str | None = None,
    bulk: bool | None = None,
    workers: int = 2,
    block_rows: int = BLOCK_ROWS,
    source: Source | None = None,
) -> LoadResult:
    """Migrate if needed, then generate and COPY every table in one transaction, validate
    inside it and commit only if everything held.

    ``source`` replaces generation with other blocks of the same profile's rows (files
    written by ``export``); by default the rows are generated here.

    ``bulk`` (default: from 100,000 rows on) drops the foreign keys and secondary indexes
    for the COPY and rebuilds them before validating, still inside the transaction.
    ``fail_after`` names a table after which to raise, for tests that prove nothing is left.
    """
    if source is not None and mode == "append":
        raise UsageError("--append applies to generated loads; exported files have fixed ids")
    started = time.perf_counter()
    result = LoadResult()
    result.schema_state, result.migrated = prepare_schema(conn, no_migrate=no_migrate)
    conn.autocommit = False
    try:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (migrations._LOCK_ID,))
            _ensure_loads_table(conn)
            namespace = 0
            busy = _existing_rows(conn)
            if busy and mode == "refuse":
                raise TargetNotEmptyError(
                    f"the target already holds rows in {', '.join(busy[:5])}"
                    f"{' ...' if len(busy) > 5 else ''}; nothing was loaded. Use --truncate to "
                    "replace them or --append to add a further data set beside them"
                )
            if mode == "append":
                row = conn.execute(
                    "SELECT coalesce(max(namespace) + 1, 0) FROM moeen_synth.loads"
                ).fetchone()
                namespace = int(row[0]) if row else 0
                if busy and namespace == 0:
                    namespace = 1  # rows from elsewhere: keep clear of a first load's keys
            ctx = context(profile, namespace)
            if mode == "truncate":
                _truncate(conn, ctx)
            types = target_types(conn)
            feed = source or Generated(workers=workers, block_rows=block_rows, types=types)
            work = feed.plan(ctx)
            total_rows = sum(n for _, n in work)
            if progress:
                tables = sum(1 for _, n in work if n)
                progress(f"plan: {total_rows:,} rows in {tables} tables", 0, 0)
            use_bulk = total_rows >= BULK_THRESHOLD if bulk is None else bulk
            deferred = bulk_load.defer(conn, [s.name for s, n in work if n]) if use_bulk else None
            frozen = _empty_for_freeze(conn, work) if use_bulk and mode != "append" else []
            sink = PostgresSink(
                conn, {t.name: t.merge_key for t in TABLES if t.merge_key}, frozenset(frozen), types
            )
            _copy_all(
                work, feed.blocks(ctx, work), sink, result, progress=progress, fail_after=fail_after
            )
            if deferred is not None:
                t0 = time.perf_counter()
                try:
                    bulk_load.restore(
                        conn,
                        deferred,
                        step=(
                            (lambda what: progress(f"rebuild: {what}", 0, 0)) if progress else None
                        ),
                    )
                except psycopg.Error as exc:
                    raise LoadError(
                        "rebuilding indexes and foreign keys failed: "
                        f"{str(exc).strip().splitlines()[0]}"
                    ) from exc
                result.rebuild_seconds = time.perf_counter() - t0
            t0 = time.perf_counter()
            report = validate(
                conn,
                as_of=profile.as_of,
                schema=result.schema_state != "foreign",
                step=(
                    (lambda name, i, n: progress(f"check {i + 1}/{n}: {name}", 0, 0))
                    if progress
                    else None
                ),
            )
            result.report = report
            result.check_seconds = time.perf_counter() - t0
            if not report.ok:
                raise LoadError(
                    "the loaded data failed validation; nothing was kept:\n  "
                    + "\n  ".join(report.failures)
                )
            conn.execute(
                "INSERT INTO moeen_synth.loads (tool_version, profile, profile_sha256, seed, "
                "as_of, namespace, row_counts) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                (
                    __version__,
                    profile.name,
                    profile.sha256,
                    profile.seed,
                    profile.as_of,
                    namespace,
                    json.dumps({t.table: t.rows for t in result.tables}),
                ),
            )
    finally:
        conn.autocommit = True
    result.seconds = time.perf_counter() - started
    return result


def _empty_for_freeze(
    conn: psycopg.Connection[Any], work: list[tuple[TableSpec, int]]
) -> list[str]:
    """TRUNCATE the (already empty) generated tables in this transaction, so COPY may load
    them frozen: rows stored as visible to all, so the checks after (and every reader) do
    not set hint bits on every row, which dirties every page of a fresh load (at load-1m,
    the first scan took 5.8 s after a plain COPY, 0.4 s after COPY FREEZE). Their foreign
    keys are already dropped (bulk mode), so TRUNCATE touches no other table. Under
    wal_level = minimal (the embedded server's) the COPY also writes no WAL."""
    tables = [spec.name for spec, n in work if n and spec.name in GENERATED_TABLES]
    if tables:
        conn.execute(
            sql.SQL("TRUNCATE {}").format(sql.SQL(", ").join(sql.Identifier(t) for t in tables))
        )
    return tables


def _copy_all(
    work: list[tuple[TableSpec, int]],
    stream: Iterator[tuple[TableSpec, Block]],
    sink: PostgresSink,
    result: LoadResult,
    *,
    progress: Progress | None,
    fail_after: str | None,
) -> None:
    """COPY every block in the order the source gives (tables along the appointments come
    interleaved), timing each table. A table counts as loaded once it and every table
    before it in ``work`` have all their rows; ``result.tables`` keeps ``work``'s order."""
    done: dict[str, int] = {spec.name: 0 for spec, _ in work}
    seconds: dict[str, float] = {spec.name: 0.0 for spec, _ in work}
    totals = {spec.name: total for spec, total in work}
    order = [spec.name for spec, _ in work]
    finished = 0

    def close_loaded_tables() -> None:
        nonlocal finished
        while finished < len(order) and done[order[finished]] >= totals[order[finished]]:
            name = order[finished]
            result.tables.append(TableResult(name, done[name], seconds[name]))
            if fail_after == name:
                raise LoadError(f"injected failure after {name} (test hook)")
            finished += 1

    close_loaded_tables()
    mark = time.perf_counter()
    for spec, block in stream:
        try:
            sink.copy(spec.name, block)
        except psycopg.Error as exc:
            raise LoadError(
                f"loading {spec.name} failed: {str(exc).strip().splitlines()[0]}"
            ) from exc
        now = time.perf_counter()
        seconds[spec.name] += now - mark
        mark = now
        done[spec.name] += block.height if isinstance(block, pl.DataFrame) else block.rows
        if progress:
            progress(spec.name, done[spec.name], totals[spec.name])
        close_loaded_tables()
    if finished < len(order):
        short = [
            f"{n} ({done[n]:,} of {totals[n]:,})" for n in order[finished:] if done[n] < totals[n]
        ]
        raise LoadError(f"the source ended before every row was loaded: {', '.join(short)}")
