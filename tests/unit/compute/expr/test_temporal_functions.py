"""date_trunc, extract/date_part, make_*, to_timestamp, age, justify_*, AT TIME ZONE and isfinite against PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from common.types import DATE, DOUBLE, INTEGER, INTERVAL, TIMESTAMP, TIMESTAMPTZ, VARCHAR, DataType
from tests.unit.compute.expr.pg_oracle import Oracle, call, col, unknown
from tests.unit.compute.expr.samples import samples

TRUNC_UNITS = ["microseconds", "milliseconds", "second", "minute", "hour", "day", "week", "month", "quarter", "year",
               "decade", "century", "millennium", "Day", "days", "mon", "hours", "dow", "xyz"]
FIELDS = ["microseconds", "milliseconds", "second", "minute", "hour", "day", "month", "quarter", "year", "decade",
          "century", "millennium", "dow", "isodow", "doy", "week", "isoyear", "julian", "epoch", "timezone",
          "timezone_hour", "timezone_minute", "Year", "secs", "xyz"]
ZONES = ["UTC", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"]
BC_EDGES = ["0044-03-15 10:00:00 BC", "0001-01-01 00:00:00 BC", "0100-12-31 23:00:00 BC", "1000-01-01 00:00:00 BC",
            "0001-06-01 00:00:00", "2000-01-01 00:00:00", "2001-01-01 00:00:00", "1999-12-31 23:59:59"]


def _values(t: DataType) -> list[str | None]:
    extra = [v.replace(" 00:00:00", "").replace(" 10:00:00", "").replace(" 23:00:00", "") for v in BC_EDGES] \
        if t == DATE else BC_EDGES
    return samples(t, n=25) + (extra if t != INTERVAL else [])


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("t", [TIMESTAMP, TIMESTAMPTZ, INTERVAL, DATE], ids=str)
def test_date_trunc(zoned: Callable[[str], Oracle], t: DataType, zone: str) -> None:
    if zone != "UTC" and t not in (TIMESTAMPTZ, DATE):
        return
    oracle = zoned(zone)
    bad: list[str] = []
    for unit in TRUNC_UNITS:
        x = call("date_trunc", unknown(unit), col(0, t))
        bad += oracle.mismatches(x, [[v] for v in _values(t)], [t])
    assert not bad, "\n".join(bad[:30])


def test_date_trunc_in_an_explicit_zone(oracle: Oracle) -> None:
    for unit in ("day", "hour", "month"):
        x = call("date_trunc", unknown(unit), col(0, TIMESTAMPTZ), unknown("Asia/Tokyo"))
        assert not oracle.mismatches(x, [[v] for v in samples(TIMESTAMPTZ)], [TIMESTAMPTZ])


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("t", [TIMESTAMP, TIMESTAMPTZ, INTERVAL, DATE], ids=str)
@pytest.mark.parametrize("func", ["extract", "date_part"])
def test_extract_and_date_part(zoned: Callable[[str], Oracle], func: str, t: DataType, zone: str) -> None:
    if zone != "UTC" and t != TIMESTAMPTZ:
        return
    oracle = zoned(zone)
    bad: list[str] = []
    for field in FIELDS:
        if func == "extract":
            x = call("extract", unknown(field), col(0, t))
        else:
            x = call("date_part", unknown(field), col(0, t))
        bad += oracle.mismatches(x, [[v] for v in _values(t)], [t])
    assert not bad, "\n".join(bad[:30])


def test_make_functions(oracle: Oracle) -> None:
    dates: list[list[str | None]] = [["2026", "2", "28"], ["2024", "2", "29"], ["2026", "2", "29"], ["-44", "3", "15"], ["0", "1", "1"],
             ["2026", "13", "1"], ["2026", "0", "1"], [None, "1", "1"], ["1", "1", "1"], ["9999", "12", "31"]]
    assert not oracle.mismatches(call("make_date", col(0, INTEGER), col(1, INTEGER), col(2, INTEGER)), dates,
                                 [INTEGER] * 3)
    times = [["2026", "1", "2", "3", "4", "5.5"], ["2026", "1", "2", "24", "0", "0"], ["2026", "1", "2", "25", "0", "0"],
             ["2026", "1", "2", "23", "59", "60"], ["2026", "1", "2", "23", "0", "61.5"], ["2026", "1", "2", "-1", "0",
                                                                                          "0"],
             ["2026", "2", "30", "0", "0", "0"], ["2026", "1", "1", "0", "60", "0"], ["2026", "1", "1", "1", "2",
                                                                                     "3.0000005"],
             ["-5", "1", "1", "0", "0", "0"], ["2026", "3", "8", "2", "30", "0"]]
    types: list[DataType] = [INTEGER] * 5 + [DOUBLE]
    cols = [col(i, t) for i, t in enumerate(types)]
    assert not oracle.mismatches(call("make_timestamp", *cols), times, types)
    assert not oracle.mismatches(call("make_timestamptz", *cols), times, types)
    assert not oracle.mismatches(call("make_timestamptz", *cols, unknown("America/New_York")), times, types)


def test_to_timestamp_from_epoch_seconds(oracle: Oracle) -> None:
    values = ["0", "1", "-1", "1767225600.123456", "1e10", "-1e10", "0.0000005", "1.5e-7", "NaN", "1e20", "-3e11",
              "1234567890.987654", None]
    assert not oracle.mismatches(call("to_timestamp", col(0, DOUBLE)), [[v] for v in values], [DOUBLE])


@pytest.mark.parametrize("zone", ["UTC", "America/New_York"])
def test_age(zoned: Callable[[str], Oracle], zone: str) -> None:
    oracle = zoned(zone)
    rows = [[a, b] for a, b in zip(samples(TIMESTAMP, seed=1), samples(TIMESTAMP, seed=9))]
    rows += [["2026-03-01", "2026-01-31"], ["2026-01-31", "2026-03-01"], ["2024-02-29", "2023-02-28 12:00"],
             ["2026-01-01", "2026-01-01"], ["2026-01-01 00:00:01", "2025-12-31 23:59:59.5"], ["0001-01-01 BC", "2026-01-01"]]
    for t in (TIMESTAMP, TIMESTAMPTZ):
        bad = oracle.mismatches(call("age", col(0, t), col(1, t)), rows, [t, t])
        assert not bad, "\n".join(bad)


def test_justify_and_isfinite(oracle: Oracle) -> None:
    values = [*samples(INTERVAL, n=40), "35 days", "-35 days", "1 mon -35 days", "-1 mon 35 days", "49:00:00", "-49:00:00", "1 day -49:00:00", "1 mon -1 day -1 sec", "-1 mon 1 day 1 sec", "1 mon -00:00:01"]
    for name in ("justify_days", "justify_hours", "justify_interval", "isfinite"):
        bad = oracle.mismatches(call(name, col(0, INTERVAL)), [[v] for v in values], [INTERVAL])
        assert not bad, "\n".join(bad)
    for t in (DATE, TIMESTAMP, TIMESTAMPTZ):
        assert not oracle.mismatches(call("isfinite", col(0, t)), [[v] for v in samples(t)], [t])


@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin"])
def test_at_time_zone(zoned: Callable[[str], Oracle], zone: str) -> None:
    oracle = zoned(zone)
    zones = ["UTC", "America/New_York", "asia/kolkata", "Europe/Berlin", "nowhere", None]
    for t in (TIMESTAMP, TIMESTAMPTZ):
        rows = [[v, z] for v in samples(t) for z in zones]
        bad = oracle.mismatches(call("timezone", col(1, VARCHAR), col(0, t)), rows, [t, VARCHAR])
        assert not bad, "\n".join(bad[:20])
