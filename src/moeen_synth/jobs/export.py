"""The export job: generate a profile's rows (or one shard of them) once and write them in
one or more file formats, each a directory with its manifest, all or nothing."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from moeen_synth import auth_users, catalogue, paths, plan
from moeen_synth.db import migrate as migrations
from moeen_synth.errors import UsageError
from moeen_synth.formats import ExportFormat
from moeen_synth.generators import BY_NAME
from moeen_synth.models.context import Context
from moeen_synth.plan import Shard
from moeen_synth.profile import Profile
from moeen_synth.sinks import Sink, manifest, outdir
from moeen_synth.sinks.csv import CsvSink
from moeen_synth.sinks.driver import Driven, Progress, SinkClock, drive, preparer
from moeen_synth.sinks.files import FileRecord
from moeen_synth.sinks.parquet import ParquetSink
from moeen_synth.sinks.sql import SqlSink, Style, seed_order
from moeen_synth.sinks.supabase import SupabaseSink, readme

WHOLE = Shard()


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
    sign_in: list[tuple[str, str]] = field(default_factory=list)  # (role, e-mail)
    url: str = ""  # where the files were uploaded, for an --out URL

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


def default_out(profile: Profile, shard: Shard) -> Path:
    part = "" if shard.whole else f"-shard-{shard.index}-of-{shard.count}"
    return paths.outputs_dir() / "files" / f"{profile.name}-seed{profile.seed}{part}"


def _sink(
    fmt: ExportFormat,
    root: Path,
    sql_style: Style,
    profile: Profile,
    accounts: auth_users.Accounts | None,
    sign_in: list[tuple[str, str]],
) -> Sink:
    root.mkdir(parents=True, exist_ok=True)
    if fmt == "parquet":
        return ParquetSink(root)
    if fmt == "csv":
        return CsvSink(root)
    if fmt == "supabase":
        auth = None
        if accounts is not None:
            auth = "-- Sign-in accounts for every user in public.users (Supabase Auth)\n" + (
                "\n".join(auth_users.statements(accounts.hash))
            )
        password = accounts.password if accounts and accounts.source == "profile" else None
        return SupabaseSink(
            root,
            catalogue.MERGE_KEYS,
            migrations.as_one_file(),
            auth,
            readme(profile.name, sign_in if accounts else [], password),
        )
    return SqlSink(root, catalogue.MERGE_KEYS, sql_style)


def export(
    profile: Profile,
    out: Path,
    formats: list[ExportFormat],
    *,
    shard: Shard = WHOLE,
    force: bool = False,
    workers: int = 2,
    block_rows: int = plan.BLOCK_ROWS,
    sql_style: Style = "copy",
    progress: Progress | None = None,
    accounts: auth_users.Accounts | None = None,
) -> ExportResult:
    """Write the profile's rows as ``formats`` under ``out``: the directory itself for one
    format, a subdirectory per format for several."""
    formats = list(dict.fromkeys(formats))
    if not formats:
        raise UsageError("give at least one --format")
    started = time.perf_counter()
    ctx = plan.context(profile)
    totals = {spec.name: total for spec, total in plan.plan(ctx) if spec.generate is not None}
    order = seed_order(list(totals))
    work = [(BY_NAME[name], shard.rows(totals[name])) for name in order]
    result = ExportResult(out=out.resolve())
    if "supabase" in formats and not shard.whole:
        raise UsageError(
            "--format supabase writes one project's seed folder; it does not take --shard"
        )
    if accounts is not None and "supabase" in formats:
        result.sign_in = auth_users.sign_in_examples(ctx)
    with outdir.staged(out, force=force) as staging:
        roots = {f: staging if len(formats) == 1 else staging / f for f in formats}
        sinks: dict[str, Sink] = {
            f: _sink(f, roots[f], sql_style, profile, accounts, result.sign_in) for f in formats
        }
        clock = SinkClock(sinks)
        prepare = preparer(sinks, clock)
        # Tables along the appointments come interleaved (each block of their facts made
        # once) when every format can take them so.
        stream = plan.generate_ahead(
            ctx,
            work,
            lambda spec, frame: prepare(spec.name, frame),
            block_rows=block_rows,
            workers=workers,
            interleave=all(sink.interleaves for sink in sinks.values()),
        )
        driven = drive(
            ((spec.name, block) for spec, _, block in stream),
            sinks,
            {spec.name: len(rows) for spec, rows in work},
            clock,
            progress=progress,
        )
        result.rows = {spec.name: driven.rows.get(spec.name, 0) for spec, _ in work}
        columns = _columns(ctx, work, driven)
        for f in formats:
            t0 = time.perf_counter()
            records = _write_manifest(
                roots[f], f, profile, shard, work, totals, columns, driven, sql_style
            )
            clock.add(f, t0)
            result.formats[f] = FormatResult(
                directory=result.out / roots[f].relative_to(staging),
                bytes=sum(r.bytes for r in records),
                files=len(records),
                seconds=clock.seconds[f],
            )
    result.seconds = time.perf_counter() - started
    return result


def _write_manifest(
    root: Path,
    fmt: str,
    profile: Profile,
    shard: Shard,
    work: plan.Work,
    totals: dict[str, int],
    columns: dict[str, list[str]],
    driven: Driven,
    sql_style: Style,
) -> list[FileRecord]:
    """Write ``root``'s manifest.json; return the files it lists, in table order."""
    files = driven.files[fmt]
    records = [r for spec, _ in work for r in files.get(spec.name, [])] + driven.finished[fmt]
    tables = {
        spec.name: manifest.TableEntry(
            rows=len(rows),
            first_row=rows.start,
            total_rows=totals[spec.name],
            columns=columns[spec.name],
            files=[r.path for r in files.get(spec.name, [])],
        )
        for spec, rows in work
    }
    data = manifest.build(
        fmt=fmt,
        profile=profile,
        shard=shard,
        tables=tables,
        files=records,
        options={"sql_style": sql_style} if fmt == "sql" else {},
    )
    manifest.write(root, data)
    return records


def _columns(ctx: Context, work: plan.Work, driven: Driven) -> dict[str, list[str]]:
    """Each table's columns: as written, or, for a table with no rows in this shard, those
    of an empty block of its generator."""
    out = {}
    for spec, rows in work:
        if spec.name in driven.columns:
            out[spec.name] = driven.columns[spec.name]
        elif spec.generate is not None:
            out[spec.name] = spec.generate(ctx, rows.start, rows.start).columns
    return out
