"""The apply executor: a subquery's value per outer row, run once per distinct correlation binding."""

from __future__ import annotations

import asyncio

import pytest

from common.batch_plan import ApplyKind, BatchApply, BatchFilter, BatchProject, BatchScan
from common.errors import CardinalityViolation
from common.expr import FuncCall, InputRef, Literal, OuterRef
from common.types import BOOLEAN, INTEGER, VARCHAR, array_of
from tests.unit.compute.batch.batch_support import MemoryReader, fn, make_ctx, rows_of, table_desc, values

OUTER = values([(1,), (2,), (2,), (None,), (3,)], [INTEGER])
INNER = table_desc(7, [INTEGER, VARCHAR])
INNER_ROWS = [(1, "a"), (2, "b"), (2, "c"), (5, "d")]


def _reader() -> MemoryReader:
    r = MemoryReader()
    r.add(INNER, INNER_ROWS)
    return r


def _correlated(project_column: int, kind: ApplyKind, guard: FuncCall | None = None,
                test: InputRef | None = None) -> BatchApply:
    """SELECT ..., (SELECT inner.col FROM inner WHERE inner.k = outer.a) FROM outer"""
    scan = BatchScan(INNER, (0, 1), INNER.types)
    where = BatchFilter(scan, fn("equal", InputRef(0, INTEGER), OuterRef(1, INTEGER)), INNER.types)
    t = INNER.types[project_column]
    sub = BatchProject(where, (InputRef(project_column, t),), (t,))
    out_t = {ApplyKind.EXISTS: BOOLEAN, ApplyKind.IN: BOOLEAN, ApplyKind.ARRAY: array_of(t)}.get(kind, t)
    return BatchApply(OUTER, sub, kind, ((1, InputRef(0, INTEGER)),), test, guard, (INTEGER, out_t))


def run(plan: BatchApply) -> list[tuple[object, ...]]:
    reader = _reader()
    rows = asyncio.run(rows_of(plan, make_ctx(reader)))
    return rows


def test_exists_and_array_per_outer_row() -> None:
    assert run(_correlated(1, ApplyKind.EXISTS)) == [(1, True), (2, True), (2, True), (None, False), (3, False)]
    assert run(_correlated(1, ApplyKind.ARRAY)) == [(1, ["a"]), (2, ["b", "c"]), (2, ["b", "c"]), (None, []),
                                                   (3, [])]


def test_the_subquery_runs_once_per_distinct_binding() -> None:
    reader = _reader()
    asyncio.run(rows_of(_correlated(1, ApplyKind.EXISTS), make_ctx(reader)))
    # Four distinct outer values (1, 2, NULL, 3), each one scan of the inner table (one batch of 3 rows, one of 1).
    assert reader.pulled == 4 * 2


def test_scalar_subquery_with_two_rows_fails_only_where_needed() -> None:
    with pytest.raises(CardinalityViolation, match="more than one row returned by a subquery"):
        run(_correlated(1, ApplyKind.SCALAR))
    # A guard (CASE WHEN a <> 2 THEN (subquery) END) keeps the failing binding from running at all.
    guard = fn("not_equal", InputRef(0, INTEGER), Literal(2, INTEGER))
    assert run(_correlated(1, ApplyKind.SCALAR, guard)) == [(1, "a"), (2, None), (2, None), (None, None),
                                                           (3, None)]


def test_in_follows_sql_nulls() -> None:
    # outer.a IN (SELECT k FROM inner WHERE k = outer.a): true when found, false otherwise, NULL for a NULL probe.
    plan = _correlated(0, ApplyKind.IN, test=InputRef(0, INTEGER))
    assert run(plan) == [(1, True), (2, True), (2, True), (None, False), (3, False)]
    uncorrelated = BatchApply(OUTER, values([(1,), (None,)], [INTEGER]), ApplyKind.IN, (), InputRef(0, INTEGER),
                              None, (INTEGER, BOOLEAN))
    assert run(uncorrelated) == [(1, True), (2, None), (2, None), (None, None), (3, None)]
