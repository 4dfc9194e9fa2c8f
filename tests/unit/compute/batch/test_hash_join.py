"""BatchHashJoin without residual conditions: join types, NULL keys, multi-column keys, output columns."""

from __future__ import annotations

import pytest

from common.batch_plan import BatchHashJoin, JoinType
from common.errors import DivisionByZero
from common.types import BIGINT, DOUBLE, INTEGER, VARCHAR
from tests.unit.compute.batch.batch_support import MemoryReader, col, fn, lit, make_ctx, rows_of, scan, table_desc

LEFT = table_desc(1, (INTEGER, VARCHAR))
RIGHT = table_desc(2, (BIGINT, VARCHAR))
LEFT_ROWS = [(1, "l1"), (2, "l2"), (None, "lnull"), (2, "l2b"), (4, "l4")]
RIGHT_ROWS = [(2, "r2"), (1, "r1"), (None, "rnull"), (3, "r3"), (2, "r2b")]


def _reader() -> MemoryReader:
    reader = MemoryReader()
    reader.add(LEFT, LEFT_ROWS, batch_rows=2)
    reader.add(RIGHT, RIGHT_ROWS, batch_rows=2)
    return reader


def _join(join_type: JoinType, output: tuple[int, ...] = (1, 3)) -> BatchHashJoin:
    all_types = LEFT.types + RIGHT.types
    keys = ((), ()) if join_type is JoinType.CROSS else ((0,), (0,))
    return BatchHashJoin(scan(LEFT), scan(RIGHT), join_type, keys[0], keys[1], None, output,
                         tuple(all_types[i] for i in output))


INNER = [("l1", "r1"), ("l2", "r2"), ("l2", "r2b"), ("l2b", "r2"), ("l2b", "r2b")]


@pytest.mark.parametrize(("join_type", "expected"), [
    (JoinType.INNER, INNER),
    (JoinType.LEFT, [*INNER, ("lnull", None), ("l4", None)]),
    (JoinType.RIGHT, [*INNER, (None, "rnull"), (None, "r3")]),
    (JoinType.FULL, [*INNER, ("lnull", None), ("l4", None), (None, "rnull"), (None, "r3")]),
])
async def test_join_types_and_null_keys_never_match(join_type: JoinType, expected: list[tuple]) -> None:
    out = await rows_of(_join(join_type), make_ctx(_reader()))
    assert sorted(out, key=repr) == sorted(expected, key=repr)


async def test_cross_join_pairs_every_row() -> None:
    out = await rows_of(_join(JoinType.CROSS), make_ctx(_reader()))
    assert sorted(out) == sorted((a[1], b[1]) for a in LEFT_ROWS for b in RIGHT_ROWS)


async def test_output_indices_pick_and_repeat_columns() -> None:
    out = await rows_of(_join(JoinType.INNER, (3, 0, 2, 0)), make_ctx(_reader()))
    assert sorted(out) == sorted([("r1", 1, 1, 1), ("r2", 2, 2, 2), ("r2b", 2, 2, 2),
                                  ("r2", 2, 2, 2), ("r2b", 2, 2, 2)])


async def test_multi_column_keys_and_float_equality() -> None:
    left = table_desc(1, (DOUBLE, VARCHAR))
    right = table_desc(2, (DOUBLE, VARCHAR))
    reader = MemoryReader()
    reader.add(left, [(0.0, "a"), (-0.0, "b"), (float("nan"), "a"), (1.0, None)])
    reader.add(right, [(-0.0, "a"), (0.0, "b"), (float("nan"), "a"), (1.0, None), (0.0, "c")])
    node = BatchHashJoin(scan(left), scan(right), JoinType.INNER, (0, 1), (0, 1), None, (1, 3),
                         (VARCHAR, VARCHAR))
    out = await rows_of(node, make_ctx(reader))
    # -0.0 = 0.0 and NaN = NaN in PostgreSQL; the NULL string key never matches.
    assert sorted(out) == [("a", "a"), ("a", "a"), ("b", "b")]


async def test_empty_sides() -> None:
    reader = MemoryReader()
    reader.add(LEFT, LEFT_ROWS)
    reader.add(RIGHT, [])
    out = await rows_of(_join(JoinType.LEFT), make_ctx(reader))
    assert sorted(out, key=repr) == sorted([(r[1], None) for r in LEFT_ROWS], key=repr)
    assert await rows_of(_join(JoinType.INNER), make_ctx(reader)) == []
    assert await rows_of(_join(JoinType.RIGHT), make_ctx(reader)) == []


# -- residual conditions ------------------------------------------------------

COND_LEFT = [(1, "l1"), (2, "l2"), (3, "l3")]
COND_RIGHT = [(1, "r1"), (1, "keep"), (2, "r2"), (3, "keep")]


def _cond_join(join_type: JoinType, keyed: bool = True) -> tuple[BatchHashJoin, MemoryReader]:
    reader = MemoryReader()
    reader.add(LEFT, COND_LEFT, batch_rows=2)
    reader.add(RIGHT, COND_RIGHT, batch_rows=2)
    condition = fn("equal", col(3, VARCHAR), lit("keep", VARCHAR))
    keys = ((0,), (0,)) if keyed else ((), ())
    node = BatchHashJoin(scan(LEFT), scan(RIGHT), join_type, keys[0], keys[1], condition, (1, 3),
                         (VARCHAR, VARCHAR))
    return node, reader


@pytest.mark.parametrize(("join_type", "expected"), [
    (JoinType.INNER, [("l1", "keep"), ("l3", "keep")]),
    # l2 has a key match (r2) that fails the condition: it is still padded with NULLs.
    (JoinType.LEFT, [("l1", "keep"), ("l3", "keep"), ("l2", None)]),
    (JoinType.RIGHT, [("l1", "keep"), ("l3", "keep"), (None, "r1"), (None, "r2")]),
    (JoinType.FULL, [("l1", "keep"), ("l3", "keep"), ("l2", None), (None, "r1"), (None, "r2")]),
])
async def test_condition_is_part_of_the_join(join_type: JoinType, expected: list[tuple]) -> None:
    node, reader = _cond_join(join_type)
    out = await rows_of(node, make_ctx(reader))
    assert sorted(out, key=repr) == sorted(expected, key=repr)


async def test_outer_join_on_a_condition_alone() -> None:
    reader = MemoryReader()
    reader.add(LEFT, [(1, "a"), (5, "b"), (None, "c")])
    reader.add(RIGHT, [(2, "x"), (3, "y")])
    condition = fn("less_than", col(0, INTEGER), col(2, BIGINT))
    node = BatchHashJoin(scan(LEFT), scan(RIGHT), JoinType.LEFT, (), (), condition, (1, 3), (VARCHAR, VARCHAR))
    out = await rows_of(node, make_ctx(reader))
    assert sorted(out, key=repr) == sorted([("a", "x"), ("a", "y"), ("b", None), ("c", None)], key=repr)


async def test_condition_errors_propagate() -> None:
    reader = MemoryReader()
    reader.add(LEFT, [(0, "a")])
    reader.add(RIGHT, [(0, "x")])
    condition = fn("equal", fn("divide", lit(1, INTEGER), col(0, INTEGER)), lit(1, INTEGER))
    node = BatchHashJoin(scan(LEFT), scan(RIGHT), JoinType.INNER, (0,), (0,), condition, (1,), (VARCHAR,))
    with pytest.raises(DivisionByZero):
        await rows_of(node, make_ctx(reader))
