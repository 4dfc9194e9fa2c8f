"""EXTRACT: the fields of dates, timestamps, timestamptz (in the session zone) and intervals as NUMERIC.

Field by field this is PostgreSQL 15's timestamp_part_common,
extract_date and interval_part_common: BC years count down from -1,
decades, centuries and millennia follow PostgreSQL's BC rules, ISO weeks
start on Monday, and an interval's epoch counts a year as 365.25 days and
a month as 30.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from common.errors import FeatureNotSupported
from common.pgtext_calendar import (
    USECS_PER_DAY,
    USECS_PER_HOUR,
    USECS_PER_MINUTE,
    USECS_PER_SEC,
    civil_from_days,
    days_from_civil,
    utc_offsets,
)
from common.pgtext_interval import interval_fields
from common.types import NUMERIC, DataType, TypeName
from compute.expr import numeric
from compute.expr.kernel import all_valid, from_numpy, values

UNIX_EPOCH_JDATE = 2_440_588
_DATE_UNITS = {"day", "month", "quarter", "week", "year", "decade", "century", "millennium", "isoyear", "dow",
               "isodow", "doy", "julian", "epoch"}
_INTERVAL_UNITS = {"microsecond", "millisecond", "second", "minute", "hour", "day", "month", "quarter", "year",
                   "decade", "century", "millennium", "epoch"}
_ZONE_UNITS = {"timezone", "timezone_hour", "timezone_minute"}


def _ratio(num: np.ndarray, den: int, ok: np.ndarray) -> pa.Array:
    """num / den as unconstrained NUMERIC (exact to its 10 fractional digits)."""
    n = pa.array(num.astype(np.int64), pa.int64()).cast(pa.decimal128(19, 0))
    d = pa.repeat(pa.scalar(den, pa.int64()), len(num)).cast(pa.decimal128(19, 0))
    out = numeric.divide(n, d) if den != 1 else numeric.to_numeric(n)
    return _masked(out, ok)


def _masked(arr: pa.Array, ok: np.ndarray) -> pa.Array:
    if ok.all():
        return arr
    return pc.if_else(pa.array(ok), arr, pa.scalar(None, arr.type))


def _whole(v: np.ndarray, ok: np.ndarray) -> pa.Array:
    return _masked(from_numpy(v.astype(np.int64), pa.int64()).cast(NUMERIC.arrow), ok)


def _tdiv(x: np.ndarray, y: int) -> np.ndarray:
    """C's truncating integer division."""
    q = x // y
    return q + ((q < 0) & (q * y != x))


def _year_fields(y: np.ndarray, unit: str) -> np.ndarray:
    if unit == "year":
        return np.where(y > 0, y, y - 1)
    if unit == "decade":
        return np.where(y >= 0, y // 10, -((8 - (y - 1)) // 10))
    size = 100 if unit == "century" else 1000
    return np.where(y > 0, (y + size - 1) // size, -((size - 1 - (y - 1)) // size))


def _calendar(days: np.ndarray, unit: str) -> np.ndarray | None:
    y, m, d = civil_from_days(days)
    if unit == "day":
        return d
    if unit == "month":
        return m
    if unit == "quarter":
        return (m - 1) // 3 + 1
    if unit in ("year", "decade", "century", "millennium"):
        return _year_fields(y, unit)
    isodow = (days + 3) % 7 + 1
    if unit == "isodow":
        return isodow
    if unit == "dow":
        return isodow % 7
    if unit == "doy":
        return days - days_from_civil(y, np.ones_like(m), np.ones_like(m)) + 1
    thursday = days - isodow + 4
    ty, tm, _ = civil_from_days(thursday)
    if unit == "isoyear":
        return np.where(ty > 0, ty, ty - 1)
    if unit == "week":
        return (thursday - days_from_civil(ty, np.ones_like(tm), np.ones_like(tm))) // 7 + 1
    return None


def extract_field(arr: pa.Array, t: DataType, unit: str, name: str, timezone: str,
                  as_float: bool = False) -> pa.Array:
    """One field of every value of `arr` (of type `t`): NUMERIC for extract, float8 for date_part."""
    ok = all_valid([arr])
    if as_float:
        floated = _float_field(arr, t, unit, ok, timezone)
        if floated is not None:
            return floated
        return extract_field(arr, t, unit, name, timezone).cast(pa.float64())
    if t.name is TypeName.INTERVAL:
        return _interval_field(arr, unit, name, ok)
    allowed = _DATE_UNITS if t.name is TypeName.DATE else _DATE_UNITS | _INTERVAL_UNITS
    if t.name is TypeName.TIMESTAMPTZ:
        allowed = allowed | _ZONE_UNITS
    if unit not in allowed:
        raise FeatureNotSupported(f'unit "{name}" not supported for type {t.display()}')
    v = values(arr).astype(np.int64)
    offsets = np.zeros(len(v), dtype=np.int64)
    if t.name is TypeName.DATE:
        local = v * USECS_PER_DAY
    elif t.name is TypeName.TIMESTAMP:
        local = v
    else:
        offsets = utc_offsets(v, timezone)
        local = v + offsets * USECS_PER_SEC
    if unit in _ZONE_UNITS:
        scale = {"timezone": 1, "timezone_hour": 3600, "timezone_minute": 60}[unit]
        out = _tdiv(offsets, scale)
        return _whole(np.fmod(out, 60) if unit == "timezone_minute" else out, ok)
    if unit == "epoch":
        if t.name is TypeName.DATE:
            return _whole(v * 86_400, ok)
        return _ratio(v if t.name is TypeName.TIMESTAMPTZ else local, USECS_PER_SEC, ok)
    days = local // USECS_PER_DAY
    time = local - days * USECS_PER_DAY
    if unit == "julian":
        if t.name is TypeName.DATE:
            return _whole(days + UNIX_EPOCH_JDATE, ok)
        return _ratio((days + UNIX_EPOCH_JDATE) * USECS_PER_DAY + time, USECS_PER_DAY, ok)
    micros_in_minute = time % USECS_PER_MINUTE
    if unit == "microsecond":
        return _whole(micros_in_minute, ok)
    if unit == "millisecond":
        return _ratio(micros_in_minute, 1000, ok)
    if unit == "second":
        return _ratio(micros_in_minute, USECS_PER_SEC, ok)
    if unit == "minute":
        return _whole(time // USECS_PER_MINUTE % 60, ok)
    if unit == "hour":
        return _whole(time // USECS_PER_HOUR, ok)
    field = _calendar(days, unit)
    assert field is not None
    return _whole(field, ok)


def _interval_field(arr: pa.Array, unit: str, name: str, ok: np.ndarray) -> pa.Array:
    if unit not in _INTERVAL_UNITS:
        raise FeatureNotSupported(f'unit "{name}" not supported for type interval')
    m, d, u = interval_fields(arr)
    year, mon = _tdiv(m, 12), np.fmod(m, 12)
    hour = _tdiv(u, USECS_PER_HOUR)
    rest = u - hour * USECS_PER_HOUR
    minute = _tdiv(rest, USECS_PER_MINUTE)
    micros = rest - minute * USECS_PER_MINUTE
    if unit == "epoch":
        secs = (31_557_600 * year + 2_592_000 * mon + 86_400 * d) * USECS_PER_SEC + u
        return _ratio(secs, USECS_PER_SEC, ok)
    simple = {"microsecond": micros, "minute": minute, "hour": hour, "day": d, "month": mon,
              "quarter": _tdiv(mon, 3) + 1, "year": year, "decade": _tdiv(year, 10), "century": _tdiv(year, 100),
              "millennium": _tdiv(year, 1000)}
    if unit in simple:
        return _whole(simple[unit], ok)
    return _ratio(micros, 1000 if unit == "millisecond" else USECS_PER_SEC, ok)


def _float_field(arr: pa.Array, t: DataType, unit: str, ok: np.ndarray, timezone: str) -> pa.Array | None:
    """date_part's fractional fields, computed in double precision the way PostgreSQL 15 computes them."""
    if unit not in ("second", "millisecond", "julian", "epoch"):
        return None
    if t.name is TypeName.INTERVAL:
        if unit not in _INTERVAL_UNITS:
            return None
        m, d, u = interval_fields(arr)
        if unit == "epoch":
            out = (u / 1e6 + (365.25 * 86_400) * _tdiv(m, 12) + (30.0 * 86_400) * np.fmod(m, 12)
                   + 86_400.0 * d)
        else:
            rest = u - _tdiv(u, USECS_PER_MINUTE) * USECS_PER_MINUTE
            sec = _tdiv(rest, USECS_PER_SEC)
            frac = rest - sec * USECS_PER_SEC
            out = sec * 1000.0 + frac / 1000.0 if unit == "millisecond" else sec + frac / 1e6
        return from_numpy(out, pa.float64(), ok)
    if t.name not in (TypeName.TIMESTAMP, TypeName.TIMESTAMPTZ):
        return None
    v = values(arr).astype(np.int64)
    if unit == "epoch":
        return from_numpy(v / 1e6, pa.float64(), ok)
    local = v + utc_offsets(v, timezone) * USECS_PER_SEC if t.name is TypeName.TIMESTAMPTZ else v
    days = local // USECS_PER_DAY
    time = local - days * USECS_PER_DAY
    sec = time // USECS_PER_SEC % 60
    frac = time % USECS_PER_SEC
    if unit == "second":
        out = sec + frac / 1e6
    elif unit == "millisecond":
        out = sec * 1000.0 + frac / 1000.0
    else:
        hours, minutes = time // USECS_PER_HOUR, time // USECS_PER_MINUTE % 60
        out = (days + UNIX_EPOCH_JDATE) + ((hours * 60 + minutes) * 60 + sec + frac / 1e6) / 86_400.0
    return from_numpy(out, pa.float64(), ok)
