"""Dates as a Saudi clinic writes them: Arabic texts give the Gregorian date and the Hijri
(Umm al-Qura) date beside it, converted by hijridate; English texts the Gregorian date.

Times read 11:00 صباحاً / 11:00 AM, Riyadh time. Texts are built once per distinct local day
(and once per run for the minutes of a day) and gathered, so a block of a million rows costs a
few hundred conversions.
"""

from __future__ import annotations

import datetime as dt
import functools

import numpy as np
import numpy.typing as npt
import polars as pl
from hijridate import Gregorian

from moeen_synth.models.context import DAY, MINUTE, RIYADH_OFFSET, Context

EPOCH_DAY = dt.date(1970, 1, 1)


@functools.lru_cache(maxsize=4096)
def arabic_date(day: int) -> str:
    """``29 يناير 2026م الموافق 10 شعبان 1447هـ`` for days since 1970-01-01."""
    date = EPOCH_DAY + dt.timedelta(days=day)
    gregorian = Gregorian(date.year, date.month, date.day)
    hijri = gregorian.to_hijri()
    return (
        f"{date.day} {gregorian.month_name('ar')} {date.year}{gregorian.notation('ar')} الموافق "
        f"{hijri.day} {hijri.month_name('ar')} {hijri.year}{hijri.notation('ar')}"
    )


@functools.lru_cache(maxsize=4096)
def english_date(day: int) -> str:
    """``29 Jan 2026``."""
    return (EPOCH_DAY + dt.timedelta(days=day)).strftime("%d %b %Y")


def local_days(epoch: npt.ArrayLike) -> npt.NDArray[np.int64]:
    return (np.asarray(epoch, dtype=np.int64) + RIYADH_OFFSET) // DAY


def date_texts(epoch: npt.ArrayLike, arabic: npt.NDArray[np.bool_]) -> pl.Series:
    """Each instant's Riyadh date in the reader's language."""
    unique, inverse = np.unique(local_days(epoch), return_inverse=True)
    days = unique.tolist()
    # English dates then Arabic ones: a row's text is one gather.
    texts = pl.Series([*map(english_date, days), *map(arabic_date, days)], dtype=pl.String)
    return texts.gather(inverse.reshape(-1) + np.asarray(arabic, dtype=np.int64) * len(days))


def time_texts(ctx: Context, epoch: npt.ArrayLike, arabic: npt.NDArray[np.bool_]) -> pl.Series:
    """Times as 11:00 صباحاً / 11:00 AM, Riyadh time."""
    minute = (np.asarray(epoch, dtype=np.int64) + RIYADH_OFFSET) % DAY // MINUTE
    return _clock_texts(ctx).gather(minute + np.asarray(arabic, dtype=np.int64) * (DAY // MINUTE))


def _clock_texts(ctx: Context) -> pl.Series:
    """Every minute of the day as English then Arabic clock text."""

    def build() -> pl.Series:
        vocab = ctx.vocab
        texts: dict[str, list[str]] = {"en": [], "ar": []}
        for minute in range(DAY // MINUTE):
            hour, past = divmod(minute, 60)
            clock = f"{hour % 12 or 12}:{past:02d}"
            half = "am" if hour < 12 else "pm"
            texts["en"].append(f"{clock} {half.upper()}")
            texts["ar"].append(f"{clock} {vocab.text(half, 'ar')}")
        return pl.Series([*texts["en"], *texts["ar"]], dtype=pl.String)

    result: pl.Series = ctx.cached("clock_texts", build)
    return result
