"""The subcommands: load exported files, migrate, roll back, validate, and reach the
target (url, psql, the embedded server)."""

from __future__ import annotations

import os
import shutil
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import click
import psycopg

from moeen_synth import catalogue
from moeen_synth.cli import options
from moeen_synth.cli.logfile import logged
from moeen_synth.cli.main import main, run_load
from moeen_synth.cli.output import (
    print_backups,
    print_loaded,
    print_report,
    report_json,
    say_backup,
)
from moeen_synth.db import connect as dbconnect
from moeen_synth.db import migrate as migrations
from moeen_synth.db.embedded import client_binary
from moeen_synth.db.target import Target
from moeen_synth.errors import MoeenSynthError
from moeen_synth.sinks import remote

__all__ = ["main"]  # the command group, with the subcommands below added to it
NO_DATA = 3  # validate's exit status when the schema is right but no rows were loaded


@main.command("load")
@click.argument("directories", nargs=-1, required=True, metavar="DIRECTORY|URL...")
@options.dsn_option
@options.truncate_option
@options.no_migrate_option
@options.no_backup_option
@options.auth_options
@options.streams_option
@options.quiet_option
@click.pass_context
@options.reports_errors
def load_cmd(
    ctx: click.Context,
    directories: tuple[str, ...],
    dsn: str | None,
    truncate: bool,
    no_migrate: bool,
    no_backup: bool,
    auth_password: str | None,
    with_auth: bool,
    streams: int | None,
    quiet: bool,
) -> None:
    """Load exported Parquet or CSV files (DIRECTORY has a manifest.json) into PostgreSQL.

    A URL (s3://bucket/prefix, gs://, file://, ... as written by --out URL) is downloaded to
    outputs/tmp first: its manifest, then the files it lists; removed after the load.
    Every file is checked against the manifest's sha256 first; a changed or missing file is
    refused by name. Give all N shard directories of a sharded export to load them together.
    The load is one transaction, validated before it commits, like the main job.
    """
    from moeen_synth import auth_users
    from moeen_synth.jobs.load_files import ExportedFiles

    with ExitStack() as fetched:
        local = [_local_export(fetched, d, quiet) for d in directories]
        files = ExportedFiles.open(local)
        accounts = auth_users.wanted(files.profile, auth_password)
        result = run_load(
            dbconnect.resolve(options.dsn_of(ctx, dsn)),
            files.profile,
            mode="truncate" if truncate else "refuse",
            no_migrate=no_migrate,
            no_backup=no_backup,
            quiet=quiet,
            accounts=accounts,
            with_auth=with_auth,
            streams=streams,
            source=files,
        )
    if not quiet:
        print_loaded(result, accounts)


def _local_export(stack: ExitStack, where: str, quiet: bool) -> Path:
    """An export's directory: ``where`` itself, or a URL's files downloaded for the load."""
    if remote.is_url(where):
        say = None if quiet else options.out_console.print
        return stack.enter_context(remote.downloaded(where, say))
    path = Path(where)
    if not path.is_dir():
        raise click.BadParameter(
            f"{where}: no such directory (give an export's directory or its URL)",
            param_hint="DIRECTORY",
        )
    return path


@main.command("migrate")
@options.dsn_option
@click.option(
    "--dry-run", is_flag=True, help="Print the SQL of pending migrations; change nothing."
)
@options.no_backup_option
@click.pass_context
@options.reports_errors
def migrate_cmd(ctx: click.Context, dsn: str | None, dry_run: bool, no_backup: bool) -> None:
    """Apply pending schema migrations (schema/NNNN_*.up.sql) in order, after a backup of a
    database that holds rows."""
    from moeen_synth.jobs import backups

    target = dbconnect.resolve(options.dsn_of(ctx, dsn))
    with dbconnect.connect(
        target, autocommit=True, create=not dry_run, say=options.out_console.print
    ) as conn:
        if dry_run:
            todo = migrations.pending(conn)
            if not todo:
                options.out_console.print("-- nothing to migrate: the database is up to date")
            for m in todo:
                click.echo(f"-- {m.version}_{m.name} ({m.up.name})")
                click.echo(m.up.read_text(encoding="utf-8"))
            return
        with logged("migrate", target.display):
            if not no_backup and backups.destructive_step(conn) == "migrate":
                say_backup(backups.backup(conn, target, "migrate"))
            applied = migrations.migrate(conn)
            for m in applied:
                options.out_console.print(f"applied {m.version}_{m.name}")
            if not applied:
                options.out_console.print("nothing to migrate: the database is up to date")


@main.command("rollback")
@options.dsn_option
@click.option(
    "--to",
    "to",
    metavar="VERSION",
    help="Revert migrations newer than VERSION (e.g. 0001); default: all of them.",
)
@click.option(
    "--all",
    "everything",
    is_flag=True,
    help="Drop every object of the platform's schema, also one made by the platform's own "
    "SQL (no migrations to revert).",
)
@options.no_backup_option
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
@options.reports_errors
def rollback_cmd(
    ctx: click.Context,
    dsn: str | None,
    to: str | None,
    everything: bool,
    no_backup: bool,
    yes: bool,
) -> None:
    """Revert applied migrations, newest first, after a pg_dump backup.

    Rows moeen-synth loaded go first, in the same transaction: all or nothing. Asks for
    confirmation unless --yes; a run without a terminal must give --yes. A schema made by
    the platform's own SQL has no migrations: --all drops its objects instead."""
    from moeen_synth.jobs import backups, lifecycle

    if everything and to is not None:
        raise click.UsageError("--all and --to exclude each other")
    target = dbconnect.resolve(options.dsn_of(ctx, dsn))
    with dbconnect.connect(target, autocommit=True) as conn:
        state = migrations.state(conn)
        if state == "foreign":
            raise MoeenSynthError(
                f"{target.display} holds some of the platform's tables but not all, and no "
                "record of moeen-synth's migrations: moeen-synth does not touch a schema it "
                "cannot recognise. Drop what you need to by hand"
            )
        if state == "platform":
            _drop_platform(conn, target, everything, no_backup, yes)
            return
        plan = lifecycle.plan_rollback(conn, to)
        if not plan.migrations:
            options.out_console.print("nothing to roll back")
            return
        question = (
            f"Revert {plan.names} on {target.display}? Its {plan.rows:,} rows in the "
            "platform's tables are lost"
        )
        _confirm(question, yes)
        with logged("rollback", target.display):
            if not no_backup:
                say_backup(backups.backup(conn, target, "rollback"))
            for name in lifecycle.rollback(conn, plan, to):
                options.out_console.print(f"reverted {name}")


def _drop_platform(
    conn: psycopg.Connection[Any], target: Target, everything: bool, no_backup: bool, yes: bool
) -> None:
    """rollback on a schema made by other means: only with --all, dropping its objects."""
    from moeen_synth.jobs import backups, lifecycle

    if not everything:
        raise MoeenSynthError(
            f"{target.display} has the platform's tables but no record of moeen-synth's "
            "migrations (made by the platform's own SQL): there is nothing to revert. "
            "`moeen-synth rollback --all` drops every object of the platform's schema"
        )
    rows = migrations.platform_rows(conn)
    _confirm(
        f"Drop every table, view and function of the platform's schema in {target.display}, "
        f"with its {rows:,} rows?",
        yes,
    )
    with logged("rollback", target.display):
        if not no_backup:
            say_backup(backups.backup(conn, target, "rollback"))
        dropped = lifecycle.drop_platform(conn)
    options.out_console.print(
        f"dropped {len(dropped)} objects: {', '.join(dropped)}", soft_wrap=True
    )


@main.command("backups")
@click.pass_context
@options.reports_errors
def backups_cmd(ctx: click.Context) -> None:
    """List the backups under outputs/backups/: when, of which database, before which
    step, how many rows, how large."""
    from moeen_synth.jobs import backups

    print_backups(backups.listing())


@main.command("restore")
@click.argument("backup", type=click.Path(dir_okay=False, path_type=Path))
@options.dsn_option
@options.no_backup_option
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
@options.reports_errors
def restore_cmd(
    ctx: click.Context, backup: Path, dsn: str | None, no_backup: bool, yes: bool
) -> None:
    """Restore BACKUP (a file `moeen-synth backups` lists) into the target in one
    transaction, then validate it. What the backup holds replaces what is there; a target
    holding rows is backed up first."""
    from moeen_synth.db.validate import validate
    from moeen_synth.jobs import backups

    backups.check_readable(backup)
    target = dbconnect.resolve(options.dsn_of(ctx, dsn))
    with dbconnect.connect(
        target, autocommit=True, create=True, say=options.out_console.print
    ) as conn:
        rows = migrations.platform_rows(conn)
        question = f"Restore {backup.name} into {target.display}, replacing its {rows:,} rows?"
        _confirm(question, yes)
        with logged("restore", target.display):
            if rows and not no_backup:
                say_backup(backups.backup(conn, target, "restore"))
            backups.restore(target, backup, backups.server_major(conn))
    options.out_console.print(f"restored {backup.name}")
    with dbconnect.connect(target, autocommit=True) as conn:
        report = validate(conn, behaviour=True)
    print_report(report)
    if not report.ok:
        sys.exit(1)


def _confirm(question: str, yes: bool) -> None:
    """Ask ``question`` unless --yes; without a terminal, refuse instead of asking."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise MoeenSynthError(f"{question} It asks first: give --yes to confirm in a script")
    if not click.confirm(question, default=False):
        raise click.Abort()


@main.command("validate")
@options.dsn_option
@click.option("--no-schema", is_flag=True, help="Check the data only, not the schema.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON (for CI).")
@click.pass_context
@options.reports_errors
def validate_cmd(ctx: click.Context, dsn: str | None, no_schema: bool, as_json: bool) -> None:
    """Compare the target's schema with the expected one and check its data.

    Exit status: 0 valid; 1 a difference or a failed check; 3 valid but the generated
    tables hold no rows (load the demo with `moeen-synth --profile demo`)."""
    from moeen_synth.db.validate import validate

    target = dbconnect.resolve(options.dsn_of(ctx, dsn))
    with dbconnect.connect(target, autocommit=True) as conn:
        options.require_platform(
            conn,
            target.display,
            "create them with `moeen-synth migrate` (or load the demo with "
            "`moeen-synth --profile demo`)",
        )
        report = validate(conn, schema=not no_schema, behaviour=True)
    if as_json:
        click.echo(report_json(report))
    else:
        print_report(report)
    if not report.ok:
        sys.exit(1)
    if report.row_counts and not any(report.row_counts[t] for t in catalogue.GENERATED):
        if not as_json:
            options.out_console.print("no data: run `moeen-synth --profile demo`")
        sys.exit(NO_DATA)


@main.command("url")
@options.dsn_option
@click.pass_context
@options.reports_errors
def url_cmd(ctx: click.Context, dsn: str | None) -> None:
    """Print the target's connection URI (password masked)."""
    click.echo(dbconnect.resolve(options.dsn_of(ctx, dsn)).display)


@main.command("psql", context_settings={"ignore_unknown_options": True})
@options.dsn_option
@click.argument("psql_args", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
@options.reports_errors
def psql_cmd(ctx: click.Context, dsn: str | None, psql_args: tuple[str, ...]) -> None:
    """Open psql on the target; extra arguments go to psql (e.g. -c 'select 1')."""
    from moeen_synth.jobs import backups

    target = dbconnect.resolve(options.dsn_of(ctx, dsn))
    exe = client_binary("psql") if client_binary("psql").exists() else shutil.which("psql")
    if exe is None:
        raise MoeenSynthError("no psql found; install PostgreSQL's client tools")
    address, environment = backups.without_password(target)
    os.execve(str(exe), [str(exe), address, *psql_args], environment)


@main.group("server")
def server_group() -> None:
    """Start, stop or show the embedded PostgreSQL server (data under outputs/embedded)."""


@server_group.command("start")
@options.reports_errors
def server_start() -> None:
    """Start the embedded server (initialising it on first use)."""
    status = dbconnect.embedded_server().ensure_running()
    options.out_console.print(f"running (pid {status.pid}): {status.dsn}")


@server_group.command("stop")
@options.reports_errors
def server_stop() -> None:
    """Stop the embedded server; its data stays under outputs/embedded."""
    was = dbconnect.embedded_server().stop()
    options.out_console.print("stopped" if was else "was not running")


@server_group.command("status")
@options.reports_errors
def server_status() -> None:
    """Say whether the embedded server runs, and where."""
    status = dbconnect.embedded_server().status()
    options.out_console.print(
        f"running (pid {status.pid}): {status.dsn}"
        if status.running
        else f"not running (data: {status.datadir})"
    )
