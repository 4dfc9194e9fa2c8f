"""Binding queries: a sqlglot SELECT (or VALUES) to a logical plan.

Clause by clause, as PostgreSQL evaluates them: FROM (tables, views,
derived tables, CTEs, joins), WHERE, GROUP BY with aggregates and HAVING,
the select list, DISTINCT, ORDER BY (by output name, position or any
expression), LIMIT/OFFSET. Output columns the user did not ask for (extra
ORDER BY expressions) are removed by a final projection.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlglot import exp

from common import functions
from common.catalog import Relation
from common.errors import FeatureNotSupported, GroupingError, InvalidColumnReference, UndefinedTable
from common.expr import AggCall, AggKind, Case, Cast, Expr, FuncCall, InputRef, agg_return_type
from common.plan import JoinType, SortKey
from common.types import DataType
from frontend.binder.expr import AGG_CLASSES, BindContext, ExprBinder, Scope, constant_int, identifier
from frontend.planner.logical import (
    Field,
    LAgg,
    LFilter,
    LJoin,
    LLimit,
    LogicalNode,
    LProject,
    LScan,
    LSort,
    LValues,
)

RelationLookup = Callable[[str, str | None], Relation | None]


@dataclass(frozen=True, slots=True)
class BoundQuery:
    plan: LogicalNode

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.plan.fields]


class QueryBinder:
    def __init__(self, lookup: RelationLookup, ctx: BindContext) -> None:
        self.lookup = lookup
        self.ctx = ctx
        self._ctes: list[dict[str, LogicalNode]] = []

    # -- entry points ---------------------------------------------------------

    def bind(self, node: exp.Expression) -> BoundQuery:
        if isinstance(node, exp.Subquery):
            return self.bind(node.this)
        with_ = node.args.get("with_") or node.args.get("with")
        self._ctes.append({})
        try:
            if with_ is not None:
                for cte in with_.expressions:
                    if with_.args.get("recursive"):
                        raise FeatureNotSupported("WITH RECURSIVE is not supported")
                    self._ctes[-1][identifier(cte.args["alias"].this)] = self.bind(cte.this).plan
            if isinstance(node, exp.Select):
                return BoundQuery(self._select(node))
            if isinstance(node, exp.Values):
                return BoundQuery(self.values(node.expressions))
            if isinstance(node, (exp.Union, exp.Except, exp.Intersect)):
                raise FeatureNotSupported(f"{type(node).__name__.upper()} is not supported yet")
            raise FeatureNotSupported(f"statement not supported as a query: {node.sql('postgres')[:60]}")
        finally:
            self._ctes.pop()

    def values(self, rows: Sequence[exp.Expression], expected: Sequence | None = None) -> LValues:
        """VALUES rows; each column's type is the common type of its cells (or `expected`)."""
        scope = Scope(())
        binder = ExprBinder(scope, self.ctx, "VALUES")
        cells = [[binder.bind_any(c) for c in (r.expressions if isinstance(r, exp.Tuple) else [r])] for r in rows]
        width = len(cells[0])
        if any(len(r) != width for r in cells):
            from common.errors import SyntaxError_

            raise SyntaxError_("VALUES lists must all be the same length")
        types = []
        for j in range(width):
            known = [binder.type_of(r[j]) for r in cells]
            if expected is not None and j < len(expected) and expected[j] is not None and all(
                    t is None for t in known):
                types.append(expected[j])  # only untyped literals: they take the target column's type
            else:
                types.append(functions.common_type(known, "VALUES"))
        bound = tuple(tuple(binder.coerce(r[j], types[j]) for j in range(width)) for r in cells)
        fields = tuple(Field(f"column{j + 1}", types[j]) for j in range(width))
        return LValues(bound, fields)

    # -- SELECT ----------------------------------------------------------------------

    def _select(self, sel: exp.Select) -> LogicalNode:
        plan = self._from(sel)
        where = sel.args.get("where")
        if where is not None:
            plan = LFilter(plan, ExprBinder(Scope(plan.fields), self.ctx, "WHERE").bind_predicate(where.this))
        items = self._expand_stars(sel.expressions, plan.fields)
        has_agg = bool(sel.args.get("group")) or any(_has_agg(e) for e in items) or (
            sel.args.get("having") is not None)
        if has_agg:
            plan, scope_binder = self._aggregate(sel, plan, items)
        else:
            scope_binder = ExprBinder(Scope(plan.fields), self.ctx, "SELECT")
        exprs = [scope_binder.bind(_unalias(e)) for e in items]
        fields = [Field(_output_name(e), x.type) for e, x in zip(items, exprs)]
        pre_project = plan
        plan = LProject(plan, tuple(exprs), tuple(fields))
        if sel.args.get("distinct") is not None:
            if sel.args["distinct"].args.get("on") is not None:
                raise FeatureNotSupported("DISTINCT ON is not supported yet")
            plan = LAgg(plan, tuple(range(len(fields))), (), tuple(fields))
        order = sel.args.get("order")
        if order is not None:
            plan = self._order(order, plan, pre_project, scope_binder, distinct=sel.args.get("distinct") is not None)
        return self._limit(sel, plan)

    def _from(self, sel: exp.Select) -> LogicalNode:
        from_ = sel.args.get("from_") or sel.args.get("from")
        if from_ is None:
            if sel.args.get("joins"):
                raise FeatureNotSupported("JOIN without FROM")
            return LValues(((),), ())
        plan = self._relation(from_.this)
        for join in sel.args.get("joins") or []:
            plan = self._join(plan, join)
        return plan

    def _relation(self, node: exp.Expression) -> LogicalNode:
        if isinstance(node, exp.Table):
            name = identifier(node.this)
            schema = identifier(node.args.get("db")) or None
            alias = identifier(node.args["alias"].this) if node.args.get("alias") else name
            cte = self._cte(name) if schema is None else None
            if cte is not None:
                return _requalify(cte, alias)
            rel = self.lookup(name, schema)
            if rel is None:
                raise UndefinedTable(f'relation "{name if schema is None else schema + "." + name}" does not exist')
            fields = tuple(Field(c.name, c.type, alias, c.hidden) for c in rel.columns)
            return LScan(rel, fields)
        if isinstance(node, exp.Subquery):
            alias_node = node.args.get("alias")
            if alias_node is None:
                from common.errors import SyntaxError_

                raise SyntaxError_("subquery in FROM must have an alias")
            inner = QueryBinder(self.lookup, self.ctx)
            inner._ctes = self._ctes
            plan = inner.bind(node.this).plan
            return _requalify(plan, identifier(alias_node.this), _column_aliases(alias_node))
        if isinstance(node, exp.Values):
            alias_node = node.args.get("alias")
            plan = self.values(node.expressions)
            return _requalify(plan, identifier(alias_node.this) if alias_node else "*VALUES*",
                              _column_aliases(alias_node) if alias_node else None)
        raise FeatureNotSupported(f"FROM item not supported: {node.sql('postgres')[:60]}")

    def _cte(self, name: str) -> LogicalNode | None:
        for scope in reversed(self._ctes):
            if name in scope:
                return scope[name]
        return None

    def _join(self, left: LogicalNode, join: exp.Join) -> LogicalNode:
        right = self._relation(join.this)
        side = (join.args.get("side") or "").upper()
        kind = (join.args.get("kind") or "").upper()
        if join.args.get("method") and str(join.args.get("method")).upper() == "NATURAL":
            raise FeatureNotSupported("NATURAL JOIN is not supported yet")
        jt = {"LEFT": JoinType.LEFT, "RIGHT": JoinType.RIGHT, "FULL": JoinType.FULL}.get(side, JoinType.INNER)
        scope = Scope(left.fields + right.fields)
        binder = ExprBinder(scope, self.ctx, "JOIN/ON")
        condition: Expr | None = None
        if join.args.get("on") is not None:
            condition = binder.bind_predicate(join.args["on"])
        elif join.args.get("using"):
            conds = []
            for ident in join.args["using"]:
                name = identifier(ident)
                li = Scope(left.fields).resolve(name, None)
                ri = len(left.fields) + Scope(right.fields).resolve(name, None)
                conds.append(binder.call("equal", [InputRef(li, scope.fields[li].type),
                                                   InputRef(ri, scope.fields[ri].type)]))
            condition = conds[0]
            for c in conds[1:]:
                condition = binder.call("and", [condition, c])
        elif kind != "CROSS" and jt is not JoinType.INNER:
            from common.errors import SyntaxError_

            raise SyntaxError_(f"{side} JOIN requires an ON or USING clause")
        if condition is None:
            jt = JoinType.CROSS if jt is JoinType.INNER else jt
        return LJoin(left, right, jt, condition)

    def _expand_stars(self, items: Sequence[exp.Expression], fields: Sequence[Field]) -> list[exp.Expression]:
        out: list[exp.Expression] = []
        for e in items:
            if isinstance(e, exp.Star):
                out.extend(_column_node(f) for f in fields if not f.hidden)
            elif isinstance(e, exp.Column) and isinstance(e.this, exp.Star):
                q = identifier(e.args.get("table"))
                matched = [f for f in fields if f.qualifier == q and not f.hidden]
                if not any(f.qualifier == q for f in fields):
                    raise UndefinedTable(f'missing FROM-clause entry for table "{q}"')
                out.extend(_column_node(f) for f in matched)
            else:
                out.append(e)
        return out

    # -- aggregation ---------------------------------------------------------------------

    def _aggregate(self, sel: exp.Select, plan: LogicalNode, items: list[exp.Expression]
                   ) -> tuple[LogicalNode, ExprBinder]:
        in_scope = Scope(plan.fields)
        group_nodes = list(sel.args["group"].expressions) if sel.args.get("group") else []
        group_binder = ExprBinder(in_scope, self.ctx, "GROUP BY")
        group_exprs: list[Expr] = []
        for g in group_nodes:
            target = self._group_target(g, items, plan.fields)
            e = group_binder.bind(target)
            if e not in group_exprs:
                group_exprs.append(e)
        collector = _AggCollector(in_scope, self.ctx)
        pre_binder = ExprBinder(in_scope, self.ctx, "SELECT", agg=collector.add)
        projection = group_exprs + collector.inputs
        k = len(group_exprs)
        # Bind every agg first so the pre-aggregation projection is complete.
        bound_items = [pre_binder.bind(_unalias(e)) for e in items]
        having = sel.args.get("having")
        having_expr = ExprBinder(in_scope, self.ctx, "HAVING", agg=collector.add).bind_predicate(having.this) \
            if having is not None else None
        order = sel.args.get("order")
        order_exprs = []
        if order is not None:
            for o in order.expressions:
                if _has_agg(o.this):
                    order_exprs.append(pre_binder.bind(o.this))
        projection = group_exprs + collector.inputs
        group_fields = [Field(_expr_name(e, in_scope), e.type) for e in group_exprs]
        pre = LProject(plan, tuple(projection), tuple(Field(f"_{i}", e.type) for i, e in enumerate(projection)))
        aggs = tuple(collector.calls(k))
        agg_fields = tuple(group_fields) + tuple(Field(a.kind.value, a.type) for a in aggs)
        agg_plan: LogicalNode = LAgg(pre, tuple(range(k)), aggs, agg_fields)
        rewriter = _PostAgg(group_exprs, in_scope)
        if having_expr is not None:
            agg_plan = LFilter(agg_plan, rewriter.rewrite(having_expr))
        del bound_items, order_exprs
        return agg_plan, _RewritingBinder(in_scope, self.ctx, collector, rewriter)

    def _group_target(self, g: exp.Expression, items: list[exp.Expression], fields: Sequence[Field]) -> exp.Expression:
        if isinstance(g, exp.Literal) and not g.is_string:
            pos = int(g.this)
            if not 1 <= pos <= len(items):
                raise InvalidColumnReference(f"GROUP BY position {pos} is not in select list")
            return _unalias(items[pos - 1])
        if isinstance(g, exp.Column) and not g.args.get("table"):
            name = identifier(g.this)
            if not any(f.name == name for f in fields):
                for it in items:
                    if isinstance(it, exp.Alias) and identifier(it.args["alias"]) == name:
                        return it.this
        return g

    # -- ORDER BY / LIMIT ------------------------------------------------------------------

    def _order(self, order: exp.Order, plan: LProject | LAgg, pre: LogicalNode, binder: ExprBinder,
               distinct: bool) -> LogicalNode:
        out_fields = list(plan.fields)
        extra: list[Expr] = []
        keys: list[SortKey] = []
        for o in order.expressions:
            node = o.this
            desc = bool(o.args.get("desc"))
            nulls_first = bool(o.args.get("nulls_first"))
            idx = self._order_target(node, out_fields)
            if idx is None:
                if distinct:
                    raise InvalidColumnReference("for SELECT DISTINCT, ORDER BY expressions must appear in select list")
                assert isinstance(plan, LProject)
                e = binder.bind(node)
                if e in plan.exprs:
                    idx = plan.exprs.index(e)
                elif e in extra:
                    idx = len(plan.exprs) + extra.index(e)
                else:
                    extra.append(e)
                    idx = len(plan.exprs) + len(extra) - 1
            keys.append(SortKey(idx, desc, nulls_first))
        if extra:
            assert isinstance(plan, LProject)
            widened = LProject(plan.input, plan.exprs + tuple(extra),
                               plan.fields + tuple(Field(f"_order{i}", e.type, hidden=True) for i, e in enumerate(extra)))
            sorted_plan: LogicalNode = LSort(widened, tuple(keys))
            n = len(plan.fields)
            return LProject(sorted_plan, tuple(InputRef(i, f.type) for i, f in enumerate(plan.fields)), plan.fields[:n])
        return LSort(plan, tuple(keys))

    def _order_target(self, node: exp.Expression, fields: list[Field]) -> int | None:
        if isinstance(node, exp.Literal) and not node.is_string:
            pos = int(node.this)
            if not 1 <= pos <= len(fields):
                raise InvalidColumnReference(f"ORDER BY position {pos} is not in select list")
            return pos - 1
        if isinstance(node, exp.Column) and not node.args.get("table"):
            name = identifier(node.this)
            matches = [i for i, f in enumerate(fields) if f.name == name and not f.hidden]
            if len(matches) == 1:
                return matches[0]
        return None

    def _limit(self, sel: exp.Select, plan: LogicalNode) -> LogicalNode:
        limit_node = sel.args.get("limit")
        offset_node = sel.args.get("offset")
        if limit_node is None and offset_node is None:
            return plan
        limit = None
        if limit_node is not None and limit_node.expression is not None:
            v = constant_int(limit_node.expression, "LIMIT")
            limit = None if v < 0 else v
        if offset_node is None and limit_node is not None:
            offset_node = limit_node.args.get("offset")
        offset = max(0, constant_int(offset_node.expression, "OFFSET")) if offset_node is not None else 0
        return LLimit(plan, limit, offset)


class _AggCollector:
    """Collects the aggregate calls of a query; their arguments become pre-aggregation columns."""

    def __init__(self, scope: Scope, ctx: BindContext) -> None:
        self.scope = scope
        self.ctx = ctx
        self.inputs: list[Expr] = []
        self._calls: list[tuple[AggKind, tuple[int, ...], bool, Expr | None]] = []
        self._types: list = []

    def add(self, node: exp.Expression) -> Expr:
        name = AGG_CLASSES[type(node)]
        arg = node.this
        distinct = False
        if isinstance(arg, exp.Distinct):
            distinct = True
            if len(arg.expressions) != 1:
                raise FeatureNotSupported("aggregates over several DISTINCT expressions are not supported")
            arg = arg.expressions[0]
        binder = ExprBinder(self.scope, self.ctx, "aggregate function calls")
        args: tuple[int, ...]
        arg_types: tuple[DataType, ...]
        if name == "count" and (arg is None or isinstance(arg, exp.Star)):
            kind, args, arg_types = AggKind.COUNT_STAR, (), ()
        else:
            if _has_agg(arg):
                raise GroupingError("aggregate function calls cannot be nested")
            e = binder.bind(arg)
            kind = AggKind(name)
            if kind in (AggKind.SUM, AggKind.AVG) and not (e.type.is_numeric or e.type.name.value == "interval"):
                from common.errors import UndefinedFunction

                raise UndefinedFunction(f"function {name}({e.type}) does not exist",
                                        hint="No function matches the given name and argument types.")
            if e not in self.inputs:
                self.inputs.append(e)
            args, arg_types = (self.inputs.index(e),), (e.type,)
        ret = agg_return_type(kind, arg_types[0] if arg_types else None)
        key = (kind, args, distinct, None)
        if key not in self._calls:
            self._calls.append(key)
            self._types.append((arg_types, ret))
        i = self._calls.index(key)
        return InputRef(-(i + 1), ret)  # a placeholder; _PostAgg maps it onto the agg's output

    def calls(self, num_groups: int) -> list[AggCall]:
        return [AggCall(kind, tuple(num_groups + a for a in args), arg_types, ret, distinct)
                for (kind, args, distinct, _), (arg_types, ret) in zip(self._calls, self._types)]


class _PostAgg:
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


class _RewritingBinder(ExprBinder):
    """Binds select-list and ORDER BY expressions of an aggregating query onto the agg output."""

    def __init__(self, scope: Scope, ctx: BindContext, collector: _AggCollector, rewriter: _PostAgg) -> None:
        super().__init__(scope, ctx, "SELECT", agg=collector.add)
        self._rewriter = rewriter

    def bind(self, node: exp.Expression, expected=None) -> Expr:  # type: ignore[no-untyped-def]
        return self._rewriter.rewrite(super().bind(node, expected))


def _has_agg(node: exp.Expression | None) -> bool:
    if node is None:
        return False
    return any(type(n) in AGG_CLASSES for n in node.walk())


def _unalias(e: exp.Expression) -> exp.Expression:
    return e.this if isinstance(e, exp.Alias) else e


def _column_node(f: Field) -> exp.Expression:
    ident = exp.Identifier(this=f.name, quoted=True)
    table = exp.Identifier(this=f.qualifier, quoted=True) if f.qualifier else None
    return exp.Column(this=ident, table=table)


def _output_name(e: exp.Expression) -> str:
    if isinstance(e, exp.Alias):
        return identifier(e.args["alias"])
    if isinstance(e, exp.Column):
        return identifier(e.this)
    if isinstance(e, (exp.Cast, exp.TryCast)):
        inner = _output_name(e.this)
        return inner if inner != "?column?" else e.args["to"].sql("postgres").lower().split("(")[0]
    if isinstance(e, exp.Paren):
        return _output_name(e.this)
    if type(e) in AGG_CLASSES:
        return AGG_CLASSES[type(e)]
    if isinstance(e, exp.Anonymous):
        return e.name.lower()
    if isinstance(e, exp.Case):
        return "case"
    if isinstance(e, exp.Coalesce):
        return "coalesce"
    if isinstance(e, exp.Extract):
        return "extract"
    if isinstance(e, exp.Substring):
        return "substring"
    if isinstance(e, exp.Trim):
        return "btrim"
    if isinstance(e, exp.StrPosition):
        return "position"
    if isinstance(e, exp.CurrentTimestamp):
        return "current_timestamp"
    if isinstance(e, exp.CurrentDate):
        return "current_date"
    return "?column?"


def _expr_name(e: Expr, scope: Scope) -> str:
    if isinstance(e, InputRef) and e.index >= 0:
        return scope.fields[e.index].name
    return "?column?"


def _column_aliases(alias_node: exp.Expression | None) -> list[str] | None:
    if alias_node is None or not alias_node.args.get("columns"):
        return None
    return [identifier(c) for c in alias_node.args["columns"]]


def _requalify(plan: LogicalNode, alias: str, names: list[str] | None = None) -> LogicalNode:
    """The same rows under a new qualifier (and column names), e.g. a derived table or CTE."""
    fields = plan.fields
    new = tuple(Field(names[i] if names and i < len(names) else f.name, f.type, alias, f.hidden)
                for i, f in enumerate(fields))
    return LProject(plan, tuple(InputRef(i, f.type) for i, f in enumerate(fields)), new)
