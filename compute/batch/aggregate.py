"""Aggregate functions over rows labelled with group ids, vectorized per function.

`aggregate(call, column, gid, num_groups)` returns one value per group in
group-id order, typed `call.type`. Groups are dense ids from
`compute.batch.keys`; a group may have no rows at all (the single group of
an aggregation without GROUP BY over empty input), which gives count 0 and
NULL for everything else, as PostgreSQL does.

array_agg, string_agg, bool_and and bool_or (catalog queries use them)
collect each group's values in the order the call's ORDER BY gives
(input order without one), by one stable sort of the whole input.

Where PostgreSQL's result depends on the order values are added (sums of
floats) this adds them in input order, as PostgreSQL does; where it depends
on which of two equal values wins (MIN/MAX of floats and intervals, where
-0.0 = 0.0 and '1 month' = '30 days') the later row wins, as in float8larger
and interval_larger.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from common.batch_plan import SortKey
from common.errors import DatetimeFieldOverflow, FeatureNotSupported
from common.expr import AggCall, AggKind
from common.types import DataType, TypeName
from compute.batch import interval
from compute.batch.arrays import cast_array, to_array
from compute.batch.keys import group_codes
from compute.batch.numeric_div import decimal_avg

_DECIMAL_SUM = pa.decimal128(38, 0)


def aggregate(call: AggCall, column: pa.Array | None, gid: np.ndarray, num_groups: int) -> pa.Array:
    """The aggregate `call` of `column` (None for count(*)) per group."""
    if call.kind is AggKind.COUNT_STAR or column is None:
        return pa.array(np.bincount(gid, minlength=num_groups).astype(np.int64), pa.int64())
    if call.distinct:
        # One row per distinct (group, value); NULL stays as one row that every aggregate skips.
        pairs = group_codes([pa.array(gid, pa.int64()), column], len(gid))
        take = pa.array(pairs.first, pa.int64())
        column, gid = column.take(take), gid[pairs.first]
    arg_type = call.arg_types[0]
    if call.kind is AggKind.COUNT:
        valid = _valid(column)
        return pa.array(np.bincount(gid[valid], minlength=num_groups).astype(np.int64), pa.int64())
    if call.kind is AggKind.SUM:
        return cast_array(_sum(column, arg_type, gid, num_groups), call.type.arrow)
    if call.kind is AggKind.AVG:
        return _avg(column, arg_type, gid, num_groups, call.type.arrow)
    if call.kind in (AggKind.MIN, AggKind.MAX):
        return cast_array(_extreme(column, gid, num_groups, call.kind is AggKind.MAX), call.type.arrow)
    raise FeatureNotSupported(f"aggregate {call.kind.value} is not supported")


def _valid(column: pa.Array) -> np.ndarray:
    if column.null_count == 0:
        return np.ones(len(column), bool)
    return column.is_valid().to_numpy(zero_copy_only=False)


def _counts(column: pa.Array, gid: np.ndarray, num_groups: int) -> np.ndarray:
    return np.bincount(gid[_valid(column)], minlength=num_groups)


def _scatter(out_gid: np.ndarray, values: pa.Array, num_groups: int) -> pa.Array:
    """Reorder per-group results into group-id order; groups without a result get NULL."""
    pos = np.full(num_groups, -1, np.int64)
    pos[out_gid] = np.arange(len(out_gid))
    return values.take(pa.array(pos, pa.int64(), mask=pos < 0))


def _acero(column: pa.Array, gid: np.ndarray, num_groups: int, func: str) -> pa.Array:
    """Arrow's hash aggregate `func` ("sum", "min", "max"); NULL for groups with no non-NULL value."""
    table = pa.table({"g": pa.array(gid, pa.int64()), "v": column})
    out = table.group_by("g", use_threads=False).aggregate([("v", func)])
    out_gid = to_array(out.column("g")).to_numpy(zero_copy_only=False)
    return _scatter(out_gid, to_array(out.column(f"v_{func}")), num_groups)


def _with_nulls(values: pa.Array, present: np.ndarray) -> pa.Array:
    if present.all():
        return values
    return pc.if_else(pa.array(present), values, pa.scalar(None, values.type))


def _float_sum(column: pa.Array, gid: np.ndarray, num_groups: int, dtype: type[np.floating]) -> np.ndarray:
    """Sums in input order, accumulating in `dtype` (float4 sums stay float4, as in PostgreSQL)."""
    valid = _valid(column)
    values = column.fill_null(0).to_numpy(zero_copy_only=False)[valid]
    if dtype is np.float64:
        return np.bincount(gid[valid], weights=values.astype(np.float64), minlength=num_groups)
    out = np.zeros(num_groups, dtype)
    np.add.at(out, gid[valid], values.astype(dtype))
    return out


def _interval_sums(column: pa.Array, gid: np.ndarray, num_groups: int) -> tuple[
        np.ndarray, np.ndarray, np.ndarray]:
    """Field-wise int64 sums (PostgreSQL adds intervals field by field, without normalizing)."""
    valid = _valid(column)
    fields = interval.decompose(column)[valid]
    g = gid[valid]
    sums = []
    for name in ("months", "days", "nanos"):
        f = fields[name].astype(np.int64)
        total = np.zeros(num_groups, np.int64)
        np.add.at(total, g, f)
        # int64 addition wraps silently; a float estimate tells whether it could have.
        estimate = np.bincount(g, weights=f.astype(np.float64), minlength=num_groups)
        if estimate.size and np.abs(estimate).max() > 9.2e18:
            raise DatetimeFieldOverflow("interval out of range")
        sums.append(total)
    return sums[0], sums[1], sums[2]


def _sum(column: pa.Array, arg_type: DataType, gid: np.ndarray, num_groups: int) -> pa.Array:
    present = _counts(column, gid, num_groups) > 0
    name = arg_type.name
    if name in (TypeName.SMALLINT, TypeName.INTEGER):
        return _acero(column.cast(pa.int64()), gid, num_groups, "sum")
    if name is TypeName.BIGINT:
        return _acero(column.cast(_DECIMAL_SUM), gid, num_groups, "sum")
    if name is TypeName.NUMERIC:
        return _acero(column, gid, num_groups, "sum")
    if name is TypeName.REAL:
        return _with_nulls(pa.array(_float_sum(column, gid, num_groups, np.float32), pa.float32()), present)
    if name is TypeName.DOUBLE:
        return _with_nulls(pa.array(_float_sum(column, gid, num_groups, np.float64), pa.float64()), present)
    if name is TypeName.INTERVAL:
        months, days, nanos = _interval_sums(column, gid, num_groups)
        return interval.compose(months, days, nanos, present)
    raise FeatureNotSupported(f"function sum({arg_type}) does not exist")


def _avg(column: pa.Array, arg_type: DataType, gid: np.ndarray, num_groups: int, out: pa.DataType) -> pa.Array:
    counts = _counts(column, gid, num_groups)
    present = counts > 0
    divisor = np.maximum(counts, 1)
    if arg_type.is_integer or arg_type.name is TypeName.NUMERIC:
        return decimal_avg(_sum(column, arg_type, gid, num_groups), divisor, out)
    if arg_type.is_float:
        sums = _float_sum(column, gid, num_groups, np.float64)
        return _with_nulls(pa.array(sums / divisor, pa.float64()), present).cast(out)
    if arg_type.name is TypeName.INTERVAL:
        months, days, nanos = _interval_sums(column, gid, num_groups)
        m, d, ns = interval.divide(months, days, nanos, divisor.astype(np.float64))
        return interval.compose(m, d, ns, present)
    raise FeatureNotSupported(f"function avg({arg_type}) does not exist")


def _extreme(column: pa.Array, gid: np.ndarray, num_groups: int, largest: bool) -> pa.Array:
    t = column.type
    if pa.types.is_floating(t):
        values = column.fill_null(0).to_numpy(zero_copy_only=False)
        if not (np.signbit(values) & (values == 0)).any():
            return _float_extreme(column, values, gid, num_groups, largest)
    elif t != interval.INTERVAL_TYPE:
        return _acero(column, gid, num_groups, "max" if largest else "min")
    return _sorted_extreme(column, gid, num_groups, largest)


def _float_extreme(column: pa.Array, values: np.ndarray, gid: np.ndarray, num_groups: int,
                   largest: bool) -> pa.Array:
    """Arrow's min/max, corrected for NaN: Arrow skips it, PostgreSQL orders it above every number."""
    result = _acero(column, gid, num_groups, "max" if largest else "min")
    nan = np.isnan(values) & _valid(column)
    if not nan.any():
        return result
    nans = np.bincount(gid[nan], minlength=num_groups)
    # MAX is NaN as soon as a group holds one; MIN only when the group holds nothing else.
    to_nan = nans > 0 if largest else (nans > 0) & (nans == _counts(column, gid, num_groups))
    return pc.if_else(pa.array(to_nan), pa.scalar(float("nan"), column.type), result)


def _sorted_extreme(column: pa.Array, gid: np.ndarray, num_groups: int, largest: bool) -> pa.Array:
    """MIN/MAX by sorting each group's values, the later row winning ties.

    For intervals (which Arrow cannot order) and for floats holding -0.0,
    where which of two equal values wins shows in the result.
    """
    t = column.type
    valid = _valid(column)
    rows = np.flatnonzero(valid)
    values = column.take(pa.array(rows, pa.int64()))
    order = "descending" if largest else "ascending"
    table = {"g": pa.array(gid[rows], pa.int64())}
    keys: list[tuple[str, str]] = [("g", "ascending")]
    if pa.types.is_floating(t):
        table["nan"] = pc.is_nan(values)
        table["v"] = values
        keys += [("nan", order), ("v", order)]
    else:
        table["v"] = interval.span_key(values)
        keys.append(("v", order))
    table["r"] = pa.array(rows, pa.int64())
    keys.append(("r", "descending"))
    idx = pc.sort_indices(pa.table(table), sort_keys=keys).to_numpy()
    sorted_gid = gid[rows][idx]
    starts = np.flatnonzero(np.r_[True, sorted_gid[1:] != sorted_gid[:-1]]) if len(idx) else np.array([], np.int64)
    winners = rows[idx[starts]]
    return _scatter(sorted_gid[starts], column.take(pa.array(winners, pa.int64())), num_groups)


ORDERED_KINDS = frozenset({AggKind.ARRAY_AGG, AggKind.STRING_AGG, AggKind.BOOL_AND, AggKind.BOOL_OR})


def ordered_aggregate(call: AggCall, batch: pa.RecordBatch, gid: np.ndarray, num_groups: int) -> pa.Array:
    """array_agg, string_agg, bool_and or bool_or of `call` per group, values in the call's ORDER BY order."""
    from compute.batch.sort import sort_indices

    column = batch.column(call.args[0])
    if call.distinct:
        pairs = group_codes([pa.array(gid, pa.int64()), column], len(gid))
        keep = pa.array(pairs.first, pa.int64())
        batch, gid = batch.take(keep), gid[pairs.first]
        column = batch.column(call.args[0])
    if call.kind in (AggKind.BOOL_AND, AggKind.BOOL_OR):
        valid = _valid(column)
        values = column.fill_null(call.kind is AggKind.BOOL_AND).to_numpy(zero_copy_only=False).astype(bool)
        counts = np.bincount(gid[valid], minlength=num_groups)
        if call.kind is AggKind.BOOL_AND:
            hits = np.bincount(gid[valid & ~values], minlength=num_groups) == 0
        else:
            hits = np.bincount(gid[valid & values], minlength=num_groups) > 0
        return pa.array(hits, pa.bool_(), mask=counts == 0)
    keyed = pa.RecordBatch.from_arrays([pa.array(gid, pa.int64()), *batch.columns],
                                       ["g", *(f"c{i}" for i in range(batch.num_columns))])
    keys = [SortKey(0)] + [SortKey(o.index + 1, o.descending, o.nulls_first) for o in call.order_by]
    order = sort_indices(keyed, keys)
    sorted_gid = gid[order.to_numpy()]
    values = column.take(order)
    if call.kind is AggKind.STRING_AGG:
        delimiters = batch.column(call.args[1]).take(order) if len(call.args) > 1 else None
        return _string_agg(values, delimiters, sorted_gid, num_groups)
    counts = np.bincount(sorted_gid, minlength=num_groups)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    return pa.ListArray.from_arrays(pa.array(offsets), values.cast(call.type.item.arrow),
                                    mask=pa.array(counts == 0))


def _string_agg(values: pa.Array, delimiters: pa.Array | None, gid: np.ndarray, num_groups: int) -> pa.Array:
    """Each group's non-NULL values joined; PostgreSQL puts a value's own delimiter before it."""
    valid = _valid(values)
    kept = values.filter(pa.array(valid))
    g = gid[valid]
    counts = np.bincount(g, minlength=num_groups)
    delim = "" if delimiters is None else next((d for d in delimiters.filter(pa.array(valid)).to_pylist()
                                                 if d is not None), "")
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    lists = pa.ListArray.from_arrays(pa.array(offsets), kept.cast(pa.string()), mask=pa.array(counts == 0))
    return pc.binary_join(lists, delim)
