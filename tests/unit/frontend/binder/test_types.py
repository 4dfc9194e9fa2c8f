"""Type names: catalog types (oid, reg*, name, "char", arrays) in expressions, refused as table column types."""

from __future__ import annotations

import pytest
from sqlglot import exp

from common.errors import FeatureNotSupported, UndefinedObject
from common.types import CHAR, NAME, OID, OID_ARRAY, REGCLASS, TEXT_ARRAY, VARCHAR, array_of
from common.types import INTEGER as INT
from frontend.binder.types import bind_type
from frontend.sql.parser import parse_one


def cast_type(sql_type: str) -> exp.DataType:
    tree = parse_one(f"SELECT x::{sql_type}")
    cast = tree.expressions[0]
    assert isinstance(cast, exp.Cast)
    return cast.args["to"]


@pytest.mark.parametrize(("name", "expected"), [
    ("oid", OID), ("pg_catalog.regclass", REGCLASS), ("name", NAME), ('"char"', CHAR), ("char", VARCHAR),
    ("text[]", TEXT_ARRAY), ("oid[]", OID_ARRAY), ("pg_catalog.int4[]", array_of(INT)), ("pg_catalog.text", VARCHAR),
])
def test_catalog_type_names(name: str, expected: object) -> None:
    assert bind_type(cast_type(name), catalog=True) == expected


def test_tables_keep_to_storable_types() -> None:
    assert bind_type(cast_type("pg_catalog.int4")) == INT
    for name in ("oid", "regclass", "int[]", "name"):
        with pytest.raises(FeatureNotSupported, match="not supported for table columns"):
            bind_type(cast_type(name))


def test_unknown_types() -> None:
    with pytest.raises(UndefinedObject, match='type "no_such_type" does not exist'):
        bind_type(cast_type("no_such_type"), catalog=True)
    with pytest.raises(UndefinedObject):
        bind_type(cast_type("myschema.mytype"), catalog=True)
