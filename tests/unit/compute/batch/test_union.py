"""UNION ALL and WITH RECURSIVE's iteration over a work table."""

from __future__ import annotations

import asyncio

import pytest

from common.batch_plan import BatchFilter, BatchProject, BatchRecursiveUnion, BatchUnion, BatchWorkTable
from common.errors import ProgramLimitExceeded
from common.expr import InputRef, Literal
from common.types import INTEGER
from compute.batch import union
from tests.unit.compute.batch.batch_support import fn, make_ctx, rows_of, values


def run(plan: object) -> list[tuple[object, ...]]:
    return asyncio.run(rows_of(plan, make_ctx()))  # type: ignore[arg-type]


def _counter(distinct: bool, step: int, limit: int | None) -> BatchRecursiveUnion:
    """WITH RECURSIVE r(n) AS (SELECT 1 UNION [ALL] SELECT (n + step) % 4 FROM r [WHERE n < limit])"""
    work = BatchWorkTable(1, (INTEGER,))
    source = work if limit is None else BatchFilter(
        work, fn("less_than", InputRef(0, INTEGER), Literal(limit, INTEGER)), (INTEGER,))
    nxt = fn("modulus", fn("add", InputRef(0, INTEGER), Literal(step, INTEGER)), Literal(4, INTEGER))
    return BatchRecursiveUnion(values([(1,)], [INTEGER]), BatchProject(source, (nxt,), (INTEGER,)), 1, distinct,
                               (INTEGER,))


def test_union_all_keeps_every_row() -> None:
    plan = BatchUnion((values([(1,), (2,)], [INTEGER]), values([(2,)], [INTEGER])), (INTEGER,))
    assert run(plan) == [(1,), (2,), (2,)]


def test_recursion_stops_when_a_round_adds_nothing() -> None:
    assert run(_counter(distinct=False, step=1, limit=3)) == [(1,), (2,), (3,)]


def test_union_distinct_ends_a_cycle() -> None:
    # 1 -> 3 -> 1 -> ... : without DISTINCT this never ends; with it the second 1 is not new.
    assert run(_counter(distinct=True, step=2, limit=None)) == [(1,), (3,)]


def test_unbounded_recursion_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(union, "MAX_ROUNDS", 50)
    with pytest.raises(ProgramLimitExceeded):
        run(_counter(distinct=False, step=2, limit=None))
