"""Every cast PostgreSQL allows among Eddy's types, on sample values, against PostgreSQL; refused casts refused."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from common.errors import CannotCoerce
from common.functions import can_cast
from common.types import (
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
from tests.unit.compute.expr.pg_oracle import Oracle, X, cast, col, quote, sql_type, unknown
from tests.unit.compute.expr.samples import ALL, samples

PAIRS = [(a, b) for a in ALL for b in ALL if a != b and can_cast(a, b, implicit=False) and VARCHAR not in (a, b)]


# NUMERIC has no NaN or infinity in Eddy (decimal128 cannot hold them): such casts are refused (0A000).
_NOT_NUMERIC = {"NaN", "Infinity", "-Infinity"}


@pytest.mark.parametrize(("src", "dst"), PAIRS, ids=str)
def test_casts_between_types(oracle: Oracle, src: DataType, dst: DataType) -> None:
    values = samples(src, n=25)
    if dst.name is NUMERIC.name:
        values = [v for v in values if v not in _NOT_NUMERIC]
    bad = oracle.mismatches(cast(col(0, src), dst), [[v] for v in values], [src])
    assert not bad, "\n".join(bad[:30])


def test_nan_and_infinity_do_not_become_numeric(oracle: Oracle) -> None:
    got = oracle.eddy(cast(col(0, DOUBLE), NUMERIC), [[v] for v in _NOT_NUMERIC], [DOUBLE])
    assert got == [("err", "0A000")] * 3


@pytest.mark.parametrize("t", ALL, ids=str)
def test_casts_to_text_print_like_postgres(oracle: Oracle, t: DataType) -> None:
    values = samples(t, n=25)
    if t == NUMERIC:
        # PostgreSQL keeps the trailing zeros a NUMERIC was written with; Eddy's unconstrained NUMERIC does not.
        values = [v if v is None or "." not in v else v.rstrip("0").rstrip(".") for v in values]
    bad = oracle.mismatches(cast(col(0, t), VARCHAR), [[v] for v in values], [t])
    assert not bad, "\n".join(bad[:30])


@pytest.mark.parametrize("t", ALL, ids=str)
def test_casts_from_text_read_like_postgres(oracle: Oracle, t: DataType) -> None:
    texts = [*samples(t, n=20), "", "junk", " 1 ", "1.5", "2026-01-01", "1 day", "true", "NaN", "-0"]
    if t == NUMERIC:
        texts = [v for v in texts if v not in _NOT_NUMERIC]
    bad = oracle.mismatches(cast(col(0, VARCHAR), t), [[v] for v in texts], [VARCHAR])
    assert not bad, "\n".join(bad[:30])


@pytest.mark.parametrize("dst", [numeric(5, 2), numeric(3, 0), numeric(10, 4), numeric(4, 4)], ids=str)
@pytest.mark.parametrize("src", [INTEGER, DOUBLE, REAL, NUMERIC, VARCHAR, numeric(6, 3)], ids=str)
def test_casts_to_constrained_numeric_round_and_overflow(oracle: Oracle, src: DataType, dst: DataType) -> None:
    values = ["0", "1", "-1", "12.345", "-12.345", "99.995", "999.5", "0.00005", "123.4549", "-0.5", "999", "1000",
              "0.99995", "5.5", None]
    valid = [v for v in values if v is None or oracle.pg(X(f"CAST({quote(v)} AS {sql_type(src)})", None))[0][0] == "ok"]
    bad = oracle.mismatches(cast(col(0, src), dst), [[v] for v in valid], [src])
    assert not bad, "\n".join(bad[:30])


@pytest.mark.parametrize("zone", ["America/New_York", "Asia/Kolkata", "Europe/Berlin", "Pacific/Chatham"])
@pytest.mark.parametrize(("src", "dst"), [(a, b) for a, b in [*PAIRS, (TIMESTAMPTZ, VARCHAR), (VARCHAR, TIMESTAMPTZ)]
                                          if TIMESTAMPTZ in (a, b)], ids=str)
def test_time_zone_casts_use_the_session_zone(zoned: Callable[[str], Oracle], zone: str, src: DataType,
                                              dst: DataType) -> None:
    oracle = zoned(zone)
    values = samples(src, n=25) if src is not VARCHAR else samples(TIMESTAMPTZ, n=25) + samples(TIMESTAMP, n=10)
    bad = oracle.mismatches(cast(col(0, src), dst, oracle.fmt), [[v] for v in values], [src])
    assert not bad, "\n".join(bad[:30])


def test_float_rounding_into_integers(oracle: Oracle) -> None:
    values = ["0.5", "1.5", "2.5", "-0.5", "-1.5", "32767.5", "32766.5", "-32768.5", "2147483647.5", "NaN",
              "Infinity", "9.223372036854775e18", "9.2233720368547758e18", "-9.2233720368547758e18"]
    for dst in (SMALLINT, INTEGER, numeric(38, 0)):
        usable = [v for v in values if dst.is_integer or v not in _NOT_NUMERIC]
        bad = oracle.mismatches(cast(col(0, DOUBLE), dst), [[v] for v in usable], [DOUBLE])
        assert not bad, "\n".join(bad)


def test_untyped_literals(oracle: Oracle) -> None:
    for text, t in [("12", INTEGER), ("1.5", REAL), ("yes", BOOLEAN), ("2026-02-03", DATE), ("2 hours", INTERVAL),
                    ("2026-01-01 10:00", TIMESTAMP)]:
        assert not oracle.mismatches(cast(unknown(text), t))


def test_refused_casts_are_refused() -> None:
    with pytest.raises(CannotCoerce, match="cannot cast type date to integer"):
        cast(col(0, DATE), INTEGER)
    with pytest.raises(CannotCoerce, match="cannot cast type interval to double precision"):
        cast(col(0, INTERVAL), DOUBLE)
