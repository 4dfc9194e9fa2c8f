"""Binary format of the catalog types (arrays, vectors, oids, records, reg* names), compared with PostgreSQL's bytes."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pyarrow as pa
import pytest

from common.pgtext import format_array
from common.types import (
    BOOLEAN,
    INT2VECTOR,
    INTEGER,
    OID_ARRAY,
    OIDVECTOR,
    REGCLASS,
    REGTYPE,
    TEXT_ARRAY,
    DataType,
    array_of,
    record_of,
)
from frontend.pgwire.binary import decode_binary, encode_binary_column
from tests.helpers.oracle import oracle_database

CASES: list[tuple[str, DataType, object]] = [
    ("SELECT ARRAY[1, 2, NULL]::int4[]", array_of(INTEGER), [1, 2, None]),
    ("SELECT '{}'::int4[]", array_of(INTEGER), []),
    ("SELECT '{a,\"b c\",NULL}'::text[]", TEXT_ARRAY, ["a", "b c", None]),
    ("SELECT ARRAY[true, false]", array_of(BOOLEAN), [True, False]),
    ("SELECT '{26,4294967295}'::oid[]", OID_ARRAY, [26, 4294967295]),
    ("SELECT '1 3'::int2vector", INT2VECTOR, [1, 3]),
    ("SELECT '23 25'::oidvector", OIDVECTOR, [23, 25]),
    ("SELECT 'int4'::regtype", REGTYPE, 23),
    ("SELECT ROW(1::int4, 'x'::text)", record_of((("a", INTEGER), ("b", TEXT_ARRAY.item))), {"a": 1, "b": "x"}),
]


@pytest.fixture(scope="module")
def pg() -> Iterator[psycopg.Connection]:
    with oracle_database("eddy_wire") as conn:
        yield conn


def _ours(value: object, t: DataType) -> bytes:
    cells = encode_binary_column(pa.array([value], t.arrow), t)
    return bytes(cells.payload[:cells.lengths[0]])


@pytest.mark.parametrize(("sql", "t", "value"), CASES, ids=[c[0] for c in CASES])
def test_binary_output_is_postgres_bytes(pg: psycopg.Connection, sql: str, t: DataType, value: object) -> None:
    cur = pg.cursor(binary=True)
    cur.execute(sql)
    assert cur.pgresult is not None
    theirs = bytes(cur.pgresult.get_value(0, 0) or b"")
    assert _ours(value, t) == theirs
    if t.is_list:
        assert decode_binary(theirs, t) == value


def test_null_rows_and_resolved_reg_names() -> None:
    t = array_of(INTEGER)
    cells = encode_binary_column(pa.array([[1], None, []], t.arrow), t)
    assert list(cells.lengths) == [28, -1, 12]
    # A regclass column the query handler resolved is (oid, name): the name in text, the OID in binary.
    resolved = pa.StructArray.from_arrays([pa.array([1259, 99]), pa.array(["pg_class", None])], ["oid", "name"])
    assert format_array(resolved, REGCLASS).to_pylist() == ["pg_class", "99"]
    binary = encode_binary_column(resolved, REGCLASS)
    assert bytes(binary.payload) == (1259).to_bytes(4, "big") + (99).to_bytes(4, "big")
