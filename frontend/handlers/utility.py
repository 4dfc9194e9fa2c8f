"""Session and introspection statements: SET, RESET, SHOW, DESCRIBE, FLUSH, transactions, DISCARD."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING

import pyarrow as pa
from sqlglot import exp

from common.catalog import RelationKind
from common.errors import FeatureNotSupported, UndefinedTable
from common.types import VARCHAR
from frontend.binder.expr import identifier
from frontend.pgwire.session_api import QueryResult, ResultColumn
from frontend.sql.dialect import Deallocate, Discard, Reset, SetVariable, Show, TransactionControl

if TYPE_CHECKING:
    from frontend.session import Session


def text_result(command: str, names: Sequence[str], rows: Sequence[Sequence[str | None]]) -> QueryResult:
    cols = [ResultColumn(n, VARCHAR) for n in names]

    async def batches() -> AsyncIterator[pa.RecordBatch]:
        arrays = [pa.array([r[i] for r in rows], pa.string()) for i in range(len(names))]
        yield pa.RecordBatch.from_arrays(arrays, [f"c{i}" for i in range(len(names))])

    return QueryResult(command, columns=cols, batches=batches())


async def set_variable(session: Session, tree: SetVariable) -> QueryResult:
    name = tree.name
    values = tree.expressions
    value = None if values == [None] else ", ".join(str(v) for v in values if v is not None)
    session.vars.set(name, value)
    return QueryResult("SET")


async def reset(session: Session, tree: Reset) -> QueryResult:
    if tree.name == "all":
        session.vars.reset_all()
    else:
        session.vars.set(tree.name, None)
    return QueryResult("RESET")


async def show(session: Session, tree: Show) -> QueryResult:
    what = tree.name
    if what == "tables":
        return text_result("SHOW", ["Name"], [[r.name] for r in session.relations(RelationKind.TABLE)])
    if what == "materialized views":
        return text_result("SHOW", ["Name"], [[r.name] for r in session.relations(RelationKind.MATERIALIZED_VIEW)])
    if what == "all":
        return text_result("SHOW", ["Name", "Setting", "Description"], session.vars.all())
    if what == "transaction isolation level":
        return text_result("SHOW", ["transaction_isolation"], [[session.vars.get("transaction_isolation")]])
    if " " in what:
        raise FeatureNotSupported(f"SHOW {what.upper()} is not supported")
    from frontend.session_vars import canonical

    name = canonical(what)
    return text_result("SHOW", [name.lower() if what.lower() == name.lower() else what], [[session.vars.get(name)]])


async def describe(session: Session, tree: exp.Describe) -> QueryResult:
    table = tree.this
    name = identifier(table.this)
    rel = session.lookup(name, identifier(table.args.get("db")) or None)
    if rel is None:
        raise UndefinedTable(f'relation "{name}" does not exist')
    rows: list[list[str | None]] = [[c.name, str(c.type), "true" if c.hidden else "false", None] for c in rel.columns]
    rows.append(["primary key", ", ".join(rel.pk_names), None, None])
    rows.append(["distribution key", ", ".join(rel.columns[i].name for i in rel.desc.dist_key), None, None])
    return text_result("DESCRIBE", ["Name", "Type", "Is Hidden", "Description"], rows)


async def flush(session: Session) -> QueryResult:
    await session.flush()
    return QueryResult("FLUSH")


async def transaction(session: Session, tree: TransactionControl) -> QueryResult:
    kind = tree.name
    notices: list[str] = []
    if kind == "begin":
        if session.in_transaction:
            notices.append("there is already a transaction in progress")
        session.begin(str(tree.args.get("modes") or ""))
        return QueryResult("BEGIN", notices=notices)
    if kind in ("commit", "rollback"):
        if not session.in_transaction:
            notices.append("there is no transaction in progress")
        session.end_transaction()
        return QueryResult("COMMIT" if kind == "commit" else "ROLLBACK", notices=notices)
    if kind in ("set_transaction", "set_session_characteristics"):
        return QueryResult("SET")
    if kind in ("savepoint", "release", "rollback_to"):
        if not session.in_transaction:
            from common.errors import InvalidTransactionState

            raise InvalidTransactionState(f"{kind.replace('_', ' ').upper()} can only be used in transaction blocks")
        return QueryResult({"savepoint": "SAVEPOINT", "release": "RELEASE", "rollback_to": "ROLLBACK"}[kind])
    raise FeatureNotSupported(f"{kind} is not supported")


async def discard(session: Session, tree: Discard) -> QueryResult:
    what = tree.name
    if what in ("all", "plans", "sequences", "temp", "temporary"):
        if what == "all":
            session.vars.reset_all()
        return QueryResult(f"DISCARD {what.upper() if what != 'temporary' else 'TEMP'}")
    raise FeatureNotSupported(f"DISCARD {what} is not supported")


async def deallocate(session: Session, tree: Deallocate) -> QueryResult:
    return QueryResult("DEALLOCATE ALL" if tree.name.lower() == "all" else "DEALLOCATE")
