"""What the commands print: load and export summaries, the validation report, hints."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.markup import escape
from rich.table import Table

from moeen_synth.cli.options import out_console

if TYPE_CHECKING:  # the jobs are imported by the commands that run them (formats.py)
    from moeen_synth.auth_users import Accounts
    from moeen_synth.db.statistics import Statistics
    from moeen_synth.db.validate import Report
    from moeen_synth.jobs.backups import Backup
    from moeen_synth.jobs.dask_export import DaskResult
    from moeen_synth.jobs.export import ExportResult
    from moeen_synth.jobs.load import LoadResult
    from moeen_synth.plan import Shard


def print_export(result: ExportResult, shard: Shard, accounts: Accounts | None = None) -> None:
    from moeen_synth.jobs.load_files import LOADABLE
    from moeen_synth.sinks.supabase import config_lines

    table = Table(
        title=f"wrote {result.total_rows:,} rows"
        + ("" if shard.whole else f" (shard {shard})")
        + f" in {result.seconds:.2f} s"
    )
    for column in ("format", "directory", "files", "MB", "write s"):
        table.add_column(column, justify="left" if column in ("format", "directory") else "right")

    def where(fmt: str, directory: Path) -> str:
        """The directory, or its URL for an upload (a subdirectory per format for several)."""
        if not result.url:
            return str(directory)
        return result.url.rstrip("/") + ("" if len(result.formats) == 1 else f"/{fmt}")

    for fmt, r in result.formats.items():
        table.add_row(
            fmt, where(fmt, r.directory), str(r.files), f"{r.bytes / 1e6:,.1f}", f"{r.seconds:.2f}"
        )
    out_console.print(table)
    for fmt, r in result.formats.items():
        if result.url and fmt not in LOADABLE:
            continue  # psql and the Supabase CLI read local files: no hint for a URL
        if fmt == "supabase":
            out_console.print(
                f"supabase: copy {r.directory / 'supabase'} into your project, add these lines "
                "to supabase/config.toml (also in README.md there), then run `supabase db "
                "reset`:",
                soft_wrap=True,
            )
            out_console.print(escape(config_lines()), end="")
            if accounts is not None and result.sign_in:
                print_sign_in(result.sign_in, accounts)
            continue
        if fmt == "sql":
            how = f"psql -v ON_ERROR_STOP=1 -f {r.directory / 'load.sql'}"
        elif fmt in LOADABLE:
            how = f"moeen-synth load {where(fmt, r.directory)}"
        else:
            continue  # read by other tools, not loaded back
        out_console.print(f"load {fmt + ':':<9} {how}", soft_wrap=True)


def print_dask_export(result: DaskResult, fmt: str) -> None:
    rate = result.total_rows / result.seconds if result.seconds else 0.0
    where = result.url or str(result.out)
    out_console.print(
        f"wrote {result.total_rows:,} rows as {fmt} in {result.seconds:.2f} s ({rate:,.0f} "
        f"rows/s) with {result.tasks} tasks on {result.workers} Dask workers: "
        f"{result.files} files, {result.bytes / 1e6:,.1f} MB in {where}",
        soft_wrap=True,
    )
    out_console.print(f"load {fmt + ':':<9} moeen-synth load {where}", soft_wrap=True)


def print_summary(result: LoadResult) -> None:
    copying = sum(t.seconds for t in result.tables)
    streams = (
        f"; {result.streams} streams, staged: {', '.join(result.staged)}"
        if result.streams > 1
        else ""
    )
    if result.streams_why and result.streams_why != "1":
        streams += f" (streams: {result.streams_why})"
    table = Table(
        title=f"loaded {result.rows:,} rows in {result.seconds:.2f} s",
        caption=(
            f"COPY {copying:.1f} s, rebuild {result.rebuild_seconds:.1f} s, "
            f"checks {result.check_seconds:.1f} s{streams}"
        ),
    )
    table.add_column("table")
    table.add_column("rows", justify="right")
    table.add_column("seconds", justify="right")
    table.add_column("rows/s", justify="right")
    for t in result.tables:
        rate = f"{t.rows / t.seconds:,.0f}" if t.seconds > 0 and t.rows else "-"
        table.add_row(t.table, f"{t.rows:,}", f"{t.seconds:.3f}", rate)
    out_console.print(table)


def print_loaded(result: LoadResult, accounts: Accounts | None = None) -> None:
    """The summary of a load, how many checks it passed, and how to sign in."""
    print_summary(result)
    checks = len(result.report.check_results) if result.report else 0
    out_console.print(f"validated: {checks} checks passed")
    auth = result.auth
    if auth.kind == "supabase":
        out_console.print(
            "target is Supabase (auth.users and the roles anon, authenticated, service_role "
            "found): its auth schema and auth.uid() were left as they are"
        )
    if auth.skipped:
        out_console.print(f"sign-in accounts: none made: {auth.skipped}", soft_wrap=True)
    elif accounts is not None and auth.accounts:
        where = "Supabase Auth" if auth.kind == "supabase" else "the stand-in auth schema"
        out_console.print(f"sign-in accounts: {auth.accounts:,} made in {where}")
        print_sign_in(auth.examples, accounts)


def print_sign_in(examples: list[tuple[str, str]], accounts: Accounts) -> None:
    """How to sign in: an e-mail per role and the password (only a profile's is shown)."""
    password = (
        accounts.password if accounts.source == "profile" else "the one given with --auth-password"
    )
    width = max((len(email) for _, email in examples), default=0)
    for role, email in examples:
        out_console.print(f"  sign in as {role + ':':<8} {email:<{width}}   password: {password}")


def _print_statistics(stats: Statistics) -> None:
    table = Table(
        title="statistics",
        caption=(
            f"database {stats.database_bytes / 1e6:,.1f} MB; {stats.policies} policies, "
            f"{stats.triggers} triggers, {stats.views} views"
        ),
    )
    for column in ("table", "rows", "table MB", "index MB"):
        table.add_column(column, justify="left" if column == "table" else "right")
    for name, t in stats.tables.items():
        table.add_row(
            name, f"{t.rows:,}", f"{t.table_bytes / 1e6:,.2f}", f"{t.index_bytes / 1e6:,.2f}"
        )
    out_console.print(table)
    if stats.unused_indexes:
        out_console.print(
            f"indexes never scanned ({len(stats.unused_indexes)}): "
            + ", ".join(stats.unused_indexes),
            soft_wrap=True,
        )


def report_json(report: Report) -> str:
    """The report as JSON, for CI."""
    data = {
        "valid": report.ok,
        "failures": report.failures,
        "schema_problems": report.schema_problems,
        "checks": [{"name": n, "bad": b} for n, b in report.check_results],
        "behaviour": [{"name": n, "wrong": b} for n, b in report.behaviour],
        "warnings": report.warnings,
        "rows": report.row_counts,
        "statistics": asdict(report.statistics) if report.statistics else None,
    }
    return json.dumps(data, indent=1, ensure_ascii=False)


def say_backup(backup: Backup) -> None:
    out_console.print(
        f"backup: {backup.path} ({backup.rows:,} rows, {backup.bytes / 1e6:,.1f} MB)",
        soft_wrap=True,
    )


def print_backups(found: list[Backup]) -> None:
    if not found:
        out_console.print("no backups yet (outputs/backups/ is empty)")
        return
    table = Table(title="backups")
    for column in ("taken (UTC)", "database", "before", "rows", "MB", "file"):
        table.add_column(column, justify="right" if column in ("rows", "MB") else "left")
    for b in found:
        rows = f"{b.rows:,}" if b.rows >= 0 else "?"
        table.add_row(b.taken, b.database, b.step, rows, f"{b.bytes / 1e6:,.1f}", str(b.path))
    out_console.print(table)


def print_target(target: Any) -> None:
    out_console.print(f"target: {target.display} ({target.source})")
    if target.note:
        out_console.print(f"note: {target.note}")


def print_connect_hint(target: Any) -> None:
    if target.source == "embedded":
        out_console.print(f"connect: moeen-synth psql   (or psql '{target.display}')")


def print_report(report: Report) -> None:
    if report.schema_problems:
        out_console.print(f"[red]schema: {len(report.schema_problems)} difference(s)[/]")
        for p in report.schema_problems:
            out_console.print(f"  - {p}")
    else:
        out_console.print("schema: matches the expected schema")
    table = Table(title="data checks")
    table.add_column("check")
    table.add_column("result", justify="right")
    for name, n in report.check_results:
        table.add_row(name, "skipped" if n is None else "ok" if n == 0 else f"[red]{n} bad[/]")
    out_console.print(table)
    if report.behaviour:
        acted = Table(title="behaviour (row-level security, triggers)")
        acted.add_column("check")
        acted.add_column("result", justify="right")
        for name, n in report.behaviour:
            shown = "skipped" if n is None else "ok" if n == 0 else f"[red]{n} wrong[/]"
            acted.add_row(name, shown)
        out_console.print(acted)
    for warning in report.warnings:
        out_console.print(f"[yellow]warning:[/] {warning}")
    if report.statistics is not None:
        _print_statistics(report.statistics)
    elif report.row_counts:
        counts = Table(title="rows per table")
        counts.add_column("table")
        counts.add_column("rows", justify="right")
        for t, n in report.row_counts.items():
            counts.add_row(t, f"{n:,}")
        out_console.print(counts)
    out_console.print(
        "[green]valid[/]" if report.ok else f"[red]{len(report.failures)} failure(s)[/]"
    )
