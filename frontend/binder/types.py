"""Type names in SQL (as sqlglot parses them) to Eddy's DataType."""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from common import types as t
from common.errors import FeatureNotSupported, UndefinedObject
from common.types import DataType

_BY_SQLGLOT: dict[Any, DataType] = {
    exp.DataType.Type.SMALLINT: t.SMALLINT,
    exp.DataType.Type.INT: t.INTEGER,
    exp.DataType.Type.BIGINT: t.BIGINT,
    exp.DataType.Type.FLOAT: t.REAL,
    exp.DataType.Type.DOUBLE: t.DOUBLE,
    exp.DataType.Type.BOOLEAN: t.BOOLEAN,
    exp.DataType.Type.VARCHAR: t.VARCHAR,
    exp.DataType.Type.NVARCHAR: t.VARCHAR,
    exp.DataType.Type.TEXT: t.VARCHAR,
    exp.DataType.Type.CHAR: t.VARCHAR,
    exp.DataType.Type.NCHAR: t.VARCHAR,
    exp.DataType.Type.BPCHAR: t.VARCHAR,
    exp.DataType.Type.DATE: t.DATE,
    exp.DataType.Type.TIMESTAMP: t.TIMESTAMP,
    exp.DataType.Type.TIMESTAMPNTZ: t.TIMESTAMP,
    exp.DataType.Type.TIMESTAMPTZ: t.TIMESTAMPTZ,
    exp.DataType.Type.TIMESTAMPLTZ: t.TIMESTAMPTZ,
    exp.DataType.Type.INTERVAL: t.INTERVAL,
    exp.DataType.Type.NAME: t.NAME,
    exp.DataType.Type.JSON: t.JSON,
}


def bind_type(dt: exp.DataType, *, catalog: bool = False) -> DataType:
    """The type a SQL type name denotes. The system catalogs' own types (oid, regclass, arrays, ...) are
    accepted only with `catalog` (in expressions); a table column cannot have them (0A000)."""
    t = _bind(dt)
    if t.is_catalog_only and not catalog:
        raise FeatureNotSupported(f"type {t.display()} is not supported for table columns",
                                  hint="Catalog types (oid, reg*, name, arrays, ...) can be used in queries only.")
    return t


def _bind(dt: exp.DataType) -> DataType:
    if isinstance(dt, exp.ObjectIdentifier):
        return t.CATALOG_TYPE_ALIASES[str(dt.this).lower()] if str(dt.this).lower() in t.CATALOG_TYPE_ALIASES \
            else _unsupported(dt)
    kind = dt.this
    if kind is exp.DataType.Type.ARRAY:
        if len(dt.expressions) != 1:
            raise FeatureNotSupported(f"type {dt.sql('postgres').lower()} is not supported")
        element = _bind(dt.expressions[0])
        if element.is_list:
            raise FeatureNotSupported("arrays of arrays are not supported")
        return t.array_of(element)
    if kind in (exp.DataType.Type.DECIMAL, exp.DataType.Type.BIGDECIMAL):
        params = [int(p.this.this) if isinstance(p.this, exp.Literal) else int(p.name) for p in dt.expressions]
        if not params:
            return t.NUMERIC
        precision = params[0]
        scale = params[1] if len(params) > 1 else 0
        if not 1 <= precision <= t.NUMERIC_MAX_PRECISION:
            raise FeatureNotSupported(f"NUMERIC precision {precision} must be between 1 and {t.NUMERIC_MAX_PRECISION}")
        if not 0 <= scale <= precision:
            raise FeatureNotSupported(f"NUMERIC scale {scale} must be between 0 and precision {precision}")
        return t.numeric(precision, scale)
    if kind is exp.DataType.Type.USERDEFINED:
        return _named(dt.args.get("kind") or dt.sql("postgres"))
    found = _BY_SQLGLOT.get(kind)
    if found is None:
        return _unsupported(dt)
    return found


def _named(kind: object) -> DataType:
    """A type written as a name: `int4`, `"char"`, `pg_catalog.regclass`, `name`."""
    if isinstance(kind, exp.Dot):
        schema = kind.this.name.lower() if isinstance(kind.this, exp.Identifier) else ""
        if schema not in ("pg_catalog", "public", "information_schema"):
            raise UndefinedObject(f'type "{kind.sql("postgres").lower()}" does not exist')
        kind = kind.expression
    if isinstance(kind, exp.Identifier):
        name = f'"{kind.this}"' if kind.quoted and kind.this == "char" else (kind.this if kind.quoted
                                                                               else kind.this.lower())
    else:
        name = str(kind).lower()
    found = t.TYPE_ALIASES.get(name) or t.CATALOG_TYPE_ALIASES.get(name)
    if found is None:
        raise UndefinedObject(f'type "{name}" does not exist')
    return found


def _unsupported(dt: exp.Expression) -> DataType:
    raise FeatureNotSupported(f"type {dt.sql('postgres').lower()} is not supported")
