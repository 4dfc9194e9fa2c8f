"""Text output of every type, compared with what PostgreSQL 15 sends for the same values.

Values are generated in Python and handed to PostgreSQL in a form that
does not go through Eddy's formatter (shortest float reprs, decimal
strings, day and microsecond counts added to the epoch), so a formatting
bug cannot hide behind a matching parse.
"""

from __future__ import annotations

import random
import struct
from collections.abc import Sequence
from decimal import Decimal

import numpy as np
import psycopg
import pyarrow as pa
import pytest

from common.pgtext import FormatOptions, format_array, format_value
from common.pgtext_calendar import USECS_PER_DAY, USECS_PER_HOUR
from common.pgtext_interval import make_intervals
from common.types import (
    BIGINT,
    BOOLEAN,
    DATE,
    DOUBLE,
    INTEGER,
    INTERVAL,
    NUMERIC,
    REAL,
    SMALLINT,
    TIMESTAMP,
    TIMESTAMPTZ,
    VARCHAR,
    DataType,
    numeric,
)

RNG = random.Random(20260101)


def pg_texts(pg: psycopg.Connection, sql: str, params: tuple[object, ...]) -> list[str | None]:
    return [r[0] for r in pg.execute(sql, params).fetchall()]


def set_format(pg: psycopg.Connection, fmt: FormatOptions) -> None:
    pg.execute(f"SET TimeZone = '{fmt.timezone}'")
    pg.execute(f"SET extra_float_digits = {fmt.extra_float_digits}")
    pg.execute(f"SET IntervalStyle = '{fmt.intervalstyle}'")


def compare(ours: pa.Array, theirs: list[str | None], inputs: Sequence[object]) -> None:
    got = ours.to_pylist()
    bad = [f"{v!r}: pg={e!r} eddy={g!r}" for v, e, g in zip(inputs, theirs, got) if e != g]
    assert not bad, "\n".join(bad[:40])


# -- numbers ------------------------------------------------------------------


@pytest.mark.parametrize("t", [SMALLINT, INTEGER, BIGINT])
def test_integers(pg: psycopg.Connection, t: DataType) -> None:
    bits = {SMALLINT: 15, INTEGER: 31, BIGINT: 63}[t]
    values: list[int | None] = [0, 1, -1, 2**bits - 1, -(2**bits), None]
    values += [RNG.randint(-(2**bits), 2**bits - 1) for _ in range(300)]
    theirs = pg_texts(pg, f"SELECT v::{t.typname} FROM unnest(%s::text[]) WITH ORDINALITY AS u(v, i) ORDER BY i",
                      ([None if v is None else str(v) for v in values],))
    compare(format_array(pa.array(values, t.arrow), t), theirs, values)


def random_doubles(n: int) -> list[float]:
    out = [0.0, -0.0, 1.0, -1.0, 0.1, 1 / 3, 1e15, 1e14, 999999999999999.9, 1e16, 1e-4, 1e-5, 1.5e-5, 0.00012345,
           123456789012345678.0, 2.5e-310, 5e-324, 1.7976931348623157e308, float("nan"), float("inf"), float("-inf"),
           100.0, 1e21, 1e22, 12345.678, -0.000123]
    for _ in range(n):
        kind = RNG.random()
        if kind < 0.4:
            bits = RNG.getrandbits(64)
            v = struct.unpack("<d", struct.pack("<Q", bits))[0]
            if v == v:
                out.append(v)
        elif kind < 0.7:
            out.append(RNG.uniform(-1, 1) * 10 ** RNG.randint(-20, 20))
        else:
            out.append(round(RNG.uniform(-1e6, 1e6), RNG.randint(0, 6)))
    return out


@pytest.mark.parametrize("extra", [1, 3, 0, -5])
def test_doubles(pg: psycopg.Connection, extra: int) -> None:
    fmt = FormatOptions(extra_float_digits=extra)
    set_format(pg, fmt)
    try:
        values = random_doubles(600)
        theirs = pg_texts(pg, "SELECT v::float8 FROM unnest(%s::text[]) WITH ORDINALITY AS u(v, i) ORDER BY i",
                          ([repr(v) for v in values],))
        compare(format_array(pa.array(values, pa.float64()), DOUBLE, fmt), theirs, values)
    finally:
        set_format(pg, FormatOptions())


@pytest.mark.parametrize("extra", [1, 0, -2])
def test_reals(pg: psycopg.Connection, extra: int) -> None:
    fmt = FormatOptions(extra_float_digits=extra)
    set_format(pg, fmt)
    try:
        doubles = [*random_doubles(600), 123456.0, 1234567.0, 1000000.0, 999999.0, 0.0001, 1e-05, 16777216.0]
        with np.errstate(over="ignore"):
            values = [v for v in np.array(doubles, dtype=np.float32).tolist()]
        texts = [repr(float(np.float32(v))) if v == v else "NaN" for v in values]
        texts = [str(np.float32(v)) if v == v and abs(v) != float("inf") else t for v, t in zip(values, texts)]
        theirs = pg_texts(pg, "SELECT v::float4 FROM unnest(%s::text[]) WITH ORDINALITY AS u(v, i) ORDER BY i",
                          (texts,))
        compare(format_array(pa.array(values, pa.float32()), REAL, fmt), theirs, values)
    finally:
        set_format(pg, FormatOptions())


@pytest.mark.parametrize("t", [NUMERIC, numeric(10, 2), numeric(5, 0), numeric(38, 10), numeric(20, 20)])
def test_numerics(pg: psycopg.Connection, t: DataType) -> None:
    scale = t.effective_scale
    int_digits = (38 if t.precision is None else t.precision) - scale
    values: list[Decimal | None] = [Decimal(0), None, Decimal(1).scaleb(-scale), -Decimal(1).scaleb(-scale)]
    for _ in range(300):
        digits = RNG.randint(0, int_digits)
        whole = RNG.randint(0, 10**digits - 1) if digits else 0
        frac = RNG.randint(0, 10**scale - 1) if scale else 0
        frac = frac // 10 ** RNG.randint(0, scale) * 10 ** (scale - len(str(frac))) if scale and RNG.random() < 0.3 \
            else frac
        v = Decimal(whole) + Decimal(frac).scaleb(-scale)
        values.append(-v if RNG.random() < 0.3 else v)
    sql_t = "numeric" if t.precision is None else f"numeric({t.precision},{t.scale})"
    theirs = pg_texts(pg, f"SELECT round(v::numeric, {scale})::{sql_t} FROM unnest(%s::text[]) "
                          f"WITH ORDINALITY AS u(v, i) ORDER BY i", ([None if v is None else str(v) for v in values],))
    if t.precision is None:
        # PostgreSQL keeps the digits a value was written with; Eddy prints unconstrained NUMERIC trimmed.
        theirs = [None if e is None else _trim(e) for e in theirs]
    compare(format_array(pa.array(values, t.arrow), t), theirs, values)


def _trim(text: str) -> str:
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def test_unconstrained_numeric_prints_without_trailing_zeros() -> None:
    values = [Decimal("1.5"), Decimal("3"), Decimal("0.25"), Decimal("-0.0000000001"), Decimal(0), Decimal("100")]
    assert format_array(pa.array(values, NUMERIC.arrow), NUMERIC).to_pylist() == \
        ["1.5", "3", "0.25", "-0.0000000001", "0", "100"]


def test_booleans_and_text() -> None:
    assert format_array(pa.array([True, False, None]), BOOLEAN).to_pylist() == ["t", "f", None]
    assert format_array(pa.array(["a", None]), VARCHAR).to_pylist() == ["a", None]
    assert format_value(None, INTEGER) is None
    assert format_value(True, BOOLEAN) == "t"


# -- dates and times ------------------------------------------------------------

EPOCH = "'1970-01-01'"


def test_dates(pg: psycopg.Connection) -> None:
    days = [0, -1, -719162, -719163, -719528, -2440588, 2932896, 2932897, 106751, -99999, 10957, None]
    days += [RNG.randint(-2440588, 3_000_000) for _ in range(300)]
    theirs = pg_texts(pg, f"SELECT {EPOCH}::date + d FROM unnest(%s::int[]) WITH ORDINALITY AS u(d, i) ORDER BY i",
                      (days,))
    compare(format_array(pa.array(days, pa.int32()).view(pa.date32()), DATE), theirs, days)


def random_micros(n: int) -> list[int | None]:
    lo, hi = -2440588 * USECS_PER_DAY, (2**31 - 1) * USECS_PER_HOUR
    values: list[int | None] = [0, -1, 1, 500_000, -62135596800_000_000, -62135596800_000_001, 253402300799_999_999,
                                253402300800_000_000, lo, None, 1_767_225_600_123_456, 1_767_225_600_100_000]
    for _ in range(n):
        r = RNG.random()
        if r < 0.5:
            values.append(RNG.randint(-3_000_000_000_000_000, 4_000_000_000_000_000))
        elif r < 0.8:
            values.append(RNG.randint(lo, hi))
        else:
            values.append(RNG.randint(0, 2_000_000_000) * 1_000_000)
    return values


def _split_hours(values: list[int | None]) -> tuple[list[int | None], list[int | None]]:
    hours = [None if v is None else v // USECS_PER_HOUR for v in values]
    rest = [None if v is None else v % USECS_PER_HOUR for v in values]
    return hours, rest


def test_timestamps(pg: psycopg.Connection) -> None:
    values = random_micros(400)
    hours, rest = _split_hours(values)
    theirs = pg_texts(pg, f"SELECT {EPOCH}::timestamp + make_interval(hours => h::int) + r * interval '1 microsecond' "
                          "FROM unnest(%s::bigint[], %s::bigint[]) WITH ORDINALITY AS u(h, r, i) ORDER BY i",
                      (hours, rest))
    compare(format_array(pa.array(values, pa.int64()).view(pa.timestamp("us")), TIMESTAMP), theirs, values)


ZONES = ["UTC", "Asia/Kolkata", "America/St_Johns", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe",
         "Pacific/Chatham", "Asia/Kathmandu", "Africa/Monrovia", "Europe/Amsterdam"]


@pytest.mark.parametrize("zone", ZONES)
def test_timestamptz_in_session_zone(pg: psycopg.Connection, zone: str) -> None:
    fmt = FormatOptions(timezone=zone)
    set_format(pg, fmt)
    try:
        values = random_micros(250)
        values += [RNG.randint(-3_000_000_000_000_000, 2_000_000_000_000_000) for _ in range(200)]
        hours, rest = _split_hours(values)
        theirs = pg_texts(pg, "SELECT 'epoch'::timestamptz + make_interval(hours => h::int) "
                              "+ r * interval '1 microsecond' FROM unnest(%s::bigint[], %s::bigint[]) "
                              "WITH ORDINALITY AS u(h, r, i) ORDER BY i", (hours, rest))
        arr = pa.array(values, pa.int64()).view(pa.timestamp("us", "UTC"))
        compare(format_array(arr, TIMESTAMPTZ, fmt), theirs, values)
    finally:
        set_format(pg, FormatOptions())


def random_intervals(n: int) -> list[tuple[int, int, int] | None]:
    out: list[tuple[int, int, int] | None] = [(0, 0, 0), None, (14, 3, 14706_500_000), (0, -1, 7_200_000_000),
                                              (0, 1, -7_200_000_000), (-14, 0, 0), (0, 0, -1_000_000),
                                              (0, 0, 360_000_000_000), (11, 0, 0), (-2**31, -2**31, -2**52)]
    for _ in range(n):
        m = RNG.choice([0, 0, RNG.randint(-30, 30), RNG.randint(-2**31, 2**31 - 1)])
        d = RNG.choice([0, 0, RNG.randint(-40, 40), RNG.randint(-2**31, 2**31 - 1)])
        u = RNG.choice([0, RNG.randint(-10**11, 10**11), RNG.randint(-2**52, 2**52), RNG.randint(-999, 999) * 1000])
        out.append((m, d, u))
    return out


@pytest.mark.parametrize("style", ["postgres", "iso_8601"])
def test_intervals(pg: psycopg.Connection, style: str) -> None:
    fmt = FormatOptions(intervalstyle=style)
    set_format(pg, fmt)
    try:
        values = random_intervals(400)
        cols = [[None if v is None else v[k] for v in values] for k in range(3)]
        theirs = pg_texts(pg, "SELECT make_interval(months => m::int, days => d::int) + u * interval '1 microsecond' "
                              "FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[]) "
                              "WITH ORDINALITY AS t(m, d, u, i) ORDER BY i", tuple(cols))
        valid = np.array([v is not None for v in values])
        months, days, micros = (np.array([0 if c is None else c for c in col], dtype=np.int64) for col in cols)
        arr = make_intervals(months, days, micros, valid)
        compare(format_array(arr, INTERVAL, fmt), theirs, values)
    finally:
        set_format(pg, FormatOptions())


def test_chunked_arrays_and_slices_format_like_arrays() -> None:
    arr = pa.array([1, None, 3], pa.int32())
    assert format_array(pa.chunked_array([arr, arr]), INTEGER).to_pylist() == ["1", None, "3"] * 2
    iv = make_intervals(np.array([1, 0, 2]), np.array([0, 1, 0]), np.array([0, 0, 5_000_000]))
    assert format_array(iv.slice(1), INTERVAL).to_pylist() == ["1 day", "2 mons 00:00:05"]
