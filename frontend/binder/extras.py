"""Columns a clause computes beyond its input's: subquery values, set-returning function results, window functions.

While a clause's expressions are bound, each subquery, set-returning
function call or window function call becomes a placeholder column after
the input's columns (an `InputRef` past the input's width); `Extras.build`
then produces the plan that appends exactly those columns in that order
(applies, one ProjectSet per run of set-returning functions so that they
advance in lockstep, window nodes, and projections for window keys).

`Correlation` is a subquery's view of the queries around it: a column it
cannot find in its own FROM is looked up there, and becomes a parameter
(an `OuterRef`) that the apply binds per outer row.
"""

from __future__ import annotations

from dataclasses import dataclass

from common.batch_plan import ApplyKind, SetFunction, WindowCall
from common.errors import UndefinedColumn, UndefinedTable
from common.expr import Expr, InputRef, OuterRef
from common.types import DataType
from frontend.planner.logical import (
    Field,
    LApply,
    LogicalNode,
    LProject,
    LProjectSet,
    LWindow,
)


class IdSource:
    """Fresh ids for correlation parameters and work tables, unique within one statement."""

    def __init__(self) -> None:
        self._next = 1

    def __call__(self) -> int:
        n = self._next
        self._next += 1
        return n


class Correlation:
    """A subquery's access to the columns of the queries around it (innermost first)."""

    def __init__(self, fields: tuple[Field, ...], parent: Correlation | None, new_id: IdSource) -> None:
        self.fields = fields
        self.parent = parent
        self._new_id = new_id
        self.params: list[tuple[int, Expr]] = []

    def resolve(self, name: str, qualifier: str | None) -> OuterRef | None:
        """The column as a parameter of this subquery, None if no query around it has it."""
        from frontend.binder.expr import Scope

        outer: Expr | None
        try:
            i = Scope(self.fields).resolve(name, qualifier)
            outer = InputRef(i, self.fields[i].type)
        except (UndefinedColumn, UndefinedTable):
            outer = self.parent.resolve(name, qualifier) if self.parent is not None else None
        if outer is None:
            return None
        for pid, e in self.params:
            if e == outer:
                return OuterRef(pid, outer.type)
        pid = self._new_id()
        self.params.append((pid, outer))
        return OuterRef(pid, outer.type)


@dataclass(frozen=True, slots=True)
class ApplySpec:
    subquery: LogicalNode
    kind: ApplyKind
    params: tuple[tuple[int, Expr], ...]
    test: Expr | None
    guard: Expr | None


@dataclass(frozen=True, slots=True)
class _Extra:
    kind: str  # "apply", "srf", "window" or "expr"
    value: ApplySpec | SetFunction | WindowCall | Expr
    type: DataType


class Extras:
    """The placeholder columns of one clause, in the order they were asked for."""

    def __init__(self, width: int, *, apply: bool = True, srf: bool = False, window: bool = False) -> None:
        self.width = width
        self.allowed = {"apply": apply, "srf": srf, "window": window, "expr": window}
        self.items: list[_Extra] = []

    def __bool__(self) -> bool:
        return bool(self.items)

    def allows(self, kind: str) -> bool:
        return self.allowed[kind]

    def add(self, kind: str, value: ApplySpec | SetFunction | WindowCall | Expr, t: DataType) -> InputRef:
        if kind in ("srf", "expr"):
            for i, item in enumerate(self.items):
                if item.kind == kind and item.value == value:
                    return InputRef(self.width + i, t)
        self.items.append(_Extra(kind, value, t))
        return InputRef(self.width + len(self.items) - 1, t)

    def build(self, plan: LogicalNode) -> LogicalNode:
        """`plan` with the placeholder columns appended (as hidden fields)."""
        i = 0
        while i < len(self.items):
            item = self.items[i]
            run = [item]
            if item.kind != "apply":
                while i + len(run) < len(self.items) and self.items[i + len(run)].kind == item.kind:
                    run.append(self.items[i + len(run)])
            start = len(plan.fields)
            new = tuple(Field(f"?{x.kind}{start + j}?", x.type, hidden=True) for j, x in enumerate(run))
            fields = plan.fields + new
            if item.kind == "apply":
                spec = item.value
                assert isinstance(spec, ApplySpec)
                plan = LApply(plan, spec.subquery, spec.kind, spec.params, spec.test, spec.guard, fields)
            elif item.kind == "srf":
                plan = LProjectSet(plan, tuple(x.value for x in run), fields)  # type: ignore[misc]
            elif item.kind == "window":
                plan = LWindow(plan, tuple(x.value for x in run), fields)  # type: ignore[misc]
            else:
                keep: list[Expr] = [InputRef(k, f.type) for k, f in enumerate(plan.fields)]
                keep += [x.value for x in run]  # type: ignore[misc]
                plan = LProject(plan, tuple(keep), fields)
            i += len(run)
        return plan
