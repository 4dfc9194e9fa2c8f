"""NUMERIC columns: exact decimal arithmetic with PostgreSQL's rounding and range errors.

Unconstrained NUMERIC is decimal128(38, 10); NUMERIC(p, s) is
decimal128(p, s). Arithmetic runs in decimal256, where Arrow's exact
products and quotients fit, and the result is rounded half away from zero
(PostgreSQL's rule) to the target scale. Values beyond 38 digits raise
"value overflows numeric format"; beyond a declared precision, "numeric
field overflow".
"""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation, localcontext

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from common.errors import DivisionByZero
from common.pgtext_number import check_numeric_range, numeric_overflow
from common.types import NUMERIC, DataType
from compute.expr.kernel import raise_if, valid_mask

_WIDE = 76
_ROUND = "half_towards_infinity"


def widen(arr: pa.Array, scale: int | None = None) -> pa.Array:
    """The column as decimal256 with full precision (and the given scale, exactly)."""
    s = arr.type.scale if scale is None else scale
    return arr.cast(pa.decimal256(_WIDE, s))


def to_numeric(arr: pa.Array, t: DataType = NUMERIC) -> pa.Array:
    """Round a decimal column of any precision and scale to `t`, raising PostgreSQL's overflow error."""
    scale = t.effective_scale
    wide = widen(arr)
    if wide.type.scale > scale:
        # Truncate to one guard digit, then round on it: half away from zero needs no more.
        guard = truncate_to(wide, scale + 1)
        wide = pc.round(guard, scale, round_mode=_ROUND).cast(pa.decimal256(_WIDE, scale))
    elif wide.type.scale < scale:
        wide = wide.cast(pa.decimal256(_WIDE, scale))
    raise_if(check_numeric_range(wide, t), lambda i: numeric_overflow(t))
    return wide.cast(t.arrow)


def truncate_to(arr: pa.Array, scale: int) -> pa.Array:
    """Drop fractional digits beyond `scale` (toward zero) of a decimal256 column.

    Arrow 26 sometimes rescales large decimal256 values wrongly when one step
    drops more than about 13 digits (2^63 - 1 shifted down 15 places loses
    its low digits), so the digits go nine at a time, a step that checks
    out against Python's decimal on large random samples.
    """
    while arr.type.scale - scale > 9:
        arr = arr.cast(pa.decimal256(_WIDE, arr.type.scale - 9), safe=False)
    return arr.cast(pa.decimal256(_WIDE, scale), safe=False)


def _narrow(arr: pa.Array, limit_digits: int, scale: int | None = None) -> pa.Array | None:
    """The column cast to at most `limit_digits` digits, or None when some value needs more."""
    try:
        return arr.cast(pa.decimal256(limit_digits, arr.type.scale if scale is None else scale))
    except pa.ArrowInvalid:
        return None


def _as256(arr: pa.Array) -> pa.Array:
    """The column as decimal256 of its own precision (Arrow sizes results from the inputs' precisions)."""
    return arr.cast(pa.decimal256(arr.type.precision, arr.type.scale))


def add(a: pa.Array, b: pa.Array, t: DataType = NUMERIC) -> pa.Array:
    return to_numeric(pc.add(_as256(a), _as256(b)), t)


def subtract(a: pa.Array, b: pa.Array, t: DataType = NUMERIC) -> pa.Array:
    return to_numeric(pc.subtract(_as256(a), _as256(b)), t)


def multiply(a: pa.Array, b: pa.Array, t: DataType = NUMERIC) -> pa.Array:
    # Arrow's product precision is p1 + p2 + 1, which must stay within 76.
    left = _narrow(a, 38)
    right = _narrow(b, 37)
    if left is None or right is None:
        return _python(a, b, t, lambda x, y: x * y)
    return to_numeric(pc.multiply(left, right), t)


def check_divisor(b: pa.Array) -> None:
    zero = pc.equal(b, pa.scalar(Decimal(0), b.type))
    raise_if(np.asarray(zero.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool),
             lambda i: DivisionByZero("division by zero"))


def divide(a: pa.Array, b: pa.Array, t: DataType = NUMERIC) -> pa.Array:
    check_divisor(b)
    left = _narrow(a, 38)
    right = _narrow(b, 37)
    if left is None or right is None:
        return _python(a, b, t, lambda x, y: x / y)
    return to_numeric(pc.divide(left, right), t)


def modulus(a: pa.Array, b: pa.Array, t: DataType = NUMERIC) -> pa.Array:
    """a - trunc(a / b) * b: the sign follows the dividend."""
    check_divisor(b)
    left = _narrow(a, 38)
    right = _narrow(b, 37)
    if left is None or right is None:
        return _python(a, b, t, lambda x, y: x - (x / y).to_integral_value(rounding=ROUND_DOWN) * y)
    quotient = _narrow(truncate_to(pc.divide(left, right), 0), 38, 0)
    product = None if quotient is None else _narrow(pc.multiply(quotient, right), 38)
    if product is None:
        return _python(a, b, t, lambda x, y: x - (x / y).to_integral_value(rounding=ROUND_DOWN) * y)
    return to_numeric(pc.subtract(left, product), t)


def _python(a: pa.Array, b: pa.Array, t: DataType, op: object) -> pa.Array:
    """The rare values too long for Arrow's decimal kernels, one Python Decimal step per row."""
    quantum = Decimal(1).scaleb(-t.effective_scale)
    out: list[Decimal | None] = []
    with localcontext() as ctx:
        ctx.prec = 100
        for x, y in zip(a.to_pylist(), b.to_pylist()):
            if x is None or y is None:
                out.append(None)
                continue
            try:
                out.append(op(x, y).quantize(quantum, rounding=ROUND_HALF_UP))  # type: ignore[operator]
            except InvalidOperation:
                raise numeric_overflow(t) from None
    wide = pa.array(out, pa.decimal256(_WIDE, t.effective_scale))
    return to_numeric(wide, t)


def round_to(arr: pa.Array, digits: int, mode: str = _ROUND) -> pa.Array:
    """Round (or with mode 'towards_zero', truncate) a decimal128 column to `digits` places, keeping its type."""
    if digits >= arr.type.scale:
        return arr
    return pc.round(arr, digits, round_mode=mode)


def is_zero(arr: pa.Array) -> np.ndarray:
    zero = pc.equal(arr, pa.scalar(Decimal(0), arr.type))
    return np.asarray(zero.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool) & valid_mask(arr)
