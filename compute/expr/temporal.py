"""Date, timestamp and interval arithmetic as PostgreSQL's date.c, timestamp.c do it, vectorized.

timestamp + interval adds months on the calendar (clamping the day to the
month's end), then days, then the time part; for timestamptz the calendar
steps happen in the session time zone. timestamp - timestamp is an
interval of days and time (justify_hours). interval * / float8 cascade
fractional months into days and fractional days into time. Intervals
compare by their total span with a month counted as 30 days.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from common.errors import DatetimeFieldOverflow, DivisionByZero
from common.expr import FuncCall
from common.pgtext_calendar import (
    MAX_DATE_DAYS,
    MAX_TIMESTAMP_US,
    MIN_DATE_DAYS,
    MIN_TIMESTAMP_US,
    USECS_PER_DAY,
    USECS_PER_SEC,
    civil_from_days,
    days_from_civil,
    days_in_month,
    local_to_utc,
    utc_to_local,
)
from common.pgtext_interval import (
    INT32_MAX,
    INT32_MIN,
    MAX_INTERVAL_MICROS,
    interval_fields,
    interval_out_of_range,
    make_intervals,
)
from common.types import TypeName
from compute.expr.context import EvalContext
from compute.expr.kernel import all_valid, from_numpy, raise_if, valid_mask, values

DAYS_PER_MONTH = 30


def _interval_overflow(i: int) -> DatetimeFieldOverflow:
    return DatetimeFieldOverflow("interval out of range")


def _timestamp_overflow(i: int) -> DatetimeFieldOverflow:
    return DatetimeFieldOverflow("timestamp out of range")


def checked_interval(months: np.ndarray, days: np.ndarray, micros: np.ndarray, ok: np.ndarray) -> pa.Array:
    raise_if(ok & interval_out_of_range(months, days, micros), _interval_overflow)
    return make_intervals(np.where(ok, months, 0), np.where(ok, days, 0), np.where(ok, micros, 0), ok)


def negate_interval(a: pa.Array) -> pa.Array:
    m, d, u = interval_fields(a)
    return checked_interval(-m, -d, -u, valid_mask(a))


def add_months(local_us: np.ndarray, months: np.ndarray) -> np.ndarray:
    """Local timestamps moved by whole months, the day clamped to the target month's length."""
    days = local_us // USECS_PER_DAY
    time = local_us - days * USECS_PER_DAY
    y, m, d = civil_from_days(days)
    total = y * 12 + (m - 1) + months
    ny, nm = total // 12, total % 12 + 1
    nd = np.minimum(d, days_in_month(ny, nm))
    return days_from_civil(ny, nm, nd) * USECS_PER_DAY + time


def add_interval(ts: np.ndarray, months: np.ndarray, days: np.ndarray, micros: np.ndarray,
                 timezone: str | None) -> np.ndarray:
    """timestamp(tz) + interval; `timezone` set for timestamptz (calendar steps in local time)."""
    out = ts.astype(np.int64)
    for step, amount in (("months", months), ("days", days)):
        moving = amount != 0
        if not moving.any():
            continue
        local = out if timezone is None else utc_to_local(out, timezone)
        moved = add_months(local, amount) if step == "months" else local + amount * USECS_PER_DAY
        if timezone is not None:
            moved = local_to_utc(moved, timezone)
        out = np.where(moving, moved, out)
    return out + micros


def _timestamp_interval(op: str, ts: pa.Array, iv: pa.Array, zoned: bool, call: FuncCall,
                        ctx: EvalContext) -> pa.Array:
    ok = all_valid([ts, iv])
    m, d, u = interval_fields(iv)
    if op == "subtract":
        m, d, u = -m, -d, -u
    tz = ctx.format.timezone if zoned else None
    with np.errstate(over="ignore"):
        out = add_interval(values(ts), m, d, u, tz)
    raise_if(ok & ((out < MIN_TIMESTAMP_US) | (out > MAX_TIMESTAMP_US)), _timestamp_overflow)
    return from_numpy(np.where(ok, out, 0), call.type.arrow, ok)


def justify_hours(days: np.ndarray, micros: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    whole = _trunc_div(micros, USECS_PER_DAY)
    micros = micros - whole * USECS_PER_DAY
    days = days + whole
    fix_up = (days > 0) & (micros < 0)
    fix_down = (days < 0) & (micros > 0)
    micros = micros + np.where(fix_up, USECS_PER_DAY, 0) - np.where(fix_down, USECS_PER_DAY, 0)
    days = days - fix_up + fix_down
    return days, micros


def _trunc_div(x: np.ndarray, y: int) -> np.ndarray:
    q = x // y
    return q + ((q < 0) & (q * y != x))


def _interval_scale(a: pa.Array, factor: pa.Array, divide: bool) -> pa.Array:
    ok = all_valid([a, factor])
    m, d, u = interval_fields(a)
    f = values(factor, 1.0).astype(np.float64)
    if divide:
        raise_if(ok & (f == 0), lambda i: DivisionByZero("division by zero"))
        f = np.where(ok & (f != 0), f, 1.0)
    with np.errstate(all="ignore"):
        month_f = m / f if divide else m * f
        day_f = d / f if divide else d * f
        bad = (np.isnan(month_f) | (month_f < INT32_MIN) | (month_f > INT32_MAX)
               | np.isnan(day_f) | (day_f < INT32_MIN) | (day_f > INT32_MAX))
        raise_if(ok & bad, _interval_overflow)
        month_f = np.where(ok & ~bad, month_f, 0)
        day_f = np.where(ok & ~bad, day_f, 0)
        months = np.trunc(month_f).astype(np.int64)
        days = np.trunc(day_f).astype(np.int64)
        month_rem_days = np.rint((month_f - months) * DAYS_PER_MONTH * 1e6) / 1e6
        sec_rem = np.rint((day_f - days + month_rem_days - np.trunc(month_rem_days)) * 86_400 * 1e6) / 1e6
        carry = np.where(np.abs(sec_rem) >= 86_400, np.trunc(sec_rem / 86_400), 0)
        days = days + carry.astype(np.int64)
        sec_rem = sec_rem - carry * 86_400
        days = days + np.trunc(month_rem_days).astype(np.int64)
        time_f = np.rint((u / f if divide else u * f) + sec_rem * USECS_PER_SEC)
    fits = ~np.isnan(time_f) & (np.abs(time_f) <= MAX_INTERVAL_MICROS)
    raise_if(ok & ~fits, _interval_overflow)
    micros = np.where(ok & fits, time_f, 0).astype(np.int64)
    return checked_interval(months, days, micros, ok)


_SWAPPABLE = (TypeName.DATE, TypeName.TIMESTAMP, TypeName.TIMESTAMPTZ, TypeName.INTERVAL)


def arithmetic(op: str, a: pa.Array, b: pa.Array, call: FuncCall, ctx: EvalContext) -> pa.Array:
    """+ - * / on dates, timestamps and intervals (argument types as `common.functions` resolved them)."""
    ta, tb = call.args[0].type.name, call.args[1].type.name
    if ta in (TypeName.INTEGER, TypeName.INTERVAL, TypeName.DOUBLE) and tb in _SWAPPABLE and ta is not tb:
        # integer + date, interval + timestamp, float8 * interval: the same as the other way round.
        a, b, ta, tb = b, a, tb, ta
    ok = all_valid([a, b])
    if ta is TypeName.DATE and tb is TypeName.INTEGER:
        days = values(a).astype(np.int64) + (values(b) if op == "add" else -values(b)).astype(np.int64)
        raise_if(ok & ((days < MIN_DATE_DAYS) | (days > MAX_DATE_DAYS)),
                 lambda i: DatetimeFieldOverflow("date out of range"))
        return from_numpy(np.where(ok, days, 0), pa.date32(), ok)
    if ta is TypeName.DATE and tb is TypeName.DATE:
        return from_numpy(values(a).astype(np.int64) - values(b).astype(np.int64), pa.int32(), ok)
    if ta in (TypeName.TIMESTAMP, TypeName.TIMESTAMPTZ) and tb is TypeName.INTERVAL:
        return _timestamp_interval(op, a, b, ta is TypeName.TIMESTAMPTZ, call, ctx)
    if ta in (TypeName.TIMESTAMP, TypeName.TIMESTAMPTZ) and tb is ta:
        with np.errstate(over="ignore"):
            diff = values(a).astype(np.int64) - values(b).astype(np.int64)
        days, micros = justify_hours(np.zeros(len(diff), dtype=np.int64), diff)
        return checked_interval(np.zeros(len(diff), dtype=np.int64), days, micros, ok)
    if ta is TypeName.INTERVAL and tb is TypeName.INTERVAL:
        m1, d1, u1 = interval_fields(a)
        m2, d2, u2 = interval_fields(b)
        sign = 1 if op == "add" else -1
        return checked_interval(m1 + sign * m2, d1 + sign * d2, u1 + sign * u2, ok)
    if ta is TypeName.INTERVAL and tb is TypeName.DOUBLE:
        return _interval_scale(a, b, divide=op == "divide")
    raise TypeError(f"no {op} kernel for {ta.value} and {tb.value}")


def interval_span(a: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(whole days, microseconds within the day) of each interval's span, months counting 30 days."""
    m, d, u = interval_fields(a)
    days = m * DAYS_PER_MONTH + d + u // USECS_PER_DAY
    return days, u % USECS_PER_DAY
