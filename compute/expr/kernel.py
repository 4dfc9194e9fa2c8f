"""The registry of vectorized function kernels and the helpers they share.

A kernel takes the already-evaluated argument columns (all of the batch's
length), the `FuncCall` (for argument and result types) and the context,
and returns a column of `call.type`. It raises an `EddyError` for bad
input; the evaluator decides whether that fails the query or nulls rows.
Kernels that need a scalar parameter pyarrow cannot take as a column (a
LIKE pattern, a date_trunc unit) run once per distinct parameter value.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from common.errors import EddyError
from common.expr import FuncCall
from compute.expr.context import EvalContext

Kernel = Callable[[list[pa.Array], FuncCall, EvalContext], pa.Array]
Constant = Callable[[FuncCall, EvalContext], pa.Scalar]

KERNELS: dict[str, Kernel] = {}
# Functions without arguments (pi(), now()): one value for the whole batch.
CONSTANTS: dict[str, Constant] = {}
# Functions whose last argument is a constant table the binder attached (catalog lookups): the
# evaluator hands it over as the call's literal instead of repeating it into a column.
TABLE_ARGUMENT: set[str] = set()


def kernel(*names: str) -> Callable[[Kernel], Kernel]:
    """Register a kernel under one or more canonical function names."""

    def register(fn: Kernel) -> Kernel:
        for name in names:
            KERNELS[name] = fn
        return fn

    return register


def valid_mask(arr: pa.Array) -> np.ndarray:
    if arr.null_count == 0:
        return np.ones(len(arr), dtype=bool)
    return np.asarray(arr.is_valid().to_numpy(zero_copy_only=False), dtype=bool)


def all_valid(args: Sequence[pa.Array]) -> np.ndarray:
    n = len(args[0]) if args else 0
    mask = np.ones(n, dtype=bool)
    for a in args:
        if a.null_count:
            mask &= valid_mask(a)
    return mask


def values(arr: pa.Array, fill: object = 0) -> np.ndarray:
    """A numpy copy of a primitive column with NULL slots set to `fill`."""
    if pa.types.is_timestamp(arr.type) or pa.types.is_date64(arr.type):
        arr = arr.cast(pa.int64())
    elif pa.types.is_date32(arr.type):
        arr = arr.cast(pa.int32())
    elif pa.types.is_boolean(arr.type):
        return np.asarray(arr.fill_null(bool(fill)).to_numpy(zero_copy_only=False), dtype=bool)
    if arr.null_count:
        arr = arr.fill_null(pa.scalar(fill).cast(arr.type))
    return np.asarray(arr.to_numpy(zero_copy_only=False))


def from_numpy(data: np.ndarray, t: pa.DataType, valid: np.ndarray | None = None) -> pa.Array:
    """An Arrow column of type `t` from numpy values, NULL where `valid` is False."""
    mask = None if valid is None or valid.all() else ~valid
    if pa.types.is_timestamp(t):
        return pa.array(data.astype(np.int64), pa.int64(), mask=mask).view(t)
    if pa.types.is_date32(t):
        return pa.array(data.astype(np.int32), pa.int32(), mask=mask).view(t)
    return pa.array(data, t, mask=mask)


def first_row(mask: np.ndarray) -> int | None:
    return int(np.argmax(mask)) if mask.any() else None


def raise_if(mask: np.ndarray, error: Callable[[int], EddyError]) -> None:
    """Raise `error(i)` for the first row `i` where `mask` holds."""
    i = first_row(mask)
    if i is not None:
        raise error(i)


def per_distinct(params: Sequence[pa.Array], n: int,
                 compute: Callable[[tuple[object, ...], np.ndarray], pa.Array], out_type: pa.DataType) -> pa.Array:
    """Run `compute(param_values, row_indices)` once per distinct tuple of parameter values.

    Rows where any parameter is NULL come out NULL. `compute` returns the
    column for the given rows, in order.
    """
    if n == 0:
        return pa.array([], out_type)
    valid = np.ones(n, dtype=bool)
    combined = np.zeros(n, dtype=np.int64)
    codes: list[np.ndarray] = []
    dictionaries: list[list[object]] = []
    for p in params:
        encoded = pc.dictionary_encode(p)
        c = values(encoded.indices.cast(pa.int64()), -1)
        valid &= c >= 0
        combined = combined * (len(encoded.dictionary) + 1) + (c + 1)
        codes.append(c)
        dictionaries.append(encoded.dictionary.to_pylist())
    rows = np.flatnonzero(valid)
    distinct, inverse = np.unique(combined[rows], return_inverse=True)
    inverse = inverse.reshape(-1)
    if len(distinct) == 1 and len(rows) == n:
        key = tuple(d[int(c[0])] for d, c in zip(dictionaries, codes))
        return compute(key, rows)
    pieces: list[pa.Array] = []
    order: list[np.ndarray] = []
    sorted_groups = np.argsort(inverse, kind="stable")
    bounds = np.searchsorted(inverse[sorted_groups], np.arange(len(distinct) + 1))
    for g in range(len(distinct)):
        idx = rows[sorted_groups[bounds[g]:bounds[g + 1]]]
        first = int(idx[0])
        key = tuple(d[int(c[first])] for d, c in zip(dictionaries, codes))
        pieces.append(compute(key, idx).cast(out_type))
        order.append(idx)
    rest = np.flatnonzero(~valid)
    pieces.append(pa.nulls(len(rest), out_type))
    order.append(rest)
    return reorder(pieces, order, n)


def reorder(pieces: Sequence[pa.Array], order: Sequence[np.ndarray], n: int) -> pa.Array:
    """Put pieces computed for subsets of rows back in row order."""
    merged = pa.concat_arrays(list(pieces))
    positions = np.concatenate(list(order)) if order else np.zeros(0, dtype=np.int64)
    inverse = np.empty(n, dtype=np.int64)
    inverse[positions] = np.arange(n)
    return merged.take(pa.array(inverse))


def take(arr: pa.Array, idx: np.ndarray) -> pa.Array:
    return arr.take(pa.array(idx, pa.int64()))


def map_distinct(arr: pa.Array, fn: Callable[[object], object], out_type: pa.DataType) -> pa.Array:
    """Apply a Python function once per distinct non-NULL value (for what pyarrow has no kernel for)."""
    encoded = pc.dictionary_encode(arr)
    dictionary = encoded.dictionary.to_pylist()
    mapped = pa.array([fn(v) for v in dictionary], out_type)
    return mapped.take(encoded.indices)
