"""Casts between SQL types with PostgreSQL's semantics, a column at a time.

Text conversions go through `common.pgtext`, so `x::varchar` prints what
the wire protocol prints. Numbers: integers range-check; floats round half
to even into integers, NUMERIC rounds half away from zero; float to
NUMERIC keeps the 15 (float8) or 6 (float4) significant digits PostgreSQL
keeps. Dates and timestamps cross into timestamptz through the session
time zone.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, localcontext

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from common.errors import DatetimeFieldOverflow, FeatureNotSupported, NumericValueOutOfRange
from common.functions_cast import cast_is_allowed
from common.pgtext import format_array, parse_array
from common.pgtext_calendar import MAX_TIMESTAMP_US, MIN_TIMESTAMP_US, USECS_PER_DAY, local_to_utc, utc_to_local
from common.pgtext_number import numeric_limit, numeric_overflow
from common.types import DataType, TypeName
from compute.expr import numeric
from compute.expr.context import EvalContext
from compute.expr.kernel import from_numpy, map_distinct, raise_if, valid_mask, values

INT_LIMITS: dict[TypeName, tuple[int, int]] = {
    TypeName.SMALLINT: (-(2**15), 2**15 - 1),
    TypeName.INTEGER: (-(2**31), 2**31 - 1),
    TypeName.BIGINT: (-(2**63), 2**63 - 1),
}
_FLOAT_DIGITS = {TypeName.DOUBLE: 15, TypeName.REAL: 6}


def int_out_of_range(t: DataType) -> NumericValueOutOfRange:
    return NumericValueOutOfRange(f"{t.name.value} out of range")


def cast_array(arr: pa.Array, src: DataType, dst: DataType, ctx: EvalContext) -> pa.Array:
    """`arr` (of type `src`) converted to `dst`; raises PostgreSQL's errors for values that do not convert."""
    if src == dst:
        return arr
    if dst.name is TypeName.VARCHAR:
        if src.name is TypeName.BOOLEAN:
            # PostgreSQL's bool-to-text cast spells the words out; only output prints 't'/'f'.
            return pc.if_else(arr, "true", "false")
        return format_array(arr, src, ctx.format)
    if src.name is TypeName.VARCHAR:
        return parse_array(arr, dst, ctx.format)
    cast_is_allowed(src, dst)
    if src.is_string or dst.is_string or src.is_oid or dst.is_oid or src.is_list or dst.is_list:
        return _catalog_cast(arr, src, dst, ctx)
    if src.is_numeric and dst.is_numeric:
        return _number(arr, src, dst)
    s, d = src.name, dst.name
    if s is TypeName.BOOLEAN:
        return pc.cast(arr, pa.int32())
    if d is TypeName.BOOLEAN:
        return pc.not_equal(arr, 0)
    return _temporal(arr, s, d, ctx)


def _catalog_cast(arr: pa.Array, src: DataType, dst: DataType, ctx: EvalContext) -> pa.Array:
    """Casts among the system catalogs' types: OIDs and integers, the string types, arrays."""
    if src.is_string and dst.is_string:
        text = arr.cast(pa.string())
        return pc.utf8_slice_codeunits(text, 0, 1) if dst.name is TypeName.CHAR else text
    if src.name is TypeName.CHAR and dst.is_integer:
        codes = pc.fill_null(pc.utf8_slice_codeunits(arr, 0, 1), "")
        return map_distinct(codes, lambda c: ord(str(c)) if c else 0, pa.int32()).cast(dst.arrow)
    if src.is_integer and dst.name is TypeName.CHAR:
        return map_distinct(arr.cast(pa.int64()), lambda v: chr(int(str(v)) & 0xFF) if v else "", pa.string())
    if dst.is_oid:
        v = values(arr.cast(pa.int64())).astype(np.int64)
        # Integers become OIDs as oidin reads them: a negative int4 wraps to 2^32 + value.
        return from_numpy(np.where(v < 0, v + 2**32, v), pa.int64(), valid_mask(arr))
    if src.is_oid and dst.is_integer:
        v = values(arr).astype(np.int64)
        if dst.name is TypeName.INTEGER:
            v = np.where(v > 2**31 - 1, v - 2**32, v)
        return _to_integer(from_numpy(v, pa.int64(), valid_mask(arr)), DataType(TypeName.BIGINT), dst)
    if src.is_list and dst.is_list:
        if src.item == dst.item:
            return arr.cast(dst.arrow)
        items = cast_array(arr.flatten(), src.item, dst.item, ctx)
        offsets = arr.offsets
        if len(offsets) and offsets[0].as_py():
            offsets = pc.subtract(offsets, offsets[0])
        return pa.ListArray.from_arrays(offsets, items, mask=arr.is_null() if arr.null_count else None)
    raise FeatureNotSupported(f"cast from {src.display()} to {dst.display()} is not supported")


def _number(arr: pa.Array, src: DataType, dst: DataType) -> pa.Array:
    if dst.is_integer:
        return _to_integer(arr, src, dst)
    if dst.is_float:
        if src.name is TypeName.NUMERIC:
            return arr.cast(pa.string()).cast(dst.arrow)
        if src.name is TypeName.DOUBLE and dst.name is TypeName.REAL:
            return _double_to_real(arr)
        return arr.cast(dst.arrow, safe=False)
    if src.is_integer:
        return numeric.to_numeric(arr.cast(pa.decimal128(19, 0)), dst)
    if src.is_float:
        return _float_to_numeric(arr, src, dst)
    return numeric.to_numeric(arr, dst)


def _to_integer(arr: pa.Array, src: DataType, dst: DataType) -> pa.Array:
    lo, hi = INT_LIMITS[dst.name]
    ok = valid_mask(arr)
    if src.is_integer:
        v = values(arr)
        raise_if(ok & ((v < lo) | (v > hi)), lambda i: int_out_of_range(dst))
        return from_numpy(v, dst.arrow, ok)
    if src.is_float:
        v = np.rint(values(arr).astype(np.float64))
        # 2**63 itself is representable as a double but not as a bigint.
        bad = ok & (np.isnan(v) | (v < lo) | (v >= float(hi) + 1))
        raise_if(bad, lambda i: int_out_of_range(dst))
        return from_numpy(np.where(ok & ~bad, v, 0).astype(np.int64), dst.arrow, ok)
    rounded = numeric.round_to(arr, 0)
    whole = rounded.cast(pa.decimal128(38, 0))
    limits = (pa.scalar(Decimal(lo), whole.type), pa.scalar(Decimal(hi), whole.type))
    bad = pc.or_(pc.less(whole, limits[0]), pc.greater(whole, limits[1])).fill_null(False)
    raise_if(np.asarray(bad.to_numpy(zero_copy_only=False), dtype=bool), lambda i: int_out_of_range(dst))
    return whole.cast(dst.arrow)


def _double_to_real(arr: pa.Array) -> pa.Array:
    v = values(arr).astype(np.float64)
    with np.errstate(over="ignore", under="ignore"):
        narrow = v.astype(np.float32)
    ok = valid_mask(arr)
    raise_if(ok & np.isinf(narrow) & ~np.isinf(v), lambda i: NumericValueOutOfRange("value out of range: overflow"))
    raise_if(ok & (narrow == 0) & (v != 0), lambda i: NumericValueOutOfRange("value out of range: underflow"))
    return from_numpy(narrow, pa.float32(), ok)


def _float_to_numeric(arr: pa.Array, src: DataType, dst: DataType) -> pa.Array:
    digits = _FLOAT_DIGITS[src.name]
    quantum = Decimal(1).scaleb(-dst.effective_scale)
    limit = numeric_limit(dst)

    def convert(v: object) -> Decimal:
        assert isinstance(v, float)
        if v != v or v in (float("inf"), float("-inf")):
            raise FeatureNotSupported(f"cannot convert {'NaN' if v != v else 'infinity'} to numeric")
        exact = Decimal(f"{v:.{digits}g}")
        if abs(exact) >= limit:
            raise numeric_overflow(dst)
        with localcontext() as c:
            c.prec = 100
            return exact.quantize(quantum, rounding=ROUND_HALF_UP)

    exact = map_distinct(arr.cast(pa.float64()), convert, pa.decimal256(76, dst.effective_scale))
    return numeric.to_numeric(exact, dst)


def _temporal(arr: pa.Array, s: TypeName, d: TypeName, ctx: EvalContext) -> pa.Array:
    tz = ctx.format.timezone
    ok = valid_mask(arr)
    v = values(arr).astype(np.int64)
    if s is TypeName.DATE:
        local = v * USECS_PER_DAY
        raise_if(ok & ((local < MIN_TIMESTAMP_US) | (local > MAX_TIMESTAMP_US)),
                 lambda i: DatetimeFieldOverflow("date out of range for timestamp"))
        out = local if d is TypeName.TIMESTAMP else local_to_utc(local, tz)
        return from_numpy(out, pa.timestamp("us") if d is TypeName.TIMESTAMP else pa.timestamp("us", "UTC"), ok)
    if s is TypeName.TIMESTAMP:
        if d is TypeName.DATE:
            return from_numpy(v // USECS_PER_DAY, pa.date32(), ok)
        return from_numpy(local_to_utc(v, tz), pa.timestamp("us", "UTC"), ok)
    local = utc_to_local(v, tz)
    if d is TypeName.DATE:
        return from_numpy(local // USECS_PER_DAY, pa.date32(), ok)
    return from_numpy(local, pa.timestamp("us"), ok)
