"""The ``moeen-synth`` command: parses options and calls the library; no logic of its own."""

from __future__ import annotations

import datetime as dt
import functools
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.table import Table

from moeen_synth import export as export_job
from moeen_synth import profile as profiles
from moeen_synth import run
from moeen_synth.db import connect as dbconnect
from moeen_synth.db import migrate as migrations
from moeen_synth.db.embedded import client_binary
from moeen_synth.db.validate import Report, validate
from moeen_synth.errors import MoeenSynthError
from moeen_synth.load_files import ExportedFiles
from moeen_synth.progress import LoadProgress
from moeen_synth.shard import Shard
from moeen_synth.sinks.sql import Style

F = TypeVar("F", bound=Callable[..., Any])
out_console = Console(highlight=False)
err = Console(stderr=True, highlight=False)


def dsn_option(f: F) -> F:
    """--dsn, shared by every command that talks to a database."""
    return click.option(
        "--dsn",
        metavar="URL",
        help="PostgreSQL connection URI or key=value string. Default: $DATABASE_URL, then "
        "DB_HOST/DB_PORT/DB_NAME/DB_USER/DB_PASSWORD, then the embedded server under "
        "outputs/.",
    )(f)


def reports_errors(f: F) -> F:
    """Turn the library's errors into a message and an exit status, no traceback."""

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return f(*args, **kwargs)
        except MoeenSynthError as exc:
            err.print(f"[bold red]error:[/] {exc}", markup=True, highlight=False)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            # The load's transaction was rolled back on the way out.
            err.print("interrupted: nothing was committed", highlight=False)
            sys.exit(130)

    return wrapper  # type: ignore[return-value]


def _dsn(ctx: click.Context, dsn: str | None) -> str | None:
    return dsn or (ctx.obj or {}).get("dsn")


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--profile",
    "profile_name",
    metavar="NAME|PATH",
    help="Generate and load this profile: a shipped name (demo, ...) or a YAML file.",
)
@dsn_option
@click.option("--seed", type=click.IntRange(min=0), help="Override the profile's seed.")
@click.option(
    "--scale",
    type=click.IntRange(min=1),
    metavar="PATIENTS",
    help="Override the profile's scale (number of patients); ratios follow it.",
)
@click.option("--truncate", is_flag=True, help="Replace rows a previous load left in the target.")
@click.option(
    "--append",
    is_flag=True,
    help="Add a further data set beside existing rows (new ids and unique keys).",
)
@click.option(
    "--no-migrate",
    is_flag=True,
    help="Load into the schema as it is (made by other means); never migrate.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=2,
    show_default=True,
    help="Threads generating blocks ahead of the COPY; output is the same for any.",
)
@click.option(
    "--chunk-size",
    type=click.IntRange(min=1),
    default=run.BLOCK_ROWS,
    show_default=True,
    help="Rows per generated block; output is the same for any.",
)
@click.option(
    "--format",
    "formats",
    type=click.Choice(export_job.FORMATS),
    multiple=True,
    help="Write files instead of loading a database: parquet, sql or csv; repeat for "
    "several (then one subdirectory per format). Each directory gets a manifest.json.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    metavar="DIR",
    help="Directory for --format (default: outputs/files/PROFILE-seedSEED). A non-empty one "
    "is refused unless --force.",
)
@click.option("--force", is_flag=True, help="Replace an earlier output in --out.")
@click.option(
    "--shard",
    metavar="K/N",
    help="With --format: write only the K-th of N disjoint parts of every table; the N parts "
    "together are the whole data set (load them with `moeen-synth load DIR1 ... DIRN`).",
)
@click.option(
    "--sql-style",
    type=click.Choice(["copy", "inserts"]),
    default="copy",
    show_default=True,
    help="SQL files as COPY ... FROM stdin blocks, or INSERT statements for tools that "
    "cannot run COPY.",
)
@click.option("--quiet", "-q", is_flag=True, help="Print only errors.")
@click.version_option(package_name="moeen-synth")
@click.pass_context
@reports_errors
def main(
    ctx: click.Context,
    profile_name: str | None,
    dsn: str | None,
    seed: int | None,
    scale: int | None,
    truncate: bool,
    append: bool,
    no_migrate: bool,
    workers: int,
    chunk_size: int,
    formats: tuple[export_job.Format, ...],
    out: Path | None,
    force: bool,
    shard: str | None,
    sql_style: Style,
    quiet: bool,
) -> None:
    """Synthetic, bilingual (Arabic/English) data for the Moeen healthcare platform's
    PostgreSQL schema.

    \b
    moeen-synth --profile demo          load the demo seed set (embedded server by default)
    moeen-synth --profile demo --dsn postgresql://user@host/db
    moeen-synth --profile clinic --format parquet --format csv --out data/
    moeen-synth load data/csv           load exported files into the target
    moeen-synth validate                check schema and data of the target
    moeen-synth psql                    open psql on the target

    The main job migrates the target if needed, generates the profile's rows, loads them with
    COPY in one transaction, validates them before committing, and prints a summary. With
    --format it writes files instead, each format's directory complete or not there at all.
    """
    ctx.obj = {"dsn": dsn}
    if ctx.invoked_subcommand is not None:
        if profile_name:
            raise click.UsageError("--profile runs the main job; give it without a command")
        return
    if not profile_name:
        click.echo(ctx.get_help())
        return
    if truncate and append:
        raise click.UsageError("--truncate and --append exclude each other")
    prof = profiles.load(profile_name).with_overrides(seed=seed, scale=scale)
    if formats:
        database_only = {
            "--dsn": dsn,
            "--truncate": truncate,
            "--append": append,
            "--no-migrate": no_migrate,
        }
        given = [name for name, value in database_only.items() if value]
        if given:
            raise click.UsageError(f"{', '.join(given)} apply to database loads, not to --format")
        _export(prof, list(formats), out, force, shard, sql_style, workers, chunk_size, quiet)
        return
    if shard or out or force:
        raise click.UsageError("--shard, --out and --force go with --format (file output)")
    target = dbconnect.resolve(dsn)
    if not quiet:
        out_console.print(f"target: {target.display} ({target.source})")
    mode: run.Mode = "truncate" if truncate else "append" if append else "refuse"
    reporter = LoadProgress() if not quiet else None
    with dbconnect.connect(target, autocommit=True) as conn, reporter or nullcontext():
        result = run.load(
            conn,
            prof,
            mode=mode,
            no_migrate=no_migrate,
            progress=reporter,
            workers=workers,
            block_rows=chunk_size,
        )
    if quiet:
        return
    if result.migrated:
        out_console.print(f"migrated: {', '.join(result.migrated)}")
    elif result.schema_state == "platform":
        out_console.print(
            "schema: made by other means (no migration record); loaded without migrating"
        )
    _print_summary(result)
    out_console.print(
        f"validated: {len(result.report.check_results) if result.report else 0} checks passed"
    )
    _print_connect_hint(target)


def _export(
    prof: profiles.Profile,
    formats: list[export_job.Format],
    out: Path | None,
    force: bool,
    shard_text: str | None,
    sql_style: Style,
    workers: int,
    chunk_size: int,
    quiet: bool,
) -> None:
    shard = Shard.parse(shard_text) if shard_text else Shard()
    directory = out or export_job.default_out(prof, shard)
    reporter = LoadProgress() if not quiet else None
    with reporter or nullcontext():
        result = export_job.export(
            prof,
            directory,
            formats,
            shard=shard,
            force=force,
            workers=workers,
            block_rows=chunk_size,
            sql_style=sql_style,
            progress=reporter,
        )
    if quiet:
        return
    table = Table(
        title=f"wrote {result.total_rows:,} rows"
        + ("" if shard.whole else f" (shard {shard})")
        + f" in {result.seconds:.2f} s"
    )
    for column in ("format", "directory", "files", "MB", "write s"):
        table.add_column(column, justify="left" if column in ("format", "directory") else "right")
    for fmt, r in result.formats.items():
        table.add_row(
            fmt, str(r.directory), str(r.files), f"{r.bytes / 1e6:,.1f}", f"{r.seconds:.2f}"
        )
    out_console.print(table)
    for fmt, r in result.formats.items():
        how = (
            f"psql -v ON_ERROR_STOP=1 -f {r.directory / 'load.sql'}"
            if fmt == "sql"
            else f"moeen-synth load {r.directory}"
        )
        out_console.print(f"load {fmt + ':':<9} {how}")


def _print_summary(result: run.LoadResult) -> None:
    copying = sum(t.seconds for t in result.tables)
    table = Table(
        title=f"loaded {result.rows:,} rows in {result.seconds:.2f} s",
        caption=(
            f"COPY {copying:.1f} s, rebuild {result.rebuild_seconds:.1f} s, "
            f"checks {result.check_seconds:.1f} s"
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


def _print_connect_hint(target: Any) -> None:
    if target.source == "embedded":
        out_console.print(f"connect: moeen-synth psql   (or psql '{target.display}')")


@main.command("load")
@click.argument(
    "directories",
    nargs=-1,
    required=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
)
@dsn_option
@click.option("--truncate", is_flag=True, help="Replace rows a previous load left in the target.")
@click.option(
    "--no-migrate",
    is_flag=True,
    help="Load into the schema as it is (made by other means); never migrate.",
)
@click.option("--quiet", "-q", is_flag=True, help="Print only errors.")
@click.pass_context
@reports_errors
def load_cmd(
    ctx: click.Context,
    directories: tuple[Path, ...],
    dsn: str | None,
    truncate: bool,
    no_migrate: bool,
    quiet: bool,
) -> None:
    """Load exported Parquet or CSV files (DIRECTORY has a manifest.json) into PostgreSQL.

    Every file is checked against the manifest's sha256 first; a changed or missing file is
    refused by name. Give all N shard directories of a sharded export to load them together.
    The load is one transaction, validated before it commits, like the main job.
    """
    files = ExportedFiles.open(list(directories))
    target = dbconnect.resolve(_dsn(ctx, dsn))
    if not quiet:
        out_console.print(f"target: {target.display} ({target.source})")
    reporter = LoadProgress() if not quiet else None
    with dbconnect.connect(target, autocommit=True) as conn, reporter or nullcontext():
        result = run.load(
            conn,
            files.profile,
            mode="truncate" if truncate else "refuse",
            no_migrate=no_migrate,
            progress=reporter,
            source=files,
        )
    if quiet:
        return
    _print_summary(result)
    out_console.print(
        f"validated: {len(result.report.check_results) if result.report else 0} checks passed"
    )


@main.command("migrate")
@dsn_option
@click.option(
    "--dry-run", is_flag=True, help="Print the SQL of pending migrations; change nothing."
)
@click.pass_context
@reports_errors
def migrate_cmd(ctx: click.Context, dsn: str | None, dry_run: bool) -> None:
    """Apply pending schema migrations (schema/NNNN_*.up.sql) in order."""
    target = dbconnect.resolve(_dsn(ctx, dsn))
    with dbconnect.connect(target, autocommit=True) as conn:
        if dry_run:
            todo = migrations.pending(conn)
            if not todo:
                out_console.print("-- nothing to migrate: the database is up to date")
            for m in todo:
                click.echo(f"-- {m.version}_{m.name} ({m.up.name})")
                click.echo(m.up.read_text(encoding="utf-8"))
            return
        applied = migrations.migrate(conn)
    if applied:
        for m in applied:
            out_console.print(f"applied {m.version}_{m.name}")
    else:
        out_console.print("nothing to migrate: the database is up to date")


@main.command("rollback")
@dsn_option
@click.option(
    "--to",
    "to",
    metavar="VERSION",
    help="Revert migrations newer than VERSION (e.g. 0001); default: all of them.",
)
@click.option("--no-backup", is_flag=True, help="Do not write a pg_dump backup first.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
@reports_errors
def rollback_cmd(
    ctx: click.Context, dsn: str | None, to: str | None, no_backup: bool, yes: bool
) -> None:
    """Revert applied migrations, newest first, after a pg_dump backup."""
    target = dbconnect.resolve(_dsn(ctx, dsn))
    with dbconnect.connect(target, autocommit=True) as conn:
        todo = migrations.to_roll_back(conn, to)
        if not todo:
            out_console.print("nothing to roll back")
            return
        names = ", ".join(f"{m.version}_{m.name}" for m in todo)
        if not yes and not click.confirm(
            f"Revert {names} on {target.display}? Data in the dropped tables is lost", default=False
        ):
            raise click.Abort()
        if not no_backup:
            out_console.print(f"backup: {_backup(target)}")
        for m in migrations.rollback(conn, to):
            out_console.print(f"reverted {m.version}_{m.name}")


def _backup(target: Any) -> str:
    from moeen_synth import paths

    pg_dump = shutil.which("pg_dump") if not client_binary("pg_dump").exists() else None
    exe = str(client_binary("pg_dump")) if client_binary("pg_dump").exists() else pg_dump
    if exe is None:
        raise MoeenSynthError(
            "no pg_dump found for the backup; install PostgreSQL's client tools or pass --no-backup"
        )
    folder = paths.outputs_dir() / "backups"
    folder.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    path = folder / f"before-rollback-{stamp}.sql"
    result = subprocess.run(
        [exe, "--no-owner", "-f", str(path), "-d", target.dsn],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        path.unlink(missing_ok=True)
        raise MoeenSynthError(
            f"pg_dump failed, nothing was rolled back: {result.stderr.strip()[:500]}"
        )
    return str(path)


@main.command("validate")
@dsn_option
@click.option("--no-schema", is_flag=True, help="Check the data only, not the schema.")
@click.pass_context
@reports_errors
def validate_cmd(ctx: click.Context, dsn: str | None, no_schema: bool) -> None:
    """Compare the target's schema with the expected one and check its data; exit 1 on any
    failure."""
    target = dbconnect.resolve(_dsn(ctx, dsn))
    with dbconnect.connect(target, autocommit=True) as conn:
        report = validate(conn, schema=not no_schema)
    _print_report(report)
    if not report.ok:
        sys.exit(1)


def _print_report(report: Report) -> None:
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
    if report.row_counts:
        counts = Table(title="rows per table")
        counts.add_column("table")
        counts.add_column("rows", justify="right")
        for t, n in report.row_counts.items():
            counts.add_row(t, f"{n:,}")
        out_console.print(counts)
    out_console.print(
        "[green]valid[/]" if report.ok else f"[red]{len(report.failures)} failure(s)[/]"
    )


@main.command("url")
@dsn_option
@click.pass_context
@reports_errors
def url_cmd(ctx: click.Context, dsn: str | None) -> None:
    """Print the target's connection URI (password masked)."""
    click.echo(dbconnect.resolve(_dsn(ctx, dsn)).display)


@main.command("psql", context_settings={"ignore_unknown_options": True})
@dsn_option
@click.argument("psql_args", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
@reports_errors
def psql_cmd(ctx: click.Context, dsn: str | None, psql_args: tuple[str, ...]) -> None:
    """Open psql on the target; extra arguments go to psql (e.g. -c 'select 1')."""
    target = dbconnect.resolve(_dsn(ctx, dsn))
    exe = client_binary("psql") if client_binary("psql").exists() else shutil.which("psql")
    if exe is None:
        raise MoeenSynthError("no psql found; install PostgreSQL's client tools")
    os.execv(str(exe), [str(exe), target.dsn, *psql_args])


@main.group("server")
def server_group() -> None:
    """Start, stop or show the embedded PostgreSQL server (data under outputs/embedded)."""


@server_group.command("start")
@reports_errors
def server_start() -> None:
    """Start the embedded server (initialising it on first use)."""
    status = dbconnect.embedded_server().ensure_running()
    out_console.print(f"running (pid {status.pid}): {status.dsn}")


@server_group.command("stop")
@reports_errors
def server_stop() -> None:
    """Stop the embedded server; its data stays under outputs/embedded."""
    was = dbconnect.embedded_server().stop()
    out_console.print("stopped" if was else "was not running")


@server_group.command("status")
@reports_errors
def server_status() -> None:
    """Say whether the embedded server runs, and where."""
    status = dbconnect.embedded_server().status()
    out_console.print(
        f"running (pid {status.pid}): {status.dsn}"
        if status.running
        else f"not running (data: {status.datadir})"
    )
