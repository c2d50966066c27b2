"""Where the data goes: resolve the connection target from options and environment.

Order of precedence: ``--dsn`` (or ``--supabase-local``: the database ``supabase start``
runs), then ``DATABASE_URL``, then ``SUPABASE_DB_URL`` (a Supabase project's database), then
the platform seed README's ``DB_HOST DB_PORT DB_NAME DB_USER DB_PASSWORD``, then the embedded
server under ``outputs/``. ``SUPABASE_URL`` and the API keys address Supabase's HTTP API, not
its database: they are never used as a target, only named in a note when nothing else is.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from psycopg import ProgrammingError
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from moeen_synth.errors import UsageError

_PLATFORM_VARS = ("DB_HOST", "DB_PORT", "DB_NAME", "DB_USER", "DB_PASSWORD")
# The Supabase CLI's local database (`supabase start`), with the CLI's documented defaults.
SUPABASE_LOCAL = "postgresql://postgres:postgres@127.0.0.1:54322/postgres"
_SUPABASE_API_VARS = ("SUPABASE_URL", "SUPABASE_ANON_KEY", "SUPABASE_SERVICE_ROLE_KEY")


@dataclass(frozen=True)
class Target:
    """A database to connect to, and where that choice came from."""

    dsn: str
    source: str  # "--dsn", "--supabase-local", "DATABASE_URL", "SUPABASE_DB_URL", "DB_* ..."
    embedded_dir: Path | None = None
    note: str | None = None  # something the user should know about this choice

    @property
    def display(self) -> str:
        """The connection string with any password masked, safe to print or log."""
        return redact(self.dsn)


def redact(dsn: str) -> str:
    """Mask the password in a URI or key=value connection string."""
    try:
        params = conninfo_to_dict(dsn)
    except Exception:
        return "<unparsable connection string>"
    if "password" in params:
        params["password"] = "******"
    if dsn.startswith(("postgresql://", "postgres://")):
        return _as_uri(params)
    return make_conninfo(**{k: str(v) for k, v in params.items()})


def _as_uri(params: Mapping[str, object]) -> str:
    user = str(params.get("user", ""))
    password = ":******" if "password" in params else ""
    host = str(params.get("host", ""))
    port = f":{params['port']}" if "port" in params else ""
    auth = f"{user}{password}@" if user else ""
    extra = {
        k: v for k, v in params.items() if k not in {"user", "password", "host", "port", "dbname"}
    }
    query = "?" + "&".join(f"{k}={v}" for k, v in extra.items()) if extra else ""
    if host.startswith("/"):
        query = ("?" if not query else query + "&") + f"host={host}"
        host = ""
    return f"postgresql://{auth}{host}{port}/{params.get('dbname', '')}{query}"


def from_environment(dsn: str | None, env: Mapping[str, str] | None = None) -> Target | None:
    """The explicitly configured target, or None when the embedded server should be used."""
    env = os.environ if env is None else env
    if dsn == SUPABASE_LOCAL:
        return Target(dsn=dsn, source="--supabase-local")
    if dsn:
        return _checked(Target(dsn=dsn, source="--dsn"))
    for variable in ("DATABASE_URL", "SUPABASE_DB_URL"):
        if env.get(variable):
            return _checked(Target(dsn=env[variable], source=variable))
    present = [v for v in _PLATFORM_VARS if env.get(v)]
    if present:
        missing = [v for v in ("DB_HOST", "DB_NAME", "DB_USER") if not env.get(v)]
        if missing:
            raise UsageError(
                f"DB_* variables are partly set ({', '.join(present)}); missing "
                f"{', '.join(missing)}. Set all of DB_HOST DB_NAME DB_USER (DB_PORT and "
                "DB_PASSWORD are optional), or use --dsn / DATABASE_URL instead."
            )
        params = {
            "host": env["DB_HOST"],
            "port": env.get("DB_PORT", "5432"),
            "dbname": env["DB_NAME"],
            "user": env["DB_USER"],
        }
        if env.get("DB_PASSWORD"):
            params["password"] = env["DB_PASSWORD"]
        return Target(dsn=make_conninfo(**params), source="DB_* variables")
    return None


def api_only_note(env: Mapping[str, str] | None = None) -> str | None:
    """What to say when Supabase's API settings are set but no database address is."""
    env = os.environ if env is None else env
    present = [v for v in _SUPABASE_API_VARS if env.get(v)]
    if not present:
        return None
    return (
        f"{', '.join(present)} {'is' if len(present) == 1 else 'are'} Supabase API settings, "
        "not a database address: set SUPABASE_DB_URL to the project's database connection "
        "string, or give --supabase-local for the database of `supabase start`"
    )


# What is wrong, in words of our own: psycopg's messages quote what the user wrote, which
# may be the password.
_REASONS = (
    ("percent-encoded", "a bad percent escape (a % not followed by two hex digits)"),
    ('missing "="', 'a word without "=" (key=value pairs, or a postgresql:// URI)'),
    ("unterminated quoted string", "an unterminated quoted string"),
    ("invalid connection option", "an unknown option name"),
    ("invalid URI", "a malformed URI"),
)


def _reason(message: str) -> str:
    for found, reason in _REASONS:
        if found in message:
            return reason
    return "it does not parse"


def _checked(target: Target) -> Target:
    """``target`` if its connection string parses; else UsageError saying what is wrong
    without repeating any of it (a bad escape may sit in the password)."""
    try:
        params = conninfo_to_dict(target.dsn)
    except ProgrammingError as exc:
        raise UsageError(
            f"the connection string from {target.source} is not valid: {_reason(str(exc))}. "
            "Write it as postgresql://USER:PASSWORD@HOST:PORT/DATABASE (percent-encode special "
            "characters in the password, e.g. %25 for %) or as key=value pairs"
        ) from None
    port = str(params.get("port", ""))
    if port and not all(part.isdigit() for part in port.split(",")):
        raise UsageError(
            f"the connection string from {target.source} is not valid: the port must be a "
            "number, e.g. postgresql://USER@HOST:5432/DATABASE"
        )
    return target
