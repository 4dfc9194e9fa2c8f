"""SELECT: bind, optimize, plan as a batch query, execute on a compute node at the committed epoch.

Columns of type regclass and regrole print the names of the relations and
roles they identify; only the frontend knows those, so it resolves them
on the way out (each becomes a struct of OID and name, which the wire
layer prints as the name in text and as the OID in binary). SHOW JOBS is
a query over rw_catalog.rw_streaming_jobs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc
from sqlglot import exp

from common.batch_plan import BatchNode
from common.types import TypeName
from frontend.binder.expr import BindContext
from frontend.binder.query import QueryBinder
from frontend.binder.system_functions import relation_names
from frontend.catalog.rw_catalog import CLUSTER_RELATIONS
from frontend.handlers.column_source import column_sources
from frontend.pgwire.session_api import QueryResult, ResultColumn
from frontend.planner.batch import to_batch
from frontend.planner.optimizer import optimize

if TYPE_CHECKING:
    from frontend.session import Session


@dataclass(frozen=True, slots=True)
class PlannedQuery:
    plan: BatchNode
    columns: list[ResultColumn]


def plan_query(session: Session, tree: exp.Expression, ctx: BindContext | None = None) -> PlannedQuery:
    bound = QueryBinder(session.lookup, ctx or session.bind_context()).bind(tree)
    logical = optimize(bound.plan)
    sources = column_sources(bound.plan)
    columns = [ResultColumn(f.name, f.type, *source) for f, source in zip(logical.fields, sources)]
    return PlannedQuery(to_batch(logical), columns)


async def select(session: Session, tree: exp.Expression) -> QueryResult:
    ctx = session.bind_context()
    if reads_cluster_status(tree):
        ctx.cluster = await session.meta.cluster_status()
    planned = plan_query(session, tree, ctx)
    batches = with_object_names(planned.columns, session.run_query(planned.plan), ctx)
    return QueryResult("SELECT", columns=planned.columns, batches=batches)


def reads_cluster_status(tree: exp.Expression) -> bool:
    """Whether a statement reads rw_catalog relations built from meta's cluster status."""
    return any(isinstance(t, exp.Table) and t.name.lower() in CLUSTER_RELATIONS for t in tree.find_all(exp.Table))


_NAMED = (TypeName.REGCLASS, TypeName.REGROLE)


def with_object_names(columns: Sequence[ResultColumn], batches: AsyncIterator[pa.RecordBatch],
                      ctx: BindContext) -> AsyncIterator[pa.RecordBatch]:
    """`batches` with regclass and regrole columns carrying the names of what they identify."""
    named = [i for i, c in enumerate(columns) if c.type.name in _NAMED]
    if not named or ctx.session is None:
        return batches
    snapshot = ctx.catalog()
    tables = {TypeName.REGCLASS: relation_names(snapshot),
              TypeName.REGROLE: {str(u.id): u.name for u in snapshot.users}}
    lookups = {i: _lookup_arrays(tables[columns[i].type.name]) for i in named}

    async def resolved() -> AsyncIterator[pa.RecordBatch]:
        async for batch in batches:
            arrays = list(batch.columns)
            for i, (keys, names) in lookups.items():
                oids = arrays[i].cast(pa.int64())
                found = names.take(pc.index_in(oids, value_set=keys))
                arrays[i] = pa.StructArray.from_arrays([oids, found], ["oid", "name"], mask=oids.is_null())
            yield pa.RecordBatch.from_arrays(arrays, batch.schema.names)

    return resolved()


def _lookup_arrays(table: dict[str, str]) -> tuple[pa.Array, pa.Array]:
    return pa.array([int(k) for k in table], pa.int64()), pa.array(list(table.values()), pa.string())


async def show_jobs(session: Session) -> QueryResult:
    """SHOW JOBS: the streaming jobs being created, with their progress."""
    from frontend.sql.parser import parse_one

    tree = parse_one('SELECT job_id AS "Id", name AS "Name", definition AS "Statement", status AS "Status", '
                     'progress AS "Progress" FROM rw_catalog.rw_streaming_jobs ORDER BY job_id')
    return await select(session, tree)
