"""Sign-in accounts for the platform's users, stored the way Supabase Auth stores them.

The platform's policies compare ``auth.uid()`` with ``public.users.id``, so each account is an
``auth.users`` row with the same id plus the ``auth.identities`` row without which the auth
server refuses the password (facts of Supabase Auth as of its 2.x releases). Both rows are
made in SQL from ``public.users`` (``INSERT ... SELECT``): the same statements serve a load,
which runs them in its transaction, and the seed files of ``--format supabase``; they scale
with the server, not with Python.

Every account gets one bcrypt hash of the chosen password, so a million users cost one hash.
The salt is drawn from the seed and password instead of at random: same profile, same bytes.
That is no weaker than the documented demo password it protects.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass

import bcrypt
import numpy as np

from moeen_synth.errors import UsageError
from moeen_synth.models.context import Context
from moeen_synth.models.people import ROLES, People, layout
from moeen_synth.profile import Profile

BCRYPT_COST = 10  # what Supabase Auth writes
MIN_PASSWORD = 6  # Supabase Auth's default minimum length
INSTANCE = "00000000-0000-0000-0000-000000000000"
MARK = "moeen_synth"  # key in raw_app_meta_data: rows moeen-synth made, and may remove
_BCRYPT_ALPHABET = b"./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

# The token columns the auth server reads as strings: NULL there breaks sign-in. The last
# four came with later releases; a target lacking one simply does not get it.
TOKENS = (
    "confirmation_token",
    "recovery_token",
    "email_change_token_new",
    "email_change",
    "phone_change",
    "phone_change_token",
    "email_change_token_current",
    "reauthentication_token",
)
OPTIONAL = frozenset(TOKENS[4:])


@dataclass(frozen=True)
class Accounts:
    """Sign-in accounts to make: the password and where it came from (never printed when
    it was given on the command line)."""

    password: str
    source: str  # "profile" or "--auth-password"
    seed: int

    @functools.cached_property
    def hash(self) -> str:  # bcrypt costs about 60 ms: once per run
        return password_hash(self.password, self.seed)


def wanted(profile: Profile, password: str | None) -> Accounts | None:
    """The accounts a run makes: those the profile asks for, or any user's when a password
    is given; None when neither."""
    if password is not None:
        _check(password, "--auth-password")
        return Accounts(password, "--auth-password", profile.seed)
    if not profile.auth.users:
        return None
    if profile.auth.password is None:
        raise UsageError(
            f"profile {profile.name}: auth.users is true but auth.password is not set; "
            "add auth.password to the profile or pass --auth-password"
        )
    return Accounts(profile.auth.password, "profile", profile.seed)


def _check(password: str, where: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise UsageError(
            f"{where}: a password of at least {MIN_PASSWORD} characters (Supabase Auth's "
            "minimum) is needed"
        )


def password_hash(password: str, seed: int) -> str:
    """bcrypt ($2a$, cost 10, as the auth server writes) with a salt drawn from the seed."""
    digest = hashlib.sha256(f"moeen-synth auth salt {seed} {password}".encode()).digest()
    # 22 characters carry 128 bits: the last one holds only two of them (one of ".Oeu").
    salt = bytes(_BCRYPT_ALPHABET[b % 64] for b in digest[:21]) + b".Oeu"[digest[21] % 4 :][:1]
    hashed = bcrypt.hashpw(password.encode("utf-8"), b"$2a$%02d$" % BCRYPT_COST + salt)
    return hashed.decode("ascii")


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def user_columns(password_hash: str, present: frozenset[str] | None = None) -> dict[str, str]:
    """auth.users column -> its value over ``u`` (a public.users row); ``present`` (the
    target's columns) drops the optional token columns it lacks."""
    meta = (
        "jsonb_build_object('full_name', u.profile->>'fullName', "
        "'full_name_ar', u.profile->>'fullNameAr', 'full_name_en', u.profile->>'fullNameEn', "
        "'role', u.role, 'email_verified', true)"
    )
    columns = {
        "instance_id": f"{_literal(INSTANCE)}::uuid",
        "id": "u.id",
        "aud": "'authenticated'",
        "role": "'authenticated'",
        "email": "u.email",
        "encrypted_password": _literal(password_hash),
        "email_confirmed_at": "u.created_at",
        **{token: "''" for token in TOKENS},
        "raw_app_meta_data": (
            f"""'{{"provider": "email", "providers": ["email"], "{MARK}": true}}'::jsonb"""
        ),
        "raw_user_meta_data": meta,
        "last_sign_in_at": "u.last_login",
        "created_at": "u.created_at",
        "updated_at": "u.updated_at",
    }
    if present is not None:
        columns = {c: v for c, v in columns.items() if c in present or c not in OPTIONAL}
    return columns


IDENTITY_COLUMNS = {
    # Deterministic ids (the table's default is random), one identity per user.
    "id": "md5('moeen-synth identity ' || u.id::text)::uuid",
    "user_id": "u.id",
    "provider": "'email'",
    "provider_id": "u.id::text",
    "identity_data": (
        "jsonb_build_object('sub', u.id::text, 'email', u.email, 'email_verified', true, "
        "'phone_verified', false)"
    ),
    "last_sign_in_at": "u.last_login",
    "created_at": "u.created_at",
    "updated_at": "u.updated_at",
}


def statements(password_hash: str, present: frozenset[str] | None = None) -> tuple[str, str]:
    """INSERT statements that give every public.users row without an account one: its
    auth.users row, then its e-mail identity."""
    columns = user_columns(password_hash, present)
    values = ", ".join(columns.values())
    users = (
        f"INSERT INTO auth.users ({', '.join(columns)})\n"
        f"SELECT {values}\nFROM public.users u\n"
        "WHERE NOT EXISTS (SELECT 1 FROM auth.users a WHERE a.id = u.id)\nORDER BY u.id;\n"
    )
    identities = (
        f"INSERT INTO auth.identities ({', '.join(IDENTITY_COLUMNS)})\n"
        f"SELECT {', '.join(IDENTITY_COLUMNS.values())}\n"
        "FROM public.users u JOIN auth.users a ON a.id = u.id\n"
        f"WHERE a.raw_app_meta_data ? '{MARK}'\n"
        "  AND NOT EXISTS (SELECT 1 FROM auth.identities i\n"
        "                  WHERE i.user_id = u.id AND i.provider = 'email')\nORDER BY u.id;\n"
    )
    return users, identities


REMOVE = (
    # Accounts moeen-synth made for users about to be removed; identities go with them
    # (ON DELETE CASCADE in Supabase's schema and in the stand-in).
    f"DELETE FROM auth.users a USING public.users u WHERE a.id = u.id "
    f"AND a.raw_app_meta_data ? '{MARK}'"
)


def sign_in_examples(ctx: Context) -> list[tuple[str, str]]:
    """(role, e-mail) of the first admin, doctor and patient of the run, where it has one."""
    lay = layout(ctx)
    picks = [r for r in ("admin", "doctor", "patient") if lay.counts[ROLES.index(r)] > 0]
    if not picks:
        return []
    people = People(ctx, np.array([lay.offset(r) for r in picks], dtype=np.int64))
    return list(zip(picks, people.email.to_list(), strict=True))
