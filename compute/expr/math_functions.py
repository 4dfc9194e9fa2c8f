"""Mathematical functions on floats and NUMERIC with PostgreSQL's rounding rules and errors.

round() on a float rounds half to even (C's rint), on NUMERIC half away
from zero. Float functions run in numpy and raise PostgreSQL's float.c
errors; the transcendental NUMERIC functions (sqrt, exp, ln, log, power)
use Python's decimal module once per distinct argument, correctly rounded
to NUMERIC's 10 fractional digits.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, Overflow, localcontext

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from common.errors import (
    DivisionByZero,
    InvalidArgumentForLogarithm,
    InvalidArgumentForPowerFunction,
    NumericValueOutOfRange,
)
from common.expr import FuncCall
from common.types import DataType, TypeName
from compute.expr import numeric
from compute.expr.cast import int_out_of_range
from compute.expr.context import EvalContext
from compute.expr.kernel import CONSTANTS, all_valid, from_numpy, kernel, map_distinct, per_distinct, raise_if, values


def _overflow(i: int) -> NumericValueOutOfRange:
    return NumericValueOutOfRange("value out of range: overflow")


def _underflow(i: int) -> NumericValueOutOfRange:
    return NumericValueOutOfRange("value out of range: underflow")


def _float_result(x: np.ndarray, r: np.ndarray, ok: np.ndarray, t: DataType) -> pa.Array:
    return from_numpy(r.astype(np.float32 if t.name is TypeName.REAL else np.float64), t.arrow, ok)


def _is_numeric(call: FuncCall) -> bool:
    return call.args[0].type.name is TypeName.NUMERIC


@kernel("abs")
def abs_(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    if call.type.is_integer:
        try:
            return pc.abs_checked(args[0])
        except pa.ArrowInvalid:
            raise int_out_of_range(call.type) from None
    return pc.abs(args[0])


@kernel("round", "trunc")
def round_(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    x = args[0]
    if not _is_numeric(call):
        v = values(x).astype(np.float64)
        return from_numpy(np.rint(v) if call.func == "round" else np.trunc(v), pa.float64(), all_valid([x]))
    mode = "half_towards_infinity" if call.func == "round" else "towards_zero"
    x = numeric.to_numeric(x)
    if len(args) == 1:
        return numeric.round_to(x, 0, mode)

    def rounded(key: tuple[object, ...], rows: np.ndarray) -> pa.Array:
        digits = int(key[0])  # type: ignore[call-overload]
        return numeric.round_to(x.take(pa.array(rows)), max(digits, -37), mode)

    out = per_distinct([args[1]], len(x), rounded, x.type)
    return pc.if_else(x.is_valid(), out, pa.scalar(None, x.type)) if x.null_count else out


@kernel("ceil", "floor")
def ceil_floor(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    fn = pc.ceil if call.func == "ceil" else pc.floor
    return fn(numeric.to_numeric(args[0])) if _is_numeric(call) else fn(args[0])


@kernel("sign")
def sign(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    if not _is_numeric(call):
        # sign(NaN) is 0 in PostgreSQL.
        return pc.if_else(pc.is_nan(args[0]), 0.0, pc.sign(args[0]).cast(pa.float64()))
    x = args[0]
    zero = pa.scalar(Decimal(0), x.type)
    s = pc.if_else(pc.greater(x, zero), 1, pc.if_else(pc.less(x, zero), -1, 0))
    return s.cast(call.type.arrow)


# -- float functions ------------------------------------------------------------


def _float_unary(args: list[pa.Array], call: FuncCall, fn: Callable[[pa.Array], pa.Array],
                 check: Callable[[np.ndarray, np.ndarray], None] | None = None) -> pa.Array:
    ok = all_valid(args)
    x = values(args[0], 1.0).astype(np.float64)
    if check is not None:
        check(x, ok)
    r = values(fn(pa.array(np.where(ok, x, 1.0), pa.float64())), 0.0)
    return _float_result(x, r, ok, call.type)


def _cbrt(arr: pa.Array) -> pa.Array:
    # numpy's cbrt differs from the C library's in the last bit; PostgreSQL uses the C library's.
    return map_distinct(arr, lambda v: math.cbrt(float(v)), pa.float64())  # type: ignore[arg-type]


def _check_sqrt(x: np.ndarray, ok: np.ndarray) -> None:
    raise_if(ok & (x < 0), lambda i: InvalidArgumentForPowerFunction("cannot take square root of a negative number"))


def _check_log(x: np.ndarray, ok: np.ndarray) -> None:
    raise_if(ok & (x == 0), lambda i: InvalidArgumentForLogarithm("cannot take logarithm of zero"))
    raise_if(ok & (x < 0), lambda i: InvalidArgumentForLogarithm("cannot take logarithm of a negative number"))


def _exp(x: np.ndarray, ok: np.ndarray) -> None:
    r = values(pc.exp(pa.array(x, pa.float64())), 0.0)
    raise_if(ok & np.isinf(r) & ~np.isinf(x), _overflow)
    raise_if(ok & (r == 0) & ~np.isinf(x), _underflow)


# -- NUMERIC through Python's decimal ---------------------------------------------

_QUANTUM = Decimal(1).scaleb(-10)


def _decimal_fn(args: list[pa.Array], call: FuncCall, fn: Callable[..., Decimal]) -> pa.Array:
    xs = [numeric.to_numeric(a) for a in args]

    def compute(key: tuple[object, ...], rows: np.ndarray) -> pa.Array:
        with localcontext() as c:
            c.prec = 60
            try:
                value = fn(*key).quantize(_QUANTUM, rounding=ROUND_HALF_UP)
            except (Overflow, InvalidOperation):
                raise NumericValueOutOfRange("value overflows numeric format") from None
        if abs(value) >= Decimal(10) ** 28:
            raise NumericValueOutOfRange("value overflows numeric format")
        return pa.repeat(pa.scalar(value, call.type.arrow), len(rows))

    return per_distinct(xs, len(xs[0]), compute, call.type.arrow)


def _dsqrt(x: Decimal) -> Decimal:
    if x < 0:
        raise InvalidArgumentForPowerFunction("cannot take square root of a negative number")
    return x.sqrt()


def _dln(x: Decimal) -> Decimal:
    if x == 0:
        raise InvalidArgumentForLogarithm("cannot take logarithm of zero")
    if x < 0:
        raise InvalidArgumentForLogarithm("cannot take logarithm of a negative number")
    return x.ln()


def _dlog10(x: Decimal) -> Decimal:
    _dln(x)
    return x.log10()


def _dlog(base: Decimal, x: Decimal) -> Decimal:
    _dln(base)
    _dln(x)
    if base == 1:
        raise DivisionByZero("division by zero")
    return x.ln() / base.ln()


def _dpow(x: Decimal, y: Decimal) -> Decimal:
    if x == 0 and y < 0:
        raise InvalidArgumentForPowerFunction("zero raised to a negative power is undefined")
    if x < 0 and y != y.to_integral_value():
        raise InvalidArgumentForPowerFunction("a negative number raised to a non-integer power yields a "
                                              "complex result")
    if x == 0:
        return Decimal(1) if y == 0 else Decimal(0)
    return x ** y


# Arrow's kernels call the C library, as PostgreSQL does (numpy's own exp/log differ in the last bit).
_FLOAT_FNS: dict[str, tuple[Callable[[pa.Array], pa.Array], Callable[[np.ndarray, np.ndarray], None] | None]] = {
    "sqrt": (pc.sqrt, _check_sqrt),
    "cbrt": (_cbrt, None),
    "exp": (pc.exp, _exp),
    "ln": (pc.ln, _check_log),
    "log10": (pc.log10, _check_log),
}
_DECIMAL_FNS: dict[str, Callable[..., Decimal]] = {
    "sqrt": _dsqrt, "exp": lambda x: x.exp(), "ln": _dln, "log10": _dlog10, "log": _dlog, "power": _dpow,
}


@kernel(*_FLOAT_FNS, "log")
def transcendental(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    if _is_numeric(call):
        return _decimal_fn(args, call, _DECIMAL_FNS[call.func])
    fn, check = _FLOAT_FNS[call.func]
    return _float_unary(args, call, fn, check)


@kernel("power")
def power(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    if _is_numeric(call):
        return _decimal_fn(args, call, _dpow)
    ok = all_valid(args)
    x, y = values(args[0], 1.0).astype(np.float64), values(args[1], 1.0).astype(np.float64)
    raise_if(ok & (x == 0) & (y < 0),
             lambda i: InvalidArgumentForPowerFunction("zero raised to a negative power is undefined"))
    raise_if(ok & (x < 0) & (np.floor(y) != y) & np.isfinite(y),
             lambda i: InvalidArgumentForPowerFunction("a negative number raised to a non-integer power yields "
                                                       "a complex result"))
    safe = ok & ~((x == 0) & (y < 0)) & ~((x < 0) & (np.floor(y) != y) & np.isfinite(y))
    r = values(pc.power(pa.array(np.where(safe, x, 1.0)), pa.array(np.where(safe, y, 1.0))), 0.0)
    finite_in = np.isfinite(x) & np.isfinite(y)
    raise_if(ok & np.isinf(r) & finite_in, _overflow)
    raise_if(ok & (r == 0) & (x != 0) & finite_in, _underflow)
    return _float_result(x, r, ok, call.type)


def _pi(call: FuncCall, ctx: EvalContext) -> pa.Scalar:
    return pa.scalar(math.pi, pa.float64())


CONSTANTS["pi"] = _pi
