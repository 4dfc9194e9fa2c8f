"""Building a system relation's rows: the builder registry, and rows to the Arrow IPC a BatchArrow carries.

A builder returns the relation's rows as dicts keyed by column name; a
column a row leaves out is NULL. Relations without a builder are empty.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyarrow as pa

from common.catalog import Relation
from common.errors import InternalError
from frontend.catalog.snapshot import CatalogSnapshot

Row = dict[str, Any]
Builder = Callable[[CatalogSnapshot], list[Row]]

BUILDERS: dict[tuple[str, str], Builder] = {}


def builder(schema: str, *names: str) -> Callable[[Builder], Builder]:
    """Register the builder of one or more system relations."""

    def register(fn: Builder) -> Builder:
        for name in names:
            BUILDERS[(schema, name)] = fn
        return fn

    return register


def rows_table(relation: Relation, rows: list[Row]) -> pa.Table:
    columns = []
    for c in relation.columns:
        try:
            columns.append(pa.array([r.get(c.name) for r in rows], c.type.arrow))
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError) as e:
            raise InternalError(f"system relation {relation.schema_name}.{relation.name} column {c.name}: {e}") from e
    return pa.Table.from_arrays(columns, names=[f"c{i}" for i in range(len(columns))])


def build_rows(relation: Relation, snapshot: CatalogSnapshot) -> pa.Table:
    build = BUILDERS.get((relation.schema_name, relation.name))
    rows = build(snapshot) if build is not None else []
    return rows_table(relation, rows)


def to_ipc(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()
