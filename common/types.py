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

The system catalogs add PostgreSQL's internal types: OID and the reg*
aliases of it (an int; a reg* value prints as the name of the object it
identifies), NAME, "char" and JSON (str), VOID (the empty string), arrays
of any type (a list; `DataType.element` is the element type), INT2VECTOR
and OIDVECTOR (lists whose subscripts start at 0), and anonymous RECORDs
with named fields (a dict). Tables and views users create keep to the
types above the line; the streaming side refuses the others.
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
    # System catalog types.
    OID = "oid"
    REGCLASS = "regclass"
    REGTYPE = "regtype"
    REGPROC = "regproc"
    REGNAMESPACE = "regnamespace"
    REGROLE = "regrole"
    NAME = "name"
    CHAR = '"char"'
    JSON = "json"
    VOID = "void"
    INT2VECTOR = "int2vector"
    OIDVECTOR = "oidvector"
    ARRAY = "array"
    RECORD = "record"


# name -> (oid, typlen, short name used by psql and pg_type.typname, oid of its array type)
_PG_INFO: dict[TypeName, tuple[int, int, str, int]] = {
    TypeName.SMALLINT: (21, 2, "int2", 1005),
    TypeName.INTEGER: (23, 4, "int4", 1007),
    TypeName.BIGINT: (20, 8, "int8", 1016),
    TypeName.REAL: (700, 4, "float4", 1021),
    TypeName.DOUBLE: (701, 8, "float8", 1022),
    TypeName.NUMERIC: (1700, -1, "numeric", 1231),
    TypeName.BOOLEAN: (16, 1, "bool", 1000),
    # An array of strings is text[] (what array literals and catalog arrays are), not varchar[].
    TypeName.VARCHAR: (1043, -1, "varchar", 1009),
    TypeName.DATE: (1082, 4, "date", 1182),
    TypeName.TIMESTAMP: (1114, 8, "timestamp", 1115),
    TypeName.TIMESTAMPTZ: (1184, 8, "timestamptz", 1185),
    TypeName.INTERVAL: (1186, 16, "interval", 1187),
    TypeName.OID: (26, 4, "oid", 1028),
    TypeName.REGCLASS: (2205, 4, "regclass", 2210),
    TypeName.REGTYPE: (2206, 4, "regtype", 2211),
    TypeName.REGPROC: (24, 4, "regproc", 1008),
    TypeName.REGNAMESPACE: (4089, 4, "regnamespace", 4090),
    TypeName.REGROLE: (4096, 4, "regrole", 4097),
    TypeName.NAME: (19, 64, "name", 1003),
    TypeName.CHAR: (18, 1, "char", 1002),
    TypeName.JSON: (114, -1, "json", 199),
    TypeName.VOID: (2278, 4, "void", 0),
    TypeName.INT2VECTOR: (22, -1, "int2vector", 1006),
    TypeName.OIDVECTOR: (30, -1, "oidvector", 1013),
    TypeName.RECORD: (2249, -1, "record", 2287),
}

_INTEGER_RANK = {TypeName.SMALLINT: 0, TypeName.INTEGER: 1, TypeName.BIGINT: 2}

OID_TYPES = frozenset({TypeName.OID, TypeName.REGCLASS, TypeName.REGTYPE, TypeName.REGPROC, TypeName.REGNAMESPACE,
                       TypeName.REGROLE})
"""The types whose values are object identifiers (an int64 column)."""

REG_TYPES = OID_TYPES - {TypeName.OID}
"""The OID aliases that print the name of the object they identify."""

STRING_TYPES = frozenset({TypeName.VARCHAR, TypeName.NAME, TypeName.CHAR, TypeName.JSON})
"""The types held as an Arrow string column."""

LIST_TYPES = frozenset({TypeName.ARRAY, TypeName.INT2VECTOR, TypeName.OIDVECTOR})
"""The types held as an Arrow list column."""


@dataclass(frozen=True, slots=True)
class DataType:
    """A SQL type. `precision`/`scale` are set only for NUMERIC(p, s), `element` for arrays, `fields` for records."""

    name: TypeName
    precision: int | None = None
    scale: int | None = None
    element: DataType | None = None
    fields: tuple[tuple[str, DataType], ...] = ()

    @property
    def arrow(self) -> pa.DataType:
        return _to_arrow(self)

    @property
    def oid(self) -> int:
        if self.name is TypeName.ARRAY:
            assert self.element is not None
            return self.element.array_oid
        return _PG_INFO[self.name][0]

    @property
    def array_oid(self) -> int:
        """The OID of the array type of this type (0 if it has none)."""
        if self.name is TypeName.ARRAY:
            return 0
        return _PG_INFO[self.name][3]

    @property
    def typlen(self) -> int:
        if self.name is TypeName.ARRAY:
            return -1
        return _PG_INFO[self.name][1]

    @property
    def typname(self) -> str:
        if self.name is TypeName.ARRAY:
            assert self.element is not None
            return "_text" if self.element.name is TypeName.VARCHAR else "_" + self.element.typname
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
    def is_oid(self) -> bool:
        """OID or one of its reg* aliases."""
        return self.name in OID_TYPES

    @property
    def is_string(self) -> bool:
        return self.name in STRING_TYPES

    @property
    def is_list(self) -> bool:
        """An array or one of the vector types: a list column that subscripts, unnest and ANY read."""
        return self.name in LIST_TYPES

    @property
    def item(self) -> DataType:
        """The element type of an array or vector type."""
        if self.name is TypeName.INT2VECTOR:
            return SMALLINT
        if self.name is TypeName.OIDVECTOR:
            return OID
        assert self.element is not None, f"{self} has no elements"
        return self.element

    @property
    def lower_bound(self) -> int:
        """The first subscript: 1 for arrays, 0 for int2vector and oidvector (as PostgreSQL stores them)."""
        return 0 if self.name in (TypeName.INT2VECTOR, TypeName.OIDVECTOR) else 1

    @property
    def is_catalog_only(self) -> bool:
        """A type only system catalogs and ad-hoc queries use (not storable in tables, not streamable)."""
        return self.name not in _ARROW

    @property
    def effective_scale(self) -> int:
        """Fractional digits a NUMERIC of this type stores."""
        return NUMERIC_DEFAULT_SCALE if self.scale is None else self.scale

    def display(self) -> str:
        """The name `format_type` and `DESCRIBE` show."""
        if self.name is TypeName.NUMERIC and self.precision is not None:
            return f"numeric({self.precision},{self.scale or 0})"
        if self.name is TypeName.ARRAY:
            assert self.element is not None
            return self.element.display() + "[]"
        return self.name.value

    def __str__(self) -> str:
        return self.display()


def _to_arrow(t: DataType) -> pa.DataType:
    n = t.name
    if n is TypeName.NUMERIC:
        precision = NUMERIC_MAX_PRECISION if t.precision is None else t.precision
        return pa.decimal128(precision, t.effective_scale)
    if n in LIST_TYPES:
        return pa.list_(t.item.arrow)
    if n is TypeName.RECORD:
        return pa.struct([pa.field(name, ft.arrow) for name, ft in t.fields])
    if n in OID_TYPES:
        return pa.int64()
    if n in STRING_TYPES or n is TypeName.VOID:
        return pa.string()
    return _ARROW[n]


_ARROW: dict[TypeName, pa.DataType] = {
    TypeName.SMALLINT: pa.int16(),
    TypeName.INTEGER: pa.int32(),
    TypeName.BIGINT: pa.int64(),
    TypeName.REAL: pa.float32(),
    TypeName.DOUBLE: pa.float64(),
    TypeName.NUMERIC: pa.decimal128(NUMERIC_MAX_PRECISION, NUMERIC_DEFAULT_SCALE),
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

OID = DataType(TypeName.OID)
REGCLASS = DataType(TypeName.REGCLASS)
REGTYPE = DataType(TypeName.REGTYPE)
REGPROC = DataType(TypeName.REGPROC)
REGNAMESPACE = DataType(TypeName.REGNAMESPACE)
REGROLE = DataType(TypeName.REGROLE)
NAME = DataType(TypeName.NAME)
CHAR = DataType(TypeName.CHAR)
JSON = DataType(TypeName.JSON)
VOID = DataType(TypeName.VOID)
INT2VECTOR = DataType(TypeName.INT2VECTOR)
OIDVECTOR = DataType(TypeName.OIDVECTOR)


def array_of(element: DataType) -> DataType:
    """The array type of `element` (arrays of arrays are not supported)."""
    return DataType(TypeName.ARRAY, element=element)


def record_of(fields: tuple[tuple[str, DataType], ...]) -> DataType:
    return DataType(TypeName.RECORD, fields=fields)


TEXT_ARRAY = array_of(VARCHAR)
OID_ARRAY = array_of(OID)

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

# System catalog type names; `"char"` (quoted) is the one-byte internal type, `char` is character(1).
CATALOG_TYPE_ALIASES: dict[str, DataType] = {
    "oid": OID,
    "regclass": REGCLASS,
    "regtype": REGTYPE,
    "regproc": REGPROC,
    "regprocedure": REGPROC,
    "regnamespace": REGNAMESPACE,
    "regrole": REGROLE,
    "name": NAME,
    '"char"': CHAR,
    "json": JSON,
    "void": VOID,
    "int2vector": INT2VECTOR,
    "oidvector": OIDVECTOR,
    "record": DataType(TypeName.RECORD),
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
"""The types a table column can have."""

CATALOG_TYPES: tuple[DataType, ...] = (OID, REGCLASS, REGTYPE, REGPROC, REGNAMESPACE, REGROLE, NAME, CHAR, JSON,
                                       VOID, INT2VECTOR, OIDVECTOR)
"""The system catalogs' own scalar types."""

ARRAY_ELEMENT_TYPES: tuple[DataType, ...] = (*ALL_TYPES, OID, REGTYPE, NAME, CHAR, JSON, REGPROC, REGCLASS)
"""The element types of the array types Eddy knows by OID."""

BY_OID: dict[int, DataType] = {t.oid: t for t in (*ALL_TYPES, *CATALOG_TYPES)}
BY_OID.update({t.array_oid: array_of(t) for t in ARRAY_ELEMENT_TYPES})
BY_OID[25] = VARCHAR  # text
BY_OID[1042] = VARCHAR  # bpchar
BY_OID[1015] = TEXT_ARRAY  # varchar[]
BY_OID[1014] = TEXT_ARRAY  # bpchar[]


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
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return array_of(from_arrow(t.value_type))
    if pa.types.is_struct(t):
        return record_of(tuple((f.name, from_arrow(f.type)) for f in t))
    for name, at in _ARROW.items():
        if at == t:
            return DataType(name)
    raise TypeError(f"no SQL type for arrow type {t}")
