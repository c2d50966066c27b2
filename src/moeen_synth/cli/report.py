"""``moeen-synth report``: the data beside the profile's targets, as HTML and JSON."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from moeen_synth import paths
from moeen_synth.cli import options
from moeen_synth.cli.main import main
from moeen_synth.db import connect as dbconnect


@main.command("report")
@click.argument(
    "directory",
    required=False,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
)
@options.dsn_option
@click.option(
    "--profile",
    "profile_name",
    metavar="NAME|PATH",
    help="Compare with this profile's targets. Default: the profile the data was made with "
    "(the export's manifest, or the database's last recorded load).",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the HTML page. Default: outputs/report.html.",
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print the targets and verdicts as JSON (for CI)."
)
@click.option(
    "--lang",
    type=click.Choice(["ar", "en"]),
    default="ar",
    show_default=True,
    help="The language the page opens in (it switches between both).",
)
@click.pass_context
@options.reports_errors
def report_cmd(
    ctx: click.Context,
    directory: Path | None,
    dsn: str | None,
    profile_name: str | None,
    out: Path | None,
    as_json: bool,
    lang: str,
) -> None:
    """Report what a database (--dsn, default: the usual target) or an exported Parquet
    DIRECTORY holds, beside the profile's targets: a self-contained HTML page with charts
    (age-sex pyramid, visits by weekday and hour, status, payment, claim and notice shares,
    languages and nationalities, visits per patient, diagnoses, insurers, rows per table,
    validate's checks), and a verdict per target.

    Exit status: 0 every target met; 1 a target failed (shown in red, listed by --json).
    """
    if directory is not None and dsn is not None:
        raise click.UsageError("give a DIRECTORY or --dsn, not both")
    from moeen_synth import profile as profiles
    from moeen_synth.jobs import report as report_job

    profile = profiles.load(profile_name) if profile_name else None
    if directory is not None:
        measured = report_job.from_files(directory, profile)
    else:
        target = dbconnect.resolve(options.dsn_of(ctx, dsn))
        with dbconnect.connect(target, autocommit=True) as conn:
            options.require_platform(
                conn, target.display, "load data first (moeen-synth --profile demo)"
            )
            measured = report_job.from_database(conn, profile)
            measured.source = target.display
    report = report_job.build(measured)
    written = report_job.write(report, out or paths.outputs_dir() / "report.html", lang)
    if as_json:
        click.echo(json.dumps({**report.json(), "html": str(written)}, ensure_ascii=False))
    else:
        met = len(report.targets) - len(report.failed)
        options.out_console.print(f"report: {written}")
        options.out_console.print(f"targets met: {met} of {len(report.targets)}")
        for failed in report.failed:
            options.out_console.print(
                f"  [red]failed[/red] {failed.section}: {failed.label} {failed.item} "
                f"measured {failed.measured:.4g}, accepted {failed.low:.4g}..{failed.high:.4g}",
            )
    if not report.ok:
        sys.exit(1)
