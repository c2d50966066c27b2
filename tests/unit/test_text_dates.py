"""Dates inside free text move with the row, in the form they were written."""

from __future__ import annotations

import datetime as dt

import polars as pl
from hypothesis import given
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
