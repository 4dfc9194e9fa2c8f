"""Text input of every type: the same strings read by PostgreSQL 15 and by Eddy, values and errors compared.

Each string is read one at a time (so each gets its own error) and then
the valid ones again as one column through the vectorized path.
"""

from __future__ import annotations

import random
from decimal import ROUND_HALF_UP, Decimal, localcontext

import psycopg
import pyarrow as pa
import pytest

from common.errors import EddyError
from common.pgtext import FormatOptions, format_array, format_value, parse_array, parse_text
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
from tests.unit.compute.expr.pg_oracle import sql_type

RNG = random.Random(7)


def pg_read(pg: psycopg.Connection, s: str, t: DataType) -> tuple[str, str | None]:
    try:
        row = pg.execute(f"SELECT CAST(%s::text AS {sql_type(t)})", (s,)).fetchone()
        assert row is not None
        return "ok", row[0]
    except psycopg.Error as e:
        return "err", e.sqlstate


def eddy_read(s: str, t: DataType, fmt: FormatOptions) -> tuple[str, str | None]:
    try:
        return "ok", format_value(parse_text(s, t, fmt), t, fmt)
    except EddyError as e:
        return "err", e.sqlstate


def check(pg: psycopg.Connection, strings: list[str], t: DataType, fmt: FormatOptions | None = None) -> None:
    fmt = fmt or FormatOptions()
    expected = [pg_read(pg, s, t) for s in strings]
    got = [eddy_read(s, t, fmt) for s in strings]
    if t.name.value == "numeric" and t.precision is None:
        expected = [(k, _trim(v)) for k, v in expected]
    bad = [f"{s!r}: pg={e} eddy={g}" for s, e, g in zip(strings, expected, got) if e != g]
    assert not bad, "\n".join(bad)
    good = [s for s, e in zip(strings, expected) if e[0] == "ok"]
    column = format_array(parse_array(pa.array([*good, None], pa.string()), t, fmt), t, fmt).to_pylist()
    assert column == [e[1] for e in expected if e[0] == "ok"] + [None]


def _trim(v: str | None) -> str | None:
    """PostgreSQL's unconstrained NUMERIC as Eddy keeps it: 10 fractional digits, no trailing zeros."""
    if v is None or "." not in v:
        return v
    with localcontext() as c:
        c.prec = 100
        rounded = f"{Decimal(v).quantize(Decimal('1e-10'), rounding=ROUND_HALF_UP):f}".rstrip("0").rstrip(".")
    return "0" if rounded in ("-0", "") else rounded


INTEGER_STRINGS = ["0", "1", "-1", " 12 ", "+12", "-0", "007", "", " ", "abc", "1.0", "1e3", "12a", "- 1", "--1",
                   "32767", "32768", "-32768", "-32769", "2147483647", "2147483648", "-2147483648", "-2147483649",
                   "9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
                   "99999999999999999999999", "\t5\n", "0x10", "1_000"]


@pytest.mark.parametrize("t", [SMALLINT, INTEGER, BIGINT])
def test_integers(pg: psycopg.Connection, t: DataType) -> None:
    check(pg, INTEGER_STRINGS + [str(RNG.randint(-(2**40), 2**40)) for _ in range(50)], t)


FLOAT_STRINGS = ["0", "-0", "1.5", " 2 ", "+4", "1e3", "1E-3", ".5", "5.", "NaN", "nan", "Infinity", "-Infinity",
                 "inf", "-inf", "+inf", "INFINITY", "1e400", "-1e400", "1e-400", "2.5e-310", "abc", "", "1.2.3",
                 "1e", "e5", "0.1", "3.4028235e38", "3.4028236e38", "1e39", "1e-46", "1.4e-45", "123456789012345678"]


@pytest.mark.parametrize("t", [REAL, DOUBLE])
def test_floats(pg: psycopg.Connection, t: DataType) -> None:
    check(pg, FLOAT_STRINGS + [repr(RNG.uniform(-1e6, 1e6)) for _ in range(50)], t)


NUMERIC_STRINGS = ["0", "1.5", "-1.5", " 3 ", "+2", ".5", "5.", "1e3", "1.5E-2", "abc", "", "1.2.3", "0.00000000004",
                   "0.00000000005", "-0.00000000005", "123456789012345678901234567.1234567890", "1e27", "-12.345",
                   "99.995", "999.995", "12345678.12345678901234"]


@pytest.mark.parametrize("t", [NUMERIC, numeric(5, 2), numeric(10, 0), numeric(3, 3)])
def test_numerics(pg: psycopg.Connection, t: DataType) -> None:
    check(pg, NUMERIC_STRINGS, t)


def test_booleans(pg: psycopg.Connection) -> None:
    words = ["t", "true", "TRUE", "tr", "yes", "y", "on", "1", "f", "false", "fa", "no", "n", "off", "of", "0",
             " true ", "o", "x", "", "truex", "2", "On", "YES"]
    check(pg, words, BOOLEAN)


DATE_STRINGS = ["2026-01-01", "2026-1-1", " 2026-01-01 ", "2026-02-29", "2024-02-29", "2026-13-01", "2026-00-10",
                "0000-01-01", "0001-01-01", "0044-03-15 BC", "10000-01-01", "Jan 8 1999", "January 8, 1999",
                "1999-Jan-08", "08-Jan-1999", "1/8/1999", "1/8/99", "19990108", "1999.01.08", "abc", "",
                "2026-01-01 10:00:00", "2026-01-01T10:00:00Z", "epoch", "99-01-08", "2026-01-32"]


def test_dates(pg: psycopg.Connection) -> None:
    check(pg, DATE_STRINGS, DATE)


TIMESTAMP_STRINGS = [*DATE_STRINGS, "2026-01-01 10:00:00", "2026-01-01 10:00", "2026-01-01 10:00:00.5", "2026-01-01 10:00:00.123456", "2026-01-01 10:00:00.1234567", "2026-01-01T10:00:00", "2026-01-01T10:00:00Z", "2026-01-01 10:00:00+05:30", "2026-01-01 10:00:00-08", "2026-01-01 10:00:00 +0530", "2026-01-01 24:00:00", "2026-01-01 23:59:60", "2026-01-01 24:00:01", "2026-01-01 25:00", "2026-01-01 10:60", "2026-01-01 10:00:00+25", "2026-01-01 10", "2026-01-01 10:00pm", "2026-01-01 12:00am", "2026-01-01 13:00pm", "2026-01-01 10:00:00 UTC", "2026-01-01 10:00:00 America/New_York", "2026-03-08 02:30", "2026-11-01 01:30", "0044-03-15 10:00:00 BC", "1900-01-01 00:00:00", "2026-06-15 12:00:00+00"]


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Asia/Kolkata"])
def test_timestamps(pg: psycopg.Connection, zone: str) -> None:
    pg.execute(f"SET TimeZone = '{zone}'")
    try:
        fmt = FormatOptions(timezone=zone)
        check(pg, TIMESTAMP_STRINGS, TIMESTAMP, fmt)
        check(pg, TIMESTAMP_STRINGS, TIMESTAMPTZ, fmt)
    finally:
        pg.execute("SET TimeZone = 'UTC'")


def test_generated_iso_timestamps(pg: psycopg.Connection) -> None:
    strings = []
    for _ in range(200):
        y, mo, d = RNG.randint(1, 9999), RNG.randint(1, 12), RNG.randint(1, 28)
        h, mi, s, us = RNG.randint(0, 23), RNG.randint(0, 59), RNG.randint(0, 59), RNG.randint(0, 999999)
        text = f"{y:04d}-{mo:02d}-{d:02d} {h:02d}:{mi:02d}:{s:02d}"
        strings.append(text + RNG.choice(["", f".{us:06d}", f".{us % 1000}", "Z", "+02", "-03:30"]))
    check(pg, strings, TIMESTAMP)
    check(pg, strings, TIMESTAMPTZ)
    check(pg, strings, DATE)


INTERVAL_STRINGS = [
    "1 day", "2 hours 30 minutes", "1 year 2 mons", "10:00:00", "1 day 02:00:00", "-1 day", "P1Y2M3DT4H5M6S",
    "1.5 days", "1.5 years", "1.7 mons", "1.5 weeks", "1 day ago", "@ 1 hour", "10", "1:30", "-1:30",
    "1 day -1:30", "PT1.5H", "P1.5Y", "1h30m", "0.1 sec", "1 decade", "1 century", "1 millennium", "1 millisecond",
    "5 microseconds", "-1 day 02:00 ago", "P0001-02-03T04:05:06", "1 2:03", "1:2:3.25", "2 days 3", "1.5",
    "   1 day   ", "1 days 1", "1 year 1 year", "abc", "", "1 fortnight", "P", "PT", "P1W", "+1 day -2 hours",
    "1 year -1 mons", "100 hours", "3 mins 4 secs", "-00:00:01", "1 year 1000000000 mons", "3000000000 days",
    "1:60", "25:00:00", "1 day 24:00:00", "1.123456789 secs", "@ 1 day 2 hours ago",
]


@pytest.mark.parametrize("style", ["postgres", "iso_8601"])
def test_intervals(pg: psycopg.Connection, style: str) -> None:
    pg.execute(f"SET IntervalStyle = '{style}'")
    try:
        check(pg, INTERVAL_STRINGS, INTERVAL, FormatOptions(intervalstyle=style))
    finally:
        pg.execute("SET IntervalStyle = 'postgres'")


def test_error_messages() -> None:
    cases: list[tuple[str, DataType, str]] = [
        ("abc", INTEGER, 'invalid input syntax for type integer: "abc"'),
        ("99999", SMALLINT, 'value "99999" is out of range for type smallint'),
        ("1e400", DOUBLE, '"1e400" is out of range for type double precision'),
        ("x", BOOLEAN, 'invalid input syntax for type boolean: "x"'),
        ("abc", DATE, 'invalid input syntax for type date: "abc"'),
        ("2026-02-30", DATE, 'date/time field value out of range: "2026-02-30"'),
        ("abc", INTERVAL, 'invalid input syntax for type interval: "abc"'),
        ("123.456", numeric(4, 2), "numeric field overflow"),
    ]
    for text, t, message in cases:
        with pytest.raises(EddyError) as err:
            parse_text(text, t)
        assert err.value.message == message
    with pytest.raises(EddyError) as overflow:
        parse_text("123.456", numeric(4, 2))
    assert overflow.value.detail == "A field with precision 4, scale 2 must round to an absolute value less than 10^2."


def test_the_first_bad_row_is_reported() -> None:
    with pytest.raises(EddyError, match='"b"'):
        parse_array(pa.array(["1", None, "b", "c"]), INTEGER)


def test_infinity_is_refused_clearly() -> None:
    for t in (DATE, TIMESTAMP, TIMESTAMPTZ):
        with pytest.raises(EddyError, match="infinite"):
            parse_text("infinity", t)


def test_values_come_back_as_python_values() -> None:
    import datetime as dt
    from decimal import Decimal

    assert parse_text(" 42 ", INTEGER) == 42
    assert parse_text("1.50", NUMERIC) == Decimal("1.5")
    assert parse_text("2026-01-01", DATE) == dt.date(2026, 1, 1)
    assert parse_text("2026-01-01 10:00+02", TIMESTAMPTZ) == dt.datetime(2026, 1, 1, 8, tzinfo=dt.UTC)
    assert parse_text("abc", VARCHAR) == "abc"
    assert parse_text("1 day 2 hours", INTERVAL) == pa.MonthDayNano([0, 1, 7_200_000_000_000])
