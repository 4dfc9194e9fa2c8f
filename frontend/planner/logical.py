"""Logical plan nodes: what a query computes, before deciding how (batch) or where (stream).

Each node lists its output `fields`; expressions refer to input columns by
position (`common.expr.InputRef`). A join's output is the left fields then
the right fields.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from common.catalog import Relation
from common.expr import AggCall, Expr
from common.plan import JoinType, SortKey
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


LogicalNode = Union[LScan, LValues, LFilter, LProject, LAgg, LJoin, LSort, LLimit]


def types_of(node: LogicalNode) -> tuple[DataType, ...]:
    return tuple(f.type for f in node.fields)


def children(node: LogicalNode) -> tuple[LogicalNode, ...]:
    if isinstance(node, LJoin):
        return (node.left, node.right)
    if isinstance(node, (LScan, LValues)):
        return ()
    return (node.input,)


def explain(node: LogicalNode, indent: int = 0) -> str:
    """A readable tree, for EXPLAIN and tests."""
    pad = "  " * indent
    name = type(node).__name__[1:]
    if isinstance(node, LScan):
        head = f"{name} {node.relation.name}"
    elif isinstance(node, LJoin):
        head = f"{name} {node.kind.value} keys={node.left_keys}={node.right_keys} cond={node.condition is not None}"
    elif isinstance(node, LAgg):
        head = f"{name} group={node.group_key} aggs={[a.kind.value for a in node.aggs]}"
    else:
        head = name
    lines = [pad + head + " [" + ", ".join(f.name for f in node.fields) + "]"]
    lines += [explain(c, indent + 1) for c in children(node)]
    return "\n".join(lines)
