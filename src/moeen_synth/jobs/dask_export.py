"""The export job on a Dask ``distributed`` cluster: the same files, made by many processes.

Rows are pure functions of (seed, table, index), so the work is cut where the files are cut
and each piece is a task: a Parquet part file (``PART_ROWS`` rows) per task, or a CSV
segment that a last task per table joins into the one CSV file. The files are therefore
byte-identical to the single-process export, whatever the number of workers.

A task writes under a name unique to its attempt and renames into place, so a task that a
dying worker leaves half-done, a retry, or a speculative second copy never leaves a torn or
doubled file (the copies write the same bytes); leftovers of killed attempts are removed
before the output directory is published. Workers must see ``--out`` at the same path (one
machine, or a shared file system), or, for an fsspec URL, reach it: each task then writes in
its worker's own directory and uploads its file, and the manifest goes up last
(``sinks.remote``).
"""

from __future__ import annotations

import functools
import json
import logging
import math
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from moeen_synth import allocator, paths, plan
from moeen_synth import profile as profiles
from moeen_synth.errors import UsageError
from moeen_synth.generators import BY_NAME
from moeen_synth.models.context import Context
from moeen_synth.profile import Profile
from moeen_synth.sinks import manifest, outdir, remote
from moeen_synth.sinks.csv import CsvSink
from moeen_synth.sinks.files import FileRecord, publish, sha256_of
from moeen_synth.sinks.parquet import PART_ROWS, ParquetSink, TableParts, arrow_schema
from moeen_synth.sinks.sql import seed_order

if TYPE_CHECKING:
    from distributed import Client

Format = Literal["parquet", "csv"]
FORMATS: tuple[Format, ...] = ("parquet", "csv")
SEGMENT_ROWS = PART_ROWS  # rows per CSV task
ATTEMPT = ".attempt-"  # infix of a task attempt's temporary files
DIE_ONCE = "MOEEN_SYNTH_TEST_DIE_ONCE"  # tests: a path; the first task to see it absent dies
log = logging.getLogger(__name__)
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Task:
    table: str
    start: int
    stop: int
    piece: int  # part file or segment number


@dataclass
class Piece:
    """What a task made."""

    table: str
    piece: int
    rows: int
    files: list[FileRecord]
    columns: list[str] = field(default_factory=list)  # as generated; none for no rows


@dataclass
class DaskResult:
    out: Path
    rows: dict[str, int] = field(default_factory=dict)
    tasks: int = 0
    workers: int = 0
    seconds: float = 0.0
    dashboard: str = ""
    files: int = 0
    bytes: int = 0
    url: str = ""  # where the files went, for an --out URL

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


def tasks(totals: dict[str, int], fmt: Format, segment_rows: int = SEGMENT_ROWS) -> list[Task]:
    """The pieces of every table, in the export's table order: Parquet parts (none for an
    empty table, as the single-process export writes none), CSV segments of
    ``segment_rows`` (at least one; any size gives the same file)."""
    size = PART_ROWS if fmt == "parquet" else segment_rows
    out = []
    for table in seed_order(list(totals)):
        total = totals[table]
        count = math.ceil(total / size) if fmt == "parquet" else max(1, math.ceil(total / size))
        out += [Task(table, i * size, min(total, (i + 1) * size), i) for i in range(count)]
    return out


@functools.lru_cache(maxsize=2)
def _context(profile_json: str) -> Context:
    """A worker's context of the profile, made once per worker process."""
    return plan.context(profiles.parse(json.loads(profile_json), "the exported profile"))


def _die_once(path: Path) -> None:
    """Tests: the first task anywhere to get here kills its worker process, half-way."""
    marker = os.environ.get(DIE_ONCE)
    if marker and not os.path.exists(marker):
        Path(marker).write_text(str(path))
        os._exit(1)


def run_task(profile_json: str, fmt: Format, root: str, task: Task, block_rows: int) -> Piece:
    """Generate ``task``'s rows and write its file under a temporary name, then rename it;
    for a URL ``root``, in a directory of this worker's, then upload it (an object appears
    whole or not at all, and a retry writes the same bytes to the same name)."""
    if not remote.is_url(root):
        return _write_task(profile_json, fmt, Path(root), task, block_rows)
    target = remote.open_url(root)
    with tempfile.TemporaryDirectory(prefix="moeen-task-", dir=_worker_space()) as tmp:
        piece = _write_task(profile_json, fmt, Path(tmp), task, block_rows)
        remote.upload(Path(tmp), target, force=False)
    return piece


def _worker_space() -> str | None:
    """This worker's own directory (what a killed task leaves there goes with the worker's
    space), or None outside a worker: the system's temporary directory."""
    try:
        from distributed import get_worker

        return str(get_worker().local_directory)
    except (ImportError, ValueError):
        return None


def _write_task(profile_json: str, fmt: Format, base: Path, task: Task, block_rows: int) -> Piece:
    allocator.configure_process()  # a worker may start with glibc's sliding threshold off
    ctx = _context(profile_json)
    spec = BY_NAME[task.table]
    attempt = ATTEMPT + uuid.uuid4().hex + ".partial"
    work = [(spec, range(task.start, task.stop))]
    blocks = plan.generate_ahead(
        ctx, work, lambda _, frame: frame, block_rows=block_rows, workers=1
    )
    rows, columns = 0, []
    if fmt == "parquet":
        sink = ParquetSink(base)
        parts: TableParts | None = None
        for _, _, frame in blocks:
            if parts is None:
                schema = arrow_schema(task.table, tuple(frame.columns))
                parts = TableParts(base, task.table, schema, task.piece, attempt)
            parts.write(sink.prepare(task.table, frame), frame.height)
            rows, columns = rows + frame.height, frame.columns
            _die_once(base)
        return Piece(task.table, task.piece, rows, parts.end() if parts else [], columns)
    final = base / f"{task.table}.csv.segment-{task.piece:05d}"
    temp = final.with_name(final.name + attempt)
    csv = CsvSink(base)
    with temp.open("wb") as handle:
        for _, _, frame in blocks:
            handle.write(csv.prepare(task.table, frame))
            rows, columns = rows + frame.height, frame.columns
            _die_once(base)
    publish(base, temp, final)
    return Piece(task.table, task.piece, rows, [], columns)


def join_csv(root: str, table: str, empty: list[str], *pieces: Piece) -> Piece:
    """One table's CSV file: the header, then its segments in order (a task of its own);
    ``empty``: the header of a table without rows."""
    columns = next((p.columns for p in pieces if p.columns), empty)
    names = [f"{table}.csv.segment-{p.piece:05d}" for p in sorted(pieces, key=lambda p: p.piece)]
    rows = sum(p.rows for p in pieces)
    if remote.is_url(root):
        return _join_remote(remote.open_url(root), table, columns, names, rows)
    base = Path(root)
    final = base / f"{table}.csv"
    segments = [base / name for name in names]
    if final.exists() and not all(s.exists() for s in segments):
        # A retry of a join whose worker died after it published the file (segments go
        # only after that): the file is whole.
        return Piece(table, -1, rows, [_record(base, final)], columns)
    temp = final.with_name(final.name + ATTEMPT + uuid.uuid4().hex + ".partial")
    _concatenate(temp, columns, [functools.partial(s.open, "rb") for s in segments])
    record = publish(base, temp, final)
    for segment in segments:
        segment.unlink(missing_ok=True)
    return Piece(table, -1, rows, [record], columns)


def _join_remote(
    target: remote.Remote, table: str, columns: list[str], names: list[str], rows: int
) -> Piece:
    """join_csv at a URL: the segments read from the store, the file made here and
    uploaded, then the segments removed."""
    name = f"{table}.csv"
    if target.fs.exists(target.path(name)) and not all(
        target.fs.exists(target.path(n)) for n in names
    ):
        with tempfile.TemporaryDirectory(prefix="moeen-join-", dir=_worker_space()) as tmp:
            target.fs.get_file(target.path(name), f"{tmp}/{name}")
            return Piece(table, -1, rows, [_record(Path(tmp), Path(tmp) / name)], columns)
    with tempfile.TemporaryDirectory(prefix="moeen-join-", dir=_worker_space()) as tmp:
        joined = Path(tmp) / name
        opens = [functools.partial(target.fs.open, target.path(n), "rb") for n in names]
        _concatenate(joined, columns, opens)
        record = _record(Path(tmp), joined)
        target.fs.put_file(str(joined), target.path(name))
    for segment in names:
        target.fs.rm_file(target.path(segment))
    return Piece(table, -1, rows, [record], columns)


def _concatenate(path: Path, columns: list[str], segments: Sequence[Callable[[], Any]]) -> None:
    """A CSV file at ``path``: the header of ``columns``, then each segment (opened by
    calling it, as a binary stream) in order."""
    with path.open("wb") as out:
        out.write((",".join(columns) + "\n").encode("utf-8"))
        for segment in segments:
            with segment() as handle:
                shutil.copyfileobj(handle, out, 1 << 20)


def _record(root: Path, path: Path) -> FileRecord:
    return FileRecord(path.relative_to(root).as_posix(), path.stat().st_size, sha256_of(path))


def connect(address: str, *, out_dir: Path) -> tuple[Client, Any]:
    """A client of the cluster at ``address``: ``local:N`` starts N worker processes here
    (listening on 127.0.0.1 only); anything else is a scheduler's address."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise UsageError("--dask needs the dask extra: pip install 'moeen-synth[dask]'") from None
    if address.startswith("local:"):
        count = address.removeprefix("local:")
        if not count.isdigit() or int(count) < 1:
            raise UsageError(f"--dask {address}: expected local:N with N workers, e.g. local:2")
        cluster = LocalCluster(
            n_workers=int(count),
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",
            local_directory=str(out_dir),
            silence_logs=logging.ERROR,
        )
        return Client(cluster), cluster
    try:
        return Client(address, timeout="20s"), None
    except OSError as exc:
        raise UsageError(f"--dask {address}: no scheduler answers there ({exc})") from None


def export(
    profile: Profile,
    out: Path | str,
    fmt: Format,
    address: str,
    *,
    force: bool = False,
    block_rows: int = plan.BLOCK_ROWS,
    segment_rows: int = SEGMENT_ROWS,
    progress: Progress | None = None,
    say: Callable[[str], None] | None = None,
) -> DaskResult:
    """Write ``profile``'s rows as ``fmt`` under ``out`` (a directory the workers see at the
    same path, or an fsspec URL they write to) with the tasks on a Dask cluster, all or
    nothing, with the manifest of the single-process export."""
    if fmt not in FORMATS:
        raise UsageError(f"--dask writes {' or '.join(FORMATS)}, not {fmt}")
    started = time.perf_counter()
    result = DaskResult(out=Path(), url=out) if isinstance(out, str) else DaskResult(out.resolve())

    def run(root: str, scratch: Path) -> None:
        job = (fmt, address, block_rows, segment_rows, progress, say, result)
        _export(profile, root, scratch, *job)

    if isinstance(out, str):
        target = remote.open_url(out)
        remote.check(target, force=force)
        scratch = paths.outputs_dir() / "tmp"
        scratch.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="dask-", dir=scratch) as tmp:
            if force and remote.entries(target):
                target.fs.rm(target.root, recursive=True)
            try:
                run(out, Path(tmp))
                remote.upload(Path(tmp) / "manifest", target, force=False)
            except BaseException:
                with suppress(Exception):
                    target.fs.rm(target.root, recursive=True)  # what the tasks uploaded
                raise
    else:
        with outdir.staged(out, force=force) as staging:
            run(str(staging), staging.parent)
    result.seconds = time.perf_counter() - started
    return result


def _export(
    profile: Profile,
    root: str,
    scratch: Path,
    fmt: Format,
    address: str,
    block_rows: int,
    segment_rows: int,
    progress: Progress | None,
    say: Callable[[str], None] | None,
    result: DaskResult,
) -> None:
    """Run the tasks writing under ``root`` (a staging directory or a URL) and write the
    manifest: into ``root`` itself if it is a directory, else into ``scratch``/manifest
    for the caller to upload last. ``scratch`` holds the local cluster's own files."""
    ctx = plan.context(profile)
    totals = {spec.name: total for spec, total in plan.plan(ctx) if spec.generate is not None}
    order = seed_order(list(totals))
    todo = tasks(totals, fmt, segment_rows)
    profile_json = json.dumps(profile.model_dump(mode="json"))
    result.tasks = len(todo)
    cluster_dir = scratch / f".dask-{uuid.uuid4().hex[:8]}"
    cluster_dir.mkdir(parents=True, exist_ok=True)
    try:
        client, cluster = connect(address, out_dir=cluster_dir)
    except BaseException:
        shutil.rmtree(cluster_dir, ignore_errors=True)
        raise
    try:
        result.dashboard = str(client.dashboard_link or "")
        result.workers = len(client.scheduler_info().get("workers", {}))
        if say:
            say(
                f"dask: {result.workers} workers, {len(todo)} tasks"
                + (f", dashboard {result.dashboard}" if result.dashboard else "")
            )
        empty = {t: ctx_columns(ctx, t) for t in order if totals[t] == 0}
        pieces = _run(client, profile_json, fmt, root, todo, totals, empty, block_rows, progress)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
        shutil.rmtree(cluster_dir, ignore_errors=True)
    if remote.is_url(root):
        manifest_dir = scratch / "manifest"
        manifest_dir.mkdir()
    else:
        manifest_dir = Path(root)
        for leftover in manifest_dir.rglob(f"*{ATTEMPT}*"):
            leftover.unlink()  # attempts a dead worker left behind
        if fmt == "parquet":
            for table in order:
                (manifest_dir / table).mkdir(exist_ok=True)  # as the single-process export has
    columns = {
        t: next((p.columns for p in pieces if p.table == t and p.columns), [])
        or empty.get(t)
        or ctx_columns(ctx, t)
        for t in order
    }
    by_table: dict[str, list[FileRecord]] = {t: [] for t in order}
    for piece in sorted(pieces, key=lambda p: (order.index(p.table), p.piece)):
        by_table[piece.table] += piece.files
    rows = {t: totals[t] for t in order}
    records = manifest.write_whole(manifest_dir, fmt, profile, rows, columns, by_table, {})
    result.files, result.bytes = len(records), sum(r.bytes for r in records)
    result.rows = {t: sum(p.rows for p in pieces if p.table == t) for t in order}


def ctx_columns(ctx: Context, table: str) -> list[str]:
    """A table's columns, from an empty block of its generator."""
    spec = BY_NAME[table]
    assert spec.generate is not None
    return list(spec.generate(ctx, 0, 0).columns)


def _run(
    client: Client,
    profile_json: str,
    fmt: Format,
    root: str,
    todo: list[Task],
    totals: dict[str, int],
    empty: dict[str, list[str]],
    block_rows: int,
    progress: Progress | None,
) -> list[Piece]:
    """Run every task; for CSV, then each table's join task (which waits for its segments
    on the cluster). Returns what the tasks made."""
    from distributed import as_completed

    def key(what: str) -> str:
        return f"moeen-{what}-{uuid.uuid4().hex[:8]}"

    futures = [
        client.submit(
            run_task,
            profile_json,
            fmt,
            root,
            task,
            block_rows,
            key=key(f"{task.table}-{task.piece}"),
            retries=2,
            pure=False,
        )
        for task in todo
    ]
    joins = []
    if fmt == "csv":
        for table in dict.fromkeys(t.table for t in todo):
            mine = [f for t, f in zip(todo, futures, strict=True) if t.table == table]
            joins.append(
                client.submit(
                    join_csv,
                    root,
                    table,
                    empty.get(table, []),
                    *mine,
                    key=key(f"{table}-join"),
                    retries=2,
                    pure=False,
                )
            )
    total = sum(totals.values())
    pieces, rows = [], 0
    for done, future in enumerate(as_completed(futures), start=1):
        piece: Piece = future.result()
        pieces.append(piece)
        rows += piece.rows
        if progress:
            progress(f"dask: {len(todo)} tasks", rows, total)
        log.info(
            "task %s/%s: %s piece %s, %s rows",
            done,
            len(todo),
            piece.table,
            piece.piece,
            piece.rows,
        )
    return [f.result() for f in joins] if joins else pieces
