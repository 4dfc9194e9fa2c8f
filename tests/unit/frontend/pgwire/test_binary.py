"""Binary encoding of whole columns and decoding of parameters, checked against PostgreSQL's *_send functions."""

from __future__ import annotations

import datetime
import math
import struct
from decimal import Decimal

import psycopg
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from common import types as T
from common.errors import DatetimeFieldOverflow, InvalidBinaryRepresentation, NumericValueOutOfRange
from common.types import DataType
from frontend.pgwire.binary import decode_binary, encode_binary_column
from frontend.pgwire.cells import ColumnCells
from tests.unit.frontend.pgwire.pgwire_harness import fetch_bytes

UTC = datetime.UTC


def cells_of(c: ColumnCells) -> list[bytes | None]:
    out: list[bytes | None] = []
    pos = 0
    for n in c.lengths.tolist():
        if n < 0:
            out.append(None)
        else:
            out.append(c.payload[pos:pos + n].tobytes())
            pos += n
    assert pos == len(c.payload)
    return out


def interval_literal(v: pa.MonthDayNano) -> str:
    return f"{v.months:+d} mons {v.days:+d} days {v.nanoseconds // 1000:+d} microseconds"


# type -> (PostgreSQL send function, SQL type, literal renderer, values)
CASES: dict[str, tuple[DataType, str, str, list[object]]] = {
    "int2": (T.SMALLINT, "int2send", "int2", [0, 1, -1, 32767, -32768, None]),
    "int4": (T.INTEGER, "int4send", "int4", [0, 42, 2147483647, -2147483648, None]),
    "int8": (T.BIGINT, "int8send", "int8", [0, 9223372036854775807, -9223372036854775808, None, 7]),
    "float4": (T.REAL, "float4send", "float4",
               [0.0, 1.5, -2.5, 3.4028234663852886e38, math.inf, -math.inf, math.nan, 1.401298464324817e-45, None]),
    "float8": (T.DOUBLE, "float8send", "float8", [0.0, -0.0, 0.1, 1e308, -math.inf, math.nan, 5e-324, None]),
    "bool": (T.BOOLEAN, "boolsend", "bool", [True, False, None]),
    "varchar": (T.VARCHAR, "varcharsend", "varchar", ["", "héllo", "日本語", "a\tb'c", None]),
    "date": (T.DATE, "date_send", "date",
             [datetime.date(2000, 1, 1), datetime.date(1970, 1, 1), datetime.date(1, 1, 1),
              datetime.date(9999, 12, 31), datetime.date(2024, 2, 29), None]),
    "timestamp": (T.TIMESTAMP, "timestamp_send", "timestamp",
                  [datetime.datetime(2000, 1, 1), datetime.datetime(1970, 1, 1), datetime.datetime(1, 1, 1),
                   datetime.datetime(9999, 12, 31, 23, 59, 59, 999999),
                   datetime.datetime(2024, 1, 2, 3, 4, 5, 123456), None]),
    "timestamptz": (T.TIMESTAMPTZ, "timestamptz_send", "timestamptz",
                    [datetime.datetime(2000, 1, 1, tzinfo=UTC), datetime.datetime(1969, 12, 31, 23, 59, 59, 1, tzinfo=UTC),
                     datetime.datetime(2024, 6, 1, 12, 0, tzinfo=UTC), None]),
    "interval": (T.INTERVAL, "interval_send", "interval",
                 [pa.MonthDayNano((1, 2, 3_000_000_000)), pa.MonthDayNano((0, -1, 1_000_000_000)),
                  pa.MonthDayNano((-14, 0, -1000)), pa.MonthDayNano((0, 0, 0)),
                  pa.MonthDayNano((1200, 5, 86_399_999_999_000)), None]),
    "numeric": (T.numeric(20, 4), "numeric_send", "numeric(20,4)",
                [Decimal("0.0000"), Decimal("12.3400"), Decimal("-0.0001"), Decimal("9999999999999999.9999"), None]),
}


def literal(v: object, sql_type: str) -> str:
    if v is None:
        return f"NULL::{sql_type}"
    if isinstance(v, pa.MonthDayNano):
        text = interval_literal(v)
    elif isinstance(v, float) and math.isnan(v):
        text = "NaN"
    elif isinstance(v, float) and math.isinf(v):
        text = "Infinity" if v > 0 else "-Infinity"
    elif isinstance(v, float):
        text = repr(v)
    else:
        text = str(v)
    return "'" + text.replace("'", "''") + f"'::{sql_type}"


@pytest.mark.parametrize("case", sorted(CASES))
def test_column_encoding_matches_postgres(pg_oracle: psycopg.Connection[tuple[object, ...]], case: str) -> None:
    t, send, sql_type, values = CASES[case]
    expected = fetch_bytes(pg_oracle, "SELECT " + ", ".join(f"{send}({literal(v, sql_type)})" for v in values))
    arr = pa.array(values, t.arrow)
    assert cells_of(encode_binary_column(arr, t)) == expected
    # A slice starts inside the buffers: the encoder must honour the offset.
    assert cells_of(encode_binary_column(arr.slice(1), t)) == expected[1:]


@pytest.mark.parametrize("case", sorted(CASES))
def test_parameter_decoding_matches_postgres(pg_oracle: psycopg.Connection[tuple[object, ...]], case: str) -> None:
    t, send, sql_type, values = CASES[case]
    for v in values:
        if v is None:
            continue
        (data,) = fetch_bytes(pg_oracle, f"SELECT {send}({literal(v, sql_type)})")
        assert data is not None
        got = decode_binary(data, t)
        if isinstance(v, float) and math.isnan(v):
            assert isinstance(got, float)
            assert math.isnan(got)
        elif t == T.REAL:
            assert got == struct.unpack(">f", struct.pack(">f", v))[0]  # type: ignore[arg-type]
        else:
            assert got == v


def test_integer_parameters_accept_any_width_within_range() -> None:
    assert decode_binary(struct.pack(">h", -5), T.BIGINT) == -5
    assert decode_binary(struct.pack(">q", 5), T.SMALLINT) == 5
    with pytest.raises(NumericValueOutOfRange, match="smallint out of range"):
        decode_binary(struct.pack(">i", 40000), T.SMALLINT)
    with pytest.raises(InvalidBinaryRepresentation):
        decode_binary(b"\0\0\0", T.INTEGER)


@pytest.mark.parametrize(("data", "t"), [
    (b"", T.BOOLEAN), (b"\0\0", T.BOOLEAN), (b"\0" * 7, T.TIMESTAMP), (b"\0" * 15, T.INTERVAL),
    (b"\0" * 5, T.DATE), (b"\0" * 3, T.DOUBLE), (b"\0\0\0", T.NUMERIC),
])
def test_malformed_binary_parameters(data: bytes, t: DataType) -> None:
    with pytest.raises(InvalidBinaryRepresentation):
        decode_binary(data, t)


def test_dates_outside_python_range_are_out_of_range() -> None:
    with pytest.raises(DatetimeFieldOverflow, match="date out of range"):
        decode_binary(struct.pack(">i", 2**31 - 1), T.DATE)  # PostgreSQL's 'infinity'
    with pytest.raises(DatetimeFieldOverflow, match="timestamp out of range"):
        decode_binary(struct.pack(">q", -(2**63)), T.TIMESTAMPTZ)


def test_interval_truncates_nanoseconds_towards_zero() -> None:
    arr = pa.array([pa.MonthDayNano((0, 0, -1500)), pa.MonthDayNano((0, 0, 1999))], pa.month_day_nano_interval())
    assert cells_of(encode_binary_column(arr, T.INTERVAL)) == [struct.pack(">qii", -1, 0, 0),
                                                                 struct.pack(">qii", 1, 0, 0)]


def test_column_of_a_wider_arrow_type_is_cast_to_the_sql_type() -> None:
    arr = pa.array([1, None, -2], pa.int64())
    assert cells_of(encode_binary_column(arr, T.SMALLINT)) == [b"\0\1", None, b"\xff\xfe"]


_INT_TYPES = [(T.SMALLINT, 16), (T.INTEGER, 32), (T.BIGINT, 64)]


@given(st.sampled_from(_INT_TYPES).flatmap(lambda tb: st.tuples(
    st.just(tb[0]), st.lists(st.none() | st.integers(-(2 ** (tb[1] - 1)), 2 ** (tb[1] - 1) - 1), max_size=50))))
def test_integer_columns_round_trip(case: tuple[DataType, list[int | None]]) -> None:
    t, values = case
    cells = cells_of(encode_binary_column(pa.array(values, t.arrow), t))
    assert [None if c is None else decode_binary(c, t) for c in cells] == values


@given(st.lists(st.none() | st.datetimes(min_value=datetime.datetime(1, 1, 1), max_value=datetime.datetime(9999, 12, 31)),
                max_size=50))
def test_timestamp_columns_round_trip(values: list[datetime.datetime | None]) -> None:
    cells = cells_of(encode_binary_column(pa.array(values, pa.timestamp("us")), T.TIMESTAMP))
    assert [None if c is None else decode_binary(c, T.TIMESTAMP) for c in cells] == values


@given(st.lists(st.none() | st.floats(allow_nan=False), max_size=50))
def test_double_columns_round_trip(values: list[float | None]) -> None:
    cells = cells_of(encode_binary_column(pa.array(values, pa.float64()), T.DOUBLE))
    assert [None if c is None else decode_binary(c, T.DOUBLE) for c in cells] == values


@given(st.lists(st.none() | st.text(), max_size=30))
def test_varchar_columns_round_trip(values: list[str | None]) -> None:
    cells = cells_of(encode_binary_column(pa.array(values, pa.string()), T.VARCHAR))
    assert [None if c is None else c.decode() for c in cells] == values
