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
}


def bind_type(dt: exp.DataType) -> DataType:
    kind = dt.this
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
        name = dt.args.get("kind") or dt.sql("postgres")
        alias = t.TYPE_ALIASES.get(str(name).lower())
        if alias is not None:
            return alias
        raise UndefinedObject(f'type "{str(name).lower()}" does not exist')
    found = _BY_SQLGLOT.get(kind)
    if found is None:
        raise FeatureNotSupported(f"type {dt.sql('postgres').lower()} is not supported")
    return found
