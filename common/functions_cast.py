"""Which casts PostgreSQL allows between Eddy's types, and in which contexts, plus type categories.

These are the rows of PostgreSQL's pg_cast restricted to Eddy's types,
with PostgreSQL's rule that every type converts to and from text through
its I/O functions (to text in assignment, from text only explicitly).
Type categories and preferred types drive overload resolution and
`common_type`, exactly as pg_type.typcategory / typispreferred do.
"""

from __future__ import annotations

import enum

from common.errors import CannotCoerce
from common.types import DataType, TypeName

T = TypeName


class Category(enum.Enum):
    NUMERIC = "N"
    STRING = "S"
    BOOLEAN = "B"
    DATETIME = "D"
    TIMESPAN = "T"
    PSEUDO = "P"
    ARRAY = "A"
    USER = "U"
    INTERNAL = "Z"


CATEGORY: dict[TypeName, Category] = {
    T.SMALLINT: Category.NUMERIC, T.INTEGER: Category.NUMERIC, T.BIGINT: Category.NUMERIC,
    T.NUMERIC: Category.NUMERIC, T.REAL: Category.NUMERIC, T.DOUBLE: Category.NUMERIC,
    T.VARCHAR: Category.STRING, T.BOOLEAN: Category.BOOLEAN,
    T.DATE: Category.DATETIME, T.TIMESTAMP: Category.DATETIME, T.TIMESTAMPTZ: Category.DATETIME,
    T.INTERVAL: Category.TIMESPAN,
    T.OID: Category.NUMERIC, T.REGCLASS: Category.NUMERIC, T.REGTYPE: Category.NUMERIC,
    T.REGPROC: Category.NUMERIC, T.REGNAMESPACE: Category.NUMERIC, T.REGROLE: Category.NUMERIC,
    T.NAME: Category.STRING, T.CHAR: Category.INTERNAL, T.JSON: Category.USER, T.VOID: Category.PSEUDO,
    T.INT2VECTOR: Category.ARRAY, T.OIDVECTOR: Category.ARRAY, T.ARRAY: Category.ARRAY,
    T.RECORD: Category.PSEUDO,
}

# VARCHAR plays the part of text, the preferred string type.
PREFERRED = {T.DOUBLE, T.VARCHAR, T.BOOLEAN, T.TIMESTAMPTZ, T.INTERVAL, T.OID}

_REGS = {T.REGCLASS, T.REGTYPE, T.REGPROC, T.REGNAMESPACE, T.REGROLE}
_OIDS = {T.OID, *_REGS}

_IMPLICIT: dict[TypeName, set[TypeName]] = {
    T.SMALLINT: {T.INTEGER, T.BIGINT, T.NUMERIC, T.REAL, T.DOUBLE, *_OIDS},
    T.INTEGER: {T.BIGINT, T.NUMERIC, T.REAL, T.DOUBLE, *_OIDS},
    T.BIGINT: {T.NUMERIC, T.REAL, T.DOUBLE, *_OIDS},
    T.NUMERIC: {T.REAL, T.DOUBLE},
    T.REAL: {T.DOUBLE},
    T.DATE: {T.TIMESTAMP, T.TIMESTAMPTZ},
    T.TIMESTAMP: {T.TIMESTAMPTZ},
    T.OID: set(_REGS),
    **{r: {T.OID} for r in _REGS},
    T.VARCHAR: {T.NAME, T.REGCLASS},
    T.NAME: {T.VARCHAR},
    T.CHAR: {T.VARCHAR},
}

_ASSIGNMENT: dict[TypeName, set[TypeName]] = {
    T.INTEGER: {T.SMALLINT},
    T.BIGINT: {T.SMALLINT, T.INTEGER},
    T.NUMERIC: {T.SMALLINT, T.INTEGER, T.BIGINT},
    T.REAL: {T.SMALLINT, T.INTEGER, T.BIGINT, T.NUMERIC},
    T.DOUBLE: {T.SMALLINT, T.INTEGER, T.BIGINT, T.NUMERIC, T.REAL},
    T.TIMESTAMP: {T.DATE},
    T.TIMESTAMPTZ: {T.DATE, T.TIMESTAMP},
    **{o: {T.INTEGER, T.BIGINT} for o in _OIDS},
    T.VARCHAR: {T.CHAR},
}

_EXPLICIT: dict[TypeName, set[TypeName]] = {
    T.INTEGER: {T.BOOLEAN, T.CHAR},
    T.BOOLEAN: {T.INTEGER},
    T.CHAR: {T.INTEGER},
    T.INT2VECTOR: {T.ARRAY},
    T.OIDVECTOR: {T.ARRAY},
}


def can_cast(src: DataType, dst: DataType, *, implicit: bool) -> bool:
    """Whether PostgreSQL converts `src` to `dst` implicitly (implicit=True) or with an explicit CAST."""
    if src.name is dst.name:
        if src.name is T.ARRAY:
            assert src.element is not None and dst.element is not None
            return can_cast(src.element, dst.element, implicit=implicit)
        return True
    if dst.name in _IMPLICIT.get(src.name, ()):
        return True
    if implicit:
        return False
    if dst.name is T.VARCHAR or src.name is T.VARCHAR:
        return src.name is not T.VOID and dst.name is not T.VOID
    return dst.name in _ASSIGNMENT.get(src.name, ()) or dst.name in _EXPLICIT.get(src.name, ())


def can_assign(src: DataType, dst: DataType) -> bool:
    """Whether INSERT/UPDATE may store a `src` value in a `dst` column (PostgreSQL's assignment casts)."""
    if can_cast(src, dst, implicit=True):
        return True
    return dst.name is T.VARCHAR or dst.name in _ASSIGNMENT.get(src.name, ())


def cast_is_allowed(src: DataType, dst: DataType) -> None:
    """Raise CannotCoerce (42846) for an explicit cast PostgreSQL refuses."""
    if not can_cast(src, dst, implicit=False):
        raise CannotCoerce(f"cannot cast type {src.display()} to {dst.display()}")


def is_preferred(t: TypeName) -> bool:
    return t in PREFERRED
