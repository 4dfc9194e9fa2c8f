"""A client session: parses, binds, plans and runs statements, and holds session state.

The pipeline, per statement: parse (frontend.sql) -> bind (frontend.binder)
-> optimize and plan (frontend.planner) -> submit to meta (DDL) or execute
on a compute node (queries, DML). Each statement family has a handler in
frontend.handlers; this module dispatches and keeps what spans statements:
session variables, the open transaction block (handlers/transaction.py),
cursors, prepared statements, parameters, cancellation, and whether this
session has writes not yet committed.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import pyarrow as pa
from sqlglot import exp

from common.batch_plan import BatchArrow, BatchDml, BatchNode
from common.catalog import Relation, RelationKind
from common.errors import (
    EddyError,
    FeatureNotSupported,
    InFailedSqlTransaction,
    InternalError,
    QueryCanceled,
    ReadOnlySqlTransaction,
    SyntaxError_,
    TransactionResolutionUnknown,
)
from common.flight_rpc import one_line
from common.pgtext import FormatOptions
from common.types import VARCHAR, DataType
from frontend.binder.expr import BindContext
from frontend.catalog import is_system_schema, lookup_system
from frontend.handlers import copy, cursor, ddl, dml, prepare, query, transaction, user, utility
from frontend.pgwire.portal import Portal
from frontend.pgwire.session_api import CursorInfo, PreparedStatement, QueryResult, ResultColumn
from frontend.session_vars import SessionVariables
from frontend.sql import commands, dialect
from frontend.sql.fast_insert import FastInsert
from frontend.sql.parser import Statement, parse, parse_one

if TYPE_CHECKING:
    from frontend.frontend_node import FrontendNode

log = logging.getLogger("eddy.session")

R = TypeVar("R")
_QUERY_TYPES = (exp.Select, exp.Union, exp.Except, exp.Intersect, exp.Values)
_DDL_TYPES = (exp.Create, exp.Drop, exp.Alter, commands.UserStatement)


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
        info = node.user(user)
        self.vars.set_identity(user, info is not None and info.is_super)
        self.statements: dict[str, PreparedStatement] = {}
        self.cursors: dict[str, cursor.Cursor] = {}
        self.portals: dict[str, Portal] = {}
        """The wire layer's portals, which FETCH, MOVE and CLOSE also reach."""
        self.txn: transaction.Transaction | None = None
        self._unflushed = False
        self._params: tuple[list[DataType | None], list[object] | None] = ([], None)
        self._running: asyncio.Task[Any] | None = None
        self._cancelled = False
        self._cancel_event = asyncio.Event()

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
        if self.txn is None:
            return "I"
        return "E" if self.txn.failed else "T"

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
        self._params = (types, None)
        try:
            columns = await self._describe(stmt)
        finally:
            self._params = ([], None)
        final = tuple(t if t is not None else VARCHAR for t in types)
        return PreparedStatement(sql, final, columns, stmt)

    async def _describe(self, stmt: Statement) -> tuple[ResultColumn, ...] | None:
        """The columns a statement will return (None: no rows), inferring parameter types on the way."""
        tree = stmt.tree
        if isinstance(tree, _QUERY_TYPES):
            return tuple(query.plan_query(self, tree).columns)
        if isinstance(tree, (exp.Insert, exp.Update, exp.Delete, FastInsert)):
            return await self._describe_dml(stmt)
        elif isinstance(tree, commands.DeclareCursor):
            query.plan_query(self, parse_one(str(tree.args["query"])))
        elif isinstance(tree, commands.FetchCursor) and not tree.args.get("move"):
            found = self.cursors.get(str(tree.name))
            return None if found is None else found.info.columns
        elif isinstance(tree, commands.ExecuteStatement):
            target = self.statements.get(str(tree.name))
            return None if target is None else target.columns
        elif isinstance(tree, (dialect.Show, exp.Describe)):
            # Side-effect free and cheap: run it to learn its columns.
            result = await self._dispatch(stmt)
            if isinstance(result.batches, AsyncGenerator):
                await result.batches.aclose()
            return None if result.columns is None else tuple(result.columns)
        return None

    async def _describe_dml(self, stmt: Statement) -> tuple[ResultColumn, ...] | None:
        """Bind a DML statement without running it, to learn its parameter types (and RETURNING columns)."""
        if self.txn is not None and self.txn.failed:
            return None
        original, original_returning = self.run_dml, self.run_dml_returning

        async def dry(plan: BatchDml) -> int:
            return 0

        async def dry_returning(plan: BatchDml) -> list[pa.RecordBatch]:
            return []

        self.run_dml = dry  # type: ignore[method-assign]
        self.run_dml_returning = dry_returning  # type: ignore[method-assign]
        saved_unflushed = self._unflushed
        self._unflushed = False
        try:
            result = await self._dispatch(stmt)
        finally:
            self.run_dml = original  # type: ignore[method-assign]
            self.run_dml_returning = original_returning  # type: ignore[method-assign]
            self._unflushed = saved_unflushed
        if isinstance(result.batches, AsyncGenerator):
            await result.batches.aclose()
        return None if result.columns is None else tuple(result.columns)

    async def execute(self, stmt: PreparedStatement, params: list[object]) -> QueryResult:
        if stmt.handle is None:
            return QueryResult("EMPTY")
        s: Statement = stmt.handle  # type: ignore[assignment]
        if self.txn is not None and self.txn.failed and not _ends_transaction(s.tree):
            raise InFailedSqlTransaction("current transaction is aborted, commands ignored until end of "
                                         "transaction block")
        self._params = (list(stmt.param_types), list(params) if stmt.param_types else None)
        try:
            return await self.run_guarded(self._dispatch(s), s.sql)
        finally:
            self._params = ([], None)

    def cancel(self) -> None:
        self._cancelled = True
        self._cancel_event.set()
        if self._running is not None and not self._running.done():
            self._running.cancel()

    def abort_transaction(self) -> None:
        self._fail_transaction()

    def _fail_transaction(self) -> None:
        if self.txn is not None:
            self.txn.failed = True

    def cursor(self, name: str) -> CursorInfo | None:
        found = self.cursors.get(name)
        return None if found is None else found.info

    async def close_cursor(self, name: str) -> bool:
        found = self.cursors.pop(name, None)
        if found is None:
            return False
        await found.close()
        return True

    def use_portals(self, portals: dict[str, Portal]) -> None:
        self.portals = portals

    async def close(self) -> None:
        self.cancel()
        try:
            await self.end_transaction(committed=False)
            await cursor.close_all(self)
        except Exception:
            log.exception("cleaning up a closed session failed")

    # -- dispatch -----------------------------------------------------------------

    async def run_guarded(self, work: Coroutine[Any, Any, R], sql: str = "") -> R:
        """Run a statement's work as the session's cancellable task; any error fails the transaction block."""
        self._cancelled = False
        self._cancel_event.clear()
        task = asyncio.get_running_loop().create_task(work)
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
            log.exception("internal error in statement: %s", sql[:200])
            self._fail_transaction()
            raise InternalError(f"internal error: {type(exc).__name__}: {one_line(str(exc))}") from exc
        finally:
            self._running = None

    async def _dispatch(self, s: Statement) -> QueryResult:
        tree = s.tree
        if isinstance(tree, _DDL_TYPES) and self.read_only():
            words = s.sql.upper().split()
            verb = " ".join(words[:3] if words[1:2] == ["MATERIALIZED"] else words[:2])
            raise ReadOnlySqlTransaction(f"cannot execute {verb} in a read-only transaction")
        handler = _HANDLERS.get(type(tree))
        if handler is not None:
            return await handler(self, tree, s.sql)
        if isinstance(tree, _QUERY_TYPES):
            return await query.select(self, tree)
        if isinstance(tree, exp.Command):
            raise FeatureNotSupported(f"{tree.name.upper()} {str(tree.expression or '')[:40]} is not supported".strip())
        raise FeatureNotSupported(f"statement not supported: {s.sql[:60]}")

    async def run_prepared(self, stmt: PreparedStatement, values: list[object]) -> QueryResult:
        """EXECUTE of a prepared statement with its parameter values."""
        if stmt.handle is None:
            return QueryResult("EMPTY")
        saved = self._params
        self._params = (list(stmt.param_types), values)
        try:
            return await self._dispatch(stmt.handle)  # type: ignore[arg-type]
        finally:
            self._params = saved

    # -- services for handlers ----------------------------------------------------

    def lookup(self, name: str, schema: str | None) -> Relation | None:
        # pg_catalog (and rw_catalog) come first on the search path, as in PostgreSQL (issue 4).
        system = lookup_system(name, schema)
        if system is not None or is_system_schema(schema):
            return system
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
        return BindContext(param_types=types, param_values=values, format=self.format_options(), session=self)

    def read_only(self) -> bool:
        if self.txn is not None:
            return self.txn.read_only
        return self.vars.get("default_transaction_read_only") == "on"

    async def read_epoch(self) -> int:
        """The epoch reads run at: the transaction block's snapshot (pinned at its first read), else the newest."""
        txn = self.txn
        if txn is None:
            return self.meta.committed_epoch
        if txn.snapshot is None:
            if self._unflushed:
                await self.flush()  # the block sees what this session wrote before it
            txn.snapshot = await self.meta.pin_snapshot()
        return txn.snapshot[1]

    def run_query(self, plan: BatchNode) -> AsyncIterator[pa.RecordBatch]:
        return self._read(plan)

    async def _read(self, plan: BatchNode) -> AsyncIterator[pa.RecordBatch]:
        batches: AsyncIterator[pa.RecordBatch] | None = None
        try:
            epoch = await self.read_epoch()
            batches = self.node.compute().execute_batch(plan, epoch, self.format_options(), lambda: self._cancelled)
            while (b := await self._unless_cancelled(anext(batches, None))) is not None:
                yield b
        except EddyError:
            self._fail_transaction()
            raise
        except Exception as exc:
            log.exception("internal error while running a query")
            self._fail_transaction()
            raise InternalError(f"internal error: {type(exc).__name__}: {one_line(str(exc))}") from exc
        finally:
            if isinstance(batches, AsyncGenerator):
                await batches.aclose()  # its pins go now, not at garbage collection

    async def _unless_cancelled(self, step: Awaitable[R]) -> R:
        """Await one step of reading a result, abandoning it when a cancel request arrives: rows are read
        after the statement's own task has returned, so cancelling that task would not reach them."""
        if self._cancelled:
            raise QueryCanceled("canceling statement due to user request")
        work = asyncio.ensure_future(step)
        cancelled = asyncio.ensure_future(self._cancel_event.wait())
        try:
            await asyncio.wait((work, cancelled), return_when=asyncio.FIRST_COMPLETED)
        finally:
            cancelled.cancel()
        if not work.done():
            work.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await work
            raise QueryCanceled("canceling statement due to user request")
        return work.result()

    async def run_dml(self, plan: BatchDml) -> int:
        """Run a DML plan, or inside a transaction block compute its changes and keep them for COMMIT."""
        if self.read_only():
            raise ReadOnlySqlTransaction(f"cannot execute {plan.kind.value.upper()} in a read-only transaction")
        if self.txn is not None:
            return await self._keep_write(plan)
        return await self._apply_dml(plan, flush=self.vars.implicit_flush)

    async def run_dml_returning(self, plan: BatchDml) -> list[pa.RecordBatch]:
        """Run a DML plan and return the rows it writes: its input, computed first (for RETURNING)."""
        if self.read_only():
            raise ReadOnlySqlTransaction(f"cannot execute {plan.kind.value.upper()} in a read-only transaction")
        batches = [b async for b in self.run_query(plan.input) if b.num_rows]
        if batches:
            await self.run_dml(dataclasses.replace(plan, input=BatchArrow(_ipc(batches), plan.input.types)))
        return batches

    async def _apply_dml(self, plan: BatchNode, *, flush: bool) -> int:
        recoveries = self.meta.recovery_count
        count = 0
        async for batch in self.run_query(plan):
            if batch.num_rows:
                count = int(batch.column(0)[0].as_py())
        self._unflushed = True
        if flush:
            await self.flush(since_recovery=recoveries)
        return count

    async def _keep_write(self, plan: BatchDml) -> int:
        assert self.txn is not None
        if isinstance(plan.input, BatchArrow):  # literal rows and COPY: already computed
            rows = pa.ipc.open_stream(pa.BufferReader(plan.input.ipc)).read_all().num_rows if plan.input.ipc else 0
            if rows:
                self.txn.writes.append(plan)
            return rows
        batches = [b async for b in self.run_query(plan.input) if b.num_rows]
        rows = sum(b.num_rows for b in batches)
        if rows:
            self.txn.writes.append(dataclasses.replace(plan, input=BatchArrow(_ipc(batches), plan.input.types)))
        return rows

    async def apply_writes(self, writes: Sequence[BatchDml]) -> None:
        """COMMIT: apply a block's writes in order, each one DML transaction, and wait until committed."""
        if not writes:
            return
        recoveries = self.meta.recovery_count
        for plan in writes:
            await self._apply_dml(plan, flush=False)
        await self.flush(since_recovery=recoveries)

    async def end_transaction(self, committed: bool) -> None:
        txn = self.txn
        if txn is None:
            return
        try:
            await cursor.end_of_block(self, committed)
        finally:
            self.txn = None
            if txn.snapshot is not None:
                await self.meta.unpin_snapshot(txn.snapshot[0])

    async def flush(self, since_recovery: int | None = None) -> None:
        """Wait for a checkpoint holding everything this session wrote before."""
        await self.meta.flush()
        if since_recovery is not None and self.meta.recovery_count != since_recovery:
            raise TransactionResolutionUnknown(
                "the cluster recovered while this statement's changes were being committed; "
                "they may or may not have been applied")
        self._unflushed = False

    async def read_own_writes(self) -> None:
        # Inside a block, reads see its snapshot; writes from before it were flushed when it was pinned.
        if self._unflushed and self.txn is None:
            await self.flush()


def _ipc(batches: list[pa.RecordBatch]) -> bytes:
    names = [f"c{i}" for i in range(batches[0].num_columns)]
    sink = pa.BufferOutputStream()
    first = pa.RecordBatch.from_arrays(batches[0].columns, names)
    with pa.ipc.new_stream(sink, first.schema) as writer:
        for b in batches:
            writer.write_batch(pa.RecordBatch.from_arrays(b.columns, schema=first.schema))
    return sink.getvalue().to_pybytes()


def _ends_transaction(tree: exp.Expression) -> bool:
    return isinstance(tree, dialect.TransactionControl) and tree.name in ("rollback", "commit", "rollback_to")


Handler = Callable[[Session, exp.Expression, str], Awaitable[QueryResult]]

_HANDLERS: dict[type, Handler] = {
    exp.Create: lambda s, t, sql: ddl.create(s, t, sql),  # type: ignore[arg-type]
    exp.Drop: lambda s, t, sql: ddl.drop(s, t),  # type: ignore[arg-type]
    dialect.AlterParallelism: lambda s, t, sql: ddl.alter_parallelism(s, t),  # type: ignore[arg-type]
    exp.Insert: lambda s, t, sql: dml.insert(s, t),  # type: ignore[arg-type]
    FastInsert: lambda s, t, sql: dml.insert_literals(s, t, sql),  # type: ignore[arg-type]
    exp.Update: lambda s, t, sql: dml.update(s, t),  # type: ignore[arg-type]
    exp.Delete: lambda s, t, sql: dml.delete(s, t),  # type: ignore[arg-type]
    exp.Describe: lambda s, t, sql: utility.describe(s, t),  # type: ignore[arg-type]
    dialect.Flush: lambda s, t, sql: utility.flush(s),
    dialect.Show: lambda s, t, sql: utility.show(s, t),  # type: ignore[arg-type]
    dialect.SetVariable: lambda s, t, sql: utility.set_variable(s, t),  # type: ignore[arg-type]
    dialect.Reset: lambda s, t, sql: utility.reset(s, t),  # type: ignore[arg-type]
    dialect.TransactionControl: lambda s, t, sql: transaction.transaction(s, t),  # type: ignore[arg-type]
    dialect.Discard: lambda s, t, sql: utility.discard(s, t),  # type: ignore[arg-type]
    dialect.Deallocate: lambda s, t, sql: prepare.deallocate(s, t),  # type: ignore[arg-type]
    commands.DeclareCursor: lambda s, t, sql: cursor.declare(s, t),  # type: ignore[arg-type]
    commands.FetchCursor: lambda s, t, sql: cursor.fetch(s, t),  # type: ignore[arg-type]
    commands.CloseCursor: lambda s, t, sql: cursor.close(s, t),  # type: ignore[arg-type]
    commands.PrepareStatement: lambda s, t, sql: prepare.prepare(s, t),  # type: ignore[arg-type]
    commands.ExecuteStatement: lambda s, t, sql: prepare.execute(s, t),  # type: ignore[arg-type]
    commands.CopyStatement: lambda s, t, sql: copy.copy(s, t),  # type: ignore[arg-type]
    commands.UserStatement: lambda s, t, sql: user.user_statement(s, t),  # type: ignore[arg-type]
    commands.Listen: lambda s, t, sql: utility.listen(s, t),  # type: ignore[arg-type]
}
