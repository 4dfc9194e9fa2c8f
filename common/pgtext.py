"""PostgreSQL's text input and output of every Eddy type, a column or a value at a time.

What the wire protocol sends in text format and what a cast to or from
varchar produces are both defined here, so they cannot drift apart.
Errors are PostgreSQL's: 22P02 invalid input syntax, 22003 out of range,
22007 invalid datetime format, 22008 datetime field overflow.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from common.errors import FeatureNotSupported, InvalidTextRepresentation, NumericValueOutOfRange
from common.pgtext_array import format_lists, format_records, parse_lists
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
from common.types import BIGINT, DataType, TypeName


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
    if name is TypeName.VARCHAR or t.is_string:
        return arr.cast(pa.string())
    if t.is_integer:
        return format_integers(arr)
    if t.is_oid:
        return _format_oids(arr, t)
    if t.is_list:
        return format_lists(arr, t, lambda a, et: format_array(a, et, opts))
    if name is TypeName.RECORD:
        return format_records(arr, t, lambda a, et: format_array(a, et, opts))
    if name is TypeName.VOID:
        return pa.compute.if_else(arr.is_valid(), "", pa.scalar(None, pa.string()))
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


def _format_oids(arr: pa.Array, t: DataType) -> pa.Array:
    """OIDs print as numbers, regtype, regproc and regnamespace values as the names of what they identify.

    regclass and regrole names live in the catalog, which only the
    frontend knows: it turns such a column into a struct of (oid, name)
    before printing, and an unresolved one prints as numbers.
    """
    if pa.types.is_struct(arr.type):
        numbers = arr.field("oid").cast(pa.string())
        return pa.compute.coalesce(arr.field("name"), numbers)
    names = _STATIC_NAMES.get(t.name)
    if names is None or not len(arr):
        return arr.cast(pa.string())
    encoded = pa.compute.dictionary_encode(arr)
    table = names()
    texts = [None if v is None else table.get(v, str(v)) for v in encoded.dictionary.to_pylist()]
    return pa.array(texts, pa.string()).take(encoded.indices)


@functools.cache
def _type_names() -> dict[int, str]:
    from common.functions_system import catalog_types, format_type

    return {t.oid: format_type(t.oid, -1) for t in catalog_types()} | {0: "-", 25: "text"}


@functools.cache
def _proc_names() -> dict[int, str]:
    from common.functions_system import procedure_names

    return procedure_names() | {0: "-"}


def _schema_names() -> dict[int, str]:
    from common.functions_system import SCHEMA_NAMES

    return dict(SCHEMA_NAMES)


_STATIC_NAMES: dict[TypeName, Callable[[], dict[int, str]]] = {TypeName.REGTYPE: _type_names, TypeName.REGPROC: _proc_names,
                 TypeName.REGNAMESPACE: _schema_names}


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
    if name is TypeName.VARCHAR or name in (TypeName.NAME, TypeName.JSON):
        return arr
    if name is TypeName.CHAR:
        return pa.compute.utf8_slice_codeunits(arr, 0, 1)
    if t.is_integer:
        return parse_integers(arr, t)
    if t.is_oid:
        return _parse_oids(arr, t)
    if t.is_list:
        return parse_lists(arr, t, lambda a, et: parse_array(a, et, opts))
    if name is TypeName.VOID:
        return pa.compute.if_else(arr.is_valid(), "", pa.scalar(None, pa.string()))
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


def _parse_oids(strings: pa.Array, t: DataType) -> pa.Array:
    """OIDs from their numbers (names of reg* objects are resolved by the frontend, which knows the catalog)."""
    try:
        values = parse_integers(strings, BIGINT)
    except InvalidTextRepresentation:
        if t.name is not TypeName.OID:
            raise FeatureNotSupported(f"{t.display()} input needs the catalog: cast a constant or use to_{t.typname}()") from None
        raise
    if pa.compute.any(pa.compute.or_(pa.compute.less(values, -(2**31)), pa.compute.greater(values, 2**32 - 1))).as_py():
        raise NumericValueOutOfRange(f"value is out of range for type {t.display()}")
    # Negative input wraps around as in oidin: -1 is 4294967295.
    return pa.compute.if_else(pa.compute.less(values, 0), pa.compute.add(values, 2**32), values)


def parse_text(s: str, t: DataType, opts: FormatOptions | None = None) -> object:
    """One value of type `t` (a Python value, see common.types) read from its text form."""
    out = parse_array(pa.array([s], pa.string()), t, opts)
    try:
        return out[0].as_py()
    except (OverflowError, ValueError):
        # Years before 1 AD or after 9999 have no datetime; the Arrow integer
        # (days or microseconds since 1970) still makes a valid literal.
        return out.cast(pa.int32() if t.name is TypeName.DATE else pa.int64())[0].as_py()
