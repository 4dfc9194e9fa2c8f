"""Binding scalar expressions: sqlglot trees to typed `common.expr` trees over an input scope.

Types follow PostgreSQL: a quoted literal or NULL is of unknown type until
its context decides (`1 + '2'` is integer arithmetic, `'2026-01-01'::date` a
date); operators and functions are resolved by `common.functions`, which
says which implicit casts to insert. Aggregate calls are handed to an
`AggCollector` when the clause allows them. Subqueries, set-returning and
window functions, arrays and the other constructs of catalog queries are
bound by `CatalogSqlMixin` (expr_sql.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlglot import exp

from common import functions, pgtext
from common.errors import (
    FeatureNotSupported,
    GroupingError,
    InvalidParameterValue,
    SyntaxError_,
    UndefinedColumn,
    UndefinedTable,
)
from common.expr import Case, Cast, Expr, FuncCall, InputRef, Literal, OuterRef
from common.types import BIGINT, BOOLEAN, INTEGER, INTERVAL, NUMERIC, VARCHAR, DataType
from frontend.binder.context import AggHandler, BindContext, Bound, Param, Scope, Unknown, identifier
from frontend.binder.expr_sql import QUANTIFIED_OPS, CatalogSqlMixin, SubqueryBinder, is_set_function
from frontend.binder.extras import Correlation, Extras
from frontend.binder.types import bind_type

if TYPE_CHECKING:
    pass

_INT32 = (-(2**31), 2**31 - 1)
_INT64 = (-(2**63), 2**63 - 1)

_BINARY_OPS: dict[type, str] = {
    exp.Add: "add", exp.Sub: "subtract", exp.Mul: "multiply", exp.Div: "divide", exp.Mod: "modulus",
    exp.EQ: "equal", exp.NEQ: "not_equal", exp.LT: "less_than", exp.LTE: "less_than_or_equal",
    exp.GT: "greater_than", exp.GTE: "greater_than_or_equal", exp.And: "and", exp.Or: "or",
    exp.DPipe: "concat_op", exp.Like: "like", exp.ILike: "ilike",
    exp.NullSafeEQ: "is_not_distinct_from", exp.NullSafeNEQ: "is_distinct_from",
    exp.BitwiseAnd: "bitwise_and", exp.BitwiseOr: "bitwise_or", exp.BitwiseXor: "bitwise_xor",
    exp.BitwiseLeftShift: "shift_left", exp.BitwiseRightShift: "shift_right",
}
_NEGATED = {"like": "not_like", "ilike": "not_ilike", "is_null": "is_not_null", "is_true": "is_not_true",
            "is_false": "is_not_false", "is_not_distinct_from": "is_distinct_from",
            "regex_match": "not_regex_match", "regex_imatch": "not_regex_imatch"}
AGG_CLASSES: dict[type, str] = {exp.Count: "count", exp.Sum: "sum", exp.Min: "min", exp.Max: "max", exp.Avg: "avg",
                                exp.ArrayAgg: "array_agg", exp.GroupConcat: "string_agg", exp.LogicalAnd: "bool_and",
                                exp.LogicalOr: "bool_or"}
AGG_NAMES = {"count", "sum", "min", "max", "avg", "array_agg", "string_agg", "bool_and", "bool_or", "every"}
# sqlglot's names for functions whose PostgreSQL names differ.
_SQLGLOT_NAMES = {"array_size": "array_length", "array_concat": "array_cat", "explode": "unnest",
                  "exploding_generate_series": "generate_series", "str_position": "strpos"}
_USER_WORDS = {"user": "current_user", "current_role": "current_user", "current_user": "current_user",
               "session_user": "session_user"}


def is_aggregate(node: exp.Expression) -> bool:
    """Whether `node` itself is an aggregate call (sqlglot's classes, or a name such as pg_catalog.string_agg)."""
    if type(node) in AGG_CLASSES:
        return True
    return isinstance(node, exp.Anonymous) and node.name.lower() in AGG_NAMES


class ExprBinder(CatalogSqlMixin):
    def __init__(self, scope: Scope, ctx: BindContext, clause: str, agg: AggHandler | None = None, *,
                 extras: Extras | None = None, outer: Correlation | None = None,
                 subqueries: SubqueryBinder | None = None) -> None:
        self.scope = scope
        self.ctx = ctx
        self.clause = clause
        self.agg = agg
        self.extras = extras
        self.outer = outer
        self.subqueries = subqueries
        self.guards: list[Expr] = []

    def bind(self, node: exp.Expression, expected: DataType | None = None) -> Expr:
        """A fully typed expression; an unknown-typed result takes `expected` (default varchar)."""
        b = self.bind_any(node)
        return self.coerce(b, expected or _natural_type(b))

    def bind_predicate(self, node: exp.Expression) -> Expr:
        b = self.bind_any(node)
        if not isinstance(b, (Unknown, Param)) and b.type != BOOLEAN:
            from common.errors import DatatypeMismatch

            raise DatatypeMismatch(f"argument of {self.clause} must be type boolean, not type {b.type}")
        return self.coerce(b, BOOLEAN)

    # -- typing helpers ------------------------------------------------------

    def type_of(self, b: Bound) -> DataType | None:
        if isinstance(b, Unknown):
            return None
        if isinstance(b, Param):
            return self.ctx.param(b.index)
        return b.type

    def coerce(self, b: Bound, t: DataType) -> Expr:
        if isinstance(b, Unknown):
            if b.text is None:
                return Literal(None, t)
            if t.is_oid and t.name.value != "oid":
                resolved = self.cast_catalog(b, t)
                if resolved is not None:
                    return resolved
            return Literal(pgtext.parse_text(b.text, t, self.ctx.format), t)
        if isinstance(b, Param):
            known = self.ctx.param(b.index)
            if known is None:
                self.ctx.param_types[b.index] = t
                known = t
            lit = self.ctx.param_literal(b.index, known)
            return lit if known == t else Cast(lit, t)
        if b.type == t:
            return b
        if isinstance(b, Literal) and b.value is None:
            return Literal(None, t)
        return Cast(b, t)

    def call(self, name: str, args: Sequence[Bound]) -> Expr:
        if is_set_function(name):
            return self.set_function(name, list(args))  # type: ignore[return-value]
        sig = functions.resolve(name, [self.type_of(a) for a in args])
        call = FuncCall(sig.func, tuple(self.coerce(a, t) for a, t in zip(args, sig.arg_types)), sig.return_type)
        return self.fold_call(call)

    # -- the walk --------------------------------------------------------------

    def bind_any(self, node: exp.Expression) -> Bound:
        if node.args.get("negate") and isinstance(node, (exp.Is, exp.Like, exp.ILike)):
            # sqlglot writes `x IS NOT NULL` and `x NOT LIKE y` as the positive node with negate=True
            positive = node.copy()
            positive.set("negate", None)
            return self._bind_not(exp.Not(this=positive))
        if is_aggregate(node):
            return self._aggregate(node)
        method = getattr(self, f"_bind_{type(node).__name__.lower()}", None)
        if method is not None:
            return method(node)  # type: ignore[no-any-return]
        op = _BINARY_OPS.get(type(node))
        if op is not None:
            right = node.expression
            quantifier = _quantifier(right)
            if quantifier is not None and type(node) in QUANTIFIED_OPS:
                return self.quantified(op, quantifier, node.this, _quantified_operand(right))
            return self.call(op, [self.bind_any(node.this), self.bind_any(right)])
        if isinstance(node, exp.Func):
            return self._function(node)
        raise FeatureNotSupported(f"expression not supported: {node.sql('postgres')}")

    def _bind_column(self, node: exp.Column) -> Bound:
        if isinstance(node.this, exp.Star):
            raise FeatureNotSupported(f"* is not allowed in {self.clause}")
        qualifier = identifier(node.args.get("table")) or None
        name = identifier(node.this)
        try:
            idx = self.scope.resolve(name, qualifier)
        except (UndefinedColumn, UndefinedTable):
            outer: OuterRef | None = self.outer.resolve(name, qualifier) if self.outer is not None else None
            if outer is not None:
                return outer
            if qualifier is None and name in _USER_WORDS and not (isinstance(node.this, exp.Identifier)
                                                                  and node.this.quoted):
                return self.session_value(_USER_WORDS[name])
            raise
        return InputRef(idx, self.scope.fields[idx].type)

    def _bind_paren(self, node: exp.Paren) -> Bound:
        return self.bind_any(node.this)

    def _bind_literal(self, node: exp.Literal) -> Bound:
        if node.is_string:
            return Unknown(node.this)
        return self._number(node.this)

    def _number(self, text: str) -> Bound:
        digits = text[1:] if text.startswith("-") else text
        if digits and all(c.isdigit() for c in digits):
            v = int(text)
            if _INT32[0] <= v <= _INT32[1]:
                return Literal(v, INTEGER)
            if _INT64[0] <= v <= _INT64[1]:
                return Literal(v, BIGINT)
            return Literal(Decimal(text), NUMERIC)
        try:
            return Literal(Decimal(text), NUMERIC)
        except ArithmeticError:
            raise SyntaxError_(f'invalid number "{text}"') from None

    def _bind_rawstring(self, node: exp.RawString) -> Bound:
        return Unknown(node.this)

    def _bind_null(self, node: exp.Null) -> Bound:
        return Unknown(None)

    def _bind_boolean(self, node: exp.Boolean) -> Bound:
        return Literal(bool(node.this), BOOLEAN)

    def _bind_parameter(self, node: exp.Parameter) -> Bound:
        return self._param(node.this)

    def _bind_placeholder(self, node: exp.Placeholder) -> Bound:
        return self._param(node.this)

    def _param(self, ref: object) -> Bound:
        text = ref.name if isinstance(ref, exp.Expression) else str(ref)
        if not text.isdigit() or int(text) < 1:
            raise SyntaxError_(f"invalid parameter reference ${text}")
        index = int(text) - 1
        t = self.ctx.param(index)
        return Param(index) if t is None else self.ctx.param_literal(index, t)

    def _bind_neg(self, node: exp.Neg) -> Bound:
        inner = node.this
        if isinstance(inner, exp.Literal) and not inner.is_string:
            # -2147483648 is an integer literal, not the negation of a bigint
            return self._number("-" + inner.this)
        return self.call("neg", [self.bind_any(inner)])

    def _bind_not(self, node: exp.Not) -> Bound:
        inner = node.this
        if isinstance(inner, exp.Paren):
            inner = inner.this
        if isinstance(inner, exp.Is):
            name = self._is_function(inner)
            return self.call(_NEGATED[name], [self.bind_any(inner.this)])
        if isinstance(inner, (exp.Like, exp.ILike, exp.RegexpLike, exp.RegexpILike)):
            b = self.bind_any(inner)
            assert isinstance(b, FuncCall)
            return self.call(_NEGATED[b.func], b.args)
        return self.call("not", [self.bind_any(node.this)])

    def _is_function(self, node: exp.Is) -> str:
        target = node.expression
        if isinstance(target, exp.Null):
            return "is_null"
        if isinstance(target, exp.Boolean):
            return "is_true" if target.this else "is_false"
        raise FeatureNotSupported(f"IS {target.sql('postgres')} is not supported")

    def _bind_is(self, node: exp.Is) -> Bound:
        return self.call(self._is_function(node), [self.bind_any(node.this)])

    def _bind_between(self, node: exp.Between) -> Bound:
        x = self.bind_any(node.this)
        low = self.call("greater_than_or_equal", [x, self.bind_any(node.args["low"])])
        high = self.call("less_than_or_equal", [x, self.bind_any(node.args["high"])])
        return self.call("and", [low, high])

    def _bind_in(self, node: exp.In) -> Bound:
        if node.args.get("unnest") is not None:
            raise FeatureNotSupported("IN UNNEST is not supported")
        query = node.args.get("query")
        if query is not None:
            return self._in_subquery(node.this, query.this if isinstance(query, exp.Subquery) else query)
        items = [self.bind_any(e) for e in node.expressions]
        return self.call("in", [self.bind_any(node.this), *items])

    def _bind_case(self, node: exp.Case) -> Bound:
        operand = self.bind_any(node.this) if node.this is not None else None
        conds: list[Expr] = []
        results: list[Bound] = []
        for branch in node.args.get("ifs") or []:
            when = self.bind_any(branch.this)
            cond = self.call("equal", [operand, when]) if operand is not None else self.coerce_bool(when, "CASE/WHEN")
            conds.append(cond)
            # A subquery in this branch is needed only where the condition holds (see BatchApply.guard).
            self.guards.append(cond)
            try:
                results.append(self.bind_any(branch.args["true"]))
            finally:
                self.guards.pop()
        default = self.bind_any(node.args["default"]) if node.args.get("default") is not None else None
        all_results = results + ([default] if default is not None else [])
        t = functions.common_type([self.type_of(r) for r in all_results], "CASE")
        branches = tuple((c, self.coerce(r, t)) for c, r in zip(conds, results))
        return Case(branches, self.coerce(default, t) if default is not None else None, t)

    def coerce_bool(self, b: Bound, clause: str) -> Expr:
        t = self.type_of(b)
        if t is not None and t != BOOLEAN:
            from common.errors import DatatypeMismatch

            raise DatatypeMismatch(f"argument of {clause} must be type boolean, not type {t}")
        return self.coerce(b, BOOLEAN)

    def _bind_coalesce(self, node: exp.Coalesce) -> Bound:
        return self.call("coalesce", [self.bind_any(node.this), *(self.bind_any(e) for e in node.expressions)])

    def _bind_cast(self, node: exp.Cast) -> Bound:
        target = bind_type(node.args["to"], catalog=True)
        inner = self.bind_any(node.this)
        catalog = self.cast_catalog(inner, target)
        if catalog is not None:
            return catalog
        if isinstance(inner, Unknown):
            return self.coerce(inner, target)
        if isinstance(inner, Param):
            return self.coerce(inner, target)
        if inner.type == target:
            return inner
        functions.cast_is_allowed(inner.type, target)
        return Cast(inner, target)

    _bind_trycast = _bind_cast

    def _bind_interval(self, node: exp.Interval) -> Bound:
        value = node.this
        text = value.this if isinstance(value, exp.Literal) else value.sql("postgres")
        unit = node.args.get("unit")
        if unit is not None:
            text = f"{text} {unit.name}"
        return Literal(pgtext.parse_text(str(text), INTERVAL, self.ctx.format), INTERVAL)

    def _bind_extract(self, node: exp.Extract) -> Bound:
        return self.call("extract", [Unknown(node.this.name.lower()), self.bind_any(node.expression)])

    def _bind_substring(self, node: exp.Substring) -> Bound:
        args = [self.bind_any(node.this), self.bind_any(node.args["start"])]
        if node.args.get("length") is not None:
            args.append(self.bind_any(node.args["length"]))
        return self.call("substr", args)

    def _bind_strposition(self, node: exp.StrPosition) -> Bound:
        return self.call("strpos", [self.bind_any(node.this), self.bind_any(node.args["substr"])])

    def _bind_trim(self, node: exp.Trim) -> Bound:
        where = str(node.args.get("position") or "BOTH").upper()
        name = {"LEADING": "ltrim", "TRAILING": "rtrim"}.get(where, "btrim")
        args = [self.bind_any(node.this)]
        if node.expression is not None:
            args.append(self.bind_any(node.expression))
        return self.call(name, args)

    def _bind_currenttimestamp(self, node: exp.Expression) -> Bound:
        return self.call("now", [])

    def _bind_currentdate(self, node: exp.Expression) -> Bound:
        return self.call("current_date", [])

    def _bind_attimezone(self, node: exp.AtTimeZone) -> Bound:
        return self.call("timezone", [self.bind_any(node.args["zone"]), self.bind_any(node.this)])

    def _bind_anonymous(self, node: exp.Anonymous) -> Bound:
        name = node.name.lower()
        if name in ("all", "any", "some"):
            raise SyntaxError_(f"syntax error at or near \"{name.upper()}\"")
        return self.call(name, [self.bind_any(e) for e in node.expressions])

    def _function(self, node: exp.Func) -> Bound:
        args = [a for a in node.args.values() if isinstance(a, exp.Expression)]
        for a in node.args.values():
            if isinstance(a, list):
                args.extend(x for x in a if isinstance(x, exp.Expression))
        name = node.sql_name().lower()
        return self.call(_SQLGLOT_NAMES.get(name, name), [self.bind_any(a) for a in args])

    def _bind_currentschemas(self, node: exp.Expression) -> Bound:
        return self.call("current_schemas", [self.bind_any(node.this)])

    def _bind_regexpreplace(self, node: exp.RegexpReplace) -> Bound:
        args = [node.this, node.expression, node.args.get("replacement"), node.args.get("modifiers")]
        return self.call("regexp_replace", [self.bind_any(a) for a in args if a is not None])

    def _aggregate(self, node: exp.Expression) -> Bound:
        if self.agg is None:
            raise GroupingError(f"aggregate functions are not allowed in {self.clause}")
        return self.agg(node)

    def _bind_star(self, node: exp.Star) -> Bound:
        raise SyntaxError_(f"* is not allowed in {self.clause}")



def _quantifier(node: exp.Expression) -> str | None:
    """'any' or 'all' for the right-hand side of `x op ANY (...)` / `x op ALL (...)`."""
    if isinstance(node, exp.Any):
        return "any"
    if isinstance(node, exp.All):
        return "all"
    if isinstance(node, exp.Anonymous) and node.name.lower() in ("all", "any", "some") and len(node.expressions) == 1:
        return "all" if node.name.lower() == "all" else "any"
    return None


def _quantified_operand(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.Anonymous):
        return node.expressions[0]
    return node.this


def _natural_type(b: Bound) -> DataType:
    if isinstance(b, (Unknown, Param)):
        return VARCHAR
    return b.type


def constant_int(node: exp.Expression, what: str) -> int:
    """LIMIT/OFFSET values: non-negative integer constants (LIMIT ALL and LIMIT NULL mean no limit)."""
    if isinstance(node, exp.Literal) and not node.is_string and node.this.isdigit():
        return int(node.this)
    if isinstance(node, exp.Null) or (isinstance(node, exp.Var) and node.name.upper() == "ALL"):
        return -1
    raise InvalidParameterValue(f"{what} must be a non-negative integer constant")
