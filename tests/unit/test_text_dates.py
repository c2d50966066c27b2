"""Dates inside free text move with the row, in the form they were written."""

from __future__ import annotations

import datetime as dt

import polars as pl
from hijridate import Gregorian
from hypothesis import assume, given
from hypothesis import strategies as st

from moeen_synth.jobs.fixtures.text_dates import move_dates
from moeen_synth.models.dates import EPOCH_DAY, arabic_date, english_date

DAYS = st.integers(
    min_value=(dt.date(2015, 1, 1) - EPOCH_DAY).days,
    max_value=(dt.date(2030, 12, 31) - EPOCH_DAY).days,
)


@given(day=DAYS, other=DAYS, weeks=st.integers(min_value=1, max_value=26))
def test_dates_move_back_by_the_rows_weeks_in_their_own_form(
    day: int, other: int, weeks: int
) -> None:
    texts = pl.Series(
        [
            f"تم تأكيد موعدك في {arabic_date(day)}، الساعة 9:00 صباحاً",
            f"Your visit on {english_date(day)} at 9:00 AM, then {english_date(other)}.",
            f"موعدان: {arabic_date(day)} و{arabic_date(other)}",
            "لا تاريخ هنا 2025",
            None,
        ]
    )
    moved = move_dates(texts, pl.Series([weeks, weeks, weeks, weeks, weeks])).to_list()
    back = 7 * weeks
    assert moved[0] == f"تم تأكيد موعدك في {arabic_date(day - back)}، الساعة 9:00 صباحاً"
    assert moved[1] == (
        f"Your visit on {english_date(day - back)} at 9:00 AM, then {english_date(other - back)}."
    )
    assert moved[2] == f"موعدان: {arabic_date(day - back)} و{arabic_date(other - back)}"
    assert moved[3:] == texts.to_list()[3:]


def test_rows_without_a_shift_and_impossible_dates_stay() -> None:
    texts = pl.Series(["on 04 Aug 2025", "on 31 Feb 2025", "on 04 Aug 2025"])
    moved = move_dates(texts, pl.Series([0, 2, 1])).to_list()
    assert moved == ["on 04 Aug 2025", "on 31 Feb 2025", "on 28 Jul 2025"]
    assert move_dates(texts, 0).to_list() == texts.to_list()


@given(day=DAYS, weeks=st.integers(min_value=1, max_value=26))
def test_numeric_dates_in_free_text_move_and_json_timestamps_are_left_to_their_keys(
    day: int, weeks: int
) -> None:
    date = EPOCH_DAY + dt.timedelta(days=day)
    back = date - dt.timedelta(weeks=weeks)
    texts = pl.Series(
        [
            f"seen {date.isoformat()}, lab at {date.isoformat()}T10:30, "
            f"next {date.strftime('%d/%m/%Y')}",
            "CLM-2025-00001234 on 2025-13-45 and 31/02/2025, ref 12/2025",
        ]
    )
    moved = move_dates(texts, weeks, numeric=True).to_list()
    assert moved[0] == (
        f"seen {back.isoformat()}, lab at {back.isoformat()}T10:30, "
        f"next {back.strftime('%d/%m/%Y')}"
    )
    assert moved[1] == texts[1]  # no real date there
    assert move_dates(texts, weeks).to_list() == texts.to_list()  # JSON: by its keys only


INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
LEVANTINE = (
    "كانون الثاني شباط آذار نيسان أيار حزيران تموز آب أيلول تشرين_الأول تشرين_الثاني كانون_الأول"
)
LEVANTINE_NAMES = [
    name.replace("_", " ") for name in LEVANTINE.replace("كانون الثاني", "كانون_الثاني").split()
]


def _other_forms(date: dt.date) -> list[str]:
    """The same day written in the forms beyond the platform's own."""
    g = Gregorian(date.year, date.month, date.day)
    h = g.to_hijri()
    return [
        f"الموعد و{date.day} {g.month_name('ar')} {date.year}م، شكراً",  # no Hijri date
        f"الموعد {date.day} {g.month_name('ar')} {date.year}".translate(INDIC),
        f"في {date.day} {LEVANTINE_NAMES[date.month - 1]} {date.year}",
        f"الموافق {h.day} {h.month_name('ar')} {h.year} هـ".translate(INDIC),
        f"{arabic_date((date - EPOCH_DAY).days)}".translate(INDIC),
        f"Seen {date.day} {date.strftime('%B')} {date.year}; next {date.strftime('%B')} "
        f"{date.day}, {date.year}.",
        f"التاريخ {date.strftime('%d/%m/%Y')}".translate(PERSIAN),
        f"بتاريخ {date.isoformat()}".translate(INDIC),
    ]


@given(day=DAYS, weeks=st.integers(min_value=1, max_value=26))
def test_other_spellings_and_digit_scripts_move_in_their_own_form(day: int, weeks: int) -> None:
    date = EPOCH_DAY + dt.timedelta(days=day)
    back = date - dt.timedelta(weeks=weeks)
    assume(5 not in (date.month, back.month))  # "May" is short and full: read as short
    moved = move_dates(pl.Series(_other_forms(date)), weeks, numeric=True).to_list()
    assert moved == _other_forms(back)


def test_a_hijri_month_keeps_its_spelling() -> None:
    texts = pl.Series(["حتى ١٠ ذي الحجة ١٤٤٦هـ", "منذ 12 ربيع الآخر 1446 هـ"])
    moved = move_dates(texts, 1).to_list()
    assert moved == ["حتى ٣ ذي الحجة ١٤٤٦هـ", "منذ 5 ربيع الآخر 1446 هـ"]


def test_a_day_inside_a_longer_number_or_an_impossible_date_stays() -> None:
    texts = pl.Series(
        ["رقم 114 أغسطس 2025", "30 صفر 1447هـ", "٣١/٠٢/٢٠٢٥", "ref 114 Aug 2025", "في 4 شباط"]
    )
    moved = move_dates(texts, 1, numeric=True).to_list()
    assert moved[0] == "رقم 114 أغسطس 2025"  # not 4 (or 14) of August
    assert moved[1:] == texts.to_list()[1:]
