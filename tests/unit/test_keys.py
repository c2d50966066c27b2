"""Keyed randomness: pure functions of (seed, names, index)."""

from __future__ import annotations

import uuid

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from moeen_synth import keys


@given(seed=st.integers(0, 2**32), start=st.integers(0, 10**9), n=st.integers(1, 200))
def test_uuids_are_v4_and_a_pure_function_of_the_index(seed: int, start: int, n: int) -> None:
    idx = np.arange(start, start + n)

    whole = keys.uuids(seed, "users", idx).to_list()
    parts = (
        keys.uuids(seed, "users", idx[: n // 2]).to_list()
        + keys.uuids(seed, "users", idx[n // 2 :]).to_list()
    )

    assert whole == parts
    assert all(uuid.UUID(u).version == 4 for u in whole)


words = st.lists(st.integers(0, 2**64 - 1), min_size=3, max_size=3)


@given(rows=st.lists(words, min_size=0, max_size=50))
def test_uuid_text_formats_the_bits_as_pythons_uuid_does(rows: list[list[int]]) -> None:
    head, mid, tail = np.array(rows, dtype=np.uint64).reshape(-1, 3).T
    expected = [
        str(uuid.UUID(int=(h & 0xFFFFFFFF) << 96 | (m >> 32) << 64 | t)) for h, m, t in rows
    ]

    assert keys.uuid_text(head, mid, tail).to_list() == expected


@settings(max_examples=5, deadline=None)
@given(seed=st.integers(0, 2**32))
def test_public_id_prefix_never_repeats_within_a_table(seed: int) -> None:
    # public_id is UNIQUE and made of the first 8 hex digits of the id.
    heads = {u[:8] for u in keys.uuids(seed, "appointments", np.arange(300_000))}

    assert len(heads) == 300_000


def test_tables_and_seeds_get_different_ids() -> None:
    idx = np.arange(100)

    assert set(keys.uuids(1, "users", idx)).isdisjoint(keys.uuids(1, "patients", idx))
    assert set(keys.uuids(1, "users", idx)).isdisjoint(keys.uuids(2, "users", idx))


@given(
    weights=st.lists(st.floats(0.05, 10), min_size=2, max_size=6),
    n=st.integers(1, 500),
    seed=st.integers(0, 2**31),
)
def test_quota_gives_exact_apportioned_shares(weights: list[float], n: int, seed: int) -> None:
    cats = keys.quota(seed, "t", "p", idx=np.arange(n), n=n, weights=weights)

    assert np.array_equal(np.bincount(cats, minlength=len(weights)), keys.apportion(n, weights))


@given(n=st.integers(1, 300), seed=st.integers(0, 2**31), data=st.data())
def test_quota_of_a_member_does_not_depend_on_its_neighbours(
    n: int, seed: int, data: st.DataObject
) -> None:
    members = data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=20))
    whole = keys.quota(seed, "t", "p", idx=np.arange(n), n=n, weights=[1, 2, 3])

    some = keys.quota(seed, "t", "p", idx=np.array(members), n=n, weights=[1, 2, 3])

    assert np.array_equal(some, whole[members])


@given(n=st.integers(0, 10_000), weights=st.lists(st.floats(0.01, 100), min_size=1, max_size=8))
def test_apportion_sums_to_n_and_stays_within_one_of_exact(n: int, weights: list[float]) -> None:
    counts = keys.apportion(n, weights)
    exact = n * np.array(weights) / sum(weights)

    assert counts.sum() == n
    assert np.all(np.abs(counts - exact) < 1)


def test_stream_values_are_in_range_and_reproducible() -> None:
    s = keys.Stream(5, "users", "age")
    idx = np.arange(10_000)

    u = s.uniform(idx)
    k = s.integers(idx, 3, 9)

    assert u.min() >= 0 and u.max() < 1
    assert k.min() == 3 and k.max() == 8
    assert np.array_equal(u, keys.Stream(5, "users", "age").uniform(idx))


@given(rows=st.lists(st.lists(st.integers(0, 2**64 - 1), min_size=2, max_size=2), max_size=30))
def test_hex_text_is_each_words_sixteen_digits(rows: list[list[int]]) -> None:
    words = np.array(rows, dtype=np.uint64).reshape(-1, 2).T

    assert keys.hex_text(list(words)).to_list() == [f"{a:016x}{b:016x}" for a, b in rows]
