"""Binding FROM items that are not plain tables or derived tables: system relations and table functions.

A system relation (pg_catalog, information_schema, rw_catalog) becomes a
scan of rows built now from the statement's catalog snapshot. A
set-returning function in FROM (`generate_series(1, 3) AS s(n)`,
`unnest(x) WITH ORDINALITY`) becomes a table function; one that yields
records spreads their fields over columns. A scalar function in FROM is a
one-row relation (`FROM string_to_array(x, ',') AS s`).
"""

from __future__ import annotations

from sqlglot import exp

from common.batch_plan import SetFunction
from common.catalog import Relation
from common.expr import Expr, FuncCall, InputRef, Literal
from common.functions_set import SET_FUNCTIONS, resolve_set_function
from common.types import BIGINT, INTEGER, TypeName
from frontend.binder.expr import BindContext, ExprBinder, Scope, identifier
from frontend.binder.extras import Correlation
from frontend.catalog import system_rows
from frontend.planner.logical import Field, LogicalNode, LProject, LSystemScan, LTableFunction, LValues

_FUNCTION_NAMES = {"explode": "unnest", "exploding_generate_series": "generate_series",
                   "generate_series": "generate_series", "unnest": "unnest"}


def system_scan(rel: Relation, alias: str, ctx: BindContext) -> LSystemScan:
    fields = tuple(Field(c.name, c.type, alias) for c in rel.columns)
    return LSystemScan(rel, fields, system_rows(rel, ctx.catalog()))


def _function_name(node: exp.Expression) -> str:
    if isinstance(node, exp.Anonymous):
        return node.name.lower()
    name = node.sql_name().lower() if isinstance(node, exp.Func) else type(node).__name__.lower()
    return _FUNCTION_NAMES.get(name, name)


def _arguments(node: exp.Expression) -> list[exp.Expression]:
    if isinstance(node, exp.Anonymous):
        return list(node.expressions)
    if isinstance(node, (exp.ExplodingGenerateSeries, exp.GenerateSeries)):
        return [a for a in (node.args.get(k) for k in ("start", "end", "step")) if a is not None]
    if isinstance(node, (exp.Explode, exp.Unnest)):
        items = [node.this] if node.this is not None else []
        return items + list(node.expressions)
    args = [a for a in node.args.values() if isinstance(a, exp.Expression)]
    for a in node.args.values():
        if isinstance(a, list):
            args.extend(x for x in a if isinstance(x, exp.Expression))
    return args


def table_function(node: exp.Expression, alias_node: exp.Expression | None, ordinality: bool, ctx: BindContext,
                   outer: Correlation | None) -> LogicalNode:
    """A function call in FROM, as a relation named by its alias (default: the function's name)."""
    name = _function_name(node)
    binder = ExprBinder(Scope(()), ctx, "functions in FROM", outer=outer)
    args = [binder.bind_any(a) for a in _arguments(node)]
    alias = identifier(alias_node.this) if alias_node is not None and alias_node.this else name
    columns = [identifier(c) for c in alias_node.args.get("columns") or []] if alias_node is not None else []
    if name in SET_FUNCTIONS:
        cast_to, t = resolve_set_function(name, [binder.type_of(a) for a in args])
        fn = SetFunction(name, tuple(binder.coerce(a, c) for a, c in zip(args, cast_to)), t)
        produced = [t]
        if t.name is TypeName.RECORD:
            names = [n for n, _ in t.fields]
        else:
            names = [columns[0] if columns else (alias if alias_node is not None and alias_node.this else name)]
        if ordinality:
            produced.append(BIGINT)
        raw = tuple(Field(f"_{i}", pt) for i, pt in enumerate(produced))
        plan: LogicalNode = LTableFunction(fn, ordinality, raw)
        if t.name is TypeName.RECORD:
            exprs: list[Expr] = [FuncCall("record_field", (InputRef(0, t), Literal(i, INTEGER)), ft)
                                 for i, (_, ft) in enumerate(t.fields)]
            types = [ft for _, ft in t.fields]
            if ordinality:
                exprs.append(InputRef(1, BIGINT))
                types.append(BIGINT)
                names.append("ordinality")
            names = [columns[i] if i < len(columns) else n for i, n in enumerate(names)]
            fields = tuple(Field(n, ty, alias) for n, ty in zip(names, types))
            return LProject(plan, tuple(exprs), fields)
        if ordinality:
            names.append(columns[1] if len(columns) > 1 else "ordinality")
        fields = tuple(Field(n, f.type, alias) for n, f in zip(names, raw))
        return LProject(plan, tuple(InputRef(i, f.type) for i, f in enumerate(raw)), fields)
    value = binder.call(name, args)
    column = columns[0] if columns else (alias if alias_node is not None and alias_node.this else name)
    return LProject(LValues(((),), ()), (value,), (Field(column, value.type, alias),))
