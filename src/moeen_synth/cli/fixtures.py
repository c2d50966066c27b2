"""``moeen-synth fixtures``: an anonymised, consistent slice of a database."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from moeen_synth import paths
from moeen_synth.cli import options
from moeen_synth.cli.main import main
from moeen_synth.cli.progress import LoadProgress
from moeen_synth.db import connect as dbconnect
from moeen_synth.errors import UsageError
from moeen_synth.formats import FIXTURE_FORMATS

if TYPE_CHECKING:
    from moeen_synth.jobs.fixtures.policy import Policy


@main.command("fixtures")
@click.option(
    "--from",
    "source",
    metavar="URL",
    help="The database to take the slice from (read only, never written). Default: as for "
    "--dsn ($DATABASE_URL, $SUPABASE_DB_URL, DB_*, then the embedded server).",
)
@click.option("--patients", type=click.IntRange(min=1), help="How many patients (a stable draw).")
@click.option(
    "--all",
    "everything",
    is_flag=True,
    help="Every row of every table, streamed (Parquet or CSV; `moeen-synth load` reads the "
    "result). Times move back by one keyed number of weeks for the whole database.",
)
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
    type=click.Choice(FIXTURE_FORMATS),
    multiple=True,
    help="json (one file per table, in foreign-key order), sql (for psql, into an empty "
    "migrated schema), parquet or csv (the export encodings), supabase (a supabase/ folder: "
    "the schema as a migration, INSERT-only seed files); repeat for several. "
    "Default: json and sql; with --all, parquet (csv also possible).",
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
@click.option(
    "--verify",
    "check",
    is_flag=True,
    help="With --all: scan the files for every sensitive value of the source before keeping "
    "them (a selection is always scanned).",
)
@click.option("--force", is_flag=True, help="Replace the files in a non-empty --out.")
@click.pass_context
@options.reports_errors
def fixtures_cmd(
    ctx: click.Context,
    source: str | None,
    patients: int | None,
    everything: bool,
    where: str | None,
    scenario: str | None,
    key_file: Path | None,
    formats: tuple[str, ...],
    out: Path | None,
    policy_file: Path | None,
    check_policy: bool,
    check: bool,
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

    --all writes every row of every table instead, streamed to Parquet or CSV files that
    `moeen-synth load` reads back (scanned for leaks with --verify).
    """
    from moeen_synth.jobs import fixtures as fixtures_job

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
    if everything and (patients or where or scenario):
        raise UsageError(
            "--all takes every patient; give it without --patients, --where or --scenario"
        )
    if everything:
        _whole(target.dsn, fixtures_job.read_key(key_file), formats, out, rules, force, check)
        return
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


def _whole(
    dsn: str,
    key: bytes,
    formats: tuple[str, ...],
    out: Path | None,
    rules: Policy,
    force: bool,
    check: bool,
) -> None:
    from moeen_synth.jobs import fixtures as fixtures_job

    chosen = list(formats or ("parquet",))
    wrong = [f for f in chosen if f not in fixtures_job.whole.FORMATS]
    if wrong:
        raise UsageError(
            f"--all writes {' or '.join(fixtures_job.whole.FORMATS)} (files `moeen-synth load` "
            f"reads back), not {', '.join(wrong)}; for JSON or SQL fixtures choose patients"
        )
    directory = out or paths.outputs_dir() / "fixtures-all"
    with LoadProgress() as step:
        made = fixtures_job.whole.make(
            dsn, key, directory, chosen, rules, force, progress=step, check=check
        )
    total = sum(made.rows.values())
    checked = (
        f"leak check: none of {made.checked:,} sensitive values found"
        if made.checked is not None
        else "no leak check (add --verify)"
    )
    options.out_console.print(
        f"fixtures: every row, {total:,} rows in {len(made.rows)} tables in "
        f"{made.seconds:.1f} s ({total / max(made.seconds, 1e-9):,.0f} rows/s) -> {made.out}\n"
        f"{checked}\n"
        f"load them with: moeen-synth load {made.out}"
    )
