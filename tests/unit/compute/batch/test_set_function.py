"""Set-returning functions in FROM and in a select list (ProjectSet), and ranking window functions."""

from __future__ import annotations

import asyncio

import pytest

from common.batch_plan import (
    BatchProjectSet,
    BatchTableFunction,
    BatchWindow,
    SetFunction,
    SortKey,
    WindowCall,
    WindowKind,
)
from common.errors import InvalidParameterValue
from common.expr import InputRef, Literal
from common.types import BIGINT, INT2VECTOR, INTEGER, VARCHAR, array_of, record_of
from tests.unit.compute.batch.batch_support import make_ctx, rows_of, values

INTS = array_of(INTEGER)


def run(plan: object) -> list[tuple[object, ...]]:
    return asyncio.run(rows_of(plan, make_ctx()))  # type: ignore[arg-type]


def series(*args: int) -> SetFunction:
    return SetFunction("generate_series", tuple(Literal(a, INTEGER) for a in args), INTEGER)


def test_generate_series_in_from() -> None:
    assert run(BatchTableFunction(series(1, 3), False, (INTEGER,))) == [(1,), (2,), (3,)]
    assert run(BatchTableFunction(series(10, 1, -4), True, (INTEGER, BIGINT))) == [(10, 1), (6, 2), (2, 3)]
    assert run(BatchTableFunction(series(3, 1), False, (INTEGER,))) == []
    with pytest.raises(InvalidParameterValue, match="step size cannot equal zero"):
        run(BatchTableFunction(series(1, 3, 0), False, (INTEGER,)))


def test_functions_in_a_select_list_advance_in_lockstep() -> None:
    rows = values([(1, [10, 20, 30]), (2, []), (3, [5])], [INTEGER, INTS])
    unnest = SetFunction("unnest", (InputRef(1, INTS),), INTEGER)
    subscripts = SetFunction("generate_subscripts", (InputRef(1, INTS), Literal(1, INTEGER)), INTEGER)
    pair = SetFunction("generate_series", (Literal(1, INTEGER), Literal(2, INTEGER)), INTEGER)
    plan = BatchProjectSet(rows, (unnest, subscripts, pair), (INTEGER, INTS, INTEGER, INTEGER, INTEGER))
    # Row 2's array is empty but the series still yields two rows, so row 2 appears with NULLs.
    assert [(r[0], r[2], r[3], r[4]) for r in run(plan)] == [
        (1, 10, 1, 1), (1, 20, 2, 2), (1, 30, 3, None), (2, None, None, 1), (2, None, None, 2), (3, 5, 1, 1),
        (3, None, None, 2)]


def test_expandarray_and_int2vector_subscripts_start_at_zero() -> None:
    rows = values([([3, 1],)], [INT2VECTOR])
    expand = SetFunction("_pg_expandarray", (InputRef(0, INT2VECTOR),),
                         record_of((("x", INTEGER), ("n", INTEGER))))
    subs = SetFunction("generate_subscripts", (InputRef(0, INT2VECTOR), Literal(1, INTEGER)), INTEGER)
    out = run(BatchProjectSet(rows, (expand, subs), (INT2VECTOR, expand.type, INTEGER)))
    assert [(r[1], r[2]) for r in out] == [({"x": 3, "n": 1}, 0), ({"x": 1, "n": 2}, 1)]


def test_ranking_window_functions() -> None:
    rows = values([("a", 3), ("b", 1), ("a", 1), ("a", 3), (None, 2)], [VARCHAR, INTEGER])
    calls = (WindowCall(WindowKind.ROW_NUMBER, (0,), (SortKey(1),), BIGINT),
             WindowCall(WindowKind.RANK, (), (SortKey(1, descending=True, nulls_first=True),), BIGINT),
             WindowCall(WindowKind.DENSE_RANK, (0,), (SortKey(1),), BIGINT))
    out = run(BatchWindow(rows, calls, (VARCHAR, INTEGER, BIGINT, BIGINT, BIGINT)))
    assert out == [("a", 3, 2, 1, 2), ("b", 1, 1, 4, 1), ("a", 1, 1, 4, 1), ("a", 3, 3, 1, 2), (None, 2, 1, 3, 1)]
