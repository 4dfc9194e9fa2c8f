"""Running SQL through the binder, optimizer, batch planner and batch executors in one process.

A fake session (user, settings, a meta client holding relations) lets the
system catalogs and catalog functions work as they do in a server; user
tables are served from memory.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from common.catalog import ColumnDesc, OrderType, Relation, RelationKind, TableDesc
from common.cluster_status import ClusterStatus
from common.types import BIGINT, DataType
from common.user import UserInfo
from compute.batch import execute
from frontend.binder.expr import BindContext
from frontend.binder.query import QueryBinder
from frontend.catalog import is_system_schema, lookup_system
from frontend.handlers.query import with_object_names
from frontend.pgwire.session_api import ResultColumn
from frontend.planner.batch import to_batch
from frontend.planner.logical import LogicalNode
from frontend.planner.optimizer import optimize
from frontend.session_vars import SessionVariables
from frontend.sql.parser import parse_one
from tests.unit.compute.batch.batch_support import MemoryReader, make_ctx


@dataclass
class FakeMeta:
    tables: list[Relation] = field(default_factory=list)
    committed_epoch: int = 0
    recovery_count: int = 0
    status: ClusterStatus | None = None

    def relations(self) -> list[Relation]:
        return list(self.tables)

    def users(self) -> list[UserInfo]:
        return [UserInfo(10, "root", is_super=True), UserInfo(16500, "alice")]

    async def cluster_status(self) -> ClusterStatus:
        assert self.status is not None
        return self.status


@dataclass
class FakeSession:
    meta: FakeMeta
    user: str = "root"
    database: str = "dev"
    vars: SessionVariables = field(default_factory=SessionVariables)

    @property
    def process_id(self) -> int:
        return 4242


class Harness:
    def __init__(self) -> None:
        self.meta = FakeMeta()
        self.session = FakeSession(self.meta)
        self.reader = MemoryReader()
        self._next_id = 16384

    def add_table(self, name: str, columns: Sequence[tuple[str, DataType]], rows: Sequence[Sequence[object]] = (),
                  pk: Sequence[int] | None = None, kind: RelationKind = RelationKind.TABLE) -> Relation:
        rid = self._next_id
        self._next_id += 10
        cols = [ColumnDesc(n, t) for n, t in columns]
        row_id = None
        if pk is None:
            cols.append(ColumnDesc("_row_id", BIGINT, hidden=True))
            row_id = len(cols) - 1
            key: tuple[int, ...] = (row_id,)
            rows = [(*r, i) for i, r in enumerate(rows)]
        else:
            key = tuple(pk)
        desc = TableDesc(rid, tuple(cols), key, (OrderType.ASC,) * len(key), key)
        rel = Relation(rid, name, kind, desc, f"CREATE TABLE {name} (...)", row_id_index=row_id,
                       created_at_ms=1_700_000_000_000)
        self.meta.tables.append(rel)
        self.reader.add(desc, rows)
        return rel

    def lookup(self, name: str, schema: str | None) -> Relation | None:
        system = lookup_system(name, schema)
        if system is not None or is_system_schema(schema):
            return system
        return next((r for r in self.meta.tables if r.name == name and schema in (None, "public")), None)

    def bind(self, sql: str, params: Sequence[object] | None = None) -> tuple[LogicalNode, BindContext]:
        ctx = BindContext(param_types=[None] * len(params or ()), param_values=list(params) if params else None,
                          session=self.session)
        plan = QueryBinder(self.lookup, ctx).bind(parse_one(sql)).plan
        return plan, ctx

    def query(self, sql: str, params: Sequence[object] | None = None) -> tuple[list[str], list[tuple[object, ...]]]:
        return asyncio.run(self.aquery(sql, params))

    async def aquery(self, sql: str, params: Sequence[object] | None = None) -> tuple[list[str], list[tuple[
            object, ...]]]:
        tree = parse_one(sql)
        ctx = BindContext(param_types=[None] * len(params or ()), param_values=list(params) if params else None,
                          session=self.session)
        from frontend.handlers.query import reads_cluster_status

        if reads_cluster_status(tree):
            ctx.cluster = await self.meta.cluster_status()
        logical = optimize(QueryBinder(self.lookup, ctx).bind(tree).plan)
        columns = [ResultColumn(f.name, f.type) for f in logical.fields]
        batches = with_object_names(columns, execute(to_batch(logical), make_ctx(self.reader)), ctx)
        rows: list[tuple[object, ...]] = []
        async for b in batches:
            cols = [_names(c) for c in b.columns]
            rows.extend(zip(*cols))
        return [f.name for f in logical.fields], rows


def _names(column: object) -> list[object]:
    """Python values of a result column; a resolved regclass shows its name, as clients see it."""
    import pyarrow as pa

    assert isinstance(column, pa.Array)
    if pa.types.is_struct(column.type) and column.type.names == ["oid", "name"]:
        return [None if v is None else (v["name"] or str(v["oid"])) for v in column.to_pylist()]
    return column.to_pylist()


def norm(v: object) -> object:
    """A value both PostgreSQL (through psycopg) and Eddy agree on."""
    if isinstance(v, float):
        return "NaN" if math.isnan(v) else float(f"{v:.9g}") + 0.0
    if isinstance(v, Decimal):
        return float(v)
    if isinstance(v, (list, tuple)):
        return tuple(norm(x) for x in v)
    if isinstance(v, dict):
        return tuple(norm(x) for x in v.values())
    if isinstance(v, dt.datetime | dt.date | str | int | bool) or v is None:
        return v
    return str(v)


def norm_rows(rows: Sequence[Sequence[object]], ordered: bool) -> list[tuple[object, ...]]:
    out = [tuple(norm(v) for v in r) for r in rows]
    return out if ordered else sorted(out, key=repr)
