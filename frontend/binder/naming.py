"""The names PostgreSQL gives select-list columns: an alias, a column's name, a function's name, or ?column?."""

from __future__ import annotations

from sqlglot import exp

from frontend.binder.expr import _SQLGLOT_NAMES, AGG_CLASSES, identifier


def output_name(e: exp.Expression) -> str:
    """The column name PostgreSQL gives a select-list item: its alias, column, function or type name."""
    if isinstance(e, exp.Alias):
        return identifier(e.args["alias"])
    if isinstance(e, exp.Column):
        name = identifier(e.this)
        return "current_user" if name in ("user", "current_role") and not e.args.get("table") else name
    if isinstance(e, (exp.Cast, exp.TryCast)):
        inner = output_name(e.this)
        if inner != "?column?":
            return inner
        to = e.args["to"]
        if isinstance(to, exp.DataType) and to.this is exp.DataType.Type.USERDEFINED and isinstance(
                to.args.get("kind"), exp.Dot):
            return identifier(to.args["kind"].expression)
        return to.sql("postgres").lower().split("(")[0]
    if isinstance(e, (exp.Paren, exp.Collate)):
        return output_name(e.this)
    if isinstance(e, exp.Dot):
        target = e.expression
        return identifier(target) if isinstance(target, exp.Identifier) else output_name(target)
    if isinstance(e, exp.Subquery):
        inner = e.this
        if isinstance(inner, exp.Select) and len(inner.expressions) == 1:
            return output_name(inner.expressions[0])
        return "?column?"
    if isinstance(e, exp.Bracket):
        return output_name(e.this)
    if isinstance(e, exp.Window):
        return output_name(e.this)
    if type(e) in AGG_CLASSES:
        return AGG_CLASSES[type(e)]
    if isinstance(e, exp.Anonymous):
        return e.name.lower()
    return _NAMES.get(type(e)) or (_functionoutput_name(e) if isinstance(e, exp.Func) else "?column?")


_NAMES: dict[type, str] = {
    exp.Case: "case", exp.Coalesce: "coalesce", exp.Extract: "extract", exp.Substring: "substring",
    exp.Trim: "btrim", exp.StrPosition: "position", exp.CurrentTimestamp: "current_timestamp",
    exp.CurrentDate: "current_date", exp.Exists: "exists", exp.Array: "array", exp.CurrentUser: "current_user",
    exp.SessionUser: "session_user", exp.CurrentSchema: "current_schema", exp.CurrentCatalog: "current_catalog",
    exp.RowNumber: "row_number",
}


def _functionoutput_name(e: exp.Func) -> str:
    if isinstance(e, (exp.Binary, exp.Unary, exp.Predicate)) and not isinstance(e, exp.Func):
        return "?column?"
    name = e.sql_name().lower()
    return _SQLGLOT_NAMES.get(name, name) if name else "?column?"
