"""What the commands share: options declared once, the consoles, and the error handler that
turns the library's errors into a message and an exit status."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click
from rich.console import Console

from moeen_synth.errors import MoeenSynthError

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


def truncate_option(f: F) -> F:
    return click.option(
        "--truncate", is_flag=True, help="Replace rows a previous load left in the target."
    )(f)


def no_migrate_option(f: F) -> F:
    return click.option(
        "--no-migrate",
        is_flag=True,
        help="Load into the schema as it is (made by other means); never migrate.",
    )(f)


def quiet_option(f: F) -> F:
    return click.option("--quiet", "-q", is_flag=True, help="Print only errors.")(f)


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


def dsn_of(ctx: click.Context, dsn: str | None) -> str | None:
    """A subcommand's --dsn, else the one given before the subcommand."""
    return dsn or (ctx.obj or {}).get("dsn")
