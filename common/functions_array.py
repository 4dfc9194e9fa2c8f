"""Resolution of the polymorphic array functions and operators (PostgreSQL's anyarray / anyelement).

PostgreSQL declares these once over pseudo-types and binds the element
type from the actual arguments; here each is resolved directly from the
argument types. int2vector and oidvector count as arrays (of smallint and
oid) wherever an array is read, as in PostgreSQL. An argument of unknown
type (a quoted literal such as '{a,b}') takes the array type the other
arguments imply.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from common.errors import DatatypeMismatch, UndefinedFunction
from common.types import BOOLEAN, INTEGER, VARCHAR, DataType, array_of

Resolver = Callable[[list[DataType | None]], "ArraySignature | None"]


@dataclass(frozen=True, slots=True)
class ArraySignature:
    func: str
    arg_types: tuple[DataType, ...]
    return_type: DataType


COMPARISONS = ("equal", "not_equal", "less_than", "less_than_or_equal", "greater_than", "greater_than_or_equal")


def _is_list(t: DataType | None) -> bool:
    return t is not None and t.is_list


def _no_function(name: str, types: Sequence[DataType | None]) -> UndefinedFunction:
    shown = ", ".join("unknown" if t is None else t.display() for t in types)
    return UndefinedFunction(f"function {name}({shown}) does not exist",
                             hint="No function matches the given name and argument types. "
                                  "You might need to add explicit type casts.")


def _array_arg(name: str, types: list[DataType | None], i: int = 0) -> DataType:
    t = types[i]
    if t is None:
        return array_of(VARCHAR)
    if not t.is_list:
        raise _no_function(name, types)
    return t


def resolve_array_function(name: str, types: list[DataType | None]) -> ArraySignature | None:
    """The signature of array function `name`, None if `name` is not one."""
    n = len(types)
    if name in ("array_upper", "array_lower", "array_length") and n == 2:
        a = _array_arg(name, types)
        return ArraySignature(name, (a, INTEGER), INTEGER)
    if name in ("cardinality", "array_ndims") and n == 1:
        return ArraySignature(name, (_array_arg(name, types),), INTEGER)
    if name == "array_to_string" and n in (2, 3):
        a = _array_arg(name, types)
        return ArraySignature(name, (a, *[VARCHAR] * (n - 1)), VARCHAR)
    if name == "array_cat" and n == 2:
        given = types[0] if _is_list(types[0]) else types[1]
        if given is None or not given.is_list:
            raise _no_function(name, types)
        a = array_of(given.item)
        return ArraySignature(name, (a, a), a)
    if name in ("array_append", "array_position") and n == 2:
        a = _array_arg(name, types)
        ret = array_of(a.item) if name == "array_append" else INTEGER
        return ArraySignature(name, (a, a.item), ret)
    if name == "array_prepend" and n == 2:
        a = _array_arg(name, types, 1)
        return ArraySignature(name, (a.item, a), array_of(a.item))
    if name == "subscript" and n == 2:
        a = _array_arg(name, types)
        return ArraySignature(name, (a, INTEGER), a.item)
    return None


def resolve_array_concat(types: list[DataType | None]) -> ArraySignature | None:
    """`||` with an array operand: array_cat, array_append or array_prepend."""
    left, right = types
    if not (_is_list(left) or _is_list(right)):
        return None
    if _is_list(left) and (right is None or _is_list(right)):
        return resolve_array_function("array_cat", [left, right if right is not None else left])
    if _is_list(left):
        return resolve_array_function("array_append", types)
    if left is None:
        return resolve_array_function("array_cat", [right, right])
    return resolve_array_function("array_prepend", types)


def resolve_array_comparison(op: str, types: list[DataType | None]) -> ArraySignature | None:
    """`=`, `<>`, `<` ... between two arrays of the same element type."""
    left, right = types
    if not (_is_list(left) or _is_list(right)):
        return None
    t = left if _is_list(left) else right
    assert t is not None
    other = right if t is left else left
    if other is not None and (not other.is_list or other.item.name is not t.item.name):
        raise DatatypeMismatch(f"operator does not exist: {types[0]} {op} {types[1]}")
    return ArraySignature(op, (t, t), BOOLEAN)


def quantified(op: str, quantifier: str, resolve_scalar: Callable[[str, list[DataType | None]], tuple[
        str, tuple[DataType, ...]]], types: list[DataType | None]) -> ArraySignature:
    """`x op ANY (array)` / `x op ALL (array)`: the scalar operator between x and the array's elements."""
    value, array = types
    if array is not None and not array.is_list:
        raise DatatypeMismatch("op ANY/ALL (array) requires array on right side")
    element = None if array is None else array.item
    func, (left, right) = resolve_scalar(op, [value, element])
    arr = array if array is not None and array.item == right else array_of(right)
    return ArraySignature(f"{quantifier}_{func}", (left, arr), BOOLEAN)
