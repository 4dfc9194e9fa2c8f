"""Set-returning functions (generate_series, unnest, generate_subscripts, ...) and the two places they run.

A set-returning function maps each row of its argument columns to zero or
more values. Every implementation here is vectorized over all the rows at
once and returns, for the values it produced in order, the row each came
from and the values themselves. In FROM (`BatchTableFunction`) the
arguments are constants (or outer references) evaluated on one row; in a
select list (`BatchProjectSet`) they are evaluated over each input batch
and the functions' rows are laid side by side, as PostgreSQL's ProjectSet
does.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from common.batch_plan import BatchProjectSet, BatchTableFunction, SetFunction
from common.errors import FeatureNotSupported, InvalidParameterValue
from common.functions_system import RESERVED_KEYWORDS
from common.types import DataType
from compute.batch.arrays import closing, empty_width_batch, output_batch, slices
from compute.batch.context import BatchContext
from compute.expr import evaluate
from compute.expr.kernel import valid_mask, values

Produced = tuple[np.ndarray, pa.Array]
Implementation = Callable[[list[pa.Array], SetFunction], Produced]

SET_FUNCTIONS: dict[str, Implementation] = {}


def set_function(*names: str) -> Callable[[Implementation], Implementation]:
    def register(fn: Implementation) -> Implementation:
        for name in names:
            SET_FUNCTIONS[name] = fn
        return fn

    return register


def _list_lengths(arr: pa.Array) -> np.ndarray:
    return np.asarray(pc.fill_null(pc.list_value_length(arr), 0).to_numpy(zero_copy_only=False), np.int64)


def _parents(counts: np.ndarray) -> np.ndarray:
    return np.repeat(np.arange(len(counts), dtype=np.int64), counts)


def _positions(counts: np.ndarray) -> np.ndarray:
    """0, 1, ... within each row's run of produced values."""
    starts = np.cumsum(counts) - counts
    return np.arange(int(counts.sum()), dtype=np.int64) - np.repeat(starts, counts)


@set_function("generate_series")
def generate_series(args: list[pa.Array], fn: SetFunction) -> Produced:
    t = fn.type
    if t.is_temporal:
        return _series_of_timestamps(args, fn)
    if not t.is_integer:
        raise FeatureNotSupported(f"generate_series over {t.display()} is not supported")
    ok = valid_mask(args[0]) & valid_mask(args[1])
    start, stop = values(args[0]).astype(np.int64), values(args[1]).astype(np.int64)
    step = values(args[2]).astype(np.int64) if len(args) > 2 else np.ones(len(start), np.int64)
    if len(args) > 2:
        ok &= valid_mask(args[2])
        if (ok & (step == 0)).any():
            raise InvalidParameterValue("step size cannot equal zero")
    safe = np.where(step == 0, 1, step)
    counts = np.where(ok, np.maximum((stop - start) // safe + 1, 0), 0)
    parents = _parents(counts)
    produced = start[parents] + step[parents] * _positions(counts)
    return parents, pa.array(produced, pa.int64()).cast(t.arrow)


def _series_of_timestamps(args: list[pa.Array], fn: SetFunction) -> Produced:
    parents: list[int] = []
    out: list[object] = []
    for i, (a, b, step) in enumerate(zip(*(x.to_pylist() for x in args[:3]))):
        if a is None or b is None or step is None:
            continue
        months, days, nanos = step
        if months:
            raise FeatureNotSupported("generate_series with a month step is not supported")
        import datetime as dt

        delta = dt.timedelta(days=days, microseconds=nanos // 1000)
        if delta <= dt.timedelta(0):
            raise InvalidParameterValue("step size cannot equal zero")
        v = a
        while v <= b:
            parents.append(i)
            out.append(v)
            v = v + delta
    return np.array(parents, np.int64), pa.array(out, fn.type.arrow)


@set_function("unnest")
def unnest(args: list[pa.Array], fn: SetFunction) -> Produced:
    arr = args[0]
    counts = _list_lengths(arr)
    return _parents(counts), _flat(arr).cast(fn.type.arrow)


def _flat(arr: pa.Array) -> pa.Array:
    """The elements of the non-NULL lists, in order (`flatten` skips NULL lists, which hold none)."""
    return arr.flatten()


def _subscripts(arr: pa.Array, t: DataType) -> Produced:
    counts = _list_lengths(arr)
    return _parents(counts), pa.array(_positions(counts) + t.lower_bound, pa.int32())


@set_function("generate_subscripts")
def generate_subscripts(args: list[pa.Array], fn: SetFunction) -> Produced:
    dims = args[1].to_pylist() if len(args) > 1 else [1]
    arr = args[0]
    parents, subs = _subscripts(arr, fn.args[0].type)
    keep = np.array([dims[p] == 1 for p in parents], bool) if any(d != 1 for d in dims) else None
    if keep is not None:
        return parents[keep], subs.filter(pa.array(keep))
    return parents, subs


@set_function("_pg_expandarray")
def pg_expandarray(args: list[pa.Array], fn: SetFunction) -> Produced:
    """information_schema._pg_expandarray: each element with its 1-based position, as a record (x, n)."""
    arr = args[0]
    counts = _list_lengths(arr)
    x = _flat(arr).cast(fn.type.fields[0][1].arrow)
    n = pa.array(_positions(counts) + 1, pa.int32())
    return _parents(counts), pa.StructArray.from_arrays([x, n], ["x", "n"])


@set_function("pg_get_keywords")
def pg_get_keywords(args: list[pa.Array], fn: SetFunction) -> Produced:
    """PostgreSQL's reserved keywords (word, catcode 'R', catdesc), for tools that quote identifiers."""
    n = len(RESERVED_KEYWORDS)
    rows = pa.StructArray.from_arrays([pa.array(RESERVED_KEYWORDS), pa.array(["R"] * n), pa.array(["reserved"] * n)],
                                      ["word", "catcode", "catdesc"])
    return np.zeros(n, np.int64), rows


def produce(fn: SetFunction, batch: pa.RecordBatch, ctx: BatchContext) -> Produced:
    impl = SET_FUNCTIONS.get(fn.func)
    if impl is None:
        raise FeatureNotSupported(f"set-returning function {fn.func} is not supported")
    args = [evaluate(a, batch, ctx.eval_ctx) for a in fn.args]
    return impl(args, fn)


async def execute_table_function(node: BatchTableFunction, ctx: BatchContext) -> AsyncIterator[pa.RecordBatch]:
    _, produced = produce(node.function, empty_width_batch(1), ctx)
    columns = [produced]
    if node.ordinality:
        columns.append(pa.array(np.arange(1, len(produced) + 1), pa.int64()))
    for part in slices(output_batch(columns, len(produced))):
        yield part


def side_by_side(n: int, results: Sequence[Produced]) -> tuple[np.ndarray, list[pa.Array]]:
    """For each input row, as many rows as its longest function produced; shorter ones padded with NULL."""
    counts = [np.bincount(parents, minlength=n) for parents, _ in results]
    longest = np.maximum.reduce(counts) if counts else np.zeros(n, np.int64)
    rows = _parents(longest)
    k = _positions(longest)
    columns = []
    for count, (_, produced) in zip(counts, results):
        starts = np.cumsum(count) - count
        present = k < count[rows]
        idx = np.where(present, starts[rows] + k, 0)
        columns.append(produced.take(pa.array(idx, pa.int64(), mask=~present)))
    return rows, columns


async def execute_project_set(node: BatchProjectSet, input: AsyncIterator[pa.RecordBatch],
                              ctx: BatchContext) -> AsyncIterator[pa.RecordBatch]:
    async with closing(input) as it:
        async for batch in it:
            results = [produce(fn, batch, ctx) for fn in node.functions]
            rows, columns = side_by_side(batch.num_rows, results)
            take = pa.array(rows, pa.int64())
            repeated = [c.take(take) for c in batch.columns]
            if len(rows):
                yield output_batch([*repeated, *columns], len(rows))

