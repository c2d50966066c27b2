"""Keyed pseudonyms keep their formats, and text is rewritten in one pass."""

from __future__ import annotations

import datetime as dt
import re

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from moeen_synth import vocab
from moeen_synth.jobs.fixtures import policy
from moeen_synth.jobs.fixtures.pseudonyms import Keyed, NameParts, luhn
from moeen_synth.jobs.fixtures.rewrite import Rewriter

KEY = Keyed(b"unit test key, sixteen bytes or more")


@given(st.from_regex(r"[12]\d{9}", fullmatch=True))
def test_a_national_id_keeps_length_first_digit_and_a_valid_check_digit(original: str) -> None:
    new = KEY.national_id(original)
    assert len(new) == 10 and new[0] == original[0]
    assert int(new[-1]) == luhn(new[:-1])


@given(st.from_regex(r"\+9665\d{8}", fullmatch=True))
def test_a_phone_stays_a_saudi_mobile_and_an_email_a_reserved_one(original: str) -> None:
    assert re.fullmatch(r"\+9665\d{8}", KEY.phone(original))
    assert re.fullmatch(r"user\.[0-9a-f]{12}@example\.(com|org|net)", KEY.email(original + "@x.sa"))


def test_numbers_keep_their_letters_and_short_runs() -> None:
    new = KEY.format_number("claim", "CLM-2025-00001234")
    assert re.fullmatch(r"CLM-2025-\d{8}", new) and new != "CLM-2025-00001234"


def test_a_name_keeps_its_pair_and_gender() -> None:
    names = NameParts(KEY, vocab.load())
    first = next(r for r in vocab.load().first_names if r["gender"] == "female")
    arabic, english = names.part(first["name_ar"]), names.part(first["name_en"])
    pair = next(r for r in vocab.load().first_names if r["name_ar"] == arabic)
    assert pair["name_en"] == english and pair["gender"] == "female"


def test_text_is_rewritten_in_one_pass() -> None:
    rewriter = Rewriter(KEY, vocab.load(), policy.load(), dt.date(2026, 1, 1))
    # Sara's pseudonym is Huda, and Huda (another row's original) becomes Mona: Sara must
    # come out as Huda, not as Mona.
    rewriter.dictionary.update({"Sara": "Huda", "Huda": "Mona", "+966501234567": "+966511111111"})
    out = rewriter.rewrite(pl.Series(["Dear Sara (+966501234567), Huda will call"])).item()
    assert out == "Dear Huda (+966511111111), Mona will call"
