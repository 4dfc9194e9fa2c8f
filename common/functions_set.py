"""The set-returning functions: which names are set-returning, and the type of the rows each call yields.

generate_series over integers (the wider of its argument types) or
timestamps stepped by an interval; unnest of an array (its element type);
generate_subscripts of an array (integer); information_schema's
_pg_expandarray (a record of the element and its position); and
pg_get_keywords (a record of word, category code and description).
"""

from __future__ import annotations

from common.errors import UndefinedFunction
from common.types import (
    CHAR,
    INTEGER,
    INTERVAL,
    NAME,
    TIMESTAMP,
    TIMESTAMPTZ,
    VARCHAR,
    DataType,
    TypeName,
    integer_supertype,
    record_of,
)

SET_FUNCTIONS = frozenset({"generate_series", "unnest", "generate_subscripts", "_pg_expandarray", "pg_get_keywords"})


def _no_function(name: str, types: list[DataType | None]) -> UndefinedFunction:
    shown = ", ".join("unknown" if t is None else t.display() for t in types)
    return UndefinedFunction(f"function {name}({shown}) does not exist",
                             hint="No function matches the given name and argument types. "
                                  "You might need to add explicit type casts.")


def resolve_set_function(name: str, types: list[DataType | None]) -> tuple[tuple[DataType, ...], DataType]:
    """The types to cast the arguments to, and the type of each row, of a set-returning function call."""
    n = len(types)
    if name == "generate_series" and n in (2, 3):
        known = [t for t in types if t is not None]
        if known and all(t.is_integer for t in known):
            w = INTEGER
            for t in known:
                w = integer_supertype(w, t)
            return (w,) * n, w
        if n == 3 and known and any(t.is_temporal for t in known[:2]):
            t = TIMESTAMPTZ if any(k.name is TypeName.TIMESTAMPTZ for k in known[:2]) else TIMESTAMP
            return (t, t, INTERVAL), t
        if not known:
            return (INTEGER,) * n, INTEGER
    elif name in ("unnest", "_pg_expandarray") and n == 1:
        a = types[0]
        if a is not None and a.is_list:
            if name == "unnest":
                return (a,), a.item
            return (a,), record_of((("x", a.item), ("n", INTEGER)))
    elif name == "generate_subscripts" and n in (1, 2):
        a = types[0]
        if a is not None and a.is_list:
            return (a, INTEGER)[:n], INTEGER
    elif name == "pg_get_keywords" and n == 0:
        return (), record_of((("word", NAME), ("catcode", CHAR), ("catdesc", VARCHAR)))
    raise _no_function(name, types)
