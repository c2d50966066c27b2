"""The users table: one account per person of every role."""

from __future__ import annotations

import numpy as np
import polars as pl

from moeen_synth.models.columns import either, json_objects, ts
from moeen_synth.models.context import DAY, HOUR, I64, Context
from moeen_synth.models.people import ROLES, People, layout


def user_count(ctx: Context) -> int:
    return layout(ctx).users


_BCRYPT_ALPHABET = np.frombuffer(
    b"./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", dtype=np.uint8
)


def password_hashes(ctx: Context, user: I64) -> pl.Series:
    """bcrypt-shaped strings that match no password (the platform stores bcrypt hashes)."""
    words = [ctx.stream("users", f"password{word}").bits(user) for word in range(6)]
    chars = np.empty((len(user), 53), dtype=np.uint8)
    for place in range(53):  # ten six-bit characters from each 64-bit word
        bits = words[place // 10] >> np.uint64(6 * (place % 10))
        chars[:, place] = _BCRYPT_ALPHABET[bits & np.uint64(63)]
    return "$2b$12$" + pl.Series(chars.view("S53").ravel()).cast(pl.String)


def users(ctx: Context, start: int, stop: int) -> pl.DataFrame:
    user = np.arange(start, stop, dtype=np.int64)
    people = People(ctx, user)
    stream = ctx.stream
    active = stream("users", "active").uniform(user) < 0.97
    verified = stream("users", "verified").uniform(user) < 0.9
    last_login = ctx.as_of - stream("users", "last_login").integers(user, 600, 60 * DAY)
    last_login = np.where(verified, np.maximum(last_login, people.created + HOUR), -1)
    updated = np.maximum(people.created, last_login)
    profile = json_objects(
        fullName=people.name,
        fullNameAr=people.name_ar,
        fullNameEn=people.name_en,
        nationalId=people.national_id,
        nationality=people.nationality,
        gender=either(people.female, "female", "male"),
        phone=people.phone,
    )
    preferences = json_objects(
        language=people.language,
        timezone=pl.repeat("Asia/Riyadh", len(user), eager=True),
        notifications=pl.DataFrame(
            {
                "email": np.ones(len(user), dtype=bool),
                "push": (user % 2).astype(bool),
                "sms": np.ones(len(user), dtype=bool),
            }
        ).to_struct(),
    )
    return pl.DataFrame(
        {
            "id": ctx.ids("users", user),
            "email": people.email,
            "password_hash": password_hashes(ctx, user),
            "role": pl.Series(ROLES, dtype=pl.String).gather(people.role),
            "is_active": active,
            "is_verified": verified,
            "last_login": ts(last_login),
            "created_at": ts(people.created),
            "updated_at": ts(updated),
            "profile": profile,
            "preferences": preferences,
        }
    )
