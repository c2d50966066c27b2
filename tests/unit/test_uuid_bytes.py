"""UUID texts to bytes, as the binary COPY and Parquet sinks take them."""

from __future__ import annotations

import uuid

import numpy as np
import polars as pl
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from moeen_synth.sinks.uuid_bytes import NotUuid, uuid_array, uuid_bytes

UUIDS = st.lists(st.one_of(st.none(), st.uuids()), max_size=200)


@given(UUIDS, st.booleans())
def test_the_bytes_are_pythons_for_every_value_and_nulls_stay_null(
    values: list[uuid.UUID | None], upper: bool
) -> None:
    texts = [None if v is None else (str(v).upper() if upper else str(v)) for v in values]
    array = uuid_array(pl.Series(texts, dtype=pl.String))
    assert array.type == pa.uuid()
    assert array.storage.to_pylist() == [None if v is None else v.bytes for v in values]


@pytest.mark.parametrize(
    "bad",
    [
        "0123abcd-0000-4000-8000-abcdef01234g",  # not a hex digit
        "0123abcd-0000-4000-8000+abcdef012345",  # a dash missing
        "0123abcd-0000-4000-8000-abcdef01234",  # one digit short
        "0123abcd 0000-4000-8000-abcdef012345",  # a space for a dash
        "01 3abcd-0000-4000-8000-abcdef012 45",  # spaces, which bytes.fromhex skips
        "0123abcd-0000-4000-8000-abcdef0123456",  # one digit over
    ],
)
def test_a_value_that_is_not_a_uuid_is_named(bad: str) -> None:
    good = str(uuid.UUID(int=7))
    column = pl.Series([good, bad, None])
    with pytest.raises(NotUuid, match="not a UUID: '" + bad.replace("+", r"\+")):
        uuid_bytes(column, np.array([False, False, True]))
