"""INTERVAL columns as numpy fields, and PostgreSQL's ordering and averaging of them.

Arrow stores an interval as (months int32, days int32, nanoseconds int64)
and has no kernels that compare or add them. PostgreSQL compares intervals
by their span with a month taken as 30 days, so '1 month' = '30 days'.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from common.errors import DatetimeFieldOverflow

FIELDS = np.dtype([("months", "<i4"), ("days", "<i4"), ("nanos", "<i8")])
INTERVAL_TYPE = pa.month_day_nano_interval()

_NANOS_PER_DAY = 86_400 * 10**9
_DAYS_PER_MONTH = 30
_INT32 = np.iinfo(np.int32)
_INT64 = np.iinfo(np.int64)


def decompose(arr: pa.Array) -> np.ndarray:
    """The (months, days, nanos) of every slot as a structured array (NULL slots hold garbage)."""
    buf = arr.buffers()[1]
    if buf is None:
        return np.zeros(len(arr), FIELDS)
    return np.frombuffer(buf, dtype=FIELDS, count=arr.offset + len(arr))[arr.offset:]


def compose(months: np.ndarray, days: np.ndarray, nanos: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """Build an interval array; rows where `valid` is False are NULL.

    Raises DatetimeFieldOverflow when a field does not fit, as PostgreSQL's
    interval arithmetic does.
    """
    n = len(months)
    live = np.ones(n, bool) if valid is None else valid
    for field, bounds in ((months, _INT32), (days, _INT32), (nanos, _INT64)):
        f = np.asarray(field)[live]
        if f.size and (f.min() < bounds.min or f.max() > bounds.max):
            raise DatetimeFieldOverflow("interval out of range")
    rec = np.zeros(n, FIELDS)
    rec["months"] = np.where(live, months, 0)
    rec["days"] = np.where(live, days, 0)
    rec["nanos"] = np.where(live, nanos, 0)
    validity = None if valid is None or valid.all() else pa.py_buffer(np.packbits(valid, bitorder="little"))
    return pa.Array.from_buffers(INTERVAL_TYPE, n, [validity, pa.py_buffer(rec.tobytes())])


def span_key(arr: pa.Array) -> pa.Array:
    """A decimal whose order and equality are PostgreSQL's for these intervals (NULLs stay NULL)."""
    f = decompose(arr)
    months = pa.array(f["months"]).cast(pa.decimal128(10, 0))
    days = pa.array(f["days"]).cast(pa.decimal128(10, 0))
    nanos = pa.array(f["nanos"]).cast(pa.decimal128(19, 0))
    per_month = pa.scalar(Decimal(_DAYS_PER_MONTH * _NANOS_PER_DAY), pa.decimal128(17, 0))
    per_day = pa.scalar(Decimal(_NANOS_PER_DAY), pa.decimal128(14, 0))
    span = pc.add(pc.add(pc.multiply(months, per_month), pc.multiply(days, per_day)), nanos)
    span = span.cast(pa.decimal128(38, 0))
    if arr.null_count:
        span = pc.if_else(arr.is_valid(), span, pa.scalar(None, span.type))
    return span


def divide(months: np.ndarray, days: np.ndarray, nanos: np.ndarray, factor: np.ndarray) -> tuple[
        np.ndarray, np.ndarray, np.ndarray]:
    """`interval / factor` field-wise, cascading fractions down as PostgreSQL 15's interval_div does.

    Inputs are int64 sums (months, days, nanoseconds) and float64 divisors;
    fractional months become days (30 per month) and fractional days become
    time, each rounded to microseconds.
    """
    m = months.astype(np.float64) / factor
    d = days.astype(np.float64) / factor
    out_m = np.trunc(m)
    out_d = np.trunc(d)
    month_rem_days = _ts_round((m - out_m) * _DAYS_PER_MONTH)
    sec_rem = _ts_round((d - out_d + month_rem_days - np.trunc(month_rem_days)) * 86_400.0)
    carry = np.where(np.abs(sec_rem) >= 86_400.0, np.trunc(sec_rem / 86_400.0), 0.0)
    out_d = out_d + carry
    sec_rem = sec_rem - carry * 86_400.0
    out_d = out_d + np.trunc(month_rem_days)
    micros = np.rint((nanos.astype(np.float64) / 1000.0) / factor + sec_rem * 1e6)
    return out_m.astype(np.int64), out_d.astype(np.int64), micros.astype(np.int64) * 1000


def _ts_round(x: np.ndarray) -> np.ndarray:
    """PostgreSQL's TSROUND: round to microsecond precision."""
    return np.rint(x * 1e6) / 1e6
