"""The file job: generate a profile's rows (or one shard of them) once and write them in
one or more file formats, each a directory with its manifest, all or nothing."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import polars as pl

from moeen_synth import manifest, paths, run
from moeen_synth.errors import UsageError
from moeen_synth.generators import TABLES, TableSpec
from moeen_synth.profile import Profile
from moeen_synth.shard import Shard
from moeen_synth.sinks import Sink, outdir
from moeen_synth.sinks.csv import CsvSink
from moeen_synth.sinks.files import FileRecord
from moeen_synth.sinks.parquet import ParquetSink
from moeen_synth.sinks.sql import SqlSink, Style, seed_order

Format = Literal["parquet", "sql", "csv"]
FORMATS: tuple[Format, ...] = ("parquet", "sql", "csv")
Progress = Callable[[str, int, int], None]
WHOLE = Shard()


@dataclass
class Prepared:
    """A generated block as each sink encoded it, on a generating thread."""

    columns: list[str]
    rows: int
    encoded: dict[str, Any]


@dataclass
class FormatResult:
    directory: Path
    bytes: int = 0
    files: int = 0
    seconds: float = 0.0  # time spent encoding (on any thread) and writing this format


@dataclass
class ExportResult:
    out: Path
    rows: dict[str, int] = field(default_factory=dict)
    formats: dict[str, FormatResult] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


def default_out(profile: Profile, shard: Shard) -> Path:
    part = "" if shard.whole else f"-shard-{shard.index}-of-{shard.count}"
    return paths.outputs_dir() / "files" / f"{profile.name}-seed{profile.seed}{part}"


def _sink(fmt: Format, root: Path, sql_style: Style) -> Sink:
    root.mkdir(parents=True, exist_ok=True)
    if fmt == "parquet":
        return ParquetSink(root)
    if fmt == "csv":
        return CsvSink(root)
    merge = {t.name: t.merge_key for t in TABLES if t.merge_key}
    return SqlSink(root, merge, sql_style)


def export(
    profile: Profile,
    out: Path,
    formats: list[Format],
    *,
    shard: Shard = WHOLE,
    force: bool = False,
    workers: int = 2,
    block_rows: int = run.BLOCK_ROWS,
    sql_style: Style = "copy",
    progress: Progress | None = None,
) -> ExportResult:
    """Write the profile's rows as ``formats`` under ``out``: the directory itself for one
    format, a subdirectory per format for several."""
    formats = list(dict.fromkeys(formats))
    if not formats:
        raise UsageError("give at least one --format")
    started = time.perf_counter()
    ctx = run.context(profile)
    totals = {spec.name: total for spec, total in run.plan(ctx) if spec.generate is not None}
    order = seed_order(list(totals))
    specs = {t.name: t for t in TABLES}
    work = [(specs[name], shard.rows(totals[name])) for name in order]
    result = ExportResult(out=out.resolve())
    with outdir.staged(out, force=force) as staging:
        roots = {f: staging if len(formats) == 1 else staging / f for f in formats}
        sinks = {f: _sink(f, roots[f], sql_style) for f in formats}
        # Each table's files, listed in table order whatever order the tables finished in.
        table_files: dict[str, dict[str, list[FileRecord]]] = {f: {} for f in formats}
        entries: dict[str, dict[str, manifest.TableEntry]] = {f: {} for f in formats}
        seconds: dict[str, float] = dict.fromkeys(formats, 0.0)
        timing = threading.Lock()

        def spent(f: str, since: float) -> None:
            with timing:  # summed over the generating threads and the writing one
                seconds[f] += time.perf_counter() - since

        def close(table: str) -> None:
            for f, sink in sinks.items():
                t0 = time.perf_counter()
                files = sink.end(table)
                spent(f, t0)
                table_files[f][table] = files
                entries[f][table].files = [r.path for r in files]

        def prepare(spec: TableSpec, frame: pl.DataFrame) -> Prepared:
            encoded: dict[str, Any] = {}
            for f, sink in sinks.items():
                t0 = time.perf_counter()
                encoded[f] = sink.prepare(spec.name, frame)
                spent(f, t0)
            return Prepared(frame.columns, frame.height, encoded)

        # Tables along the appointments come interleaved (each block of their facts made
        # once) when every format can take them so; each table is closed at its last row.
        interleave = all(sink.interleaves for sink in sinks.values())
        for spec, rows, block in run.generate_ahead(
            ctx, work, prepare, block_rows=block_rows, workers=workers, interleave=interleave
        ):
            name = spec.name
            if name not in result.rows:
                result.rows[name] = 0
                for f, sink in sinks.items():
                    sink.begin(name, block.columns, len(rows))
                    entries[f][name] = manifest.TableEntry(
                        rows=len(rows),
                        first_row=rows.start,
                        total_rows=totals[name],
                        columns=block.columns,
                    )
            for f, sink in sinks.items():
                t0 = time.perf_counter()
                sink.write(name, block.encoded[f], block.rows)
                spent(f, t0)
            result.rows[name] += block.rows
            if progress:
                progress(name, result.rows[name], len(rows))
            if result.rows[name] == len(rows):
                close(name)
        for spec, rows in work:  # tables with no rows in this shard: listed, without files
            if spec.name not in result.rows and spec.generate is not None:
                result.rows[spec.name] = 0
                columns = spec.generate(ctx, rows.start, rows.start).columns
                for f in formats:
                    entries[f][spec.name] = manifest.TableEntry(
                        0, rows.start, totals[spec.name], columns
                    )
        options = {"sql_style": sql_style}
        for f, sink in sinks.items():
            t0 = time.perf_counter()
            records = [r for name in order for r in table_files[f].get(name, [])]
            records += sink.finish()
            data = manifest.build(
                fmt=f,
                profile=profile,
                shard=shard,
                tables={name: entries[f][name] for name in order},
                files=records,
                options=options if f == "sql" else {},
            )
            manifest.write(roots[f], data)
            spent(f, t0)
            relative = roots[f].relative_to(staging)
            result.formats[f] = FormatResult(
                directory=result.out / relative,
                bytes=sum(r.bytes for r in records),
                files=len(records),
                seconds=seconds[f],
            )
    result.seconds = time.perf_counter() - started
    return result
