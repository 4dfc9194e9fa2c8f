"""The binary format (format code 1) of every Eddy type: whole-column encoders and parameter decoders.

Layouts are PostgreSQL's *_send/*_recv ones: big-endian integers and IEEE
floats; bool as one byte; text as its UTF-8 bytes; date as int32 days and
timestamp/timestamptz as int64 microseconds since 2000-01-01 (UTC for
timestamptz); interval as int64 microseconds, int32 days, int32 months;
numeric as in numeric_binary.py. OIDs (and reg* values) are uint32; name,
"char" and json are their text; void is empty; arrays, int2vector and
oidvector are array_send's header (dimensions, flags, element type, size
and lower bound) followed by each element's length and bytes; a record is
its field count, then each field's type, length and bytes.

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
from frontend.pgwire.cells import ColumnCells, concat_cells, fixed_cells, string_cells, validity
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
    if name is TypeName.VARCHAR or t.is_string:
        return string_cells(arr.cast(pa.string()))
    if t.is_oid:
        if pa.types.is_struct(arr.type):
            arr = arr.field("oid")
        return fixed_cells(_numbers(arr.cast(pa.int64())).astype(">u4"), validity(arr))
    if name is TypeName.VOID:
        valid = validity(arr)
        lengths = np.zeros(len(arr), np.int64) if valid is None else np.where(valid, 0, -1).astype(np.int64)
        return ColumnCells(lengths, np.zeros(0, np.uint8))
    if t.is_list:
        return _array_cells(arr, t)
    if name is TypeName.RECORD:
        return _record_cells(arr, t)
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


def _words(values: np.ndarray, dtype: str) -> ColumnCells:
    return fixed_cells(values.astype(dtype), None)


def _array_cells(arr: pa.Array, t: DataType) -> ColumnCells:
    """array_send for every row: a one-dimensional array, or no dimensions when empty."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    item = t.item
    n = len(arr)
    counts = np.asarray(pc.fill_null(pc.list_value_length(arr), 0).to_numpy(zero_copy_only=False), np.int64)
    values = arr.flatten()
    elements = encode_binary_column(values, item)
    # Each element is its length word then its bytes; an array's body is its elements back to back.
    element_cells = concat_cells([_words(elements.lengths, ">i4"), ColumnCells(np.maximum(elements.lengths, 0),
                                                                               elements.payload)], None)
    starts = np.cumsum(counts) - counts
    ends = starts + counts
    cum = np.concatenate([[0], np.cumsum(element_cells.lengths)])
    body = ColumnCells(cum[ends] - cum[starts], element_cells.payload)
    null_elements = np.zeros(n, bool)
    if values.null_count:
        nulls = np.concatenate([[0], np.cumsum(~np.asarray(values.is_valid()))])
        null_elements = (nulls[ends] - nulls[starts]) > 0
    dims = (counts > 0).astype(np.int64)
    header = np.zeros(n, dtype=[("ndim", ">i4"), ("flags", ">i4"), ("elem", ">u4")])
    # Elements of a string array are text, as the array's type (text[]) says.
    header["ndim"], header["flags"], header["elem"] = dims, null_elements, 25 if item.name is TypeName.VARCHAR else item.oid
    bounds = np.zeros(n, dtype=[("size", ">i4"), ("lower", ">i4")])
    bounds["size"], bounds["lower"] = counts, t.lower_bound
    bound_cells = ColumnCells(np.where(dims > 0, 8, 0), bounds.view(np.uint8).reshape(n, 8)[dims > 0].reshape(-1))
    return concat_cells([fixed_cells(header, None), bound_cells, body], validity(arr))


def _record_cells(arr: pa.Array, t: DataType) -> ColumnCells:
    n = len(arr)
    parts = [_words(np.full(n, len(t.fields)), ">i4")]
    for i, (_, ft) in enumerate(t.fields):
        field = arr.field(i)
        cells = encode_binary_column(field, ft)
        field_oid = 25 if ft.name is TypeName.VARCHAR else ft.oid
        parts += [_words(np.full(n, field_oid), ">u4"), _words(cells.lengths, ">i4"),
                  ColumnCells(np.maximum(cells.lengths, 0), cells.payload)]
    return concat_cells(parts, validity(arr))


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


def _decode_oid(data: bytes) -> object:
    return int.from_bytes(_exact(4, data), "big", signed=False)


def _decode_array(t: DataType) -> Callable[[bytes], object]:
    def decode(data: bytes) -> object:
        if len(data) < 12:
            raise InvalidBinaryRepresentation("insufficient data left in message")
        ndim, _flags, _elem = struct.unpack_from(">iiI", data)
        if ndim == 0:
            return []
        if ndim != 1:
            raise InvalidBinaryRepresentation("multidimensional arrays are not supported")
        size, _lower = struct.unpack_from(">ii", data, 12)
        pos, out = 20, list[object]()
        for _ in range(size):
            if pos + 4 > len(data):
                raise InvalidBinaryRepresentation("insufficient data left in message")
            (length,) = struct.unpack_from(">i", data, pos)
            pos += 4
            if length < 0:
                out.append(None)
                continue
            out.append(decode_binary(data[pos:pos + length], t.item))
            pos += length
        return out

    return decode


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


_DECODERS.update({name: _decode_oid for name in (TypeName.OID, TypeName.REGCLASS, TypeName.REGTYPE,
                                                 TypeName.REGPROC, TypeName.REGNAMESPACE, TypeName.REGROLE)})
_DECODERS.update({name: decode_text for name in (TypeName.NAME, TypeName.JSON, TypeName.CHAR)})


def decode_binary(data: bytes, t: DataType) -> object:
    """The Python value of one binary parameter of type `t`.

    Raises InvalidBinaryRepresentation (22P03) for a malformed value; the
    caller adds which parameter it was.
    """
    if t.is_list:
        return _decode_array(t)(data)
    decoder = _DECODERS.get(t.name)
    if decoder is None:
        raise InvalidBinaryRepresentation(f"no binary input for type {t.display()}")
    return decoder(data)
