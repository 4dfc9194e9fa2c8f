"""PostgreSQL's text input and output of every Eddy type, a column or a value at a time.

What the wire protocol sends in text format and what a cast to or from
varchar produces are both defined here, so they cannot drift apart.
Errors are PostgreSQL's: 22P02 invalid input syntax, 22003 out of range,
22007 invalid datetime format, 22008 datetime field overflow.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from common.pgtext_calendar import normalize_timezone
from common.pgtext_datetime import (
    DATE,
    TIMESTAMP,
    TIMESTAMPTZ,
    format_dates,
    format_timestamps,
    format_timestamptzs,
    parse_datetimes,
)
from common.pgtext_interval import format_intervals, parse_intervals
from common.pgtext_number import (
    format_bools,
    format_floats,
    format_integers,
    format_numerics,
    parse_bools,
    parse_floats,
    parse_integers,
    parse_numerics,
)
from common.types import DataType, TypeName


@dataclass(frozen=True, slots=True)
class FormatOptions:
    """Session settings that change how values are written as text."""

    timezone: str = "UTC"
    datestyle: str = "ISO, MDY"
    intervalstyle: str = "postgres"
    extra_float_digits: int = 1


DEFAULT_FORMAT = FormatOptions()


def _int64_values(arr: pa.Array) -> np.ndarray:
    if pa.types.is_date32(arr.type):
        arr = arr.cast(pa.int32())
    filled = arr.cast(pa.int64()).fill_null(0)
    return np.asarray(filled.to_numpy(zero_copy_only=False), dtype=np.int64)


def format_array(arr: pa.Array | pa.ChunkedArray, t: DataType, opts: FormatOptions | None = None) -> pa.Array:
    """The text PostgreSQL prints for each value; NULL stays NULL."""
    opts = opts or DEFAULT_FORMAT
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    name = t.name
    if name is TypeName.VARCHAR:
        return arr.cast(pa.string())
    if t.is_integer:
        return format_integers(arr)
    if name is TypeName.BOOLEAN:
        return format_bools(arr)
    if t.is_float:
        return format_floats(arr, t, opts.extra_float_digits)
    if name is TypeName.NUMERIC:
        return format_numerics(arr, t)
    if name is TypeName.INTERVAL:
        return format_intervals(arr, opts.intervalstyle)
    valid = arr.is_valid()
    if name is TypeName.DATE:
        text = format_dates(_int64_values(arr))
    elif name is TypeName.TIMESTAMP:
        text = format_timestamps(_int64_values(arr))
    elif name is TypeName.TIMESTAMPTZ:
        text = format_timestamptzs(_int64_values(arr), opts.timezone)
    else:
        raise TypeError(f"no text output for {t}")
    return text if arr.null_count == 0 else pa.compute.if_else(valid, text, pa.scalar(None, pa.string()))


def format_value(v: object, t: DataType, opts: FormatOptions | None = None) -> str | None:
    """The text of one Python value of type `t` (see common.types), None for NULL."""
    if v is None:
        return None
    out = format_array(pa.array([v], t.arrow), t, opts)[0].as_py()
    assert isinstance(out, str)
    return out


def parse_array(arr: pa.Array | pa.ChunkedArray, t: DataType, opts: FormatOptions | None = None) -> pa.Array:
    """Values of type `t` read from a string column by PostgreSQL's input rules; raises on the first bad row."""
    opts = opts or DEFAULT_FORMAT
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if arr.type != pa.string():
        arr = arr.cast(pa.string())
    name = t.name
    if name is TypeName.VARCHAR:
        return arr
    if t.is_integer:
        return parse_integers(arr, t)
    if t.is_float:
        return parse_floats(arr, t)
    if name is TypeName.NUMERIC:
        return parse_numerics(arr, t)
    if name is TypeName.BOOLEAN:
        return parse_bools(arr)
    if name is TypeName.INTERVAL:
        return parse_intervals(arr)
    kind = {TypeName.DATE: DATE, TypeName.TIMESTAMP: TIMESTAMP, TypeName.TIMESTAMPTZ: TIMESTAMPTZ}.get(name)
    if kind is None:
        raise TypeError(f"no text input for {t}")
    values = parse_datetimes(arr, kind, normalize_timezone(opts.timezone), opts.datestyle)
    if name is TypeName.DATE:
        return values.cast(pa.int32()).view(pa.date32())
    return values.view(t.arrow)


def parse_text(s: str, t: DataType, opts: FormatOptions | None = None) -> object:
    """One value of type `t` (a Python value, see common.types) read from its text form."""
    out = parse_array(pa.array([s], pa.string()), t, opts)
    try:
        return out[0].as_py()
    except (OverflowError, ValueError):
        # Years before 1 AD or after 9999 have no datetime; the Arrow integer
        # (days or microseconds since 1970) still makes a valid literal.
        return out.cast(pa.int32() if t.name is TypeName.DATE else pa.int64())[0].as_py()
