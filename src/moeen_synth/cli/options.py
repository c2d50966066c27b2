"""What the commands share: options declared once, the consoles, and the error handler that
turns the library's errors into a message and an exit status."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import click
import psycopg
from rich.console import Console
from rich.markup import escape

from moeen_synth.db import migrate as migrations
from moeen_synth.db.target import SUPABASE_LOCAL, redact
from moeen_synth.errors import MoeenSynthError

F = TypeVar("F", bound=Callable[..., Any])
out_console = Console(highlight=False)
err = Console(stderr=True, highlight=False)


def _supabase_local(ctx: click.Context, param: click.Parameter, given: bool) -> None:
    if not given:
        return
    if ctx.params.get("dsn") not in (None, SUPABASE_LOCAL):
        raise click.BadParameter("give either --dsn or --supabase-local", ctx, param)
    ctx.params["dsn"] = SUPABASE_LOCAL


def _dsn(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None and ctx.params.get("dsn") == SUPABASE_LOCAL:
        raise click.BadParameter("give either --dsn or --supabase-local", ctx, param)
    return value if value is not None else ctx.params.get("dsn")


def dsn_option(f: F) -> F:
    """--dsn and --supabase-local, shared by every command that talks to a database."""
    f = click.option(
        "--supabase-local",
        is_flag=True,
        expose_value=False,
        callback=_supabase_local,
        help=f"Use the database `supabase start` runs ({redact(SUPABASE_LOCAL)}).",
    )(f)
    return click.option(
        "--dsn",
        metavar="URL",
        callback=_dsn,
        help="PostgreSQL connection URI or key=value string. Default: $DATABASE_URL, then "
        "$SUPABASE_DB_URL, then DB_HOST/DB_PORT/DB_NAME/DB_USER/DB_PASSWORD, then the "
        "embedded server under outputs/.",
    )(f)


# Flags several commands share, declared once.
truncate_option = click.option(
    "--truncate", is_flag=True, help="Replace rows a previous load left in the target."
)
no_migrate_option = click.option(
    "--no-migrate",
    is_flag=True,
    help="Load into the schema as it is (made by other means); never migrate.",
)
no_backup_option = click.option(
    "--no-backup",
    is_flag=True,
    help="Do not write a pg_dump backup under outputs/backups/ before changing the target.",
)
quiet_option = click.option("--quiet", "-q", is_flag=True, help="Print only errors.")


class StreamsType(click.ParamType):  # type: ignore[type-arg]
    """--streams: ``auto`` (None) or a number from 1."""

    name = "auto|N"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if value is None or value == "auto":
            return None
        try:
            number = int(value)
        except (TypeError, ValueError):
            number = 0
        if number < 1:
            self.fail(f"{value!r} is neither auto nor a number from 1", param, ctx)
        return number


streams_option = click.option(
    "--streams",
    type=StreamsType(),
    default="auto",
    show_default=True,
    help="COPY streams (connections) into the target. Above 1, the largest tables are loaded "
    "into a staging schema through further connections, their keys and indexes built there "
    "in parallel, and swapped in inside the load's one transaction: still all or nothing. "
    "auto: 1 for small loads and --append, else half the server's cores, at most 4 (a "
    "remote server's max_parallel_workers stands in for its cores); see README, Large loads.",
)


def auth_options(f: F) -> F:
    """--auth-password and --with-auth: sign-in accounts for the loaded users."""
    f = click.option(
        "--with-auth",
        is_flag=True,
        help="On a PostgreSQL that is not Supabase, make a minimal Supabase auth schema "
        "(auth.users, auth.identities, auth.uid(), roles anon, authenticated, service_role) "
        "so that the users can sign in and the platform's RLS can be tried.",
    )(f)
    return click.option(
        "--auth-password",
        metavar="TEXT",
        envvar="MOEEN_AUTH_PASSWORD",
        help="Give every user a sign-in account (auth.users) with this password "
        "($MOEEN_AUTH_PASSWORD). Default: the profile's auth section (the demo's users sign "
        "in with demo-password); other shipped profiles make no accounts.",
    )(f)


def _debugging() -> bool:
    """--debug was given (to the command group), or MOEEN_SYNTH_DEBUG is set."""
    if os.environ.get("MOEEN_SYNTH_DEBUG"):
        return True
    ctx = click.get_current_context(silent=True)
    return bool(ctx and (ctx.find_root().obj or {}).get("debug"))


def _fail(message: str, status: int) -> NoReturn:
    err.print(
        f"[bold red]error:[/] {escape(message)}", markup=True, highlight=False, soft_wrap=True
    )
    sys.exit(status)


def reports_errors(f: F) -> F:
    """Turn every error into one line and an exit status, never a traceback (unless
    --debug): the library's errors as they are worded, a database's error by its first line,
    anything else by its type and message."""

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return f(*args, **kwargs)
        except (click.exceptions.ClickException, click.exceptions.Abort, click.exceptions.Exit):
            raise  # click reports these itself
        except MoeenSynthError as exc:
            _fail(str(exc), exc.exit_code)
        except KeyboardInterrupt:
            # The load's transaction was rolled back on the way out.
            err.print("interrupted: nothing was committed", highlight=False)
            sys.exit(130)
        except Exception as exc:
            if _debugging():
                raise
            lines = str(exc).strip().splitlines()
            if isinstance(exc, psycopg.Error):
                _fail(f"the database said: {lines[0] if lines else type(exc).__name__}", 1)
            _fail(
                f"unexpected {type(exc).__name__}: {lines[0] if lines else 'no message'} "
                "(rerun with --debug to see where)",
                1,
            )

    return wrapper  # type: ignore[return-value]


def dsn_of(ctx: click.Context, dsn: str | None) -> str | None:
    """A subcommand's --dsn, else the one given before the subcommand."""
    return dsn or (ctx.obj or {}).get("dsn")


def require_platform(conn: psycopg.Connection[Any], display: str, remedy: str) -> None:
    """Refuse a target without the platform's tables, saying how to get them."""
    if migrations.state(conn) == "empty":
        raise MoeenSynthError(f"{display} has none of the platform's tables; {remedy}")
