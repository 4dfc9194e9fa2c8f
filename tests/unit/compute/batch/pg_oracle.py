"""Loading rows into the PostgreSQL oracle (tests.helpers.oracle) and comparing its results with Eddy's."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Context, Decimal

import psycopg
import pyarrow as pa

from common.types import DataType, TypeName

_WIDE = Context(prec=80, rounding=ROUND_HALF_UP)

_PG_TYPE = {
    TypeName.SMALLINT: "int2", TypeName.INTEGER: "int4", TypeName.BIGINT: "int8", TypeName.REAL: "float4",
    TypeName.DOUBLE: "float8", TypeName.NUMERIC: "numeric", TypeName.BOOLEAN: "bool",
    TypeName.VARCHAR: "varchar", TypeName.DATE: "date", TypeName.TIMESTAMP: "timestamp",
    TypeName.TIMESTAMPTZ: "timestamptz", TypeName.INTERVAL: "interval",
}


def load(conn: psycopg.Connection, name: str, columns: Sequence[str], types: Sequence[DataType],
         rows: Sequence[Sequence[object]]) -> None:
    cols = ", ".join(f"{c} {_PG_TYPE[t.name]}" for c, t in zip(columns, types))
    conn.execute(f"CREATE TABLE {name} ({cols})")
    with conn.cursor() as cur, cur.copy(f"COPY {name} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([_to_pg(v) for v in row])


def _to_pg(v: object) -> object:
    if isinstance(v, pa.MonthDayNano):
        return f"{v.months} mons {v.days} days {v.nanoseconds // 1000} microseconds"
    return v


def normalize(v: object) -> object:
    """A value both sides agree on: floats to 9 significant digits, numerics to 10 places."""
    if isinstance(v, float):
        if math.isnan(v):
            return "NaN"
        return float(f"{v:.9g}") + 0.0
    if isinstance(v, Decimal):
        return v.quantize(Decimal("1e-10"), context=_WIDE)
    if isinstance(v, dt.datetime | dt.date | str | int | bool) or v is None:
        return v
    raise TypeError(f"cannot compare {type(v)}")


def normalize_rows(rows: Sequence[Sequence[object]]) -> list[tuple[object, ...]]:
    return [tuple(normalize(v) for v in r) for r in rows]


def as_multiset(rows: Sequence[Sequence[object]]) -> list[tuple[object, ...]]:
    return sorted(normalize_rows(rows), key=repr)
