"""The binary format (format code 1) of every Eddy type: whole-column encoders and parameter decoders.

Layouts are PostgreSQL's *_send/*_recv ones: big-endian integers and IEEE
floats; bool as one byte; text as its UTF-8 bytes; date as int32 days and
timestamp/timestamptz as int64 microseconds since 2000-01-01 (UTC for
timestamptz); interval as int64 microseconds, int32 days, int32 months;
numeric as in numeric_binary.py.

Columns are encoded with numpy, one array operation per column. A
parameter is a single value, decoded to the Python value `common.types`
documents for its type.
"""

from __future__ import annotations

import datetime
import struct
from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from common.errors import (
    DatetimeFieldOverflow,
    InvalidBinaryRepresentation,
    NumericValueOutOfRange,
)
from common.types import DataType, TypeName
from frontend.pgwire.cells import ColumnCells, fixed_cells, string_cells, validity
from frontend.pgwire.framing import decode_text
from frontend.pgwire.numeric_binary import decode_numeric, encode_decimal_column

PG_EPOCH_DAYS = 10_957
PG_EPOCH_MICROS = PG_EPOCH_DAYS * 86_400 * 1_000_000
_PG_EPOCH_DATE = datetime.date(2000, 1, 1)
_PG_EPOCH = datetime.datetime(2000, 1, 1)
_PG_EPOCH_UTC = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)

_BIG_ENDIAN: dict[TypeName, str] = {
    TypeName.SMALLINT: ">i2",
    TypeName.INTEGER: ">i4",
    TypeName.BIGINT: ">i8",
    TypeName.REAL: ">f4",
    TypeName.DOUBLE: ">f8",
    TypeName.BOOLEAN: "u1",
}
_INTERVAL = np.dtype([("micros", ">i8"), ("days", ">i4"), ("months", ">i4")])
_MONTH_DAY_NANO = np.dtype([("months", "<i4"), ("days", "<i4"), ("nanos", "<i8")])


def _numbers(arr: pa.Array) -> np.ndarray:
    """The values of a numeric or boolean array as numpy, NULLs as zero (they are masked out later)."""
    if arr.null_count:
        arr = pc.fill_null(arr, pa.scalar(0, arr.type) if not pa.types.is_boolean(arr.type) else False)
    return arr.to_numpy(zero_copy_only=False)


def _interval_cells(arr: pa.Array) -> ColumnCells:
    mdn = np.frombuffer(arr.buffers()[1], dtype=_MONTH_DAY_NANO, count=len(arr), offset=16 * arr.offset)
    out = np.empty(len(arr), dtype=_INTERVAL)
    nanos = mdn["nanos"]
    # Truncate towards zero: a negative sub-microsecond remainder must not borrow a microsecond.
    out["micros"] = np.sign(nanos) * (np.abs(nanos) // 1000)
    out["days"] = mdn["days"]
    out["months"] = mdn["months"]
    return fixed_cells(out, validity(arr))


def encode_binary_column(arr: pa.Array, t: DataType) -> ColumnCells:
    """The binary cells of a column of type `t`."""
    name = t.name
    if name is TypeName.NUMERIC:
        return encode_decimal_column(arr, fixed_scale=t.scale is not None)
    if name is TypeName.VARCHAR:
        return string_cells(arr)
    if arr.type != t.arrow:
        arr = arr.cast(t.arrow)
    if name in _BIG_ENDIAN:
        return fixed_cells(_numbers(arr).astype(_BIG_ENDIAN[name]), validity(arr))
    if name is TypeName.DATE:
        days = _numbers(arr.view(pa.int32())).astype(np.int64) - PG_EPOCH_DAYS
        return fixed_cells(days.astype(">i4"), validity(arr))
    if name in (TypeName.TIMESTAMP, TypeName.TIMESTAMPTZ):
        micros = _numbers(arr.view(pa.int64())) - PG_EPOCH_MICROS
        return fixed_cells(micros.astype(">i8"), validity(arr))
    if name is TypeName.INTERVAL:
        return _interval_cells(arr)
    raise TypeError(f"no binary encoding for {t}")


# -- parameters --------------------------------------------------------------

_INT_RANGE: dict[TypeName, tuple[int, int]] = {
    TypeName.SMALLINT: (-(2**15), 2**15 - 1),
    TypeName.INTEGER: (-(2**31), 2**31 - 1),
    TypeName.BIGINT: (-(2**63), 2**63 - 1),
}


def _decode_integer(t: DataType) -> Callable[[bytes], object]:
    low, high = _INT_RANGE[t.name]

    def decode(data: bytes) -> object:
        # Drivers send the width they chose (psycopg sends int2 for small ints);
        # any width is accepted and the value checked against the parameter's type.
        if len(data) not in (2, 4, 8):
            raise InvalidBinaryRepresentation("insufficient data left in message")
        value = int.from_bytes(data, "big", signed=True)
        if not low <= value <= high:
            raise NumericValueOutOfRange(f"{t.name.value} out of range")
        return value

    return decode


def _decode_float(data: bytes) -> object:
    if len(data) == 4:
        return struct.unpack(">f", data)[0]
    if len(data) == 8:
        return struct.unpack(">d", data)[0]
    raise InvalidBinaryRepresentation("insufficient data left in message")


def _exact(size: int, data: bytes) -> bytes:
    if len(data) != size:
        raise InvalidBinaryRepresentation("insufficient data left in message" if len(data) < size
                                          else "incorrect binary data format")
    return data


def _decode_bool(data: bytes) -> object:
    return _exact(1, data)[0] != 0


def _decode_date(data: bytes) -> object:
    days = int.from_bytes(_exact(4, data), "big", signed=True)
    try:
        return _PG_EPOCH_DATE + datetime.timedelta(days=days)
    except OverflowError:
        raise DatetimeFieldOverflow("date out of range") from None


def _decode_timestamp(epoch: datetime.datetime) -> Callable[[bytes], object]:
    def decode(data: bytes) -> object:
        micros = int.from_bytes(_exact(8, data), "big", signed=True)
        try:
            return epoch + datetime.timedelta(microseconds=micros)
        except OverflowError:
            raise DatetimeFieldOverflow("timestamp out of range") from None

    return decode


def _decode_interval(data: bytes) -> object:
    micros, days, months = struct.unpack(">qii", _exact(16, data))
    return pa.MonthDayNano((months, days, micros * 1000))


_DECODERS: dict[TypeName, Callable[[bytes], object]] = {
    TypeName.SMALLINT: _decode_integer(DataType(TypeName.SMALLINT)),
    TypeName.INTEGER: _decode_integer(DataType(TypeName.INTEGER)),
    TypeName.BIGINT: _decode_integer(DataType(TypeName.BIGINT)),
    TypeName.REAL: _decode_float,
    TypeName.DOUBLE: _decode_float,
    TypeName.NUMERIC: decode_numeric,
    TypeName.BOOLEAN: _decode_bool,
    TypeName.VARCHAR: decode_text,
    TypeName.DATE: _decode_date,
    TypeName.TIMESTAMP: _decode_timestamp(_PG_EPOCH),
    TypeName.TIMESTAMPTZ: _decode_timestamp(_PG_EPOCH_UTC),
    TypeName.INTERVAL: _decode_interval,
}


def decode_binary(data: bytes, t: DataType) -> object:
    """The Python value of one binary parameter of type `t`.

    Raises InvalidBinaryRepresentation (22P03) for a malformed value; the
    caller adds which parameter it was.
    """
    return _DECODERS[t.name](data)
