"""PostgreSQL's binary COPY format for a generated block, built column by column.

Why binary: the server parses no text, so it takes the same rows in less time than CSV or
text; building it costs the client a little more than CSV, far less than the server time it
saves (the measurements are in bench/README.md, "Figures behind design choices").

Each field is a 4-byte big-endian length (-1 for NULL) and the value in its type's binary
(send/recv) form; a row is a 2-byte field count and its fields. Fields are made per column
with numpy, as arrow binary arrays, and pyarrow's ``binary_join_element_wise`` lays the
rows out one after another: the COPY body. No value passes through Python one by one,
except text[] arrays (a few flows).

Column types come from the target table (``sinks.postgres.target_types``), not from the
frame: an Int64 column is sent as integer or bigint, a string as uuid, numeric, jsonb or
inet, as the table declares.
"""

from __future__ import annotations

import re
import struct

import numpy as np
import numpy.typing as npt
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from moeen_synth.sinks.uuid_bytes import NotUuid, uuid_bytes

HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
TRAILER = struct.pack(">h", -1)
_PG_EPOCH_US = 946_684_800_000_000  # 2000-01-01, PostgreSQL's epoch, in Unix microseconds
_PG_EPOCH_DAYS = 10_957
_TEXT_OID = 25
_FIXED = {
    "boolean": ">u1",
    "smallint": ">i2",
    "integer": ">i4",
    "bigint": ">i8",
    "real": ">f4",
    "double precision": ">f8",
}
_TEXT = re.compile(r"^(text|character varying(\(\d+\))?|varchar(\(\d+\))?|json)$")
_NUMERIC = re.compile(r"^numeric\((\d+),(\d+)\)$")
_OTHER = ("uuid", "jsonb", "inet", "date", "timestamp with time zone", "text[]")


class NotBinary(ValueError):
    """A column this encoder cannot put in binary form with the exact meaning the text form
    has (a type it does not know, a float or over-long fraction for numeric, an address
    that is not IPv4, text that is not a UUID): the caller sends the block as CSV."""


Fields = list[pa.Array]  # arrow binary arrays whose row-wise concatenation is the fields


def supported(sql_type: str) -> bool:
    """Whether ``copy_binary`` can encode a column of this schema type."""
    return (
        sql_type in _FIXED
        or sql_type in _OTHER
        or bool(_TEXT.match(sql_type))
        or bool(_NUMERIC.match(sql_type))
    )


def copy_binary(frame: pl.DataFrame, types: dict[str, str]) -> bytes:
    """The frame's rows as a binary COPY stream, header and trailer included."""
    return b"".join(copy_binary_parts(frame, types))


def copy_binary_parts(frame: pl.DataFrame, types: dict[str, str]) -> list[bytes | memoryview]:
    """``copy_binary`` as header, body and trailer, the body not copied out of arrow."""
    n = frame.height
    if n == 0:
        return [HEADER, TRAILER]
    fields: Fields = []
    for i, name in enumerate(frame.columns):
        # the row's field count goes before its first field
        lead = struct.pack(">h", frame.width) if i == 0 else b""
        fields += _column(frame[name], types[name], lead)
    joined = pc.binary_join_element_wise(*fields, pa.scalar(b"", pa.large_binary()))
    _, offsets, data = joined.buffers()
    ends = np.frombuffer(offsets, dtype=np.int64, count=n + 1, offset=joined.offset * 8)
    return [HEADER, memoryview(data)[int(ends[0]) : int(ends[-1])], TRAILER]


def _column(s: pl.Series, sql_type: str, lead: bytes) -> Fields:
    null = s.is_null().to_numpy()
    if sql_type in _FIXED:
        return [_fixed(_number_bytes(s, sql_type), null, lead)]
    if sql_type == "timestamp with time zone":
        # a naive time would mean the session's time zone in text form: not exact here
        if not (isinstance(s.dtype, pl.Datetime) and s.dtype.time_zone):
            raise NotBinary(f"timestamptz from {s.dtype}")
        us = s.dt.epoch("us").fill_null(0).to_numpy() - _PG_EPOCH_US
        return [_fixed(us.astype(">i8").view(np.uint8).reshape(len(s), 8), null, lead)]
    if sql_type == "date":
        if s.dtype != pl.Date:
            raise NotBinary(f"date from {s.dtype}")
        days = s.cast(pl.Int32).fill_null(0).to_numpy() - _PG_EPOCH_DAYS
        return [_fixed(days.astype(">i4").view(np.uint8).reshape(len(s), 4), null, lead)]
    if sql_type == "uuid":
        return [_fixed(_uuid_bytes(s, null), null, lead)]
    if sql_type == "inet":
        return [_fixed(_inet_bytes(s, null), null, lead)]
    if numeric := _NUMERIC.match(sql_type):
        precision, scale = int(numeric.group(1)), int(numeric.group(2))
        return [_fixed(_numeric_bytes(s, null, precision, scale), null, lead)]
    if sql_type == "text[]":
        return _variable(_text_arrays(s), null, lead)
    if sql_type == "jsonb":
        return _variable(_utf8(s), null, lead, version=b"\x01")
    if _TEXT.match(sql_type):
        return _variable(_utf8(s), null, lead)
    raise NotBinary(f"no binary encoding for type {sql_type}")


def _number_bytes(s: pl.Series, sql_type: str) -> npt.NDArray[np.uint8]:
    """Booleans and numbers in their big-endian form; a value out of the type's range (which
    the text form would refuse) or a column of another kind is not for binary."""
    kind = _FIXED[sql_type]
    if sql_type == "boolean":
        if s.dtype != pl.Boolean:
            raise NotBinary(f"boolean from {s.dtype}")
        values = s.fill_null(False).to_numpy()
    elif sql_type in ("real", "double precision"):
        if not s.dtype.is_numeric():
            raise NotBinary(f"{sql_type} from {s.dtype}")
        values = s.fill_null(0).to_numpy()
    else:
        if not s.dtype.is_integer():
            raise NotBinary(f"{sql_type} from {s.dtype}")
        values = s.fill_null(0).to_numpy()
        limits = np.iinfo(np.dtype(kind).newbyteorder("="))
        if len(values) and (values.min() < limits.min or values.max() > limits.max):
            raise NotBinary(f"a value out of the range of {sql_type}")
    out: npt.NDArray[np.uint8] = values.astype(kind).view(np.uint8).reshape(len(s), -1)
    return out


def _length_prefix(
    lengths: npt.NDArray[np.int64], null: npt.NDArray[np.bool_]
) -> npt.NDArray[np.uint8]:
    prefix: npt.NDArray[np.uint8] = (
        np.where(null, -1, lengths).astype(">i4").view(np.uint8).reshape(len(null), 4)
    )
    return prefix


def _binary(rows: npt.NDArray[np.uint8], keep: npt.NDArray[np.bool_]) -> pa.Array:
    """An arrow binary array of the kept bytes of each row of a byte matrix."""
    n, width = rows.shape
    if keep.all():  # no NULL: every row whole
        offsets = np.arange(0, (n + 1) * width, width, dtype=np.int64)
        data = np.ascontiguousarray(rows).reshape(-1)
    else:
        offsets = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(keep.sum(axis=1, dtype=np.int64), out=offsets[1:])
        data = rows[keep]
    return pa.Array.from_buffers(
        pa.large_binary(), len(rows), [None, pa.py_buffer(offsets), pa.py_buffer(data)]
    )


def _with_length(
    lead: bytes,
    lengths: npt.NDArray[np.int64],
    tail: npt.NDArray[np.uint8],
    null: npt.NDArray[np.bool_],
) -> pa.Array:
    """Per row: ``lead``, the field's length (-1 for NULL), then ``tail``'s row of bytes,
    which a NULL leaves out."""
    n, width = tail.shape
    rows = np.empty((n, len(lead) + 4 + width), dtype=np.uint8)
    rows[:, : len(lead)] = np.frombuffer(lead, dtype=np.uint8)
    rows[:, len(lead) : len(lead) + 4] = _length_prefix(lengths, null)
    rows[:, len(lead) + 4 :] = tail
    keep = np.ones(rows.shape, dtype=bool)
    keep[:, len(lead) + 4 :] = ~null[:, None]
    return _binary(rows, keep)


def _fixed(values: npt.NDArray[np.uint8], null: npt.NDArray[np.bool_], lead: bytes) -> pa.Array:
    """Fixed-width values (a row of bytes each) with their length before them."""
    n, width = values.shape
    return _with_length(lead, np.full(n, width, np.int64), values, null)


def _variable(
    payload: pa.Array, null: npt.NDArray[np.bool_], lead: bytes, version: bytes = b""
) -> Fields:
    """Variable-length values: a prefix (lead, length, and jsonb's version byte) then the
    bytes. The length counts the version byte."""
    lengths = pc.binary_length(payload).fill_null(0).to_numpy(zero_copy_only=False)
    tail = np.broadcast_to(np.frombuffer(version, dtype=np.uint8), (len(null), len(version)))
    head = _with_length(lead, lengths + len(version), tail, null)
    return [head, pc.fill_null(payload, b"")]


def _utf8(s: pl.Series) -> pa.Array:
    text = s if s.dtype == pl.String else s.cast(pl.String)
    return text.to_arrow().cast(pa.large_binary())


def _uuid_bytes(s: pl.Series, null: npt.NDArray[np.bool_]) -> npt.NDArray[np.uint8]:
    try:
        return uuid_bytes(s, null)
    except NotUuid as exc:
        raise NotBinary(str(exc)) from exc


def _inet_bytes(s: pl.Series, null: npt.NDArray[np.bool_]) -> npt.NDArray[np.uint8]:
    """IPv4 host addresses: family, bits, is_cidr, address length, then the 4 bytes."""
    parts = s.fill_null("0.0.0.0").str.split_exact(".", 3).struct.unnest()
    octets = parts.select(pl.all().cast(pl.UInt8, strict=False))
    if octets.null_count().sum_horizontal()[0] or parts.width != 4:
        raise NotBinary("binary COPY encodes IPv4 host addresses only, as a.b.c.d")
    out = np.empty((len(s), 8), dtype=np.uint8)
    out[:, :4] = (2, 32, 0, 4)  # PGSQL_AF_INET, /32, inet (not cidr), 4 bytes
    out[:, 4:] = octets.to_numpy()
    return out


def _numeric_bytes(
    s: pl.Series, null: npt.NDArray[np.bool_], precision: int, scale: int
) -> npt.NDArray[np.uint8]:
    """numeric(p, s) in base-10000 digits, a fixed count per column: the server strips the
    leading and trailing zero digits itself."""
    # The server rounds extra fraction digits of numeric input; polars would truncate them,
    # and a float's text may round otherwise than its binary value: both go as CSV.
    if s.dtype.is_float():
        raise NotBinary("numeric from floats goes as text")
    text = s.cast(pl.String)
    if text.str.contains(r"\.\d{" + str(scale + 1) + ",}").any():
        raise NotBinary(f"numeric text with more than {scale} fraction digits")
    try:
        decimal = text.cast(pl.Decimal(min(38, precision), scale))
    except pl.exceptions.InvalidOperationError as exc:
        raise NotBinary(str(exc)) from exc
    scaled = decimal.fill_null(0).to_physical().cast(pl.Int64).to_numpy()
    negative = scaled < 0
    magnitude = np.abs(scaled)
    int_groups = max(1, -(-(precision - scale) // 4))
    frac_groups = -(-scale // 4)
    whole, frac = magnitude // 10**scale, magnitude % 10**scale
    digits = np.empty((len(s), int_groups + frac_groups), dtype=np.int64)
    for g in range(int_groups):
        digits[:, int_groups - 1 - g] = (whole // 10_000**g) % 10_000
    frac = frac * 10 ** (4 * frac_groups - scale)  # left-align the fraction in whole groups
    for g in range(frac_groups):
        digits[:, int_groups + g] = (frac // 10_000 ** (frac_groups - 1 - g)) % 10_000
    header = np.empty((len(s), 4), dtype=np.int64)
    header[:, 0] = digits.shape[1]  # ndigits
    header[:, 1] = int_groups - 1  # weight of the first digit
    header[:, 2] = np.where(negative, 0x4000, 0)
    header[:, 3] = scale  # dscale
    out = np.concatenate([header, digits], axis=1).astype(">i2")
    return out.view(np.uint8).reshape(len(s), -1)


def _text_arrays(s: pl.Series) -> pa.Array:
    """text[] values: one dimension, no NULL elements, element type text."""
    out: list[bytes | None] = []
    for items in s.to_list():
        if items is None:
            out.append(None)
            continue
        if any(x is None for x in items):
            raise NotBinary("text[] with NULL elements goes as text")
        encoded = [str(x).encode() for x in items]
        if not encoded:
            out.append(struct.pack(">iii", 0, 0, _TEXT_OID))
            continue
        head = struct.pack(">iiiii", 1, 0, _TEXT_OID, len(encoded), 1)
        out.append(head + b"".join(struct.pack(">i", len(e)) + e for e in encoded))
    return pa.array(out, pa.large_binary())
