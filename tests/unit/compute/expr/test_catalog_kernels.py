"""Kernels of array functions and catalog functions, a column at a time."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest

from common.errors import InvalidRegularExpression, UndefinedTable
from common.expr import Expr, FuncCall, InputRef, Literal
from common.functions_system import system_relation_oid
from common.types import BOOLEAN, INT2VECTOR, INTEGER, OID, REGCLASS, TEXT_ARRAY, VARCHAR, array_of
from compute.expr import evaluate

INTS = array_of(INTEGER)


def run(e: Expr, *columns: pa.Array) -> list[object]:
    batch = pa.RecordBatch.from_arrays(list(columns) or [pa.nulls(1)], [f"c{i}" for i in range(max(1, len(columns)))])
    return evaluate(e, batch).to_pylist()


def col(i: int, t: object) -> InputRef:
    return InputRef(i, t)  # type: ignore[arg-type]


def test_subscripts_follow_each_types_lower_bound() -> None:
    arrays = pa.array([[10, 20], [], None, [30]], INTS.arrow)
    index = pa.array([2, 1, 1, None], pa.int32())
    assert run(FuncCall("subscript", (col(0, INTS), col(1, INTEGER)), INTEGER), arrays, index) == [20, None, None,
                                                                                                   None]
    vectors = pa.array([[5, 6]], INT2VECTOR.arrow)
    zero = FuncCall("subscript", (col(0, INT2VECTOR), Literal(0, INTEGER)), INTEGER)
    upper = FuncCall("array_upper", (col(0, INT2VECTOR), Literal(1, INTEGER)), INTEGER)
    assert (run(zero, vectors), run(upper, vectors)) == ([5], [1])


def test_quantified_comparisons_with_nulls() -> None:
    arrays = pa.array([[1, 2], [1, None], [], None, [None]], INTS.arrow)
    probe = pa.array([2, 3, 1, 1, 1], pa.int32())
    any_eq = FuncCall("any_equal", (col(1, INTEGER), col(0, INTS)), BOOLEAN)
    all_ne = FuncCall("all_not_equal", (col(1, INTEGER), col(0, INTS)), BOOLEAN)
    assert run(any_eq, arrays, probe) == [True, None, False, None, None]
    assert run(all_ne, arrays, probe) == [False, None, True, None, None]


def test_array_position_and_concatenation() -> None:
    arrays = pa.array([[3, 1, 3], [4], None], INTS.arrow)
    assert run(FuncCall("array_position", (col(0, INTS), Literal(3, INTEGER)), INTEGER), arrays) == [1, None, None]
    cat = FuncCall("array_cat", (col(0, INTS), col(0, INTS)), INTS)
    assert run(cat, arrays) == [[3, 1, 3, 3, 1, 3], [4, 4], None]


def test_regular_expressions() -> None:
    names = pa.array(["pg_class", "orders", None, "PG_x"])
    match = FuncCall("regex_match", (col(0, VARCHAR), Literal("^pg_", VARCHAR)), BOOLEAN)
    imatch = FuncCall("not_regex_imatch", (col(0, VARCHAR), Literal("^pg_", VARCHAR)), BOOLEAN)
    assert run(match, names) == [True, False, None, False]
    assert run(imatch, names) == [False, True, None, False]
    with pytest.raises(InvalidRegularExpression):
        run(FuncCall("regex_match", (col(0, VARCHAR), Literal("(", VARCHAR)), BOOLEAN), names)


def test_identifiers() -> None:
    names = pa.array(["abc", "Abc", "select", "a b", 'q"t'])
    assert run(FuncCall("quote_ident", (col(0, VARCHAR),), VARCHAR), names) == ["abc", '"Abc"', '"select"', '"a b"',
                                                                               '"q""t"']
    parsed = FuncCall("parse_ident", (Literal('Public."My Table"', VARCHAR),), TEXT_ARRAY)
    assert run(parsed) == [["public", "My Table"]]


def test_catalog_lookups_read_the_table_the_binder_attached() -> None:
    table = json.dumps({"public.orders": "16384", "orders": "16384"})
    oids = FuncCall("to_regclass", (col(0, VARCHAR), Literal(table, VARCHAR)), REGCLASS)
    assert run(oids, pa.array(["orders", '"orders"', "Public.Orders", "nope"])) == [16384, 16384, 16384, None]
    strict = FuncCall("regclass_in", (col(0, VARCHAR), Literal(table, VARCHAR)), REGCLASS)
    with pytest.raises(UndefinedTable, match='relation "nope" does not exist'):
        run(strict, pa.array(["orders", "nope"]))
    users = FuncCall("pg_get_userbyid", (col(0, OID), Literal(json.dumps({"10": "root"}), VARCHAR)), VARCHAR)
    assert run(users, pa.array([10, 11], pa.int64())) == ["root", "unknown (OID=11)"]


def test_format_type_and_visibility() -> None:
    oids = pa.array([23, 1700, 1043, 1007, 999999, None], pa.int64())
    typmods = pa.array([-1, (10 << 16 | 2) + 4, 20 + 4, -1, -1, -1], pa.int32())
    shown = FuncCall("format_type", (col(0, OID), col(1, INTEGER)), VARCHAR)
    assert run(shown, oids, typmods) == ["integer", "numeric(10,2)", "character varying(20)", "integer[]", "???",
                                         None]
    visible = FuncCall("pg_table_is_visible", (col(0, OID),), BOOLEAN)
    pg_catalog, info_schema = system_relation_oid("pg_catalog", 3), system_relation_oid("information_schema", 3)
    assert run(visible, pa.array([16384, pg_catalog, info_schema], pa.int64())) == [True, True, False]
