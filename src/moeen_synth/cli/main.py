"""The ``moeen-synth`` command group and its main job: ``--profile`` loads a database, or
writes files with ``--format``. Options are parsed here; the work is the jobs'."""

from __future__ import annotations

import sys
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.markup import escape

from moeen_synth.cli.logfile import logged
from moeen_synth.cli.options import (
    auth_options,
    dsn_option,
    err,
    no_backup_option,
    no_migrate_option,
    out_console,
    quiet_option,
    reports_errors,
    streams_option,
    truncate_option,
)
from moeen_synth.cli.output import (
    print_connect_hint,
    print_dask_export,
    print_export,
    print_loaded,
    print_target,
    say_backup,
)
from moeen_synth.cli.progress import LoadProgress
from moeen_synth.db import connect as dbconnect
from moeen_synth.formats import BLOCK_ROWS, EXPORT_FORMATS, ExportFormat
from moeen_synth.sinks import remote

# The jobs are imported where a command runs them: importing them all took most of a second
# of every command, --help included.
if TYPE_CHECKING:
    from moeen_synth import auth_users
    from moeen_synth import profile as profiles
    from moeen_synth.db.target import Target
    from moeen_synth.jobs import load as load_job
    from moeen_synth.sinks.sql import Style


class Commands(click.Group):
    """The command group, whose usage errors (an unknown option, a bad value) are one line
    naming what is wrong and where the help is, like every other error."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        try:
            return super().main(*args, **kwargs)
        except click.exceptions.Exit as done:
            sys.exit(done.exit_code)
        except click.exceptions.Abort:
            err.print("aborted: nothing was changed", highlight=False)
            sys.exit(1)
        except click.exceptions.NoArgsIsHelpError as exc:
            click.echo(exc.format_message())  # a group without its subcommand: its help
            sys.exit(exc.exit_code)
        except click.exceptions.ClickException as exc:
            where = exc.ctx.command_path if isinstance(exc, click.UsageError) and exc.ctx else ""
            hint = f" (see `{where} --help`)" if where else ""
            err.print(
                f"[bold red]error:[/] {escape(exc.format_message())}{hint}",
                markup=True,
                highlight=False,
                soft_wrap=True,
            )
            sys.exit(exc.exit_code)


@click.group(
    cls=Commands,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
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
@truncate_option
@click.option(
    "--append",
    is_flag=True,
    help="Add a further data set beside existing rows (new ids and unique keys).",
)
@no_migrate_option
@no_backup_option
@auth_options
@streams_option
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
    default=BLOCK_ROWS,
    show_default=True,
    help="Rows per generated block; output is the same for any.",
)
@click.option(
    "--format",
    "formats",
    type=click.Choice(EXPORT_FORMATS),
    multiple=True,
    help="Write files instead of loading a database: parquet, sql, csv or supabase (a "
    "supabase/ folder of migrations and INSERT-only seed files for the Supabase CLI); repeat "
    "for several (then one subdirectory per format). Each directory gets a manifest.json.",
)
@click.option(
    "--out",
    metavar="DIR|URL",
    help="Directory for --format (default: outputs/files/PROFILE-seedSEED), or an fsspec URL "
    "(s3://bucket/prefix with the s3 extra, gs://, az://, file://): written here, then "
    "uploaded, manifest last. A non-empty one is refused unless --force.",
)
@click.option("--force", is_flag=True, help="Replace an earlier output in --out.")
@click.option(
    "--shard",
    metavar="K/N",
    help="With --format: write only the K-th of N disjoint parts of every table; the N parts "
    "together are the whole data set (load them with `moeen-synth load DIR1 ... DIRN`).",
)
@click.option(
    "--dask",
    "dask_address",
    metavar="ADDRESS",
    help="With one --format parquet or csv: run the export as tasks on a Dask cluster: "
    "local:N starts N worker processes here, tcp://HOST:PORT joins a running scheduler "
    "(its workers must see --out at the same path, or reach its URL). The files are the "
    "same bytes as without --dask. Needs the dask extra.",
)
@click.option(
    "--sql-style",
    type=click.Choice(["copy", "inserts"]),
    default="copy",
    show_default=True,
    help="SQL files as COPY ... FROM stdin blocks, or INSERT statements for tools that "
    "cannot run COPY.",
)
@quiet_option
@click.option(
    "--debug",
    is_flag=True,
    help="Show a traceback for an unexpected error (also MOEEN_SYNTH_DEBUG=1).",
)
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
    no_backup: bool,
    auth_password: str | None,
    with_auth: bool,
    streams: int | None,
    workers: int,
    chunk_size: int,
    formats: tuple[ExportFormat, ...],
    out: str | None,
    force: bool,
    shard: str | None,
    dask_address: str | None,
    sql_style: Style,
    quiet: bool,
    debug: bool,
) -> None:
    """Synthetic, bilingual (Arabic/English) data for the Moeen healthcare platform's
    PostgreSQL schema.

    \b
    moeen-synth --profile demo          load the demo seed set (embedded server by default)
    moeen-synth --profile demo --dsn postgresql://user@host/db
    moeen-synth --profile demo --supabase-local    into `supabase start`'s database
    moeen-synth --profile demo --format supabase --out seed/   files for `supabase db reset`
    moeen-synth --profile clinic --format parquet --format csv --out data/
    moeen-synth load data/csv           load exported files into the target
    moeen-synth validate                check schema and data of the target
    moeen-synth psql                    open psql on the target

    The main job migrates the target if needed, generates the profile's rows, loads them with
    COPY in one transaction, validates them before committing, and prints a summary. With
    --format it writes files instead, each format's directory complete or not there at all.
    """
    ctx.obj = {"dsn": dsn, "debug": debug}
    if ctx.invoked_subcommand is not None:
        if profile_name:
            raise click.UsageError("--profile runs the main job; give it without a command")
        return
    if not profile_name:
        click.echo(ctx.get_help())
        return
    if truncate and append:
        raise click.UsageError("--truncate and --append exclude each other")
    if append and streams is not None and streams > 1:
        raise click.UsageError("--streams above 1 fills empty tables; not with --append")
    from moeen_synth import auth_users
    from moeen_synth import profile as profiles
    from moeen_synth.jobs import dask_export

    prof = profiles.load(profile_name).with_overrides(seed=seed, scale=scale)
    if formats:
        database_only = {
            "--dsn": dsn,
            "--truncate": truncate,
            "--append": append,
            "--no-migrate": no_migrate,
            "--no-backup": no_backup,
            "--with-auth": with_auth,
            "--streams": streams is not None,
        }
        given = [name for name, value in database_only.items() if value]
        if given:
            raise click.UsageError(f"{', '.join(given)} apply to database loads, not to --format")
        if auth_password is not None and "supabase" not in formats:
            raise click.UsageError("--auth-password goes with a database load or --format supabase")
        if dask_address:
            if shard or len(formats) != 1 or formats[0] not in dask_export.FORMATS:
                raise click.UsageError(
                    "--dask takes one --format, parquet or csv, and no --shard (its tasks "
                    "are the shards)"
                )
            _export_on_dask(prof, formats[0], out, force, dask_address, chunk_size, quiet)
            return
        accounts = auth_users.wanted(prof, auth_password) if "supabase" in formats else None
        _export(
            prof, list(formats), out, force, shard, sql_style, workers, chunk_size, quiet, accounts
        )
        return
    if shard or out or force or dask_address:
        raise click.UsageError("--shard, --out, --force and --dask go with --format (file output)")
    mode: load_job.Mode = "truncate" if truncate else "append" if append else "refuse"
    accounts = auth_users.wanted(prof, auth_password)
    _load(
        prof,
        dsn,
        mode,
        no_migrate,
        no_backup,
        workers,
        chunk_size,
        quiet,
        accounts,
        with_auth,
        streams,
    )


def _load(
    prof: profiles.Profile,
    dsn: str | None,
    mode: load_job.Mode,
    no_migrate: bool,
    no_backup: bool,
    workers: int,
    chunk_size: int,
    quiet: bool,
    accounts: auth_users.Accounts | None,
    with_auth: bool,
    streams: int | None,
) -> None:
    target = dbconnect.resolve(dsn)
    result = run_load(
        target,
        prof,
        mode=mode,
        no_migrate=no_migrate,
        no_backup=no_backup,
        quiet=quiet,
        accounts=accounts,
        with_auth=with_auth,
        streams=streams,
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
    print_loaded(result, accounts)
    print_connect_hint(target)


def run_load(
    target: Target,
    prof: profiles.Profile,
    *,
    mode: load_job.Mode,
    no_migrate: bool,
    no_backup: bool,
    quiet: bool,
    accounts: auth_users.Accounts | None,
    with_auth: bool,
    streams: int | None,
    **source: Any,
) -> load_job.LoadResult:
    """One load as both commands run it (generated rows, or exported files as ``source``):
    logged, with progress, a backup before a destructive step unless ``no_backup``."""
    from moeen_synth.jobs import backups
    from moeen_synth.jobs import load as load_job

    if not quiet:
        print_target(target)
    reporter = LoadProgress() if not quiet else None
    with (
        logged("load", target.display, quiet=quiet),
        dbconnect.connect(
            target, autocommit=True, create=True, say=None if quiet else out_console.print
        ) as conn,
        reporter or nullcontext(),
    ):
        step = backups.destructive_step(conn, truncate=mode == "truncate", migrate=not no_migrate)
        if step and not no_backup:
            say_backup(backups.backup(conn, target, step))
        return load_job.load(
            conn,
            prof,
            mode=mode,
            no_migrate=no_migrate,
            progress=reporter,
            accounts=accounts,
            with_auth=with_auth,
            streams=streams,
            connect=lambda: dbconnect.connect(target),
            **source,
        )


def _export(
    prof: profiles.Profile,
    formats: list[ExportFormat],
    out: str | None,
    force: bool,
    shard_text: str | None,
    sql_style: Style,
    workers: int,
    chunk_size: int,
    quiet: bool,
    accounts: auth_users.Accounts | None,
) -> None:
    from moeen_synth.jobs import export as export_job
    from moeen_synth.plan import Shard

    shard = Shard.parse(shard_text) if shard_text else Shard()
    reporter = LoadProgress() if not quiet else None

    def run(directory: Path, force: bool) -> export_job.ExportResult:
        with reporter or nullcontext():
            return export_job.export(
                prof,
                directory,
                formats,
                shard=shard,
                force=force,
                workers=workers,
                block_rows=chunk_size,
                sql_style=sql_style,
                progress=reporter,
                accounts=accounts,
            )

    if out is not None and remote.is_url(out):
        with remote.uploading(out, force=force, say=None if quiet else out_console.print) as local:
            result = run(local, False)
        result.url = out
    else:
        result = run(Path(out) if out else export_job.default_out(prof, shard), force)
    if quiet:
        return
    print_export(result, shard, accounts)


def _export_on_dask(
    prof: profiles.Profile,
    fmt: str,
    out: str | None,
    force: bool,
    address: str,
    chunk_size: int,
    quiet: bool,
) -> None:
    from moeen_synth.jobs import dask_export
    from moeen_synth.jobs import export as export_job
    from moeen_synth.plan import Shard

    assert fmt in dask_export.FORMATS
    directory: Path | str = export_job.default_out(prof, Shard())
    if out:
        directory = out if remote.is_url(out) else Path(out)
    reporter = LoadProgress() if not quiet else None
    with reporter or nullcontext():
        result = dask_export.export(
            prof,
            directory,
            fmt,
            address,
            force=force,
            block_rows=chunk_size,
            progress=reporter,
            say=None if quiet else out_console.print,
        )
    if not quiet:
        print_dask_export(result, fmt)
