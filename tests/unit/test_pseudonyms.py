"""Keyed pseudonyms keep their formats, and text is rewritten word by word in one pass."""

from __future__ import annotations

import datetime as dt
import itertools
import re
import tempfile
import uuid
from pathlib import Path
from unittest import mock

import numpy as np
import numpy.typing as npt
import polars as pl
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from moeen_synth import vocab
from moeen_synth.jobs.fixtures import policy, spilled, verify
from moeen_synth.jobs.fixtures.names import NameParts
from moeen_synth.jobs.fixtures.pseudonyms import Keyed, luhn
from moeen_synth.jobs.fixtures.rewrite import Rewriter, shift_json

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
    new = KEY.format_number("CLM-2025-00001234")
    assert re.fullmatch(r"CLM-2025-\d{8}", new) and new != "CLM-2025-00001234"


def test_uuids_are_a_permutation_marked_version_4() -> None:
    originals = pl.Series([str(uuid.UUID(int=n)) for n in range(20_000)])
    new = KEY.uuids(originals)
    assert new.n_unique() == len(originals)
    assert new.str.contains(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-").all()
    assert KEY.uuid(originals[7].upper()) == new[7]


def test_a_name_keeps_its_pair_and_gender() -> None:
    names = NameParts(KEY, vocab.load())
    first = next(r for r in vocab.load().first_names if r["gender"] == "female")
    arabic, english = names.part(first["name_ar"]), names.part(first["name_en"])
    pair = next(r for r in vocab.load().first_names if r["name_ar"] == arabic)
    assert pair["name_en"] == english and pair["gender"] == "female"


REWRITER = Rewriter(KEY, vocab.load(), policy.load(), dt.date(2026, 1, 1))
MAPPING = REWRITER.names.mapping
SINGLE = sorted(k for k, v in MAPPING.items() if k != v and " " not in k and "-" not in k)


def test_text_is_rewritten_in_one_pass() -> None:
    # a -> b and b -> c: a must come out as b, not as c.
    a = next(k for k in SINGLE if MAPPING[k] in MAPPING and MAPPING[MAPPING[k]] != MAPPING[k])
    b, c = MAPPING[a], MAPPING[MAPPING[a]]
    text = f"Dear {a} (+966501234567), {b} will call"
    out = REWRITER.text.rewrite(pl.Series([text])).item()
    assert out == f"Dear {b} ({KEY.phone('+966501234567')}), {c} will call"


def test_a_name_inside_a_longer_word_is_kept() -> None:
    name = next(k for k in SINGLE if re.fullmatch("[\u0621-\u064a]+", k) and k + "ه" not in MAPPING)
    out = REWRITER.text.rewrite(pl.Series([f"{name}ه {name}"])).item()
    assert out == f"{name}ه {MAPPING[name]}"


def test_text_takes_the_names_known_when_its_batch_started() -> None:
    """A batch rewritten on another thread takes the name patterns of its start: a name
    learned meanwhile (from a later batch) does not change it; the next batch has it."""
    rewriter = Rewriter(KEY, vocab.load(), policy.load(), dt.date(2026, 1, 1))
    before = rewriter.text.name_patterns()
    rewriter.learn_names(pl.Series(["Zyxwvutq Qwertzuy"]))  # parts no vocabulary holds
    after = rewriter.text.name_patterns()
    text = pl.Series(["Dear Zyxwvutq, welcome"])
    assert rewriter.strings("text", text, before).item() == "Dear Zyxwvutq, welcome"
    pseudonym = rewriter.names.mapping["Zyxwvutq"]
    assert rewriter.strings("text", text, after).item() == f"Dear {pseudonym}, welcome"
    assert "Zyxwvutq" not in before.forms and "Zyxwvutq" in after.forms


WORDS = st.one_of(
    st.sampled_from(SINGLE),
    st.sampled_from(["the", "visit", "في", "موعد", "1:00", "320.00", "2025-03-01"]),
    st.from_regex(
        r"\+9665[0-9]{8}|05[0-9]{8}|[12][0-9]{9}|MRN[0-9]{8}|CLM-2025-[0-9]{8}", fullmatch=True
    ),
    st.uuids().map(str),
)


@given(
    st.lists(st.tuples(WORDS, st.sampled_from([" ", ", ", "، ", "\n", " (", ") "])), max_size=12)
)
def test_text_is_rewritten_word_by_word(pieces: list[tuple[str, str]]) -> None:
    """Whatever the words and separators, the rewrite equals mapping each word alone."""
    words = [w for w, _ in pieces]
    assume(all(f"{a} {b}" not in MAPPING for a, b in itertools.pairwise(words)))
    text = "".join(w + s for w, s in pieces)
    expected = "".join(_one_word(w) + s for w, s in pieces)
    assert REWRITER.text.rewrite(pl.Series([text])).item() == expected


def _one_word(word: str) -> str:
    if word in MAPPING:
        return MAPPING[word]
    if re.fullmatch(r"[0-9a-f-]{36}", word):
        return KEY.uuid(word)
    if word.startswith("05"):
        return "0" + KEY.phone("+966" + word[1:])[4:]
    if word.startswith("+"):
        return KEY.phone(word)
    if re.fullmatch(r"[12]\d{9}", word):
        return KEY.national_id(word)
    return KEY.format_number(word)


def test_distinct_numbers_phones_and_ids_stay_distinct() -> None:
    n = 30_000
    claims = pl.Series([f"CLM-2025-{i:08d}" for i in range(n)])
    phones = pl.Series([f"+9665{i:08d}" for i in range(n)])
    ids = pl.Series([f"1{i:08d}" for i in range(n)]).map_elements(
        lambda body: body + str(luhn(body)), return_dtype=pl.String
    )
    assert KEY.numbers(claims).n_unique() == n
    assert KEY.phones(phones).n_unique() == n
    new_ids = KEY.national_ids(ids)
    assert new_ids.n_unique() == n
    assert all(int(v[-1]) == luhn(v[:-1]) for v in new_ids.to_list())


def test_times_inside_json_move_and_quantities_stay() -> None:
    values = pl.Series(
        [
            '{"status": "pending", "scheduled_at": 1749115800, "amount": 15000}',
            '{"created_at": "2025-01-08T10:00:00+00:00", "phone": "+966501234567"}',
            None,
        ]
    )
    moved = REWRITER.strings("json", shift_json(values, 2)).to_list()
    assert moved[0] == '{"status": "pending", "scheduled_at": 1747906200, "amount": 15000}'
    assert moved[1] == (
        f'{{"created_at": "2024-12-25T10:00:00+00:00", "phone": "{KEY.phone("+966501234567")}"}}'
    )
    assert moved[2] is None


@given(
    st.from_regex(r"05[0-9]{8}|\+9665[0-9]{8}|[12][0-9]{9}|[0-9]{7}", fullmatch=True),
    st.sampled_from(["٠١٢٣٤٥٦٧٨٩", "۰۱۲۳۴۵۶۷۸۹"]),
)
def test_numbers_in_arabic_indic_digits_get_the_same_pseudonym_in_their_digits(
    number: str, digits: str
) -> None:
    """A phone or id typed in Arabic-Indic (or Persian) digits becomes the pseudonym the
    ASCII form gets, written back in the digits it was typed in; short numbers (a time, a
    day) stay."""
    to_local = str.maketrans("0123456789", digits)
    typed = number.translate(to_local)
    text = f"رقم الجوال {typed}، الموعد ٩:٣٠ يوم ١٢"
    expected_ascii = REWRITER.text.rewrite(pl.Series([f"x {number} y"])).item()[2:-2]
    out = REWRITER.text.rewrite(pl.Series([text])).item()
    assert out == f"رقم الجوال {expected_ascii.translate(to_local)}، الموعد ٩:٣٠ يوم ١٢"
    assert typed not in out


@given(
    st.from_regex(
        r"MRN[0-9]{8}|CLM-20[0-9]{2}-[0-9]{8}|INS[0-9]{7}|[A-Z]{2}[0-9]{6}", fullmatch=True
    ),
    st.sampled_from(["٠١٢٣٤٥٦٧٨٩", "۰۱۲۳۴۵۶۷۸۹"]),
)
def test_identifiers_of_letters_and_arabic_indic_digits_get_the_ascii_forms_pseudonym(
    identifier: str, digits: str
) -> None:
    """MRN٠٠٠١٢٣٤٥ is MRN00012345 typed with Arabic-Indic digits: the same pseudonym, its
    digits written back as they were typed."""
    to_local = str.maketrans("0123456789", digits)
    typed = identifier.translate(to_local)
    expected_ascii = REWRITER.text.rewrite(pl.Series([f"x {identifier} y"])).item()[2:-2]
    assert expected_ascii != identifier
    out = REWRITER.text.rewrite(pl.Series([f"رقم الملف {typed}، شكرا"])).item()
    assert out == f"رقم الملف {expected_ascii.translate(to_local)}، شكرا"


def test_the_leak_check_reads_arabic_indic_digits(tmp_path: Path) -> None:
    leaked = tmp_path / "01_notifications.json"
    leaked.write_text('[{"message": "اتصل على ٠٥٠١٢٣٤٥٦٧"}]\n', encoding="utf-8")
    written = {"patients": pl.DataFrame({"phone": ["0501234567"]})}
    with pytest.raises(verify.LeakError, match=r"01_notifications\.json line 1"):
        verify.check_files([leaked], ["0501234567"], written)


hashes = st.lists(
    st.lists(st.one_of(st.integers(0, 50), st.integers(0, 2**64 - 1)), max_size=40), max_size=30
)


@given(hashes, hashes)
def test_spilled_sets_hold_the_distinct_hashes_of_their_batches_in_order(
    batches: list[list[int]], others: list[list[int]]
) -> None:
    """Partitions in order are the sorted distinct hashes of every batch; a difference made
    partition by partition equals numpy's over the whole sets (equal hashes share one)."""
    with tempfile.TemporaryDirectory() as tmp, mock.patch.object(spilled, "BUFFER_BYTES", 64):
        left = spilled.SpilledSet(Path(tmp), "left")  # flushed every few batches
        right = spilled.SpilledSet(Path(tmp), "right")
        for batch in batches:
            left.add(np.array(batch, dtype=np.uint64))
        for batch in others:
            right.add(np.array(batch, dtype=np.uint64))
        parts = [left.partition(p) for p in range(1 << spilled.PARTITION_BITS)]
        every = {h for batch in batches for h in batch}
        assert np.concatenate(parts).tolist() == sorted(every)
        out = Path(tmp) / "difference.u64"

        def difference(pair: list[npt.NDArray[np.uint64]]) -> npt.NDArray[np.uint64]:
            return np.setdiff1d(pair[0], pair[1], assume_unique=True)

        count = spilled.combine([left, right], difference, out)
        expected = sorted(every - {h for batch in others for h in batch})
        assert spilled.mapped(out, count).tolist() == expected
