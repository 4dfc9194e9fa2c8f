"""Arithmetic operators on numbers: + - * / % and unary minus, with PostgreSQL's errors.

Integer results overflow at the range of the result type ("integer out of
range"); integer division truncates toward zero and % takes the sign of
the dividend. Floats raise "value out of range: overflow/underflow" where
PostgreSQL's float.c does, and every type raises "division by zero".
Date, timestamp and interval arithmetic lives in `compute.expr.temporal`.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from common.errors import DivisionByZero, NumericValueOutOfRange
from common.expr import FuncCall
from common.types import DataType, TypeName
from compute.expr import numeric, temporal
from compute.expr.cast import int_out_of_range
from compute.expr.context import EvalContext
from compute.expr.kernel import all_valid, from_numpy, kernel, raise_if, values

_CHECKED = {"add": pc.add_checked, "subtract": pc.subtract_checked, "multiply": pc.multiply_checked}
_NUMERIC_OPS = {"add": numeric.add, "subtract": numeric.subtract, "multiply": numeric.multiply,
                "divide": numeric.divide, "modulus": numeric.modulus}


def _division_by_zero(i: int) -> DivisionByZero:
    return DivisionByZero("division by zero")


def _integer(op: str, a: pa.Array, b: pa.Array, t: DataType) -> pa.Array:
    if op in _CHECKED:
        try:
            return _CHECKED[op](a, b)
        except pa.ArrowInvalid:
            raise int_out_of_range(t) from None
    ok = all_valid([a, b])
    x, y = values(a), values(b, 1)
    raise_if(ok & (y == 0), _division_by_zero)
    y = np.where(ok, y, 1)
    if op == "modulus":
        # fmod keeps the dividend's sign; MIN % -1 is 0 and must not trap.
        safe_y = np.where(y == -1, 1, y)
        return from_numpy(np.fmod(x, safe_y).astype(x.dtype), t.arrow, ok)
    info = np.iinfo(x.dtype)
    raise_if(ok & (x == info.min) & (y == -1), lambda i: int_out_of_range(t))
    y = np.where((x == info.min) & (y == -1), 1, y)
    # numpy floors; PostgreSQL (like C) truncates toward zero.
    q = x // y
    q = q + ((q < 0) & (q * y != x))
    return from_numpy(q.astype(x.dtype), t.arrow, ok)


def _float(op: str, a: pa.Array, b: pa.Array, t: DataType) -> pa.Array:
    ok = all_valid([a, b])
    dtype = np.float32 if t.name is TypeName.REAL else np.float64
    x: np.ndarray = values(a).astype(dtype)
    y: np.ndarray = values(b, 1).astype(dtype)
    with np.errstate(all="ignore"):
        if op == "add":
            r = x + y
        elif op == "subtract":
            r = x - y
        elif op == "multiply":
            r = x * y
        else:
            raise_if(ok & (y == 0) & ~np.isnan(x), _division_by_zero)
            r = x / np.where(ok & (y != 0), y, 1)
    inf_in = np.isinf(x) | np.isinf(y) if op != "divide" else np.isinf(x)
    raise_if(ok & np.isinf(r) & ~inf_in, lambda i: NumericValueOutOfRange("value out of range: overflow"))
    if op == "multiply":
        raise_if(ok & (r == 0) & (x != 0) & (y != 0),
                 lambda i: NumericValueOutOfRange("value out of range: underflow"))
    elif op == "divide":
        raise_if(ok & (r == 0) & (x != 0) & ~np.isinf(y),
                 lambda i: NumericValueOutOfRange("value out of range: underflow"))
    return from_numpy(r, t.arrow, ok)


@kernel("add", "subtract", "multiply", "divide", "modulus")
def binary_arithmetic(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    a, b = args
    ta, tb = call.args[0].type, call.args[1].type
    if ta.is_integer and tb.is_integer:
        return _integer(call.func, a, b, call.type)
    if ta.is_float and tb.is_float:
        return _float(call.func, a, b, call.type)
    if ta.name is TypeName.NUMERIC and tb.name is TypeName.NUMERIC:
        return _NUMERIC_OPS[call.func](numeric.to_numeric(a), numeric.to_numeric(b), call.type)
    return temporal.arithmetic(call.func, a, b, call, ctx)


@kernel("neg")
def negate(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    (a,) = args
    t = call.type
    if t.is_integer:
        try:
            return pc.negate_checked(a)
        except pa.ArrowInvalid:
            raise int_out_of_range(t) from None
    if t.name is TypeName.INTERVAL:
        return temporal.negate_interval(a)
    return pc.negate(a)
