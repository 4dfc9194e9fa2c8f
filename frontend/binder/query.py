"""Binding queries: a sqlglot SELECT (or VALUES, or a set operation) to a logical plan.

Clause by clause, as PostgreSQL evaluates them: WITH (including WITH
RECURSIVE), FROM (tables, views, system relations, derived tables, CTEs,
table functions, joins), WHERE, GROUP BY with aggregates and HAVING, the
select list (with subqueries, set-returning and window functions), DISTINCT,
ORDER BY (by output name, position or any expression), LIMIT/OFFSET, and
UNION, EXCEPT and INTERSECT (planned in `set_ops`). Output columns the user
did not ask for (extra ORDER BY expressions) are removed by a final
projection.

A subquery is bound by a QueryBinder of its own whose `outer` correlation
gives it the columns of the queries around it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlglot import exp

from common import functions
from common.batch_plan import JoinType, SortKey
from common.catalog import Relation, RelationKind
from common.errors import FeatureNotSupported, InvalidColumnReference, SyntaxError_, UndefinedTable
from common.expr import Expr, InputRef
from frontend.binder.aggregate import AggCollector, PostAgg, RewritingBinder, has_agg
from frontend.binder.expr import BindContext, ExprBinder, Scope, constant_int, identifier
from frontend.binder.extras import Correlation, Extras
from frontend.binder.naming import output_name as _output_name
from frontend.binder.relation import system_scan, table_function
from frontend.binder.set_ops import cast_columns, set_operation
from frontend.planner.logical import (
    Field,
    LAgg,
    LFilter,
    LJoin,
    LLimit,
    LogicalNode,
    LProject,
    LRecursiveUnion,
    LScan,
    LSort,
    LValues,
    LWorkTable,
)

RelationLookup = Callable[[str, str | None], Relation | None]


@dataclass(frozen=True, slots=True)
class BoundQuery:
    plan: LogicalNode

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.plan.fields]


class QueryBinder:
    def __init__(self, lookup: RelationLookup, ctx: BindContext, outer: Correlation | None = None) -> None:
        self.lookup = lookup
        self.ctx = ctx
        self.outer = outer
        self._ctes: list[dict[str, LogicalNode]] = []

    # -- entry points ---------------------------------------------------------

    def bind(self, node: exp.Expression) -> BoundQuery:
        return BoundQuery(self.query(node))

    def query(self, node: exp.Expression) -> LogicalNode:
        if isinstance(node, exp.Subquery):
            return self.query(node.this)
        with_ = node.args.get("with_") or node.args.get("with")
        self._ctes.append({})
        try:
            if with_ is not None:
                self._bind_ctes(with_)
            if isinstance(node, exp.Select):
                return self._select(node)
            if isinstance(node, exp.Values):
                return self.values(node.expressions)
            if isinstance(node, (exp.Union, exp.Except, exp.Intersect)):
                return self._set_operation(node)
            raise FeatureNotSupported(f"statement not supported as a query: {node.sql('postgres')[:60]}")
        finally:
            self._ctes.pop()

    def values(self, rows: Sequence[exp.Expression], expected: Sequence | None = None) -> LValues:
        """VALUES rows; each column's type is the common type of its cells (or `expected`)."""
        scope = Scope(())
        binder = ExprBinder(scope, self.ctx, "VALUES", outer=self.outer)
        cells = [[binder.bind_any(c) for c in (r.expressions if isinstance(r, exp.Tuple) else [r])] for r in rows]
        width = len(cells[0])
        if any(len(r) != width for r in cells):
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

    def _binder(self, fields: Sequence[Field], clause: str, extras: Extras | None = None) -> ExprBinder:
        return ExprBinder(Scope(fields), self.ctx, clause, extras=extras, outer=self.outer,
                          subqueries=self._subquery)

    def _subquery(self, node: exp.Expression, correlation: Correlation) -> LogicalNode:
        inner = QueryBinder(self.lookup, self.ctx, correlation)
        inner._ctes = self._ctes
        return inner.query(node)

    # -- WITH, UNION ----------------------------------------------------------------

    def _bind_ctes(self, with_: exp.Expression) -> None:
        recursive = bool(with_.args.get("recursive"))
        for cte in with_.expressions:
            alias = cte.args["alias"]
            name = identifier(alias.this)
            columns = _column_aliases(alias)
            body = cte.this
            if recursive and isinstance(body, exp.Union) and _mentions(body.expression, name):
                self._ctes[-1][name] = self._recursive_cte(name, columns, body)
            else:
                self._ctes[-1][name] = _requalify(self.query(body), name, columns)

    def _recursive_cte(self, name: str, columns: list[str] | None, body: exp.Union) -> LogicalNode:
        """WITH RECURSIVE name AS (anchor UNION [ALL] recursive term reading name)."""
        anchor = _requalify(self.query(body.this), name, columns)
        fields = tuple(Field(f.name, f.type, name) for f in anchor.fields)
        work_table = self.ctx.new_id()
        self._ctes[-1][name] = LWorkTable(work_table, fields)
        recursive = self.query(body.expression)
        if len(recursive.fields) != len(fields):
            raise SyntaxError_("each UNION query must have the same number of columns")
        recursive = cast_columns(recursive, [f.type for f in fields])
        return LRecursiveUnion(anchor, recursive, work_table, bool(body.args.get("distinct")), fields)

    def _set_operation(self, node: exp.Expression) -> LogicalNode:
        plan = set_operation(type(node).__name__.upper(), self.query(node.this), self.query(node.expression),
                             bool(node.args.get("distinct")))
        fields = plan.fields
        order = node.args.get("order")
        if order is not None:
            keys = [SortKey(self._union_order_target(o.this, list(fields)), bool(o.args.get("desc")),
                            bool(o.args.get("nulls_first"))) for o in order.expressions]
            plan = LSort(plan, tuple(keys))
        return self._limit(node, plan)

    def _union_order_target(self, node: exp.Expression, fields: list[Field]) -> int:
        idx = self._order_target(node, fields)
        if idx is None:
            raise FeatureNotSupported("ORDER BY of a UNION must name or number an output column")
        return idx

    # -- SELECT ----------------------------------------------------------------------

    def _select(self, sel: exp.Select) -> LogicalNode:
        plan = self._from(sel)
        where = sel.args.get("where")
        if where is not None:
            plan = self._where(plan, where.this)
        items = self._expand_stars(sel.expressions, plan.fields)
        has_aggregate = bool(sel.args.get("group")) or any(has_agg(e) for e in items) or (
            sel.args.get("having") is not None)
        order_binder: ExprBinder
        if has_aggregate:
            plan, scope_binder = self._aggregate(sel, plan, items)
            exprs = [scope_binder.bind(unalias(e)) for e in items]
            order_binder = scope_binder
        else:
            extras = Extras(len(plan.fields), apply=True, srf=True, window=True)
            scope_binder = self._binder(plan.fields, "SELECT", extras)
            exprs = [scope_binder.bind(unalias(e)) for e in items]
            order_binder = self._binder(plan.fields, "ORDER BY")
            if extras:
                plan = extras.build(plan)
        fields = [Field(_output_name(e), x.type) for e, x in zip(items, exprs)]
        pre_project = plan
        plan = LProject(plan, tuple(exprs), tuple(fields))
        if sel.args.get("distinct") is not None:
            if sel.args["distinct"].args.get("on") is not None:
                raise FeatureNotSupported("DISTINCT ON is not supported yet")
            plan = LAgg(plan, tuple(range(len(fields))), (), tuple(fields))
        order = sel.args.get("order")
        if order is not None:
            plan = self._order(order, plan, pre_project, order_binder, distinct=sel.args.get("distinct") is not None)
        return self._limit(sel, plan)

    def _where(self, plan: LogicalNode, predicate: exp.Expression) -> LogicalNode:
        extras = Extras(len(plan.fields), apply=True)
        bound = self._binder(plan.fields, "WHERE", extras).bind_predicate(predicate)
        if not extras:
            return LFilter(plan, bound)
        filtered = LFilter(extras.build(plan), bound)
        return LProject(filtered, tuple(InputRef(i, f.type) for i, f in enumerate(plan.fields)), plan.fields)

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
        if isinstance(node, exp.Table) and isinstance(node.this, (exp.Func, exp.Unnest)):
            ordinality = bool(node.args.get("ordinality")) or bool(node.this.args.get("offset"))
            return table_function(node.this, node.args.get("alias"), ordinality, self.ctx,  # type: ignore[arg-type]
                                  self.outer)
        if isinstance(node, exp.Unnest):
            return table_function(node, node.args.get("alias"), bool(node.args.get("offset")), self.ctx, self.outer)
        if isinstance(node, exp.Table):
            name = identifier(node.this)
            schema = identifier(node.args.get("db")) or None
            catalog = identifier(node.args.get("catalog")) or None
            if catalog is not None and catalog != self.ctx_database():
                raise FeatureNotSupported(f"cross-database references are not implemented: {catalog}.{schema}.{name}")
            alias = identifier(node.args["alias"].this) if node.args.get("alias") else name
            cte = self._cte(name) if schema is None else None
            if cte is not None:
                return _requalify(cte, alias, _column_aliases(node.args.get("alias")))
            rel = self.lookup(name, schema)
            if rel is None:
                raise UndefinedTable(f'relation "{name if schema is None else schema + "." + name}" does not exist')
            if rel.kind is RelationKind.SYSTEM:
                scan = system_scan(rel, alias, self.ctx)
                columns = _column_aliases(node.args.get("alias"))
                return _requalify(scan, alias, columns) if columns else scan
            fields = tuple(Field(c.name, c.type, alias, c.hidden) for c in rel.columns)
            return LScan(rel, fields)
        if isinstance(node, exp.Subquery):
            alias_node = node.args.get("alias")
            if alias_node is None:
                raise SyntaxError_("subquery in FROM must have an alias")
            inner = QueryBinder(self.lookup, self.ctx, self.outer)
            inner._ctes = self._ctes
            plan = inner.query(node.this)
            return _requalify(plan, identifier(alias_node.this), _column_aliases(alias_node))
        if isinstance(node, exp.Values):
            alias_node = node.args.get("alias")
            plan = self.values(node.expressions)
            return _requalify(plan, identifier(alias_node.this) if alias_node else "*VALUES*",
                              _column_aliases(alias_node) if alias_node else None)
        raise FeatureNotSupported(f"FROM item not supported: {node.sql('postgres')[:60]}")

    def ctx_database(self) -> str:
        return self.ctx.session.database if self.ctx.session is not None else "dev"

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
        binder = ExprBinder(scope, self.ctx, "JOIN/ON", outer=self.outer)
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
            raise SyntaxError_(f"{side} JOIN requires an ON or USING clause")
        if condition is None:
            jt = JoinType.CROSS if jt is JoinType.INNER else jt
        return LJoin(left, right, jt, condition)

    def _expand_stars(self, items: Sequence[exp.Expression], fields: Sequence[Field]) -> list[exp.Expression]:
        return expand_stars(items, fields)

    # -- aggregation ---------------------------------------------------------------------

    def _aggregate(self, sel: exp.Select, plan: LogicalNode, items: list[exp.Expression]
                   ) -> tuple[LogicalNode, ExprBinder]:
        in_scope = Scope(plan.fields)
        group_nodes = list(sel.args["group"].expressions) if sel.args.get("group") else []
        group_binder = ExprBinder(in_scope, self.ctx, "GROUP BY", outer=self.outer)
        group_exprs: list[Expr] = []
        for g in group_nodes:
            target = self._group_target(g, items, plan.fields)
            e = group_binder.bind(target)
            if e not in group_exprs:
                group_exprs.append(e)
        collector = AggCollector(in_scope, self.ctx, self.outer)
        pre_binder = ExprBinder(in_scope, self.ctx, "SELECT", agg=collector.add, outer=self.outer)
        projection = group_exprs + collector.inputs
        k = len(group_exprs)
        # Bind every agg first so the pre-aggregation projection is complete.
        bound_items = [pre_binder.bind(unalias(e)) for e in items]
        having = sel.args.get("having")
        having_expr = ExprBinder(in_scope, self.ctx, "HAVING", agg=collector.add, outer=self.outer).bind_predicate(
            having.this) if having is not None else None
        order = sel.args.get("order")
        order_exprs = []
        if order is not None:
            for o in order.expressions:
                if has_agg(o.this):
                    order_exprs.append(pre_binder.bind(o.this))
        projection = group_exprs + collector.inputs
        group_fields = [Field(_expr_name(e, in_scope), e.type) for e in group_exprs]
        pre = LProject(plan, tuple(projection), tuple(Field(f"_{i}", e.type) for i, e in enumerate(projection)))
        aggs = tuple(collector.calls(k))
        agg_fields = tuple(group_fields) + tuple(Field(a.kind.value, a.type) for a in aggs)
        agg_plan: LogicalNode = LAgg(pre, tuple(range(k)), aggs, agg_fields)
        rewriter = PostAgg(group_exprs, in_scope)
        if having_expr is not None:
            agg_plan = LFilter(agg_plan, rewriter.rewrite(having_expr))
        del bound_items, order_exprs
        return agg_plan, RewritingBinder(in_scope, self.ctx, collector, rewriter, self.outer)

    def _group_target(self, g: exp.Expression, items: list[exp.Expression], fields: Sequence[Field]) -> exp.Expression:
        if isinstance(g, exp.Literal) and not g.is_string:
            pos = int(g.this)
            if not 1 <= pos <= len(items):
                raise InvalidColumnReference(f"GROUP BY position {pos} is not in select list")
            return unalias(items[pos - 1])
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

    def _limit(self, sel: exp.Expression, plan: LogicalNode) -> LogicalNode:
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


def expand_stars(items: Sequence[exp.Expression], fields: Sequence[Field]) -> list[exp.Expression]:
    """A select list (or RETURNING list) with `*` and `t.*` replaced by the visible columns they stand for."""
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


def unalias(e: exp.Expression) -> exp.Expression:
    return e.this if isinstance(e, exp.Alias) else e


def _column_node(f: Field) -> exp.Expression:
    ident = exp.Identifier(this=f.name, quoted=True)
    table = exp.Identifier(this=f.qualifier, quoted=True) if f.qualifier else None
    return exp.Column(this=ident, table=table)


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


def _mentions(node: exp.Expression, name: str) -> bool:
    """Whether a query reads the relation `name` (a recursive CTE's recursive term reads itself)."""
    return any(isinstance(t, exp.Table) and identifier(t.this) == name and not t.args.get("db")
               for t in node.find_all(exp.Table))
