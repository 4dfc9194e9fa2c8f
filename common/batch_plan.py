"""Batch plans: an ad-hoc query or a DML statement, executed once over a committed snapshot.

The frontend plans them and ships them to compute nodes (or runs them in
its own process). Every node states its output `types`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Union

from common.catalog import TableDesc
from common.expr import AggCall, Expr
from common.types import DataType


class JoinType(enum.Enum):
    INNER = "inner"
    LEFT = "left"
    RIGHT = "right"
    FULL = "full"
    CROSS = "cross"


@dataclass(frozen=True, slots=True)
class SortKey:
    index: int
    descending: bool = False
    nulls_first: bool = False  # PostgreSQL default: NULLS LAST for ASC, FIRST for DESC


@dataclass(frozen=True, slots=True)
class BatchScan:
    """All rows of a state table at the query's epoch, columns `columns` of `table`."""

    table: TableDesc
    columns: tuple[int, ...]
    types: tuple[DataType, ...]


@dataclass(frozen=True, slots=True)
class BatchValues:
    """Constant rows; each cell an expression without inputs."""

    rows: tuple[tuple[Expr, ...], ...]
    types: tuple[DataType, ...]


@dataclass(frozen=True, slots=True)
class BatchArrow:
    """Rows given inline as Arrow IPC stream bytes (system catalogs, COPY data)."""

    ipc: bytes
    types: tuple[DataType, ...]


@dataclass(frozen=True, slots=True)
class BatchProject:
    input: BatchNode
    exprs: tuple[Expr, ...]
    types: tuple[DataType, ...]


@dataclass(frozen=True, slots=True)
class BatchFilter:
    input: BatchNode
    predicate: Expr
    types: tuple[DataType, ...]


@dataclass(frozen=True, slots=True)
class BatchHashAgg:
    """GROUP BY `group_key`; output is group key columns then aggs. No groups and no key: one row."""

    input: BatchNode
    group_key: tuple[int, ...]
    aggs: tuple[AggCall, ...]
    types: tuple[DataType, ...]


@dataclass(frozen=True, slots=True)
class BatchHashJoin:
    """Join on `left_keys = right_keys` (none for CROSS), then `condition`, then `output_indices`.

    Indices in `condition` and `output_indices` refer to left columns then right columns.
    """

    left: BatchNode
    right: BatchNode
    join_type: JoinType
    left_keys: tuple[int, ...]
    right_keys: tuple[int, ...]
    condition: Expr | None
    output_indices: tuple[int, ...]
    types: tuple[DataType, ...]


@dataclass(frozen=True, slots=True)
class BatchSort:
    input: BatchNode
    keys: tuple[SortKey, ...]
    types: tuple[DataType, ...]


@dataclass(frozen=True, slots=True)
class BatchLimit:
    input: BatchNode
    limit: int | None
    offset: int
    types: tuple[DataType, ...]


class DmlKind(enum.Enum):
    INSERT = "insert"
    DELETE = "delete"
    UPDATE = "update"


@dataclass(frozen=True, slots=True)
class BatchDml:
    """Write the rows of `input` into table `table_id` as one transaction; outputs one BIGINT count.

    INSERT: `input` yields the table's visible columns (in table order; the
    row id column, if any, is filled by the table's DML actor).
    DELETE: `input` yields full table rows to delete.
    UPDATE: `input` yields each full old row followed by its full new row
    (2 x width columns).
    """

    kind: DmlKind
    table_id: int
    table: TableDesc
    input: BatchNode
    types: tuple[DataType, ...]


class ApplyKind(enum.Enum):
    """What an apply appends per outer row: the subquery's single value, whether it has rows, whether it
    holds the row's test value (IN), or all of its values as an array (ARRAY(subquery))."""

    SCALAR = "scalar"
    EXISTS = "exists"
    IN = "in"
    ARRAY = "array"


@dataclass(frozen=True, slots=True)
class BatchApply:
    """A subquery evaluated for the rows of `input`; output is the input columns then one column of `kind`.

    `params` bind the subquery's correlation parameters (`OuterRef`s) to
    expressions over the input row; the subquery runs once per distinct
    binding (once in all when there are none). Rows where `guard` is not
    true need no value (the subquery sits in a CASE branch they never
    reach) and get NULL. `test` is the left-hand side of IN.
    """

    input: BatchNode
    subquery: BatchNode
    kind: ApplyKind
    params: tuple[tuple[int, Expr], ...]
    test: Expr | None
    guard: Expr | None
    types: tuple[DataType, ...]


@dataclass(frozen=True, slots=True)
class BatchUnion:
    """UNION ALL: the rows of every input in turn (DISTINCT is a hash agg above it)."""

    inputs: tuple[BatchNode, ...]
    types: tuple[DataType, ...]


@dataclass(frozen=True, slots=True)
class BatchRecursiveUnion:
    """WITH RECURSIVE: `anchor`'s rows, then `recursive` run over the previous round's new rows
    (visible to it as work table `work_table`) until a round adds none; `distinct` drops repeated rows."""

    anchor: BatchNode
    recursive: BatchNode
    work_table: int
    distinct: bool
    types: tuple[DataType, ...]


@dataclass(frozen=True, slots=True)
class BatchWorkTable:
    """The rows the enclosing recursive union's previous round added."""

    work_table: int
    types: tuple[DataType, ...]


@dataclass(frozen=True, slots=True)
class SetFunction:
    """A call of a set-returning function (generate_series, unnest, ...): one column of `type` per row it yields."""

    func: str
    args: tuple[Expr, ...]
    type: DataType


@dataclass(frozen=True, slots=True)
class BatchTableFunction:
    """A set-returning function in FROM; its arguments read no input columns (outer references only).
    With `ordinality`, a BIGINT column numbers the rows from 1."""

    function: SetFunction
    ordinality: bool
    types: tuple[DataType, ...]


@dataclass(frozen=True, slots=True)
class BatchProjectSet:
    """Set-returning functions in a select list: for each input row, the functions' rows side by side.

    Output is the input columns then one column per function; a row
    repeats as many times as its longest function yields, shorter ones
    padded with NULL.
    """

    input: BatchNode
    functions: tuple[SetFunction, ...]
    types: tuple[DataType, ...]


class WindowKind(enum.Enum):
    ROW_NUMBER = "row_number"
    RANK = "rank"
    DENSE_RANK = "dense_rank"


@dataclass(frozen=True, slots=True)
class WindowCall:
    kind: WindowKind
    partition_by: tuple[int, ...]
    order_by: tuple[SortKey, ...]
    type: DataType


@dataclass(frozen=True, slots=True)
class BatchWindow:
    """Ranking window functions: the input columns, then one column per call."""

    input: BatchNode
    calls: tuple[WindowCall, ...]
    types: tuple[DataType, ...]


BatchNode = Union[BatchScan, BatchValues, BatchArrow, BatchProject, BatchFilter, BatchHashAgg,
                  BatchHashJoin, BatchSort, BatchLimit, BatchDml, BatchApply, BatchUnion, BatchRecursiveUnion,
                  BatchWorkTable, BatchTableFunction, BatchProjectSet, BatchWindow]
