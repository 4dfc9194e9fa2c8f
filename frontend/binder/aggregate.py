"""Binding aggregate calls: collecting them with their arguments, and rewriting expressions onto the agg's output.

A query with aggregates becomes: a projection computing the group keys
and every aggregate argument (and ORDER BY key of an ordered aggregate),
the aggregation, then expressions over the aggregation's output. While
the select list is bound, each aggregate call becomes a placeholder that
`PostAgg` maps onto the aggregation's column for it.
"""

from __future__ import annotations

from sqlglot import exp

from common.errors import FeatureNotSupported, GroupingError, UndefinedFunction
from common.expr import AggCall, AggKind, AggOrder, Case, Cast, Expr, FuncCall, InputRef, agg_return_type
from common.types import VARCHAR, DataType, TypeName
from frontend.binder.expr import AGG_CLASSES, BindContext, ExprBinder, Scope, is_aggregate
from frontend.binder.extras import Correlation

_ORDERED = (AggKind.ARRAY_AGG, AggKind.STRING_AGG)


def has_agg(node: exp.Expression | None) -> bool:
    """Whether `node` calls an aggregate of this query level (subqueries have their own)."""
    if node is None:
        return False
    if is_aggregate(node):
        return True
    if isinstance(node, (exp.Subquery, exp.Select, exp.Exists, exp.Union, exp.Window)):
        return False
    return any(has_agg(c) for c in node.iter_expressions())


class AggCollector:
    """Collects the aggregate calls of a query; their arguments become pre-aggregation columns."""

    def __init__(self, scope: Scope, ctx: BindContext, outer: Correlation | None = None) -> None:
        self.scope = scope
        self.ctx = ctx
        self.outer = outer
        self.inputs: list[Expr] = []
        self._calls: list[tuple[AggKind, tuple[int, ...], bool, tuple[AggOrder, ...]]] = []
        self._types: list[tuple[tuple[DataType, ...], DataType]] = []

    def _input(self, e: Expr) -> int:
        if e not in self.inputs:
            self.inputs.append(e)
        return self.inputs.index(e)

    def add(self, node: exp.Expression) -> Expr:
        name = AGG_CLASSES.get(type(node)) or node.name.lower()
        name = "bool_and" if name == "every" else name
        if isinstance(node, exp.Anonymous):
            arg_nodes = list(node.expressions)
        elif isinstance(node, exp.GroupConcat):
            arg_nodes = [node.this, node.args.get("separator")]
        else:
            arg_nodes = [node.this]
        order: list[exp.Ordered] = []
        if arg_nodes and isinstance(arg_nodes[0], exp.Order):
            order = list(arg_nodes[0].expressions)
            arg_nodes[0] = arg_nodes[0].this
        distinct = False
        if arg_nodes and isinstance(arg_nodes[0], exp.Distinct):
            distinct = True
            arg_nodes = list(arg_nodes[0].expressions) + arg_nodes[1:]
            if len(arg_nodes) > (2 if name == "string_agg" else 1):
                raise FeatureNotSupported("aggregates over several DISTINCT expressions are not supported")
        arg_nodes = [a for a in arg_nodes if a is not None]
        binder = ExprBinder(self.scope, self.ctx, "aggregate function calls", outer=self.outer)
        args: tuple[int, ...]
        arg_types: tuple[DataType, ...]
        if name == "count" and (not arg_nodes or isinstance(arg_nodes[0], exp.Star)):
            kind, args, arg_types = AggKind.COUNT_STAR, (), ()
        else:
            if any(has_agg(a) for a in arg_nodes):
                raise GroupingError("aggregate function calls cannot be nested")
            kind = AggKind(name)
            bound = [binder.bind(a) for a in arg_nodes]
            _check_argument(kind, name, bound)
            if kind is AggKind.STRING_AGG:
                bound = [b if b.type.is_string else Cast(b, VARCHAR) for b in bound]
                if len(bound) != 2:
                    raise UndefinedFunction("function string_agg() needs a value and a delimiter")
            args = tuple(self._input(e) for e in bound)
            arg_types = tuple(e.type for e in bound)
        keys = tuple(AggOrder(self._input(binder.bind(o.this)), bool(o.args.get("desc")),
                              bool(o.args.get("nulls_first"))) for o in order)
        if keys and kind not in _ORDERED:
            keys = ()  # the order of the values does not change min, max, sum, count or bool_and
        ret = agg_return_type(kind, arg_types[0] if arg_types else None)
        key = (kind, args, distinct, keys)
        if key not in self._calls:
            self._calls.append(key)
            self._types.append((arg_types, ret))
        i = self._calls.index(key)
        return InputRef(-(i + 1), ret)  # a placeholder; PostAgg maps it onto the agg's output

    def calls(self, num_groups: int) -> list[AggCall]:
        return [AggCall(kind, tuple(num_groups + a for a in args), arg_types, ret, distinct,
                        tuple(AggOrder(num_groups + o.index, o.descending, o.nulls_first) for o in order))
                for (kind, args, distinct, order), (arg_types, ret) in zip(self._calls, self._types)]


def _check_argument(kind: AggKind, name: str, bound: list[Expr]) -> None:
    t = bound[0].type
    if kind in (AggKind.SUM, AggKind.AVG) and not (t.is_numeric or t.name is TypeName.INTERVAL):
        raise UndefinedFunction(f"function {name}({t}) does not exist",
                                hint="No function matches the given name and argument types.")
    if kind in (AggKind.BOOL_AND, AggKind.BOOL_OR) and t.name is not TypeName.BOOLEAN:
        raise UndefinedFunction(f"function {name}({t}) does not exist",
                                hint="No function matches the given name and argument types.")


class PostAgg:
    """Rewrites an expression bound over the aggregation's input onto the aggregation's output."""

    def __init__(self, group_exprs: list[Expr], scope: Scope) -> None:
        self.group_exprs = group_exprs
        self.scope = scope

    def rewrite(self, e: Expr) -> Expr:
        if e in self.group_exprs:
            return InputRef(self.group_exprs.index(e), e.type)
        if isinstance(e, InputRef):
            if e.index < 0:
                return InputRef(len(self.group_exprs) + (-e.index - 1), e.type)
            f = self.scope.fields[e.index]
            name = f"{f.qualifier}.{f.name}" if f.qualifier else f.name
            raise GroupingError(f'column "{name}" must appear in the GROUP BY clause or be used in an aggregate function')
        if isinstance(e, FuncCall):
            return FuncCall(e.func, tuple(self.rewrite(a) for a in e.args), e.type)
        if isinstance(e, Cast):
            return Cast(self.rewrite(e.arg), e.type)
        if isinstance(e, Case):
            return Case(tuple((self.rewrite(c), self.rewrite(r)) for c, r in e.branches),
                        None if e.default is None else self.rewrite(e.default), e.type)
        return e


class RewritingBinder(ExprBinder):
    """Binds select-list and ORDER BY expressions of an aggregating query onto the agg output."""

    def __init__(self, scope: Scope, ctx: BindContext, collector: AggCollector, rewriter: PostAgg,
                 outer: Correlation | None = None) -> None:
        super().__init__(scope, ctx, "SELECT", agg=collector.add, outer=outer)
        self._rewriter = rewriter

    def bind(self, node: exp.Expression, expected: DataType | None = None) -> Expr:
        return self._rewriter.rewrite(super().bind(node, expected))
