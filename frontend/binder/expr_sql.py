"""The expression binder's catalog-query constructs: subqueries, set-returning and window functions, arrays,
ANY/ALL, regular expressions, OPERATOR(), schema-qualified functions, record fields and reg* casts.

A mixin of `ExprBinder` (see expr.py), kept apart so each file reads on
its own. Subqueries, set-returning and window functions become placeholder
columns through the clause's `Extras`; a subquery sees the enclosing
query's columns through a `Correlation`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from sqlglot import exp

from common import functions
from common.batch_plan import ApplyKind, SetFunction, SortKey, WindowCall, WindowKind
from common.errors import DatatypeMismatch, FeatureNotSupported, SyntaxError_, UndefinedColumn
from common.expr import Cast, Expr, FuncCall, InputRef, Literal
from common.functions_catalog import OPERATOR_BY_SYMBOL
from common.functions_set import SET_FUNCTIONS, resolve_set_function
from common.types import BIGINT, BOOLEAN, INTEGER, VARCHAR, DataType, TypeName, array_of
from frontend.binder import system_functions
from frontend.binder.extras import ApplySpec, Correlation, Extras
from frontend.planner.logical import Field, LogicalNode, LProject

if TYPE_CHECKING:
    from frontend.binder.expr import Bound, Scope

SubqueryBinder = Callable[[exp.Expression, Correlation], LogicalNode]

QUANTIFIED_OPS = {exp.EQ: "equal", exp.NEQ: "not_equal", exp.LT: "less_than", exp.LTE: "less_than_or_equal",
                  exp.GT: "greater_than", exp.GTE: "greater_than_or_equal"}
SCHEMAS_OF_FUNCTIONS = ("pg_catalog", "information_schema", "public")
_WINDOW_KINDS = {"row_number": WindowKind.ROW_NUMBER, "rank": WindowKind.RANK, "dense_rank": WindowKind.DENSE_RANK}


class CatalogSqlMixin:
    """Constructs the system catalogs' queries use; mixed into ExprBinder."""

    scope: Scope
    clause: str
    extras: Extras | None
    outer: Correlation | None
    subqueries: SubqueryBinder | None
    guards: list[Expr]

    if TYPE_CHECKING:
        from frontend.binder.expr import BindContext

        ctx: BindContext

        def bind_any(self, node: exp.Expression) -> Bound: ...

        def bind(self, node: exp.Expression, expected: DataType | None = None) -> Expr: ...

        def call(self, name: str, args: Sequence[Bound]) -> Expr: ...

        def coerce(self, b: Bound, t: DataType) -> Expr: ...

        def type_of(self, b: Bound) -> DataType | None: ...

        def _function(self, node: exp.Func) -> Bound: ...

    # -- subqueries ---------------------------------------------------------------------------

    def _extras_for(self, kind: str, what: str) -> Extras:
        if self.extras is None or not self.extras.allows(kind):
            raise FeatureNotSupported(f"{what} are not allowed in {self.clause}")
        return self.extras

    def _subquery_plan(self, node: exp.Expression) -> tuple[LogicalNode, tuple[tuple[int, Expr], ...]]:
        if self.subqueries is None:
            raise FeatureNotSupported(f"subqueries are not allowed in {self.clause}")
        correlation = Correlation(self.scope.fields, self.outer, self.ctx.new_id)
        plan = self.subqueries(node, correlation)
        return plan, tuple(correlation.params)

    def _guard(self) -> Expr | None:
        if not self.guards:
            return None
        out = self.guards[0]
        for g in self.guards[1:]:
            out = FuncCall("and", (out, g), BOOLEAN)
        return out

    def _apply(self, kind: ApplyKind, node: exp.Expression, t: DataType | None = None,
               test: Expr | None = None) -> Expr:
        extras = self._extras_for("apply", "subqueries")
        plan, params = self._subquery_plan(node)
        visible = [f for f in plan.fields if not f.hidden]
        if kind is not ApplyKind.EXISTS and len(visible) != 1:
            raise SyntaxError_("subquery must return only one column")
        if kind is ApplyKind.EXISTS:
            out_type = BOOLEAN
        elif kind is ApplyKind.IN:
            out_type = BOOLEAN
            assert test is not None
            common = functions.common_type([test.type, visible[0].type], "IN")
            plan = _cast_first(plan, common)
            test = test if test.type == common else Cast(test, common)
        elif kind is ApplyKind.ARRAY:
            out_type = array_of(visible[0].type)
        else:
            out_type = visible[0].type
        plan = _first_column_only(plan) if kind is not ApplyKind.EXISTS else plan
        return extras.add("apply", ApplySpec(plan, kind, params, test, self._guard()), t or out_type)

    def _bind_subquery(self, node: exp.Subquery) -> Bound:
        return self._apply(ApplyKind.SCALAR, node.this)

    def _bind_exists(self, node: exp.Exists) -> Bound:
        return self._apply(ApplyKind.EXISTS, node.this)

    def _in_subquery(self, value: exp.Expression, query: exp.Expression) -> Bound:
        return self._apply(ApplyKind.IN, query, test=self.bind(value))

    # -- arrays ---------------------------------------------------------------------------------

    def _bind_array(self, node: exp.Array) -> Bound:
        items = list(node.expressions)
        if len(items) == 1 and isinstance(items[0], (exp.Select, exp.Union, exp.Subquery)):
            return self._apply(ApplyKind.ARRAY, items[0])
        bound = [self.bind_any(e) for e in items]
        if not bound:
            raise FeatureNotSupported("cannot determine type of empty array",
                                      hint="Explicitly cast to the desired type, for example ARRAY[]::integer[].")
        t = functions.common_type([self.type_of(b) for b in bound], "ARRAY")
        return FuncCall("array", tuple(self.coerce(b, t) for b in bound), array_of(t))

    def _bind_bracket(self, node: exp.Bracket) -> Bound:
        if len(node.expressions) != 1 or isinstance(node.expressions[0], exp.Slice):
            raise FeatureNotSupported("array slices and multidimensional subscripts are not supported")
        return self.call("subscript", [self.bind_any(node.this), self.bind_any(node.expressions[0])])

    def quantified(self, op: str, quantifier: str, left: exp.Expression, right: exp.Expression) -> Bound:
        """`left op ANY (right)` / `left op ALL (right)`: an array, or a subquery (= ANY and <> ALL only)."""
        inner = right.this if isinstance(right, exp.Paren) else right
        if isinstance(inner, (exp.Select, exp.Subquery, exp.Union)):
            if (op, quantifier) == ("equal", "any"):
                return self._in_subquery(left, inner)
            if (op, quantifier) == ("not_equal", "all"):
                return self.call("not", [self._in_subquery(left, inner)])
            raise FeatureNotSupported(f"{quantifier.upper()} (subquery) with this operator is not supported")
        return self.call(f"{quantifier}_{op}", [self.bind_any(left), self.bind_any(inner)])

    # -- functions ----------------------------------------------------------------------------

    def _bind_dot(self, node: exp.Dot) -> Bound:
        """`schema.function(...)` or `(record).field`."""
        target = node.expression
        if isinstance(node.this, exp.Identifier) and isinstance(target, exp.Func):
            schema = node.this.name.lower()
            if schema not in SCHEMAS_OF_FUNCTIONS:
                raise FeatureNotSupported(f"functions of schema {schema} are not supported")
            return self.bind_any(target)  # type: ignore[arg-type]
        if isinstance(target, exp.Identifier):
            record = self.bind(node.this)
            return self._field(record, target.this if target.quoted else target.this.lower())
        raise FeatureNotSupported(f"expression not supported: {node.sql('postgres')}")

    def _field(self, record: Expr, name: str) -> Expr:
        if record.type.name is not TypeName.RECORD:
            raise DatatypeMismatch(f"column notation .{name} applied to type {record.type.display()}, "
                                   f"which is not a composite type")
        for i, (fname, ftype) in enumerate(record.type.fields):
            if fname == name:
                return FuncCall("record_field", (record, Literal(i, INTEGER)), ftype)
        raise UndefinedColumn(f'column "{name}" not found in data type record')

    def set_function(self, name: str, args: list[Bound]) -> Bound:
        extras = self._extras_for("srf", "set-returning functions")
        cast_to, t = resolve_set_function(name, [self.type_of(a) for a in args])
        fn = SetFunction(name, tuple(self.coerce(a, c) for a, c in zip(args, cast_to)), t)
        return extras.add("srf", fn, t)

    def _bind_explode(self, node: exp.Explode) -> Bound:
        return self.set_function("unnest", [self.bind_any(node.this)])

    def _bind_explodinggenerateseries(self, node: exp.Expression) -> Bound:
        args = [node.args.get(k) for k in ("start", "end", "step")]
        return self.set_function("generate_series", [self.bind_any(a) for a in args if a is not None])

    _bind_generateseries = _bind_explodinggenerateseries

    def _bind_window(self, node: exp.Window) -> Bound:
        extras = self._extras_for("window", "window functions")
        func = node.this
        name = func.sql_name().lower() if not isinstance(func, exp.Anonymous) else func.name.lower()
        kind = _WINDOW_KINDS.get(name)
        if kind is None:
            raise FeatureNotSupported(f"window function {name} is not supported")
        partition = tuple(self._window_key(extras, e) for e in node.args.get("partition_by") or [])
        order = []
        for o in (node.args["order"].expressions if node.args.get("order") else []):
            desc = bool(o.args.get("desc"))
            nulls_first = bool(o.args.get("nulls_first")) if o.args.get("nulls_first") is not None else desc
            order.append(SortKey(self._window_key(extras, o.this), desc, nulls_first))
        return extras.add("window", WindowCall(kind, partition, tuple(order), BIGINT), BIGINT)

    def _window_key(self, extras: Extras, node: exp.Expression) -> int:
        e = self.bind(node)
        if isinstance(e, InputRef):
            return e.index
        return extras.add("expr", e, e.type).index

    # -- operators ------------------------------------------------------------------------------

    def _bind_operator(self, node: exp.Operator) -> Bound:
        symbol = str(node.args.get("operator") or "").split(".")[-1].strip()
        name = OPERATOR_BY_SYMBOL.get(symbol)
        if name is None:
            raise FeatureNotSupported(f"operator {symbol} is not supported")
        return self.call(name, [self.bind_any(node.this), self.bind_any(node.expression)])

    def _bind_collate(self, node: exp.Collate) -> Bound:
        # Eddy compares strings bytewise (C collation) whatever collation is named.
        return self.bind_any(node.this)

    def _bind_regexplike(self, node: exp.RegexpLike) -> Bound:
        return self.call("regex_match", [self.bind_any(node.this), self.bind_any(node.expression)])

    def _bind_regexpilike(self, node: exp.RegexpILike) -> Bound:
        return self.call("regex_imatch", [self.bind_any(node.this), self.bind_any(node.expression)])

    def _bind_escape(self, node: exp.Escape) -> Bound:
        like = node.this
        if not isinstance(like, (exp.Like, exp.ILike)):
            raise FeatureNotSupported(f"ESCAPE is not supported here: {node.sql('postgres')}")
        pattern = self.call("like_escape", [self.bind_any(like.expression), self.bind_any(node.expression)])
        name = "ilike" if isinstance(like, exp.ILike) else "like"
        if like.args.get("negate"):
            name = "not_" + name
        return self.call(name, [self.bind_any(like.this), pattern])

    def _bind_bytestring(self, node: exp.ByteString) -> Bound:
        from frontend.binder.expr import Unknown

        return Unknown(node.this)

    # -- reg* casts and the session --------------------------------------------------------------

    def cast_catalog(self, inner: Bound, target: DataType) -> Expr | None:
        """Casts that need the catalog: names to reg* OIDs and regclass/regrole to names."""
        from frontend.binder.expr import Unknown

        if target.name in (TypeName.REGCLASS, TypeName.REGTYPE, TypeName.REGPROC, TypeName.REGNAMESPACE,
                           TypeName.REGROLE):
            if not _typed(inner) and not isinstance(inner, Unknown) and self.type_of(inner) is None:
                # A parameter cast to a reg* type arrives as the object's name: it is bound as text and
                # looked up when the statement runs.
                text = self.coerce(inner, VARCHAR)
                if target.name is TypeName.REGCLASS:
                    return system_functions.text_to_regclass(self.ctx, text)
                lookup = {TypeName.REGTYPE: "to_regtype", TypeName.REGPROC: "to_regproc",
                          TypeName.REGNAMESPACE: "to_regnamespace"}.get(target.name)
                if lookup is not None:
                    return FuncCall(lookup, (text,), target)
            if isinstance(inner, Unknown):
                return Literal(None, target) if inner.text is None else system_functions.reg_from_text(
                    self.ctx, inner.text, target)
            if isinstance(inner, Literal) and inner.type.is_string:
                return Literal(None, target) if inner.value is None else system_functions.reg_from_text(
                    self.ctx, str(inner.value), target)
            if _typed(inner) and inner.type.is_string and target.name is TypeName.REGCLASS:  # type: ignore[union-attr]
                return system_functions.text_to_regclass(self.ctx, inner)  # type: ignore[arg-type]
        if target.is_string and _typed(inner) and inner.type.is_oid:  # type: ignore[union-attr]
            return system_functions.reg_to_text(self.ctx, inner)  # type: ignore[arg-type]
        return None

    def session_value(self, name: str) -> Expr:
        sig = functions.resolve(name, [])
        folded = system_functions.fold(self.ctx, sig.func, [], sig.return_type)
        assert folded is not None
        return folded

    def _bind_currentuser(self, node: exp.Expression) -> Bound:
        return self.session_value("current_user")

    def _bind_sessionuser(self, node: exp.Expression) -> Bound:
        return self.session_value("session_user")

    def _bind_currentschema(self, node: exp.Expression) -> Bound:
        return self.session_value("current_schema")

    def _bind_currentcatalog(self, node: exp.Expression) -> Bound:
        return self.session_value("current_database")

    def fold_call(self, call: FuncCall) -> Expr:
        """A resolved call, evaluated now when it reads the session or catalog (see system_functions)."""
        from common.functions_catalog import SESSION_FUNCTIONS

        if call.func in SESSION_FUNCTIONS:
            folded = system_functions.fold(self.ctx, call.func, list(call.args), call.type)
            if folded is not None:
                return folded
        return call


def _typed(b: object) -> bool:
    """Whether a bound value has a type already (not an unknown literal or untyped parameter)."""
    from frontend.binder.expr import Param, Unknown

    return not isinstance(b, (Unknown, Param))


def _first_column_only(plan: LogicalNode) -> LogicalNode:
    fields = plan.fields
    first = next(i for i, f in enumerate(fields) if not f.hidden)
    if len(fields) == 1:
        return plan
    return LProject(plan, (InputRef(first, fields[first].type),), (fields[first],))


def _cast_first(plan: LogicalNode, t: DataType) -> LogicalNode:
    plan = _first_column_only(plan)
    f = plan.fields[0]
    if f.type == t:
        return plan
    return LProject(plan, (Cast(InputRef(0, f.type), t),), (Field(f.name, t, f.qualifier),))


def is_set_function(name: str) -> bool:
    return name in SET_FUNCTIONS


__all__ = ["QUANTIFIED_OPS", "CatalogSqlMixin", "SubqueryBinder", "is_set_function"]
