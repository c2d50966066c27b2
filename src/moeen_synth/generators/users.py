"""The users table: one account per person of every role."""

from __future__ import annotations

import numpy as np
import polars as pl

from moeen_synth.models.columns import either, json_objects, ts
from moeen_synth.models.context import DAY, I64, Context
from moeen_synth.models.people import ROLES, People, layout


def user_count(ctx: Context) -> int:
    return layout(ctx).users


_BCRYPT_ALPHABET = np.frombuffer(
    b"./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", dtype=np.uint8
)


def password_hashes(ctx: Context, u: I64) -> pl.Series:
    """bcrypt-shaped strings that match no password (the platform stores bcrypt hashes)."""
    words = [ctx.stream("users", f"password{j}").bits(u) for j in range(6)]
    chars = np.empty((len(u), 53), dtype=np.uint8)
    for k in range(53):
        chars[:, k] = _BCRYPT_ALPHABET[(words[k // 10] >> np.uint64(6 * (k % 10))) & np.uint64(63)]
    return "$2b$12$" + pl.Series(chars.view("S53").ravel()).cast(pl.String)


def users(ctx: Context, start: int, stop: int) -> pl.DataFrame:
    u = np.arange(start, stop, dtype=np.int64)
    p = People(ctx, u)
    s = ctx.stream
    active = s("users", "active").uniform(u) < 0.97
    verified = s("users", "verified").uniform(u) < 0.9
    last_login = ctx.as_of - s("users", "last_login").integers(u, 600, 60 * DAY)
    last_login = np.where(verified, last_login, -1)
    updated = np.maximum(p.created, last_login)
    profile = json_objects(
        fullName=p.name,
        fullNameAr=p.name_ar,
        fullNameEn=p.name_en,
        nationalId=p.national_id,
        nationality=p.nationality,
        gender=either(p.female, "female", "male"),
        phone=p.phone,
    )
    preferences = json_objects(
        language=p.language,
        timezone=pl.repeat("Asia/Riyadh", len(u), eager=True),
        notifications=pl.DataFrame(
            {
                "email": np.ones(len(u), dtype=bool),
                "push": (u % 2).astype(bool),
                "sms": np.ones(len(u), dtype=bool),
            }
        ).to_struct(),
    )
    return pl.DataFrame(
        {
            "id": ctx.ids("users", u),
            "email": p.email,
            "password_hash": password_hashes(ctx, u),
            "role": pl.Series(ROLES, dtype=pl.String).gather(p.role),
            "is_active": active,
            "is_verified": verified,
            "last_login": ts(last_login),
            "created_at": ts(p.created),
            "updated_at": ts(updated),
            "profile": profile,
            "preferences": preferences,
        }
    )
