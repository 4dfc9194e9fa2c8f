"""A client session: parses, binds, plans and runs statements, and holds session state.

The pipeline, per statement: parse (frontend.sql) -> bind (frontend.binder)
-> optimize and plan (frontend.planner) -> submit to meta (DDL) or execute
on a compute node (queries, DML). Each statement family has a handler in
frontend.handlers; this module dispatches and keeps what spans statements:
session variables, transaction status, parameters, cancellation, and
whether this session has writes not yet committed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING

import pyarrow as pa
from sqlglot import exp

from common.catalog import Relation, RelationKind
from common.errors import (
    EddyError,
    FeatureNotSupported,
    InFailedSqlTransaction,
    InternalError,
    QueryCanceled,
    SyntaxError_,
    TransactionResolutionUnknown,
)
from common.pgtext import FormatOptions
from common.plan import BatchNode
from common.types import VARCHAR, DataType
from frontend.binder.expr import BindContext
from frontend.handlers import ddl, dml, query, utility
from frontend.pgwire.session_api import PreparedStatement, QueryResult
from frontend.session_vars import SessionVariables
from frontend.sql import dialect
from frontend.sql.fast_insert import FastInsert
from frontend.sql.parser import Statement, parse

if TYPE_CHECKING:
    from frontend.frontend_node import FrontendNode

log = logging.getLogger("eddy.session")

_QUERY_TYPES = (exp.Select, exp.Union, exp.Except, exp.Intersect, exp.Values)


class Session:
    def __init__(self, node: FrontendNode, process_id: int, secret_key: int, user: str, database: str,
                 options: dict[str, str]) -> None:
        self.node = node
        self.meta = node.meta
        self._pid = process_id
        self._secret = secret_key
        self.user = user
        self.database = database
        self.vars = SessionVariables(options)
        self.in_transaction = False
        self._failed = False
        self._unflushed = False
        self._params: tuple[list[DataType | None], list[object] | None] = ([], None)
        self._running: asyncio.Task[QueryResult] | None = None
        self._cancelled = False

    # -- session_api.Session ---------------------------------------------------

    @property
    def process_id(self) -> int:
        return self._pid

    @property
    def secret_key(self) -> int:
        return self._secret

    def parameter_status(self) -> dict[str, str]:
        return self.vars.reported()

    def take_changed_parameters(self) -> dict[str, str]:
        return self.vars.take_changed()

    def format_options(self) -> FormatOptions:
        return self.vars.format_options()

    def transaction_status(self) -> str:
        if self._failed:
            return "E"
        return "T" if self.in_transaction else "I"

    async def parse_simple(self, sql: str) -> list[PreparedStatement]:
        return [PreparedStatement(s.sql, (), None, s) for s in parse(sql)]

    async def prepare(self, sql: str, param_types: list[DataType | None]) -> PreparedStatement:
        stmts = parse(sql)
        if len(stmts) > 1:
            raise SyntaxError_("cannot insert multiple commands into a prepared statement")
        if not stmts:
            return PreparedStatement(sql, (), None, None)
        stmt = stmts[0]
        types = list(param_types)
        columns = None
        self._params = (types, None)
        try:
            if isinstance(stmt.tree, _QUERY_TYPES):
                columns = tuple(query.plan_query(self, stmt.tree).columns)
            elif isinstance(stmt.tree, (exp.Insert, exp.Update, exp.Delete, FastInsert)):
                await self._describe_dml(stmt)
        finally:
            self._params = ([], None)
        final = tuple(t if t is not None else VARCHAR for t in types)
        return PreparedStatement(sql, final, columns, stmt)

    async def _describe_dml(self, stmt: Statement) -> None:
        """Bind a DML statement without running it, to learn its parameter types."""
        if self._failed:
            return
        original = self.run_dml

        async def dry(plan: BatchNode) -> int:
            return 0

        self.run_dml = dry  # type: ignore[method-assign]
        saved_unflushed = self._unflushed
        self._unflushed = False
        try:
            await self._dispatch(stmt)
        finally:
            self.run_dml = original  # type: ignore[method-assign]
            self._unflushed = saved_unflushed

    async def execute(self, stmt: PreparedStatement, params: list[object]) -> QueryResult:
        if stmt.handle is None:
            return QueryResult("EMPTY")
        s: Statement = stmt.handle  # type: ignore[assignment]
        if self._failed and not _ends_transaction(s.tree):
            raise InFailedSqlTransaction("current transaction is aborted, commands ignored until end of "
                                         "transaction block")
        self._params = (list(stmt.param_types), list(params) if stmt.param_types else None)
        self._cancelled = False
        task = asyncio.get_running_loop().create_task(self._dispatch(s))
        self._running = task
        try:
            return await task
        except asyncio.CancelledError:
            if self._cancelled:
                self._fail_transaction()
                raise QueryCanceled("canceling statement due to user request") from None
            raise
        except EddyError:
            self._fail_transaction()
            raise
        except Exception as exc:
            log.exception("internal error in statement: %s", s.sql[:200])
            self._fail_transaction()
            raise InternalError(f"internal error: {type(exc).__name__}: {exc}") from exc
        finally:
            self._running = None
            self._params = ([], None)

    def cancel(self) -> None:
        self._cancelled = True
        if self._running is not None and not self._running.done():
            self._running.cancel()

    async def close(self) -> None:
        self.cancel()

    # -- dispatch -----------------------------------------------------------------

    async def _dispatch(self, s: Statement) -> QueryResult:
        tree = s.tree
        handler = _HANDLERS.get(type(tree))
        if handler is not None:
            return await handler(self, tree, s.sql)
        if isinstance(tree, _QUERY_TYPES):
            return await query.select(self, tree)
        if isinstance(tree, exp.Command):
            raise FeatureNotSupported(f"{tree.name.upper()} {str(tree.expression or '')[:40]} is not supported".strip())
        raise FeatureNotSupported(f"statement not supported: {s.sql[:60]}")

    # -- services for handlers ----------------------------------------------------

    def lookup(self, name: str, schema: str | None) -> Relation | None:
        if schema not in (None, "public"):
            return None
        for r in self.meta.relations():
            if r.name == name:
                return r
        return None

    def relations(self, kind: RelationKind) -> list[Relation]:
        return sorted((r for r in self.meta.relations() if r.kind is kind), key=lambda r: r.name)

    def bind_context(self) -> BindContext:
        types, values = self._params
        return BindContext(param_types=types, param_values=values, format=self.format_options())

    def begin(self, modes: str) -> None:
        self.in_transaction = True
        if "read only" in modes:
            self.vars.set("transaction_read_only", "on")

    def end_transaction(self) -> None:
        self.in_transaction = False
        self._failed = False

    def _fail_transaction(self) -> None:
        if self.in_transaction:
            self._failed = True

    def run_query(self, plan: BatchNode) -> AsyncIterator[pa.RecordBatch]:
        epoch = self.meta.committed_epoch
        return self._guarded(self.node.compute().execute_batch(plan, epoch, self.format_options(),
                                                               lambda: self._cancelled))

    async def _guarded(self, batches: AsyncIterator[pa.RecordBatch]) -> AsyncIterator[pa.RecordBatch]:
        try:
            async for b in batches:
                if self._cancelled:
                    raise QueryCanceled("canceling statement due to user request")
                yield b
        except EddyError:
            raise
        except Exception as exc:
            log.exception("internal error while running a query")
            raise InternalError(f"internal error: {type(exc).__name__}: {exc}") from exc

    async def run_dml(self, plan: BatchNode) -> int:
        """Run a DML plan; with implicit_flush, wait until its changes are committed."""
        recoveries = self.meta.recovery_count
        count = 0
        async for batch in self.run_query(plan):
            if batch.num_rows:
                count = int(batch.column(0)[0].as_py())
        self._unflushed = True
        if self.vars.implicit_flush:
            await self.flush(since_recovery=recoveries)
        return count

    async def flush(self, since_recovery: int | None = None) -> None:
        """Wait for a checkpoint holding everything this session wrote before."""
        await self.meta.flush()
        if since_recovery is not None and self.meta.recovery_count != since_recovery:
            raise TransactionResolutionUnknown(
                "the cluster recovered while this statement's changes were being committed; "
                "they may or may not have been applied")
        self._unflushed = False

    async def read_own_writes(self) -> None:
        if self._unflushed:
            await self.flush()


def _ends_transaction(tree: exp.Expression) -> bool:
    return isinstance(tree, dialect.TransactionControl) and tree.name in ("rollback", "commit", "rollback_to")


Handler = Callable[[Session, exp.Expression, str], Awaitable[QueryResult]]

_HANDLERS: dict[type, Handler] = {
    exp.Create: lambda s, t, sql: ddl.create(s, t, sql),  # type: ignore[arg-type]
    exp.Drop: lambda s, t, sql: ddl.drop(s, t),  # type: ignore[arg-type]
    exp.Insert: lambda s, t, sql: dml.insert(s, t),  # type: ignore[arg-type]
    FastInsert: lambda s, t, sql: dml.insert_literals(s, t, sql),  # type: ignore[arg-type]
    exp.Update: lambda s, t, sql: dml.update(s, t),  # type: ignore[arg-type]
    exp.Delete: lambda s, t, sql: dml.delete(s, t),  # type: ignore[arg-type]
    exp.Describe: lambda s, t, sql: utility.describe(s, t),  # type: ignore[arg-type]
    dialect.Flush: lambda s, t, sql: utility.flush(s),
    dialect.Show: lambda s, t, sql: utility.show(s, t),  # type: ignore[arg-type]
    dialect.SetVariable: lambda s, t, sql: utility.set_variable(s, t),  # type: ignore[arg-type]
    dialect.Reset: lambda s, t, sql: utility.reset(s, t),  # type: ignore[arg-type]
    dialect.TransactionControl: lambda s, t, sql: utility.transaction(s, t),  # type: ignore[arg-type]
    dialect.Discard: lambda s, t, sql: utility.discard(s, t),  # type: ignore[arg-type]
    dialect.Deallocate: lambda s, t, sql: utility.deallocate(s, t),  # type: ignore[arg-type]
}
