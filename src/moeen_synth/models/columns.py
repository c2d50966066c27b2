"""Column helpers shared by the table generators: coded labels, timestamps, dates, JSON,
money and digits, each built as a whole column (no Python call per row)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

I64 = npt.NDArray[np.int64]


class Labels:
    """A fixed vocabulary of labels whose values are held as int8 codes, -1 for NULL.

    Comparing and masking codes are integer operations, much cheaper than the same on arrays
    of Python strings; the text is made once, for output. ``Labels(...).name`` is
    the code of ``name``."""

    def __init__(self, *names: str) -> None:
        self.names = names
        self._codes = {name: code for code, name in enumerate(names)}
        self._text = pl.Series(names, dtype=pl.String)

    def __getattr__(self, name: str) -> int:
        try:
            return self.__dict__["_codes"][name]  # type: ignore[no-any-return]
        except KeyError:
            raise AttributeError(name) from None

    def codes(self, names: Sequence[str]) -> npt.NDArray[np.int8]:
        """The codes of ``names``, in their order (to index with a draw over them)."""
        return np.array([self._codes[name] for name in names], dtype=np.int8)

    def isin(self, codes: npt.NDArray[np.int8], *names: str) -> npt.NDArray[np.bool_]:
        return np.isin(codes, self.codes(names))

    def text(self, codes: npt.ArrayLike) -> pl.Series:
        """The labels as a string column; code -1 gives NULL."""
        code = np.asarray(codes, dtype=np.int64)
        out = self._text.gather(np.maximum(code, 0))
        return out.set(pl.Series(code < 0), None) if (code < 0).any() else out


# -- column helpers -------------------------------------------------------------------------
def ts(epoch_seconds: npt.ArrayLike) -> pl.Series:
    """Epoch seconds (UTC) as a timestamptz column; negative values mean NULL."""
    seconds = np.asarray(epoch_seconds, dtype=np.int64)
    series = pl.Series(seconds * 1_000_000).cast(pl.Datetime("us", "UTC"))
    return series.set(pl.Series(seconds < 0), None) if (seconds < 0).any() else series


def date(days: npt.ArrayLike) -> pl.Series:
    return pl.Series(np.asarray(days, dtype=np.int32)).cast(pl.Date)


def js(values: Sequence[Any]) -> list[str | None]:
    """JSON text, compact, key-sorted and with Arabic as is: stable bytes for jsonb."""
    return [
        None
        if value is None
        else json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(", ", ": "))
        for value in values
    ]


def gather_or_null(series: pl.Series, at: I64) -> pl.Series:
    """``series`` at positions ``at``, NULL where a position is -1."""
    missing = at < 0
    out = series.gather(np.maximum(at, 0))
    return out.set(pl.Series(missing), None) if missing.any() else out


def either(mask: npt.NDArray[np.bool_], yes: str, no: str) -> pl.Series:
    """One of two fixed texts per row, gathered: no per-row strings are made in Python."""
    return pl.Series([no, yes], dtype=pl.String).gather(np.asarray(mask, dtype=np.int64))


def digits(values: npt.ArrayLike, width: int) -> pl.Series:
    """Zero-padded decimal text."""
    return pl.Series(np.asarray(values, dtype=np.int64)).cast(pl.String).str.zfill(width)


def json_objects(**fields: pl.Series) -> pl.Series:
    """One JSON object per row, keys sorted, built by polars (no per-row Python)."""
    frame = pl.DataFrame({key: fields[key] for key in sorted(fields)})
    return frame.select(pl.struct(pl.all()).struct.json_encode()).to_series()


def money(halalas: npt.ArrayLike) -> pl.Series:
    """Amounts in halalas (1/100 SAR) as numeric(10,2) text; negative means NULL."""
    amount = np.asarray(halalas, dtype=np.int64)
    text = pl.Series(amount // 100).cast(pl.String) + "." + digits(amount % 100, 2)
    return text.set(pl.Series(amount < 0), None)


def text_column(rows: Sequence[dict[str, str]], key: str) -> pl.Series:
    """One field of vocabulary rows as a string column."""
    return pl.Series([row[key] for row in rows], dtype=pl.String)


def pick(rows: Sequence[dict[str, str]], idx: npt.ArrayLike, column: str) -> list[str]:
    return [rows[index][column] for index in np.asarray(idx, dtype=np.int64).tolist()]
