"""Date/time functions: date_trunc, extract/date_part, make_*, to_timestamp(float8), age, justify_*, AT TIME ZONE, now().

Each follows the corresponding routine of PostgreSQL's timestamp.c and
date.c, on whole columns. Units are matched as PostgreSQL matches them
(case-insensitively, first ten characters, with its abbreviations).
Timestamptz fields are those of the session time zone.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa

from common.errors import DatetimeFieldOverflow, FeatureNotSupported, InvalidParameterValue
from common.expr import FuncCall
from common.pgtext_calendar import (
    MAX_TIMESTAMP_US,
    MIN_TIMESTAMP_US,
    USECS_PER_DAY,
    USECS_PER_HOUR,
    USECS_PER_MINUTE,
    USECS_PER_SEC,
    civil_from_days,
    days_from_civil,
    days_in_month,
    local_to_utc,
    normalize_timezone,
    utc_offsets,
    utc_to_local,
    valid_date,
)
from common.pgtext_interval import interval_fields
from common.types import DataType, TypeName
from compute.expr.context import EvalContext
from compute.expr.kernel import CONSTANTS, all_valid, from_numpy, kernel, per_distinct, raise_if, take, values
from compute.expr.temporal import checked_interval, justify_hours
from compute.expr.temporal_parts import extract_field
from compute.expr.to_timestamp import parse_with_format

_UNIT_NAMES = {
    "microsecond": "us usec usecs useconds microsecon",
    "millisecond": "ms msec msecs mseconds millisecon",
    "second": "s sec secs second seconds",
    "minute": "m min mins minute minutes",
    "hour": "h hr hrs hour hours",
    "day": "d day days",
    "week": "w week weeks",
    "month": "mon mons month months",
    "quarter": "qtr quarter",
    "year": "y yr yrs year years",
    "decade": "dec decs decade decades",
    "century": "c cent century centuries",
    "millennium": "mil mils millennia millennium",
    "epoch": "epoch", "dow": "dow", "doy": "doy", "isodow": "isodow", "isoyear": "isoyear", "julian": "julian j",
    "timezone": "timezone", "timezone_hour": "timezone_h", "timezone_minute": "timezone_m",
}
UNITS = {alias: unit for unit, names in _UNIT_NAMES.items() for alias in names.split()}


def canonical_unit(name: str, t: DataType) -> str:
    unit = UNITS.get(name.lower()[:10])
    if unit is None:
        raise InvalidParameterValue(f'unit "{name}" not recognized for type {t.display()}')
    return unit


def _not_supported(unit: str, t: DataType) -> FeatureNotSupported:
    return FeatureNotSupported(f'unit "{unit}" not supported for type {t.display()}')


# -- date_trunc ---------------------------------------------------------------

_FIXED = {"microsecond": 1, "millisecond": 1000, "second": USECS_PER_SEC, "minute": USECS_PER_MINUTE,
          "hour": USECS_PER_HOUR, "day": USECS_PER_DAY}


def _trunc_year(y: np.ndarray, unit: str) -> np.ndarray:
    """PostgreSQL's decade/century/millennium truncation of astronomical years (BC counts down)."""
    size = {"decade": 10, "century": 100, "millennium": 1000}[unit]
    if unit == "decade":
        return np.where(y > 0, y // 10 * 10, -((8 - (y - 1)) // 10) * 10)
    return np.where(y > 0, (y + size - 1) // size * size - (size - 1), -((size - 1 - (y - 1)) // size) * size + 1)


def truncate_local(local: np.ndarray, unit: str) -> np.ndarray:
    if unit in _FIXED:
        return local // _FIXED[unit] * _FIXED[unit]
    days = local // USECS_PER_DAY
    if unit == "week":
        return (days - (days + 3) % 7) * USECS_PER_DAY
    y, m, _ = civil_from_days(days)
    one = np.ones_like(m)
    if unit == "month":
        start = days_from_civil(y, m, one)
    elif unit == "quarter":
        start = days_from_civil(y, (m - 1) // 3 * 3 + 1, one)
    elif unit == "year":
        start = days_from_civil(y, one, one)
    else:
        start = days_from_civil(_trunc_year(y, unit), one, one)
    return start * USECS_PER_DAY


_TRUNC_UNITS = {*_FIXED, "week", "month", "quarter", "year", "decade", "century", "millennium"}


@kernel("date_trunc")
def date_trunc(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    field, source = args[0], args[1]
    t = call.args[1].type
    zones = args[2] if len(args) == 3 else pa.repeat(pa.scalar(ctx.format.timezone), len(source))

    def trunc(key: tuple[object, ...], rows: np.ndarray) -> pa.Array:
        part = take(source, rows)
        if part.null_count == len(part):
            # Strict, as in PostgreSQL: NULL in, NULL out, the unit unchecked.
            return pa.nulls(len(part), call.type.arrow)
        name = str(key[0])
        unit = canonical_unit(name, t)
        if t.name is TypeName.INTERVAL:
            return _trunc_interval(part, unit, name)
        if unit not in _TRUNC_UNITS:
            raise InvalidParameterValue(f'unit "{name}" not recognized for type {t.display()}') \
                if unit in ("epoch", "dow", "doy", "isodow", "isoyear", "julian") else _not_supported(name, t)
        ok = all_valid([part])
        v = values(part).astype(np.int64)
        if t.name is TypeName.TIMESTAMP:
            return from_numpy(truncate_local(v, unit), t.arrow, ok)
        zone = _zone(str(key[1]))
        offsets = utc_offsets(v, zone) * USECS_PER_SEC
        local = truncate_local(v + offsets, unit)
        # Units below a day keep the instant's own offset, as PostgreSQL does.
        out = local - offsets if unit in _FIXED and unit != "day" else local_to_utc(local, zone)
        return from_numpy(out, t.arrow, ok)

    return per_distinct([field, zones], len(source), trunc, call.type.arrow)


def _trunc_interval(part: pa.Array, unit: str, name: str) -> pa.Array:
    if unit == "week":
        raise FeatureNotSupported(f'unit "{name}" not supported for type interval',
                                  detail="Months usually have fractional weeks.")
    m, d, u = interval_fields(part)
    ok = all_valid([part])
    years, months = np.trunc(m / 12).astype(np.int64), np.fmod(m, 12)
    zero = np.zeros_like(m)
    if unit in _FIXED and unit != "day":
        return checked_interval(m, d, np.trunc(u / _FIXED[unit]).astype(np.int64) * _FIXED[unit], ok)
    if unit == "day":
        return checked_interval(m, d, zero, ok)
    size = {"month": 1, "quarter": 3, "year": 12, "decade": 120, "century": 1200, "millennium": 12000}.get(unit)
    if size is None:
        raise InvalidParameterValue(f'unit "{name}" not recognized for type interval')
    if unit == "quarter":
        total = years * 12 + np.trunc(months / 3).astype(np.int64) * 3
    else:
        total = np.trunc(m / size).astype(np.int64) * size
    return checked_interval(total, zero, zero, ok)


def _zone(name: str) -> str:
    try:
        return normalize_timezone(name)
    except InvalidParameterValue:
        raise InvalidParameterValue(f'time zone "{name}" not recognized') from None


# -- extract / date_part -----------------------------------------------------------


@kernel("extract", "date_part")
def extract(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    field, source = args
    t = call.args[1].type
    as_float = call.func == "date_part"
    if as_float and t.name is TypeName.DATE:
        # PostgreSQL's date_part(text, date) is date_part(text, date::timestamp).
        source = from_numpy(values(source).astype(np.int64) * USECS_PER_DAY, pa.timestamp("us"), all_valid([source]))
        t = DataType(TypeName.TIMESTAMP)

    def part(key: tuple[object, ...], rows: np.ndarray) -> pa.Array:
        values_ = take(source, rows)
        if values_.null_count == len(values_):
            return pa.nulls(len(values_), call.type.arrow)
        name = str(key[0])
        return extract_field(values_, t, canonical_unit(name, t), name, ctx.format.timezone, as_float)

    return per_distinct([field], len(source), part, call.type.arrow)


# -- constructors ---------------------------------------------------------------


def _make_days(y: np.ndarray, m: np.ndarray, d: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """Day numbers of (year, month, day) with negative years BC, raising PostgreSQL's range error."""
    astro = np.where(y < 0, y + 1, y)
    bad = ok & ((y == 0) | ~valid_date(astro, m, d))

    def error(i: int) -> DatetimeFieldOverflow:
        return DatetimeFieldOverflow(f"date field value out of range: {y[i]}-{m[i]:02d}-{d[i]:02d}")

    raise_if(bad, error)
    return days_from_civil(np.where(ok, astro, 2000), np.where(ok, m, 1), np.where(ok, d, 1))


@kernel("make_date")
def make_date(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    ok = all_valid(args)
    y, m, d = (values(a).astype(np.int64) for a in args)
    return from_numpy(_make_days(y, m, d, ok), pa.date32(), ok)


@kernel("make_timestamp", "make_timestamptz")
def make_timestamp(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    ok = all_valid(args[:6])
    y, mo, d, h, mi = (values(a).astype(np.int64) for a in args[:5])
    sec = values(args[5]).astype(np.float64)
    days = _make_days(y, mo, d, ok)
    bad_time = ((h < 0) | (h > 24) | (mi < 0) | (mi > 59) | ~(sec >= 0) | (sec > 60)
                | ((h == 24) & ((mi > 0) | (sec > 0))))

    def error(i: int) -> DatetimeFieldOverflow:
        return DatetimeFieldOverflow(f"time field value out of range: {h[i]}:{mi[i]:02d}:{sec[i]:02g}")

    raise_if(ok & bad_time, error)
    local = (days * USECS_PER_DAY + (h * 60 + mi) * USECS_PER_MINUTE
             + np.rint(np.where(ok & ~bad_time, sec, 0) * USECS_PER_SEC).astype(np.int64))
    if call.func == "make_timestamp":
        return from_numpy(local, call.type.arrow, ok)
    zones = args[6] if len(args) == 7 else pa.repeat(pa.scalar(ctx.format.timezone), len(local))

    def convert(key: tuple[object, ...], rows: np.ndarray) -> pa.Array:
        return from_numpy(local_to_utc(local[rows], _zone(str(key[0]))), call.type.arrow, ok[rows])

    return per_distinct([zones], len(local), convert, call.type.arrow)


@kernel("to_timestamp")
def to_timestamp(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    if len(args) == 2:
        return parse_with_format(args, call, ctx)
    ok = all_valid(args)
    s = values(args[0], 0.0).astype(np.float64)
    raise_if(ok & np.isnan(s), lambda i: DatetimeFieldOverflow("timestamp cannot be NaN"))
    raise_if(ok & np.isinf(s), lambda i: FeatureNotSupported("infinite timestamps are not supported"))
    out_of_range = ok & ~np.isnan(s) & ((s < MIN_TIMESTAMP_US / 1e6) | (s >= MAX_TIMESTAMP_US / 1e6))
    raise_if(out_of_range, lambda i: DatetimeFieldOverflow(f'timestamp out of range: "{s[i]:g}"'))
    # PostgreSQL shifts to its 2000-01-01 epoch before scaling; the rounding follows.
    shift = 946_684_800
    safe = np.where(ok & np.isfinite(s) & ~out_of_range, s, 0.0)
    us = np.rint((safe - shift) * USECS_PER_SEC).astype(np.int64) + shift * USECS_PER_SEC
    return from_numpy(us, call.type.arrow, ok)


# -- intervals ----------------------------------------------------------------------


def _justify_days(m: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    whole = np.trunc(d / 30).astype(np.int64)
    d = d - whole * 30
    m = m + whole
    up = (m > 0) & (d < 0)
    down = (m < 0) & (d > 0)
    return m - up + down, d + 30 * up - 30 * down


@kernel("justify_days", "justify_hours", "justify_interval")
def justify(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    ok = all_valid(args)
    m, d, u = interval_fields(args[0])
    if call.func == "justify_days":
        m, d = _justify_days(m, d)
    elif call.func == "justify_hours":
        d, u = justify_hours(d, u)
    else:
        whole = u // USECS_PER_DAY + ((u < 0) & (u % USECS_PER_DAY != 0))
        u, d = u - whole * USECS_PER_DAY, d + whole
        whole_m = np.trunc(d / 30).astype(np.int64)
        d, m = d - whole_m * 30, m + whole_m
        up = (m > 0) & ((d < 0) | ((d == 0) & (u < 0)))
        down = (m < 0) & ((d > 0) | ((d == 0) & (u > 0)))
        m, d = m - up + down, d + 30 * up - 30 * down
        up = (d > 0) & (u < 0)
        down = (d < 0) & (u > 0)
        d, u = d - up + down, u + USECS_PER_DAY * up - USECS_PER_DAY * down
    return checked_interval(m, d, u, ok)


@kernel("age")
def age(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    ok = all_valid(args)
    a, b = (values(x).astype(np.int64) for x in args)
    if call.args[0].type.name is TypeName.TIMESTAMPTZ:
        a, b = utc_to_local(a, ctx.format.timezone), utc_to_local(b, ctx.format.timezone)
    fields = []
    for ts in (a, b):
        days = ts // USECS_PER_DAY
        y, mo, d = civil_from_days(days)
        fields.append((y, mo, d, ts - days * USECS_PER_DAY))
    (y1, m1, d1, t1), (y2, m2, d2, t2) = fields
    flip = a < b
    sign = np.where(flip, -1, 1)
    time = (t1 - t2) * sign
    day = (d1 - d2) * sign
    month = (m1 - m2) * sign
    year = (y1 - y2) * sign
    borrow = time < 0
    time, day = time + USECS_PER_DAY * borrow, day - borrow
    ref_len = np.where(flip, days_in_month(y1, m1), days_in_month(y2, m2))
    for _ in range(3):
        borrow = day < 0
        day, month = day + ref_len * borrow, month - borrow
    borrow_years = np.where(month < 0, (-month + 11) // 12, 0)
    month, year = month + 12 * borrow_years, year - borrow_years
    return checked_interval(sign * (year * 12 + month), sign * day, sign * time, ok)


@kernel("to_date")
def to_date(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    return parse_with_format(args, call, ctx)


@kernel("isfinite")
def isfinite(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    return from_numpy(np.ones(len(args[0]), dtype=bool), pa.bool_(), all_valid(args))


@kernel("timezone")
def timezone(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    zones, source = args
    to_local = call.args[1].type.name is TypeName.TIMESTAMPTZ

    def convert(key: tuple[object, ...], rows: np.ndarray) -> pa.Array:
        part = take(source, rows)
        if part.null_count == len(part):
            return pa.nulls(len(part), call.type.arrow)
        zone = _zone(str(key[0]))
        v = values(part).astype(np.int64)
        out = utc_to_local(v, zone) if to_local else local_to_utc(v, zone)
        return from_numpy(out, call.type.arrow, all_valid([part]))

    return per_distinct([zones], len(source), convert, call.type.arrow)


# -- the clock ---------------------------------------------------------------------


def _now_us(ctx: EvalContext) -> int:
    now = ctx.now or dt.datetime.now(dt.UTC)
    return (now - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(microseconds=1)


def _local_now(ctx: EvalContext) -> int:
    return int(utc_to_local(np.array([_now_us(ctx)], dtype=np.int64), ctx.format.timezone)[0])


CONSTANTS["now"] = lambda call, ctx: pa.scalar(_now_us(ctx), pa.int64()).cast(pa.timestamp("us", "UTC"))
CONSTANTS["localtimestamp"] = lambda call, ctx: pa.scalar(_local_now(ctx), pa.int64()).cast(pa.timestamp("us"))
CONSTANTS["current_date"] = lambda call, ctx: pa.scalar(_local_now(ctx) // USECS_PER_DAY, pa.int32()).cast(
    pa.date32())
