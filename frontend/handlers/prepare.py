"""SQL prepared statements: PREPARE, EXECUTE, DEALLOCATE.

They share one namespace with the extended protocol's named statements
(the session's `statements`), as in PostgreSQL: EXECUTE can run what a
driver prepared, and DEALLOCATE ALL (which psycopg sends after DDL) drops
those too. EXECUTE's arguments are evaluated as one SELECT of the
arguments cast to the parameter types, then bound like Bind parameters.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

from common.errors import DuplicatePreparedStatement, InvalidSqlStatementName, SyntaxError_
from common.types import DataType
from frontend.binder.types import bind_type
from frontend.handlers import query
from frontend.pgwire.session_api import QueryResult
from frontend.sql.commands import ExecuteStatement, PrepareStatement
from frontend.sql.dialect import Deallocate, Eddy
from frontend.sql.fast_insert import FastInsert
from frontend.sql.parser import parse

if TYPE_CHECKING:
    from frontend.session import Session

_PREPARABLE = (exp.Select, exp.Union, exp.Except, exp.Intersect, exp.Values, exp.Insert, exp.Update, exp.Delete,
               FastInsert)


def _type(text: str) -> DataType:
    return bind_type(exp.DataType.build(text, dialect=Eddy))


async def prepare(session: Session, tree: PrepareStatement) -> QueryResult:
    name = str(tree.name)
    if name in session.statements:
        raise DuplicatePreparedStatement(f'prepared statement "{name}" already exists')
    body = str(tree.args["statement"])
    statements = parse(body)
    if len(statements) != 1 or not isinstance(statements[0].tree, _PREPARABLE):
        raise SyntaxError_("PREPARE takes one SELECT, VALUES, INSERT, UPDATE or DELETE statement")
    declared: list[DataType | None] = [_type(t) for t in tree.args.get("types") or []]
    session.statements[name] = await session.prepare(body, declared)
    return QueryResult("PREPARE")


async def execute(session: Session, tree: ExecuteStatement) -> QueryResult:
    name = str(tree.name)
    stmt = session.statements.get(name)
    if stmt is None:
        raise InvalidSqlStatementName(f'prepared statement "{name}" does not exist')
    args: list[exp.Expression] = list(tree.expressions)
    if len(args) != len(stmt.param_types):
        raise SyntaxError_(f'wrong number of parameters for prepared statement "{name}"',
                           detail=f"Expected {len(stmt.param_types)} parameters but got {len(args)}.")
    values = await _evaluate(session, args, stmt.param_types) if args else []
    return await session.run_prepared(stmt, values)


async def _evaluate(session: Session, args: list[exp.Expression], types: tuple[DataType, ...]) -> list[object]:
    select = exp.Select(expressions=[exp.Cast(this=a, to=exp.DataType.build(t.display(), dialect=Eddy))
                                     for a, t in zip(args, types)])
    planned = query.plan_query(session, select)
    row: list[object] = [None] * len(args)
    async for batch in session.run_query(planned.plan):
        if batch.num_rows:
            row = [batch.column(i)[0].as_py() for i in range(batch.num_columns)]
    return row


async def deallocate(session: Session, tree: Deallocate) -> QueryResult:
    name = str(tree.name)
    if name.lower() == "all":
        for key in [k for k in session.statements if k]:  # the unnamed statement is not a prepared one
            del session.statements[key]
        return QueryResult("DEALLOCATE ALL")
    if session.statements.pop(_unquote(name), None) is None:
        raise InvalidSqlStatementName(f'prepared statement "{_unquote(name)}" does not exist')
    return QueryResult("DEALLOCATE")


def _unquote(name: str) -> str:
    name = name.strip()
    if len(name) >= 2 and name[0] == name[-1] == '"':
        return name[1:-1].replace('""', '"')
    return name.lower()
