"""SQL data types: their Arrow representation, PostgreSQL OIDs and names.

Every value Eddy handles has one of these types. A column of a chunk is an
Arrow array of `DataType.arrow`; the wire layer reports `DataType.oid`.
Python values of each type (in literals, rows read from state tables and
parameters) are the ones `pyarrow.Array.to_pylist()` returns:

    SMALLINT/INTEGER/BIGINT -> int        REAL/DOUBLE -> float
    NUMERIC -> decimal.Decimal            BOOLEAN -> bool
    VARCHAR -> str                        DATE -> datetime.date
    TIMESTAMP -> naive datetime.datetime  TIMESTAMPTZ -> aware datetime (UTC)
    INTERVAL -> pyarrow.MonthDayNano
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import pyarrow as pa

# Unconstrained NUMERIC keeps this many fractional digits; values are shown
# without trailing zeros.
NUMERIC_DEFAULT_SCALE = 10
NUMERIC_MAX_PRECISION = 38


class TypeName(enum.Enum):
    """The closed set of SQL types; the value is PostgreSQL's format_type name."""

    SMALLINT = "smallint"
    INTEGER = "integer"
    BIGINT = "bigint"
    REAL = "real"
    DOUBLE = "double precision"
    NUMERIC = "numeric"
    BOOLEAN = "boolean"
    VARCHAR = "character varying"
    DATE = "date"
    TIMESTAMP = "timestamp without time zone"
    TIMESTAMPTZ = "timestamp with time zone"
    INTERVAL = "interval"


# name -> (oid, typlen, short name used by psql and pg_type.typname)
_PG_INFO: dict[TypeName, tuple[int, int, str]] = {
    TypeName.SMALLINT: (21, 2, "int2"),
    TypeName.INTEGER: (23, 4, "int4"),
    TypeName.BIGINT: (20, 8, "int8"),
    TypeName.REAL: (700, 4, "float4"),
    TypeName.DOUBLE: (701, 8, "float8"),
    TypeName.NUMERIC: (1700, -1, "numeric"),
    TypeName.BOOLEAN: (16, 1, "bool"),
    TypeName.VARCHAR: (1043, -1, "varchar"),
    TypeName.DATE: (1082, 4, "date"),
    TypeName.TIMESTAMP: (1114, 8, "timestamp"),
    TypeName.TIMESTAMPTZ: (1184, 8, "timestamptz"),
    TypeName.INTERVAL: (1186, 16, "interval"),
}

_INTEGER_RANK = {TypeName.SMALLINT: 0, TypeName.INTEGER: 1, TypeName.BIGINT: 2}


@dataclass(frozen=True, slots=True)
class DataType:
    """A SQL type. `precision`/`scale` are set only for NUMERIC(p, s)."""

    name: TypeName
    precision: int | None = None
    scale: int | None = None

    @property
    def arrow(self) -> pa.DataType:
        return _to_arrow(self)

    @property
    def oid(self) -> int:
        return _PG_INFO[self.name][0]

    @property
    def typlen(self) -> int:
        return _PG_INFO[self.name][1]

    @property
    def typname(self) -> str:
        return _PG_INFO[self.name][2]

    @property
    def typmod(self) -> int:
        """PostgreSQL's atttypmod: -1 unless NUMERIC(p, s)."""
        if self.name is TypeName.NUMERIC and self.precision is not None:
            return ((self.precision << 16) | (self.scale or 0)) + 4
        return -1

    @property
    def is_integer(self) -> bool:
        return self.name in _INTEGER_RANK

    @property
    def is_float(self) -> bool:
        return self.name in (TypeName.REAL, TypeName.DOUBLE)

    @property
    def is_numeric(self) -> bool:
        """Any number: integers, floats and NUMERIC."""
        return self.is_integer or self.is_float or self.name is TypeName.NUMERIC

    @property
    def is_temporal(self) -> bool:
        return self.name in (TypeName.DATE, TypeName.TIMESTAMP, TypeName.TIMESTAMPTZ)

    @property
    def effective_scale(self) -> int:
        """Fractional digits a NUMERIC of this type stores."""
        return NUMERIC_DEFAULT_SCALE if self.scale is None else self.scale

    def display(self) -> str:
        """The name `format_type` and `DESCRIBE` show."""
        if self.name is TypeName.NUMERIC and self.precision is not None:
            return f"numeric({self.precision},{self.scale or 0})"
        return self.name.value

    def __str__(self) -> str:
        return self.display()


def _to_arrow(t: DataType) -> pa.DataType:
    n = t.name
    if n is TypeName.NUMERIC:
        precision = NUMERIC_MAX_PRECISION if t.precision is None else t.precision
        return pa.decimal128(precision, t.effective_scale)
    return _ARROW[n]


_ARROW: dict[TypeName, pa.DataType] = {
    TypeName.SMALLINT: pa.int16(),
    TypeName.INTEGER: pa.int32(),
    TypeName.BIGINT: pa.int64(),
    TypeName.REAL: pa.float32(),
    TypeName.DOUBLE: pa.float64(),
    TypeName.BOOLEAN: pa.bool_(),
    TypeName.VARCHAR: pa.string(),
    TypeName.DATE: pa.date32(),
    TypeName.TIMESTAMP: pa.timestamp("us"),
    TypeName.TIMESTAMPTZ: pa.timestamp("us", tz="UTC"),
    TypeName.INTERVAL: pa.month_day_nano_interval(),
}

SMALLINT = DataType(TypeName.SMALLINT)
INTEGER = DataType(TypeName.INTEGER)
BIGINT = DataType(TypeName.BIGINT)
REAL = DataType(TypeName.REAL)
DOUBLE = DataType(TypeName.DOUBLE)
NUMERIC = DataType(TypeName.NUMERIC)
BOOLEAN = DataType(TypeName.BOOLEAN)
VARCHAR = DataType(TypeName.VARCHAR)
DATE = DataType(TypeName.DATE)
TIMESTAMP = DataType(TypeName.TIMESTAMP)
TIMESTAMPTZ = DataType(TypeName.TIMESTAMPTZ)
INTERVAL = DataType(TypeName.INTERVAL)

# Type names as users write them (after lower-casing), including aliases.
TYPE_ALIASES: dict[str, DataType] = {
    "smallint": SMALLINT,
    "int2": SMALLINT,
    "integer": INTEGER,
    "int": INTEGER,
    "int4": INTEGER,
    "bigint": BIGINT,
    "int8": BIGINT,
    "real": REAL,
    "float4": REAL,
    "double precision": DOUBLE,
    "double": DOUBLE,
    "float8": DOUBLE,
    "float": DOUBLE,
    "numeric": NUMERIC,
    "decimal": NUMERIC,
    "boolean": BOOLEAN,
    "bool": BOOLEAN,
    "varchar": VARCHAR,
    "character varying": VARCHAR,
    "text": VARCHAR,
    "string": VARCHAR,
    "char": VARCHAR,
    "character": VARCHAR,
    "bpchar": VARCHAR,
    "date": DATE,
    "timestamp": TIMESTAMP,
    "timestamp without time zone": TIMESTAMP,
    "timestamptz": TIMESTAMPTZ,
    "timestamp with time zone": TIMESTAMPTZ,
    "interval": INTERVAL,
}

ALL_TYPES: tuple[DataType, ...] = (
    SMALLINT,
    INTEGER,
    BIGINT,
    REAL,
    DOUBLE,
    NUMERIC,
    BOOLEAN,
    VARCHAR,
    DATE,
    TIMESTAMP,
    TIMESTAMPTZ,
    INTERVAL,
)

BY_OID: dict[int, DataType] = {t.oid: t for t in ALL_TYPES}
BY_OID[25] = VARCHAR  # text
BY_OID[1042] = VARCHAR  # bpchar


def numeric(precision: int | None = None, scale: int | None = None) -> DataType:
    if precision is None:
        return NUMERIC
    return DataType(TypeName.NUMERIC, precision, 0 if scale is None else scale)


def integer_supertype(a: DataType, b: DataType) -> DataType:
    """The wider of two integer types (PostgreSQL promotes int2 < int4 < int8)."""
    return a if _INTEGER_RANK[a.name] >= _INTEGER_RANK[b.name] else b


def from_arrow(t: pa.DataType) -> DataType:
    """The SQL type of an Arrow type Eddy produces."""
    if pa.types.is_decimal(t):
        return NUMERIC if t.scale == NUMERIC_DEFAULT_SCALE and t.precision == 38 else numeric(t.precision, t.scale)
    if pa.types.is_timestamp(t):
        return TIMESTAMPTZ if t.tz is not None else TIMESTAMP
    if pa.types.is_large_string(t):
        return VARCHAR
    for name, at in _ARROW.items():
        if at == t:
            return DataType(name)
    raise TypeError(f"no SQL type for arrow type {t}")
