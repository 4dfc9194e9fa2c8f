"""Arithmetic operators on every numeric type pair and on dates, timestamps and intervals, against PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from common.errors import EddyError
from common.functions import resolve
from common.types import DATE, DOUBLE, INTEGER, INTERVAL, NUMERIC, SMALLINT, TIMESTAMP, TIMESTAMPTZ, DataType
from tests.unit.compute.expr.pg_oracle import Oracle, call, col, typed
from tests.unit.compute.expr.samples import NUMBERS, pairs, samples

OPS = ["add", "subtract", "multiply", "divide", "modulus"]


def resolvable(op: str, a: DataType, b: DataType) -> bool:
    try:
        resolve(op, [a, b])
        return True
    except EddyError:
        return False


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("a", NUMBERS, ids=str)
def test_numbers(oracle: Oracle, op: str, a: DataType) -> None:
    bad: list[str] = []
    for b in NUMBERS:
        if resolvable(op, a, b):
            bad += oracle.mismatches(call(op, col(0, a), col(1, b)), pairs(a, b), [a, b])
    assert not bad, "\n".join(bad[:30])


@pytest.mark.parametrize("t", (*NUMBERS, INTERVAL), ids=str)
def test_unary_minus(oracle: Oracle, t: DataType) -> None:
    bad = oracle.mismatches(call("neg", col(0, t)), [[v] for v in samples(t)], [t])
    assert not bad, "\n".join(bad)


def test_integer_edge_cases(oracle: Oracle) -> None:
    rows = [["-2147483648", "-1"], ["2147483647", "1"], ["-7", "2"], ["7", "-2"], ["-7", "-2"], ["5", "0"],
            ["0", "0"], ["-2147483648", "2"]]
    for op in OPS:
        bad = oracle.mismatches(call(op, col(0, INTEGER), col(1, INTEGER)), rows, [INTEGER, INTEGER])
        assert not bad, "\n".join(bad)
    bad = oracle.mismatches(call("multiply", col(0, SMALLINT), col(1, SMALLINT)),
                            [["-32768", "-1"], ["200", "200"], ["181", "181"]], [SMALLINT, SMALLINT])
    assert not bad, "\n".join(bad)


def test_float_overflow_underflow_and_zero(oracle: Oracle) -> None:
    rows = [["1e308", "10"], ["1e-308", "1e-10"], ["1", "0"], ["0", "0"], ["NaN", "0"], ["Infinity", "0"],
            ["Infinity", "Infinity"], ["1e300", "1e-300"], ["-0", "5"]]
    for op in ("add", "subtract", "multiply", "divide"):
        bad = oracle.mismatches(call(op, col(0, DOUBLE), col(1, DOUBLE)), rows, [DOUBLE, DOUBLE])
        assert not bad, "\n".join(bad)


def test_numeric_precision(oracle: Oracle) -> None:
    rows = [["1", "3"], ["2", "3"], ["1e20", "7"], ["0.0000000001", "3"], ["123456789.123456789", "0.000001"],
            ["-7.5", "2"], ["7.5", "-2"], ["99999999999999999999999999", "99"], ["1", "0"], ["0.5", "0.25"]]
    for op in OPS:
        bad = oracle.mismatches(call(op, col(0, NUMERIC), col(1, NUMERIC)), rows, [NUMERIC, NUMERIC])
        assert not bad, "\n".join(bad)


TEMPORAL_CASES: list[tuple[str, DataType, DataType]] = [
    ("add", DATE, INTEGER), ("subtract", DATE, INTEGER), ("add", INTEGER, DATE), ("subtract", DATE, DATE),
    ("add", DATE, INTERVAL), ("subtract", DATE, INTERVAL), ("add", INTERVAL, DATE),
    ("add", TIMESTAMP, INTERVAL), ("subtract", TIMESTAMP, INTERVAL), ("add", INTERVAL, TIMESTAMP),
    ("subtract", TIMESTAMP, TIMESTAMP), ("add", TIMESTAMPTZ, INTERVAL), ("subtract", TIMESTAMPTZ, INTERVAL),
    ("subtract", TIMESTAMPTZ, TIMESTAMPTZ), ("add", INTERVAL, INTERVAL), ("subtract", INTERVAL, INTERVAL),
    ("multiply", INTERVAL, DOUBLE), ("multiply", DOUBLE, INTERVAL), ("divide", INTERVAL, DOUBLE),
    ("subtract", TIMESTAMP, DATE), ("add", DATE, SMALLINT),
]


@pytest.mark.parametrize(("op", "a", "b"), TEMPORAL_CASES, ids=lambda v: str(v))
def test_dates_timestamps_intervals(oracle: Oracle, op: str, a: DataType, b: DataType) -> None:
    bad = oracle.mismatches(call(op, col(0, a), col(1, b)), pairs(a, b, n=80), [a, b])
    assert not bad, "\n".join(bad[:30])


@pytest.mark.parametrize("zone", ["America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Asia/Kolkata"])
@pytest.mark.parametrize(("op", "a", "b"), [c for c in TEMPORAL_CASES if TIMESTAMPTZ in c[1:]], ids=lambda v: str(v))
def test_timestamptz_arithmetic_in_session_zone(zoned: Callable[[str], Oracle], zone: str, op: str, a: DataType,
                                                b: DataType) -> None:
    oracle = zoned(zone)
    bad = oracle.mismatches(call(op, col(0, a), col(1, b), fmt=oracle.fmt), pairs(a, b, n=80), [a, b])
    assert not bad, "\n".join(bad[:30])


def test_month_arithmetic_clamps_to_month_end(oracle: Oracle) -> None:
    rows = [["2026-01-31", "1 mon"], ["2024-02-29", "1 year"], ["2024-02-29", "-12 mons"], ["2026-03-31", "-1 mon"],
            ["2026-01-31 10:00", "1 mon 1 day"], ["0001-01-01", "-1 day"], ["2026-01-01", "1000000000 days"]]
    bad = oracle.mismatches(call("add", col(0, TIMESTAMP), col(1, INTERVAL)), rows, [TIMESTAMP, INTERVAL])
    assert not bad, "\n".join(bad)


def test_interval_scaling_cascades_fractions(oracle: Oracle) -> None:
    rows = [["1 mon", "0.5"], ["1 mon 1 day", "1.5"], ["1 day", "0.3333"], ["1 year", "1e10"], ["1 day", "NaN"],
            ["3 days 01:00", "0"], ["-1 mon", "0.7"], ["29 days 23:59:59", "1.0000001"]]
    for op in ("multiply", "divide"):
        bad = oracle.mismatches(call(op, col(0, INTERVAL), col(1, DOUBLE)), rows, [INTERVAL, DOUBLE])
        assert not bad, "\n".join(bad)


def test_constant_expression(oracle: Oracle) -> None:
    assert not oracle.mismatches(call("add", typed("1", INTEGER), typed("2.5", NUMERIC)))
