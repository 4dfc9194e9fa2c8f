"""Binary NUMERIC: the vectorized column encoder against numeric_send, the scalar codec, and round trips."""

from __future__ import annotations

import decimal
import struct
from decimal import Decimal

import psycopg
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from common.errors import InvalidBinaryRepresentation
from frontend.pgwire.numeric_binary import decode_numeric, encode_decimal_column, encode_numeric
from tests.unit.frontend.pgwire.pgwire_harness import fetch_bytes

WIDE = decimal.Context(prec=200)
TRICKY = ["0", "1", "-1", "0.0001", "-0.00000001", "12.30", "10000", "-12345.6780", "100000000.5",
          "99999999999999999999999999.999999999999", "-99999999999999999999999999999999999999",
          "123456789012345678901234567890.12345678", "0.1234567890123456789012345678901234567"]


def cells(arr: pa.Array, fixed_scale: bool) -> list[bytes | None]:
    c = encode_decimal_column(arr, fixed_scale)
    out: list[bytes | None] = []
    pos = 0
    for n in c.lengths.tolist():
        out.append(None if n < 0 else c.payload[pos:pos + n].tobytes())
        pos += max(n, 0)
    assert pos == len(c.payload)
    return out


def fits(values: list[str], scale: int) -> list[Decimal]:
    out = []
    for v in values:
        q = Decimal(v).quantize(Decimal(1).scaleb(-scale), rounding=decimal.ROUND_DOWN, context=WIDE)
        if len(q.as_tuple().digits) <= 38:
            out.append(q)
    return out


@pytest.mark.parametrize("scale", [0, 1, 2, 3, 4, 5, 8, 10, 12, 37])
def test_matches_numeric_send(pg_oracle: psycopg.Connection[tuple[object, ...]], scale: int) -> None:
    values = fits(TRICKY, scale)
    arr = pa.array([*values, None], pa.decimal128(38, scale))
    fixed = fetch_bytes(pg_oracle, "SELECT " + ", ".join(f"numeric_send('{v}'::numeric(38,{scale}))" for v in values))
    trimmed = fetch_bytes(pg_oracle, "SELECT " + ", ".join(f"numeric_send(trim_scale('{v}'::numeric))" for v in values))
    assert cells(arr, fixed_scale=True) == [*fixed, None]
    # Unconstrained NUMERIC shows no trailing zeros, in text and so in binary.
    assert cells(arr, fixed_scale=False) == [*trimmed, None]


def test_special_values_match_numeric_send(pg_oracle: psycopg.Connection[tuple[object, ...]]) -> None:
    nan, inf, ninf = fetch_bytes(pg_oracle, "SELECT numeric_send('NaN'), numeric_send('Infinity'), "
                                            "numeric_send('-Infinity')")
    assert nan is not None and inf is not None and ninf is not None
    assert [encode_numeric(Decimal(s)) for s in ("NaN", "Infinity", "-Infinity")] == [nan, inf, ninf]
    assert decode_numeric(nan).is_nan()
    assert decode_numeric(inf) == Decimal("Infinity")
    assert decode_numeric(ninf) == Decimal("-Infinity")


def test_decoding_keeps_dscale_and_drops_hidden_digits() -> None:
    # 1.2345 sent with dscale 2: numeric_recv truncates to 1.23.
    data = struct.pack(">hhHhhh", 2, 0, 0, 2, 1, 2345)
    assert str(decode_numeric(data)) == "1.23"
    assert str(decode_numeric(struct.pack(">hhHh", 0, 0, 0, 3))) == "0.000"
    assert str(decode_numeric(struct.pack(">hhHhh", 1, 2, 0x4000, 0, 7))) == "-700000000"


@pytest.mark.parametrize("data", [
    b"\0\0\0",
    struct.pack(">hhHh", 1, 0, 0, 0),  # a digit announced but missing
    struct.pack(">hhHhh", 1, 0, 0x1234, 0, 1),  # bad sign
    struct.pack(">hhHhh", 1, 0, 0, 0, 10000),  # digit out of range
    struct.pack(">hhHhh", 1, 0, 0, -1, 1),  # bad dscale
    struct.pack(">hhHh", -1, 0, 0, 0),
])
def test_malformed_numeric(data: bytes) -> None:
    with pytest.raises(InvalidBinaryRepresentation):
        decode_numeric(data)


def decimals(scale: int) -> st.SearchStrategy[Decimal]:
    return st.integers(-(10**38) + 1, 10**38 - 1).map(lambda n: Decimal(n).scaleb(-scale, WIDE))


@settings(max_examples=300)
@given(st.integers(0, 38).flatmap(lambda s: st.tuples(st.just(s), st.lists(st.none() | decimals(s), max_size=20))))
def test_vectorized_equals_scalar_and_round_trips(case: tuple[int, list[Decimal | None]]) -> None:
    scale, values = case
    arr = pa.array(values, pa.decimal128(38, scale))
    got = cells(arr, fixed_scale=True)
    assert got == [None if v is None else encode_numeric(v, scale) for v in values]
    assert [None if c is None else decode_numeric(c) for c in got] == values
    for c, v in zip(cells(arr, fixed_scale=False), values):
        assert (c is None) == (v is None)
        if c is not None and v is not None:
            d = decode_numeric(c)
            assert d == v
            # The shortest exact scale: no trailing fractional zeros.
            shape = d.as_tuple()
            assert shape.exponent == 0 or shape.digits[-1] != 0
