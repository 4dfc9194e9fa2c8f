"""Logical plan nodes: what a query computes, before deciding how (batch) or where (stream).

Each node lists its output `fields`; expressions refer to input columns by
position (`common.expr.InputRef`). A join's output is the left fields then
the right fields.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from common.batch_plan import ApplyKind, JoinType, SetFunction, SortKey, WindowCall
from common.catalog import Relation
from common.expr import AggCall, Expr
from common.types import DataType


@dataclass(frozen=True, slots=True)
class Field:
    """An output column: its name, type, the alias it can be qualified with, and whether `*` hides it."""

    name: str
    type: DataType
    qualifier: str | None = None
    hidden: bool = False


@dataclass(frozen=True, slots=True)
class LScan:
    relation: Relation
    fields: tuple[Field, ...]


@dataclass(frozen=True, slots=True)
class LValues:
    rows: tuple[tuple[Expr, ...], ...]
    fields: tuple[Field, ...]


@dataclass(frozen=True, slots=True)
class LFilter:
    input: LogicalNode
    predicate: Expr

    @property
    def fields(self) -> tuple[Field, ...]:
        return self.input.fields


@dataclass(frozen=True, slots=True)
class LProject:
    input: LogicalNode
    exprs: tuple[Expr, ...]
    fields: tuple[Field, ...]


@dataclass(frozen=True, slots=True)
class LAgg:
    """Output: the `group_key` input columns, then one column per agg."""

    input: LogicalNode
    group_key: tuple[int, ...]
    aggs: tuple[AggCall, ...]
    fields: tuple[Field, ...]


@dataclass(frozen=True, slots=True)
class LJoin:
    """`condition` refers to left columns then right columns; equi keys are found by the optimizer."""

    left: LogicalNode
    right: LogicalNode
    kind: JoinType
    condition: Expr | None
    left_keys: tuple[int, ...] = ()
    right_keys: tuple[int, ...] = ()

    @property
    def fields(self) -> tuple[Field, ...]:
        return self.left.fields + self.right.fields


@dataclass(frozen=True, slots=True)
class LSort:
    input: LogicalNode
    keys: tuple[SortKey, ...]

    @property
    def fields(self) -> tuple[Field, ...]:
        return self.input.fields


@dataclass(frozen=True, slots=True)
class LLimit:
    input: LogicalNode
    limit: int | None
    offset: int

    @property
    def fields(self) -> tuple[Field, ...]:
        return self.input.fields


@dataclass(frozen=True, slots=True)
class LSystemScan:
    """The rows of a system relation (pg_catalog, information_schema, rw_catalog), built while binding."""

    relation: Relation
    fields: tuple[Field, ...]
    ipc: bytes


@dataclass(frozen=True, slots=True)
class LApply:
    """The input's rows with one more column: a subquery's value for each row (see common.batch_plan.BatchApply).

    `params` bind the subquery's OuterRefs to expressions over the input;
    `test` is IN's left-hand side; rows where `guard` is not true need no value.
    """

    input: LogicalNode
    subquery: LogicalNode
    kind: ApplyKind
    params: tuple[tuple[int, Expr], ...]
    test: Expr | None
    guard: Expr | None
    fields: tuple[Field, ...]


@dataclass(frozen=True, slots=True)
class LUnion:
    """UNION ALL of inputs with the same column types (UNION is an LAgg over it)."""

    inputs: tuple[LogicalNode, ...]
    fields: tuple[Field, ...]


@dataclass(frozen=True, slots=True)
class LWorkTable:
    """Inside a recursive CTE's recursive term: the rows the previous round added."""

    work_table: int
    fields: tuple[Field, ...]


@dataclass(frozen=True, slots=True)
class LRecursiveUnion:
    anchor: LogicalNode
    recursive: LogicalNode
    work_table: int
    distinct: bool
    fields: tuple[Field, ...]


@dataclass(frozen=True, slots=True)
class LTableFunction:
    """A set-returning function in FROM; with `ordinality` a last BIGINT column numbers its rows."""

    function: SetFunction
    ordinality: bool
    fields: tuple[Field, ...]


@dataclass(frozen=True, slots=True)
class LProjectSet:
    """The input's rows expanded by set-returning functions in a select list: input columns, then one per function."""

    input: LogicalNode
    functions: tuple[SetFunction, ...]
    fields: tuple[Field, ...]


@dataclass(frozen=True, slots=True)
class LWindow:
    """Ranking window functions: the input columns, then one per call."""

    input: LogicalNode
    calls: tuple[WindowCall, ...]
    fields: tuple[Field, ...]


LogicalNode = Union[LScan, LValues, LFilter, LProject, LAgg, LJoin, LSort, LLimit, LSystemScan, LApply, LUnion,
                    LWorkTable, LRecursiveUnion, LTableFunction, LProjectSet, LWindow]


def types_of(node: LogicalNode) -> tuple[DataType, ...]:
    return tuple(f.type for f in node.fields)


def children(node: LogicalNode) -> tuple[LogicalNode, ...]:
    """A node's inputs; an apply's subquery and a recursive union's terms count, so rules rewrite them too."""
    if isinstance(node, LJoin):
        return (node.left, node.right)
    if isinstance(node, (LScan, LValues, LSystemScan, LWorkTable, LTableFunction)):
        return ()
    if isinstance(node, LApply):
        return (node.input, node.subquery)
    if isinstance(node, LUnion):
        return node.inputs
    if isinstance(node, LRecursiveUnion):
        return (node.anchor, node.recursive)
    return (node.input,)


def with_children(node: LogicalNode, kids: list[LogicalNode]) -> LogicalNode:
    """`node` over new inputs (in the order `children` gives them)."""
    import dataclasses

    if isinstance(node, LJoin):
        return dataclasses.replace(node, left=kids[0], right=kids[1])
    if isinstance(node, LApply):
        return dataclasses.replace(node, input=kids[0], subquery=kids[1])
    if isinstance(node, LUnion):
        return dataclasses.replace(node, inputs=tuple(kids))
    if isinstance(node, LRecursiveUnion):
        return dataclasses.replace(node, anchor=kids[0], recursive=kids[1])
    if not kids:
        return node
    return dataclasses.replace(node, input=kids[0])  # type: ignore[call-arg,arg-type]


def explain(node: LogicalNode, indent: int = 0) -> str:
    """A readable tree, for EXPLAIN and tests."""
    pad = "  " * indent
    name = type(node).__name__[1:]
    if isinstance(node, (LScan, LSystemScan)):
        head = f"{name} {node.relation.name}"
    elif isinstance(node, LApply):
        head = f"{name} {node.kind.value} params={[p for p, _ in node.params]}"
    elif isinstance(node, (LTableFunction, LProjectSet)):
        fns = [node.function] if isinstance(node, LTableFunction) else list(node.functions)
        head = f"{name} {[f.func for f in fns]}"
    elif isinstance(node, LJoin):
        head = f"{name} {node.kind.value} keys={node.left_keys}={node.right_keys} cond={node.condition is not None}"
    elif isinstance(node, LAgg):
        head = f"{name} group={node.group_key} aggs={[a.kind.value for a in node.aggs]}"
    else:
        head = name
    lines = [pad + head + " [" + ", ".join(f.name for f in node.fields) + "]"]
    lines += [explain(c, indent + 1) for c in children(node)]
    return "\n".join(lines)
