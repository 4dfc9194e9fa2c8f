"""SELECT: bind, optimize, plan as a batch query, execute on a compute node at the committed epoch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlglot import exp

from common.plan import BatchNode
from frontend.binder.query import QueryBinder
from frontend.pgwire.session_api import QueryResult, ResultColumn
from frontend.planner.batch import to_batch
from frontend.planner.optimizer import optimize

if TYPE_CHECKING:
    from frontend.session import Session


@dataclass(frozen=True, slots=True)
class PlannedQuery:
    plan: BatchNode
    columns: list[ResultColumn]


def plan_query(session: Session, tree: exp.Expression) -> PlannedQuery:
    bound = QueryBinder(session.lookup, session.bind_context()).bind(tree)
    logical = optimize(bound.plan)
    columns = [ResultColumn(f.name, f.type) for f in logical.fields]
    return PlannedQuery(to_batch(logical), columns)


async def select(session: Session, tree: exp.Expression) -> QueryResult:
    planned = plan_query(session, tree)
    batches = session.run_query(planned.plan)
    return QueryResult("SELECT", columns=planned.columns, batches=batches)
