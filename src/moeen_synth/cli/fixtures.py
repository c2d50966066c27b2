"""``moeen-synth fixtures``: an anonymised, consistent slice of a database."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from moeen_synth import paths
from moeen_synth.cli import options
from moeen_synth.cli.main import main
from moeen_synth.db import connect as dbconnect
from moeen_synth.errors import UsageError
from moeen_synth.jobs import fixtures as fixtures_job


@main.command("fixtures")
@click.option(
    "--from",
    "source",
    metavar="URL",
    help="The database to take the slice from (read only, never written). Default: as for "
    "--dsn ($DATABASE_URL, DB_*, then the embedded server).",
)
@click.option("--patients", type=click.IntRange(min=1), help="How many patients (a stable draw).")
@click.option(
    "--where",
    metavar="'TABLE: PREDICATE'",
    help="The patients owning a row of TABLE matching the SQL PREDICATE, "
    "e.g. \"insurance_claims: status = 'rejected'\".",
)
@click.option(
    "--scenario", metavar="NAME", help="A named selection from profiles/fixtures/scenarios.yaml."
)
@click.option(
    "--key-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The secret key of the pseudonyms (16 bytes or more); the same key gives the same "
    "files. It is never written anywhere.",
)
@click.option(
    "--format",
    "formats",
    type=click.Choice(fixtures_job.FORMATS),
    multiple=True,
    help="json (one file per table, in foreign-key order), sql (for psql, into an empty "
    "migrated schema), parquet or csv (the export encodings); repeat for several. "
    "Default: json and sql.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory to write (default: outputs/fixtures); a non-empty one needs --force.",
)
@click.option(
    "--policy",
    "policy_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The column policy (default: the shipped schema/fixtures-policy.yaml).",
)
@click.option(
    "--check-policy",
    is_flag=True,
    help="Only list the source's columns the policy does not cover (exit status 1 if any).",
)
@click.option("--force", is_flag=True, help="Replace the files in a non-empty --out.")
@click.pass_context
@options.reports_errors
def fixtures_cmd(
    ctx: click.Context,
    source: str | None,
    patients: int | None,
    where: str | None,
    scenario: str | None,
    key_file: Path | None,
    formats: tuple[str, ...],
    out: Path | None,
    policy_file: Path | None,
    check_policy: bool,
    force: bool,
) -> None:
    """Write an anonymised slice of a database: the chosen patients, everything they own
    (visits, records, claims, payments, notices, chats, audit rows) and everything that
    references (doctors, reference tables), every foreign key resolved inside the slice.

    Ids, names (Arabic and English, same gender), phones, e-mails, national ids, numbers
    and addresses become keyed pseudonyms, the same inside free text and JSON; a patient's
    times move back together by whole weeks. Every column must be named by the policy, and a
    leak check scans the files for the source's sensitive values: either fails before
    anything is kept.
    """
    rules = fixtures_job.policy.load(policy_file)
    target = dbconnect.resolve(source or options.dsn_of(ctx, None))
    if check_policy:
        with dbconnect.connect(target, autocommit=True) as conn:
            problems = fixtures_job.policy.uncovered(
                rules, fixtures_job.policy.source_columns(conn)
            )
        for problem in problems:
            click.echo(problem)
        if problems:
            sys.exit(1)
        options.out_console.print(f"the policy covers every column of {target.display}")
        return
    if key_file is None:
        raise UsageError("--key-file FILE is needed: the secret key of the pseudonyms")
    if scenario and (patients or where):
        raise UsageError(
            "--scenario chooses the patients itself; give it without --patients or --where"
        )
    chosen = (
        fixtures_job.selection.scenario(scenario)
        if scenario
        else fixtures_job.Selection(count=patients, where=where)
    )
    if chosen.count is None and chosen.where is None:
        raise UsageError(
            "choose the patients: --patients N, --where 'TABLE: PREDICATE' or --scenario NAME"
        )
    key = fixtures_job.read_key(key_file)
    directory = out or paths.outputs_dir() / "fixtures"
    with dbconnect.connect(target) as conn:
        made = fixtures_job.make(
            conn, chosen, key, directory, list(formats or ("json", "sql")), rules, force
        )
    total = sum(made.rows.values())
    options.out_console.print(
        f"fixtures: {made.patients} patients, {total:,} rows in {len(made.rows)} tables -> "
        f"{made.directory} (leak check: none found)"
    )
