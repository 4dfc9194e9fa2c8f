"""Portals: a bound statement and, once executed, its result being read out a number of rows at a time."""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator

import pyarrow as pa

from frontend.pgwire.session_api import PreparedStatement, QueryResult

logger = logging.getLogger(__name__)

# The handle of a statement whose SQL is empty: executing it answers EmptyQueryResponse.
EMPTY_QUERY = object()


class Portal:
    """A statement with its parameters and result formats; `result` is set by the first Execute.

    Rows are handed out in order across Executes: whatever part of a batch
    an Execute with a row limit did not take stays pending for the next.
    """

    def __init__(self, statement: PreparedStatement, params: list[object], result_formats: tuple[int, ...]) -> None:
        self.statement = statement
        self.params = params
        self.result_formats = result_formats
        self.requested_formats: tuple[int, ...] = ()
        """The result format codes as Bind sent them."""
        self.result: QueryResult | None = None
        self._pending: pa.RecordBatch | None = None
        self._exhausted = False

    @property
    def is_empty_query(self) -> bool:
        return self.statement.handle is EMPTY_QUERY

    async def next_rows(self, limit: int) -> pa.RecordBatch | None:
        """The next 1..limit rows, or None when every row has been handed out."""
        while True:
            batch = self._pending
            self._pending = None
            if batch is None:
                batch = await self._next_batch()
                if batch is None:
                    return None
            if batch.num_rows > limit:
                self._pending = batch.slice(limit)
                batch = batch.slice(0, limit)
            if batch.num_rows:
                return batch

    async def _next_batch(self) -> pa.RecordBatch | None:
        batches = None if self.result is None else self.result.batches
        if batches is None or self._exhausted:
            return None
        try:
            return await anext(batches)
        except StopAsyncIteration:
            self._exhausted = True
            return None

    async def close(self) -> None:
        """Release the result's iterator (a generator's `finally` runs now, not at garbage collection)."""
        self._pending = None
        batches = None if self.result is None else self.result.batches
        if isinstance(batches, AsyncGenerator) and not self._exhausted:
            self._exhausted = True
            try:
                await batches.aclose()
            except Exception:
                logger.exception("closing a result iterator failed")
