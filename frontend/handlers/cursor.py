"""SQL cursors: DECLARE, FETCH, MOVE, CLOSE, and what happens to cursors when a transaction block ends.

A cursor runs its query at the block's snapshot and hands its rows out as
FETCH asks, never reading further ahead than one batch. Cursors are
forward-only (NO SCROLL). As in PostgreSQL, a cursor WITHOUT HOLD (the
default) exists only inside a transaction block and closes when it ends;
a cursor WITH HOLD outlives the block that commits it: its remaining rows
are read into memory at COMMIT (or at once, when declared outside a
block), since the snapshot it read is released then. ROLLBACK closes the
cursors the block declared, holdable or not.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import pyarrow as pa
from sqlglot import exp

from common.errors import (
    DuplicateCursor,
    FeatureNotSupported,
    InvalidCursorName,
    NoActiveSqlTransaction,
    ObjectNotInPrerequisiteState,
    SyntaxError_,
)
from frontend.handlers import query
from frontend.pgwire.portal import Portal
from frontend.pgwire.session_api import CursorInfo, QueryResult, ResultColumn
from frontend.sql.commands import CloseCursor, DeclareCursor, FetchCursor
from frontend.sql.parser import parse_one

if TYPE_CHECKING:
    from frontend.session import Session

QUERY_TYPES = (exp.Select, exp.Union, exp.Except, exp.Intersect, exp.Values)
_BATCH_ROWS = 8192


class Cursor:
    """An open cursor: its columns and the rows not yet fetched."""

    def __init__(self, name: str, columns: tuple[ResultColumn, ...], batches: AsyncIterator[pa.RecordBatch],
                 *, binary: bool, hold: bool, in_block: bool) -> None:
        self.name = name
        self.info = CursorInfo(columns, binary)
        self.hold = hold
        self.in_block = in_block
        """Declared in the open transaction block (closed if it rolls back)."""
        self._batches: AsyncIterator[pa.RecordBatch] | None = batches
        self._held: list[pa.RecordBatch] = []
        self._pending: pa.RecordBatch | None = None

    async def _next_batch(self) -> pa.RecordBatch | None:
        if self._pending is not None:
            batch, self._pending = self._pending, None
            return batch
        if self._held:
            return self._held.pop(0)
        if self._batches is None:
            return None
        try:
            return await anext(self._batches)
        except StopAsyncIteration:
            self._batches = None
            return None

    async def rows(self, limit: int | None) -> AsyncIterator[pa.RecordBatch]:
        """The next `limit` rows (None: all that are left), a batch at a time."""
        left = limit
        while left is None or left > 0:
            batch = await self._next_batch()
            if batch is None:
                return
            if left is not None and batch.num_rows > left:
                self._pending = batch.slice(left)
                batch = batch.slice(0, left)
            if left is not None:
                left -= batch.num_rows
            if batch.num_rows:
                yield batch

    async def skip(self, limit: int | None) -> int:
        skipped = 0
        async for batch in self.rows(limit):
            skipped += batch.num_rows
        return skipped

    async def hold_rows(self) -> None:
        """Read every remaining row into memory, so the cursor no longer needs its snapshot."""
        held = [b async for b in self.rows(None)]
        self._held = held

    async def close(self) -> None:
        batches, self._batches = self._batches, None
        self._held = []
        self._pending = None
        if batches is not None and hasattr(batches, "aclose"):
            await batches.aclose()


async def declare(session: Session, tree: DeclareCursor) -> QueryResult:
    name = str(tree.name)
    hold = bool(tree.args.get("hold"))
    if not hold and session.txn is None:
        raise NoActiveSqlTransaction("DECLARE CURSOR can only be used in transaction blocks")
    if name in session.cursors:
        raise DuplicateCursor(f'cursor "{name}" already exists')
    body = parse_one(str(tree.args["query"]))
    if not isinstance(body, QUERY_TYPES):
        raise SyntaxError_("DECLARE CURSOR needs a SELECT or VALUES query")
    planned = query.plan_query(session, body)
    await session.read_epoch()  # the cursor reads the snapshot of the moment it is declared
    cursor = Cursor(name, tuple(planned.columns), session.run_query(planned.plan),
                    binary=bool(tree.args.get("binary")), hold=hold, in_block=session.txn is not None)
    if session.txn is None:
        await cursor.hold_rows()
    session.cursors[name] = cursor
    return QueryResult("DECLARE CURSOR")


def _cursor(session: Session, name: str) -> Cursor:
    cursor = session.cursors.get(name)
    if cursor is None:
        raise InvalidCursorName(f'cursor "{name}" does not exist')
    return cursor


async def fetch(session: Session, tree: FetchCursor) -> QueryResult:
    count: int | None = tree.args.get("count")
    if tree.args.get("backward"):
        raise ObjectNotInPrerequisiteState("cursor can only scan forward",
                                           hint="Declare it with SCROLL option to enable backward scan.")
    if count == 0:
        raise FeatureNotSupported("FETCH or MOVE of 0 rows (the current row) is not supported")
    name = str(tree.name)
    if name not in session.cursors and name in session.portals:
        return await _fetch_portal(session, session.portals[name], tree, count)
    cursor = _cursor(session, name)
    if tree.args.get("relative"):
        assert count is not None
        await cursor.skip(count - 1)
        count = 1
    if tree.args.get("move"):
        return QueryResult("MOVE", row_count=await cursor.skip(count))
    return QueryResult("FETCH", columns=list(cursor.info.columns), batches=cursor.rows(count),
                       binary=cursor.info.binary)


async def _fetch_portal(session: Session, portal: Portal, tree: FetchCursor, count: int | None) -> QueryResult:
    """FETCH or MOVE on a portal the client bound: its rows continue where its last Execute stopped."""
    if portal.result is None:
        portal.result = await session.run_prepared(portal.statement, portal.params)
    columns = portal.result.columns
    if columns is None:
        raise ObjectNotInPrerequisiteState(f'portal "{tree.name}" cannot be run')
    if tree.args.get("relative"):
        assert count is not None
        async for _ in _portal_rows(portal, count - 1):
            pass
        count = 1
    if tree.args.get("move"):
        return QueryResult("MOVE", row_count=sum([b.num_rows async for b in _portal_rows(portal, count)]))
    return QueryResult("FETCH", columns=list(columns), batches=_portal_rows(portal, count))


async def _portal_rows(portal: Portal, limit: int | None) -> AsyncIterator[pa.RecordBatch]:
    left = limit
    while left is None or left > 0:
        batch = await portal.next_rows(_BATCH_ROWS if left is None else min(left, _BATCH_ROWS))
        if batch is None:
            return
        if left is not None:
            left -= batch.num_rows
        yield batch


async def close(session: Session, tree: CloseCursor) -> QueryResult:
    if tree.name:
        name = str(tree.name)
        if name not in session.cursors and name in session.portals:
            await session.portals.pop(name).close()
            return QueryResult("CLOSE CURSOR")
        if not await session.close_cursor(name):
            raise InvalidCursorName(f'cursor "{name}" does not exist')
        return QueryResult("CLOSE CURSOR")
    await close_all(session)
    return QueryResult("CLOSE CURSOR ALL")


async def close_all(session: Session) -> None:
    for name in list(session.cursors):
        await session.close_cursor(name)


async def end_of_block(session: Session, committed: bool) -> None:
    """Close the cursors a transaction block ending now takes along; hold the rest."""
    for name, cursor in list(session.cursors.items()):
        if cursor.hold and (committed or not cursor.in_block):
            if cursor.in_block:
                await cursor.hold_rows()
                cursor.in_block = False
        else:
            await session.close_cursor(name)
