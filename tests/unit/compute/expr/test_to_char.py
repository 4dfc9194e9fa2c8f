"""to_char (dates, times, intervals, numbers) and to_timestamp/to_date with templates, against PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from common.types import BIGINT, DOUBLE, INTEGER, INTERVAL, NUMERIC, REAL, TIMESTAMP, TIMESTAMPTZ, VARCHAR, DataType
from tests.unit.compute.expr.pg_oracle import Oracle, call, col, unknown
from tests.unit.compute.expr.samples import samples

DATETIME_FORMATS = [
    "YYYY-MM-DD HH24:MI:SS", "YYYY-MM-DD HH24:MI:SS.US", "YYYY-MM-DD\"T\"HH24:MI:SS.MS", "Day, DD Month YYYY",
    "FMDay, FMDD FMMonth YYYY", "HH12:MI AM", "hh:mi pm", "Dy Mon DDth YY Q WW IW D ID DDD J CC W",
    "Y,YYY YYY YY Y RM rm SSSS FF1 FF2 FF3 FF4 FF5 FF6", "IYYY-IW-ID a.m. P.M.", "DDth DDTH FMDDth MMth",
    "MONTH month Month MON mon DAY day DY dy", "YYYYMMDD", "\"Quarter\" Q \"of\" YYYY", "AD BC ad b.c. A.D.",
    "TZ OF TZH:TZM tz", "FMHH24h FMMIm", "DD/MM/YY", "", "plain text", "MIMS SSUS",
]
NUMBER_FORMATS = [
    "999", "000", "9.99", "0.99", "999.99", "FM999.99", "FM999", "9,999.99", "S999", "999S", "999MI", "999PR",
    "FM9,999.00", "9.99EEEE", "SG999", "PL999", "99", "9990.0", "$999", "999th", "FM0000", "S9,999.90", "FMS999",
    "99.99MI", "FM99PR", "0000.00", "9G999D99", "\"n=\"999",
]


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Asia/Kolkata"])
@pytest.mark.parametrize("t", [TIMESTAMP, TIMESTAMPTZ], ids=str)
def test_datetimes(zoned: Callable[[str], Oracle], t: DataType, zone: str) -> None:
    if zone != "UTC" and t == TIMESTAMP:
        return
    oracle = zoned(zone)
    bad: list[str] = []
    for fmt in DATETIME_FORMATS:
        bad += oracle.mismatches(call("to_char", col(0, t), unknown(fmt)), [[v] for v in samples(t, n=12)], [t])
    assert not bad, "\n".join(bad[:30])


def test_intervals(oracle: Oracle) -> None:
    formats = ["HH24:MI:SS", "DD \"days\" HH24:MI:SS.US", "YYYY-MM-DD", "HH12 MI", "FMHH24"]
    bad: list[str] = []
    for fmt in formats:
        bad += oracle.mismatches(call("to_char", col(0, INTERVAL), unknown(fmt)),
                                 [[v] for v in samples(INTERVAL, n=10) if v is None or "-" not in v], [INTERVAL])
    assert not bad, "\n".join(bad[:30])


@pytest.mark.parametrize("t", [INTEGER, BIGINT, DOUBLE, REAL, NUMERIC], ids=str)
def test_numbers(oracle: Oracle, t: DataType) -> None:
    values = ["0", "5", "-5", "0.5", "-0.5", "123.456", "-123.456", "1234.5", "12345", "0.004", "1000000", "7.125",
              None]
    if t.is_integer:
        values = [v for v in values if v is None or "." not in v]
    bad: list[str] = []
    for fmt in NUMBER_FORMATS:
        bad += oracle.mismatches(call("to_char", col(0, t), unknown(fmt)), [[v] for v in values], [t])
    assert not bad, "\n".join(bad[:40])


PARSE_CASES = [
    ("2026-03-01 13:05:09.5", "YYYY-MM-DD HH24:MI:SS.MS"), ("01/03/2026", "DD/MM/YYYY"), ("05 Dec 2000", "DD Mon YYYY"),
    ("20260301", "YYYYMMDD"), ("1:05 PM", "HH12:MI AM"), ("2026  03   01", "YYYY MM DD"), ("2026-3-1", "YYYY-MM-DD"),
    ("2026-03-01T10:00:00", "YYYY-MM-DD\"T\"HH24:MI:SS"), ("March 5, 2026", "Month DD, YYYY"),
    ("2026-03-01 10:00:00.123456", "YYYY-MM-DD HH24:MI:SS.US"), ("26-03-01", "YY-MM-DD"),
    ("2026-03-01 10:00 +05", "YYYY-MM-DD HH24:MI TZH"), ("2026-13-01", "YYYY-MM-DD"), ("2026-xx-01", "YYYY-MM-DD"),
    ("2026-01-01 25:00", "YYYY-MM-DD HH24:MI"), ("13:00 PM", "HH12:MI AM"), ("2026-02-30", "YYYY-MM-DD"),
    ("2026", "YYYY"), ("2026-05", "YYYY-MM"), ("10:30", "HH24:MI"), ("12:00 AM", "HH12:MI AM"),
    ("2026-03-01 10:00 -03:30", "YYYY-MM-DD HH24:MI TZH:TZM"), ("Tuesday 2026-03-03", "Day YYYY-MM-DD"),
    ("2026.060", "YYYY.DDD"), (None, "YYYY"),
]


@pytest.mark.parametrize("zone", ["UTC", "America/New_York"])
def test_to_timestamp_and_to_date_with_templates(zoned: Callable[[str], Oracle], zone: str) -> None:
    oracle = zoned(zone)
    rows = [list(c) for c in PARSE_CASES]
    bad = oracle.mismatches(call("to_timestamp", col(0, VARCHAR), col(1, VARCHAR)), rows, [VARCHAR, VARCHAR])
    bad += oracle.mismatches(call("to_date", col(0, VARCHAR), col(1, VARCHAR)), rows, [VARCHAR, VARCHAR])
    assert not bad, "\n".join(bad)
