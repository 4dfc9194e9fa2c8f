"""Function and operator resolution and type inference, as PostgreSQL's parser does it.

The binder calls `resolve` for every operator and function call with the
argument types it knows (None for an untyped literal or NULL, PostgreSQL's
`unknown`), and gets back the canonical function name for `FuncCall.func`,
the types to cast the arguments to and the result type. Overload choice
follows PostgreSQL's func_select_candidate over the overloads in
`common.functions_catalog`; `common_type` is its select_common_type (CASE,
COALESCE, IN, UNION, VALUES).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from common.errors import AmbiguousFunction, DatatypeMismatch, UndefinedFunction
from common.functions_array import (
    COMPARISONS,
    ArraySignature,
    quantified,
    resolve_array_comparison,
    resolve_array_concat,
    resolve_array_function,
)
from common.functions_cast import CATEGORY, Category, can_assign, can_cast, cast_is_allowed, is_preferred
from common.functions_catalog import (
    FUNCTIONS,
    NON_DETERMINISTIC,
    OPERATOR_SYMBOLS,
    OPERATORS,
    SYSTEM_FUNCTIONS,
    Candidate,
)
from common.types import BOOLEAN, JSON, NUMERIC, VARCHAR, DataType, TypeName

__all__ = ["FunctionSignature", "can_assign", "can_cast", "cast_is_allowed", "common_type", "is_deterministic",
           "resolve"]


@dataclass(frozen=True, slots=True)
class FunctionSignature:
    """A resolved call: `func` for FuncCall.func, the types to cast each argument to, and the result type."""

    func: str
    arg_types: tuple[DataType, ...]
    return_type: DataType


_BOOLEAN_OPS = {"and": "AND", "or": "OR", "not": "NOT"}
_BOOL_TESTS = {"is_true": "IS TRUE", "is_not_true": "IS NOT TRUE", "is_false": "IS FALSE",
               "is_not_false": "IS NOT FALSE"}
_NULL_TESTS = ("is_null", "is_not_null")
_COMMON_TYPE_FUNCS = {"coalesce": "COALESCE", "greatest": "GREATEST", "least": "LEAST"}


def is_deterministic(func: str) -> bool:
    """False for functions whose result depends on the time they run (now(), current_date, ...)."""
    return func not in NON_DETERMINISTIC


def _type_name(t: DataType | None) -> str:
    return "unknown" if t is None else t.display()


def resolve(name: str, arg_types: Sequence[DataType | None]) -> FunctionSignature:
    """The overload of operator or function `name` PostgreSQL would pick for these argument types."""
    name = name.lower()
    types = list(arg_types)
    array = _resolve_array(name, types)
    if array is not None:
        return FunctionSignature(array.func, array.arg_types, array.return_type)
    if name in _BOOLEAN_OPS:
        return _boolean(name, types, _BOOLEAN_OPS[name])
    if name in _BOOL_TESTS:
        return _boolean(name, types, _BOOL_TESTS[name])
    if name in _NULL_TESTS:
        return FunctionSignature(name, tuple(VARCHAR if t is None else t for t in types), BOOLEAN)
    if name in _COMMON_TYPE_FUNCS:
        if not types:
            raise UndefinedFunction(f"function {name}() does not exist")
        t = common_type(types, _COMMON_TYPE_FUNCS[name])
        return FunctionSignature(name, tuple(t for _ in types), t)
    if name in ("is_distinct_from", "is_not_distinct_from"):
        eq = resolve("equal", types)
        return FunctionSignature(name, eq.arg_types, BOOLEAN)
    if name == "nullif":
        eq = resolve("equal", types)
        return FunctionSignature(name, eq.arg_types, eq.arg_types[0])
    if name == "in":
        return _in(types)
    if name in ("concat", "concat_ws"):
        if not types:
            raise UndefinedFunction(f"function {name}() does not exist",
                                    hint="No function matches the given name and argument types. "
                                         "You might need to add explicit type casts.")
        # Arguments keep their types: concat prints them with their output functions ('t', not 'true').
        return FunctionSignature(name, tuple(VARCHAR if t is None else t for t in types), VARCHAR)
    if name in ("format", "json_build_object", "json_build_array"):
        if name == "format" and not types:
            raise UndefinedFunction("function format() does not exist")
        ret = VARCHAR if name == "format" else JSON
        # Like concat, arguments keep their types: json_build_object writes numbers and booleans unquoted.
        return FunctionSignature(name, tuple(VARCHAR if t is None else t for t in types), ret)
    if name in OPERATORS:
        return _resolve_operator(name, types)
    candidates = [c for c in FUNCTIONS.get(name, SYSTEM_FUNCTIONS.get(name, ())) if len(c.args) == len(types)]
    shown = f"{name}({', '.join(_type_name(t) for t in types)})"
    try:
        chosen = _select(candidates, types, binary_operator=False)
    except _NotUnique:
        raise AmbiguousFunction(f"function {shown} is not unique",
                                hint="Could not choose a best candidate function. "
                                     "You might need to add explicit type casts.") from None
    if chosen is None:
        raise UndefinedFunction(f"function {shown} does not exist",
                                hint="No function matches the given name and argument types. "
                                     "You might need to add explicit type casts.")
    return FunctionSignature(chosen.func, chosen.cast_types(), chosen.ret)


def _resolve_array(name: str, types: list[DataType | None]) -> ArraySignature | None:
    if name.startswith(("any_", "all_")) and len(types) == 2:
        quantifier, op = name.split("_", 1)

        def scalar(op_name: str, ts: list[DataType | None]) -> tuple[str, tuple[DataType, ...]]:
            sig = resolve(op_name, ts)
            return sig.func, sig.arg_types

        return quantified(op, quantifier, scalar, types)
    if name == "concat_op" and len(types) == 2:
        return resolve_array_concat(types)
    if name in COMPARISONS and len(types) == 2:
        return resolve_array_comparison(name, types)
    return resolve_array_function(name, types)


def _resolve_operator(name: str, types: list[DataType | None]) -> FunctionSignature:
    symbol = OPERATOR_SYMBOLS[name]
    candidates = [c for c in OPERATORS[name] if len(c.args) == len(types)]
    shown = " ".join([_type_name(types[0]), symbol, _type_name(types[1])] if len(types) == 2
                     else [symbol, *(_type_name(t) for t in types)])
    try:
        chosen = _select(candidates, types, binary_operator=len(types) == 2)
    except _NotUnique:
        raise AmbiguousFunction(f"operator is not unique: {shown}",
                                hint="Could not choose a best candidate operator. "
                                     "You might need to add explicit type casts.") from None
    if chosen is None:
        raise UndefinedFunction(f"operator does not exist: {shown}",
                                hint="No operator matches the given name and argument types. "
                                     "You might need to add explicit type casts.")
    return FunctionSignature(chosen.func, chosen.cast_types(), chosen.ret)


def _boolean(name: str, types: list[DataType | None], shown: str) -> FunctionSignature:
    for t in types:
        if t is not None and t.name is not TypeName.BOOLEAN:
            raise DatatypeMismatch(f"argument of {shown} must be type boolean, not type {t.display()}")
    return FunctionSignature(name, tuple(BOOLEAN for _ in types), BOOLEAN)


def _in(types: list[DataType | None]) -> FunctionSignature:
    try:
        t = common_type(types, "IN")
    except DatatypeMismatch:
        # PostgreSQL then compares item by item, so the error is the `=` one.
        for item in types[1:]:
            resolve("equal", [types[0], item])
        raise
    return FunctionSignature("in", tuple(t for _ in types), BOOLEAN)


# -- PostgreSQL's overload resolution (parse_func.c / parse_oper.c) ------------


def _coercible(src: DataType | None, dst: DataType | None) -> bool:
    if src is None or dst is None:
        return True  # unknown goes anywhere; anything goes to anynonarray
    return can_cast(src, dst, implicit=True)


def _category(t: DataType | None) -> Category:
    return Category.PSEUDO if t is None else CATEGORY[t.name]


def _preferred(t: DataType | None) -> bool:
    return t is not None and is_preferred(t.name)


def _same(a: DataType | None, b: DataType | None) -> bool:
    return a is not None and b is not None and a.name is b.name


class _NotUnique(Exception):
    """Several overloads fit equally well."""


def _select(candidates: list[Candidate], types: list[DataType | None],
            binary_operator: bool) -> Candidate | None:
    """The overload PostgreSQL picks, None if none fits; raises _NotUnique on a tie."""
    exact = [c for c in candidates if all(_same(a, t) for a, t in zip(c.args, types))]
    if exact:
        return exact[0]
    if binary_operator and (types[0] is None) != (types[1] is None):
        known = types[0] if types[0] is not None else types[1]
        exact = [c for c in candidates if all(_same(a, known) for a in c.args)]
        if exact:
            return exact[0]
    live = [c for c in candidates if all(_coercible(t, a) for t, a in zip(types, c.args))]
    if len(live) <= 1:
        return live[0] if live else None
    return _choose(live, types)


def _keep_best(cands: list[Candidate], score: object) -> list[Candidate]:
    scores = [score(c) for c in cands]  # type: ignore[operator]
    best = max(scores)
    return [c for c, s in zip(cands, scores) if s == best]


def _choose(live: list[Candidate], types: list[DataType | None]) -> Candidate:
    known = [i for i, t in enumerate(types) if t is not None]
    unknown = [i for i, t in enumerate(types) if t is None]
    live = _keep_best(live, lambda c: sum(_same(c.args[i], types[i]) for i in known))
    if len(live) == 1:
        return live[0]
    live = _keep_best(live, lambda c: sum(
        _same(c.args[i], types[i]) or (_preferred(c.args[i]) and _category(c.args[i]) == _category(types[i]))
        for i in known))
    if len(live) == 1:
        return live[0]
    if not unknown:
        raise _NotUnique
    resolved = _resolve_unknown_categories(live, unknown)
    if resolved is not None:
        kept = [c for c in live if all(
            _category(c.args[i]) == cat and (not pref or _preferred(c.args[i])) for i, (cat, pref) in resolved.items())]
        if kept:
            live = kept
        if len(live) == 1:
            return live[0]
    if known:
        first = types[known[0]]
        if all(_same(types[i], first) for i in known):
            matches = [c for c in live if all(_coercible(first, a) for a in c.args)]
            if len(matches) == 1:
                return matches[0]
    raise _NotUnique


def _resolve_unknown_categories(live: list[Candidate], unknown: list[int]) -> dict[int, tuple[Category, bool]] | None:
    """For each unknown position, the category to use and whether a preferred type is wanted."""
    out: dict[int, tuple[Category, bool]] = {}
    for i in unknown:
        category: Category | None = None
        preferred = False
        conflict = False
        for c in live:
            cat, pref = _category(c.args[i]), _preferred(c.args[i])
            if category is None:
                category, preferred = cat, pref
            elif cat == category:
                preferred = preferred or pref
            elif cat is Category.STRING:
                category, preferred = cat, pref
            else:
                conflict = True
        if category is None or (conflict and category is not Category.STRING):
            return None
        out[i] = (category, preferred)
    return out


def common_type(types: Sequence[DataType | None], context: str) -> DataType:
    """PostgreSQL's select_common_type: the type CASE/COALESCE/IN/UNION/VALUES results take."""
    known = [t for t in types if t is not None]
    if not known:
        return VARCHAR
    if len(known) == len(types) and all(t == known[0] for t in known):
        return known[0]
    ptype = known[0]
    for t in known[1:]:
        if t.name is ptype.name:
            continue
        if CATEGORY[t.name] != CATEGORY[ptype.name]:
            raise DatatypeMismatch(f"{context} types {ptype.display()} and {t.display()} cannot be matched")
        if (not is_preferred(ptype.name) and can_cast(ptype, t, implicit=True)
                and not can_cast(t, ptype, implicit=True)):
            ptype = t
    if ptype.name is TypeName.NUMERIC:
        # A typmod survives only when every input has exactly this type.
        ptype = NUMERIC
    for t in known:
        if not can_cast(t, ptype, implicit=True):
            raise DatatypeMismatch(f"{context} could not convert type {t.display()} to {ptype.display()}")
    return ptype
