"""Array kernels: constructors, subscripts, bounds, array_to_string, concatenation, comparisons, ANY and ALL.

Arrays are Arrow list columns; int2vector and oidvector are lists whose
first subscript is 0 (`DataType.lower_bound`). Every kernel works on the
flattened elements and the list offsets, so its cost does not depend on
how the elements are spread over rows. A subscript out of range is NULL,
as in PostgreSQL.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from common.expr import FuncCall
from common.pgtext import format_array
from common.types import DataType
from compute.expr.comparison import compare
from compute.expr.context import EvalContext
from compute.expr.kernel import from_numpy, kernel, valid_mask, values


def lengths(arr: pa.Array) -> np.ndarray:
    return np.asarray(pc.fill_null(pc.list_value_length(arr), 0).to_numpy(zero_copy_only=False), np.int64)


def starts(arr: pa.Array) -> np.ndarray:
    """Where each row's elements begin in `arr.flatten()`."""
    n = lengths(arr)
    return np.cumsum(n) - n


def rebuild(counts: np.ndarray, items: pa.Array, valid: np.ndarray | None = None) -> pa.Array:
    """A list column with `counts[i]` of `items` (in order) in row i, NULL where `valid` is False."""
    offsets = pa.array(np.concatenate([[0], np.cumsum(counts)]).astype(np.int32))
    mask = None if valid is None or valid.all() else pa.array(~valid)
    return pa.ListArray.from_arrays(offsets, items, mask=mask)


@kernel("array")
def array_constructor(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    """ARRAY[a, b, ...]: one array per row of the argument columns."""
    t = call.type.item.arrow
    n = len(args[0]) if args else 0
    if not args:
        return rebuild(np.zeros(n, np.int64), pa.array([], t))
    k = len(args)
    # Interleave the columns row by row: element j of row i is args[j][i].
    stacked = pa.concat_arrays([a.cast(t) for a in args])
    order = (np.arange(k)[None, :] * n + np.arange(n)[:, None]).reshape(-1)
    return rebuild(np.full(n, k), stacked.take(pa.array(order, pa.int64())))


@kernel("subscript")
def subscript(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    arr, index = args
    t = call.args[0].type
    count = lengths(arr)
    position = values(index.cast(pa.int64())) - t.lower_bound
    ok = valid_mask(arr) & valid_mask(index) & (position >= 0) & (position < count)
    take = np.where(ok, starts(arr) + position, 0)
    flat = arr.flatten()
    if not len(flat):
        return pa.nulls(len(arr), call.type.arrow)
    return flat.take(pa.array(take, pa.int64(), mask=~ok))


@kernel("array_upper", "array_lower", "array_length")
def bounds(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    arr, dim = args
    t = call.args[0].type
    count = lengths(arr)
    ok = valid_mask(arr) & valid_mask(dim) & (values(dim.cast(pa.int64())) == 1) & (count > 0)
    if call.func == "array_length":
        out = count
    elif call.func == "array_lower":
        out = np.full(len(arr), t.lower_bound)
    else:
        out = count - 1 + t.lower_bound
    return from_numpy(out.astype(np.int32), pa.int32(), ok)


@kernel("cardinality", "array_ndims")
def cardinality(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    count = lengths(args[0])
    if call.func == "array_ndims":
        return from_numpy((count > 0).astype(np.int32), pa.int32(), valid_mask(args[0]) & (count > 0))
    return from_numpy(count.astype(np.int32), pa.int32(), valid_mask(args[0]))


@kernel("array_to_string")
def array_to_string(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    arr, delimiter = args[0], args[1]
    item = call.args[0].type.item
    flat = arr.flatten()
    text = format_array(flat, item, ctx.format)
    counts = lengths(arr)
    if len(args) > 2 and len(args[2]) and args[2].null_count < len(args[2]):
        text = pc.fill_null(text, args[2].drop_null()[0])
    elif text.null_count:
        # Without a NULL string, NULL elements are left out.
        rows = np.repeat(np.arange(len(arr)), counts)
        present = valid_mask(text)
        counts = np.bincount(rows[present], minlength=len(arr))
        text = text.filter(pa.array(present))
    listed = rebuild(counts, text, valid_mask(arr))
    delimiters = delimiter.cast(pa.string())
    joined = pc.binary_join(listed, delimiters)
    return joined


@kernel("array_cat")
def array_cat(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    a, b = (x.cast(call.type.arrow) for x in args)
    la, lb = lengths(a), lengths(b)
    n = len(a)
    counts = la + lb
    rows = np.repeat(np.arange(n), counts)
    k = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    from_a = k < la[rows]
    flat = pa.concat_arrays([a.flatten(), b.flatten()])
    idx = np.where(from_a, starts(a)[rows] + k, len(a.flatten()) + starts(b)[rows] + k - la[rows])
    valid = valid_mask(a) | valid_mask(b)
    return rebuild(counts, flat.take(pa.array(idx, pa.int64())), valid)


@kernel("array_append", "array_prepend")
def array_append(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    if call.func == "array_prepend":
        element, arr = args
    else:
        arr, element = args
    t = call.type
    single = rebuild(np.ones(len(element), np.int64), element.cast(t.item.arrow))
    parts = [single, arr] if call.func == "array_prepend" else [arr, single]
    return array_cat(parts, FuncCall("array_cat", (), t), ctx)


@kernel("array_position")
def array_position(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    arr, element = args
    t = call.args[0].type
    rows = _element_rows(arr)
    probe = element.take(pa.array(rows, pa.int64()))
    hit = values(compare("equal", arr.flatten(), probe, t.item), False)
    position = np.arange(len(rows)) - starts(arr)[rows] + t.lower_bound
    # Elements are in row order, so a row's first hit is the first time its row number appears.
    hit_rows, first = np.unique(rows[hit], return_index=True)
    out = np.zeros(len(arr), np.int64)
    found = np.zeros(len(arr), bool)
    out[hit_rows] = position[hit][first]
    found[hit_rows] = True
    return from_numpy(out.astype(np.int32), pa.int32(), found)


def _element_rows(arr: pa.Array) -> np.ndarray:
    return np.repeat(np.arange(len(arr)), lengths(arr))


def _quantified(op: str, any_: bool, value: pa.Array, arr: pa.Array, item: DataType) -> pa.Array:
    """`value op ANY/ALL (arr)` with SQL's NULLs: ANY is NULL when nothing matched and a comparison was NULL."""
    rows = _element_rows(arr)
    probe = value.take(pa.array(rows, pa.int64()))
    result = compare(op, probe, arr.flatten().cast(probe.type), item)
    ok = valid_mask(result)
    truth = values(result, False)
    n = len(arr)
    decisive = truth if any_ else ~truth
    settled = np.bincount(rows[ok & decisive], minlength=n) > 0
    unknown = np.bincount(rows[~ok], minlength=n) > 0
    out = settled if any_ else ~settled
    valid = valid_mask(arr) & (settled | ~unknown)
    return from_numpy(out, pa.bool_(), valid)


_COMPARISONS = ("equal", "not_equal", "less_than", "less_than_or_equal", "greater_than", "greater_than_or_equal")


@kernel(*(f"{q}_{op}" for q in ("any", "all") for op in _COMPARISONS))
def quantified(args: list[pa.Array], call: FuncCall, ctx: EvalContext) -> pa.Array:
    quantifier, op = call.func.split("_", 1)
    value, arr = args
    return _quantified(op, quantifier == "any", value, arr, call.args[0].type)
