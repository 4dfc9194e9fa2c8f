"""Session and introspection statements: SET, RESET, SHOW, DESCRIBE, FLUSH, DISCARD, UNLISTEN."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING

import pyarrow as pa
from sqlglot import exp

from common.catalog import RelationKind
from common.errors import ActiveSqlTransaction, FeatureNotSupported, UndefinedTable
from common.types import VARCHAR
from frontend.binder.expr import identifier
from frontend.handlers.cursor import close_all
from frontend.pgwire.session_api import QueryResult, ResultColumn
from frontend.sql.commands import Listen
from frontend.sql.dialect import Discard, Reset, SetVariable, Show

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
    if what == "jobs":  # issue 4: streaming jobs being created (frontend.handlers.query.show_jobs)
        from frontend.handlers.query import show_jobs

        return await show_jobs(session)
    if what in ("transaction isolation level", "transaction_isolation"):
        level = session.txn.isolation if session.txn else session.vars.get("default_transaction_isolation")
        return text_result("SHOW", ["transaction_isolation"], [[level]])
    if what == "transaction_read_only":
        return text_result("SHOW", ["transaction_read_only"], [["on" if session.read_only() else "off"]])
    if " " in what:
        raise FeatureNotSupported(f"SHOW {what.upper()} is not supported")
    from frontend.session_vars import canonical

    name = canonical(what)
    return text_result("SHOW", [name], [[session.vars.get(name)]])  # headed by the canonical name, as PostgreSQL


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


async def discard(session: Session, tree: Discard) -> QueryResult:
    what = tree.name
    if what == "all":
        # What a connection pool sends before handing a connection to someone else.
        if session.txn is not None:
            raise ActiveSqlTransaction("DISCARD ALL cannot run inside a transaction block")
        session.vars.reset_all()
        await close_all(session)
        for name in [k for k in session.statements if k]:
            del session.statements[name]
        return QueryResult("DISCARD ALL")
    if what in ("plans", "sequences", "temp", "temporary"):
        return QueryResult(f"DISCARD {what.upper() if what != 'temporary' else 'TEMP'}")
    raise FeatureNotSupported(f"DISCARD {what} is not supported")


async def listen(session: Session, tree: Listen) -> QueryResult:
    """UNLISTEN is accepted (pools send UNLISTEN *); there are no notifications to listen for."""
    verb = tree.name
    if verb == "unlisten":
        return QueryResult("UNLISTEN")
    raise FeatureNotSupported(f"{verb.upper()} is not supported")
