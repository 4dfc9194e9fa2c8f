"""Routes a DML statement's changes to its table's DML actor, as one transaction."""

from __future__ import annotations

import asyncio
import itertools

from common.chunk import StreamChunk
from common.errors import CannotConnectNow
from compute.stream.dml import DmlTxn
from compute.stream.local_barrier_manager import LocalBarrierManager
from compute.stream.stream_manager import StreamManager


class DmlManager:
    def __init__(self, streams: StreamManager, barrier_manager: LocalBarrierManager) -> None:
        self._streams = streams
        self._barriers = barrier_manager
        self._rr = itertools.count()

    async def write(self, table_id: int, chunk: StreamChunk) -> None:
        """Returns once the table's DML actor has taken the whole statement into its epoch."""
        actors = self._streams.dml_actors.get(table_id)
        if not actors:
            raise CannotConnectNow("the table is not accepting writes right now (recovering); retry")
        actor = actors[next(self._rr) % len(actors)]
        queue = self._barriers.sources.get(actor)
        if queue is None:
            raise CannotConnectNow("the table is not accepting writes right now (recovering); retry")
        txn = DmlTxn(chunk, asyncio.get_running_loop().create_future())
        await queue.put_data(txn, chunk.num_rows)
        task = self._streams.actors.get(actor)
        waiters: list[asyncio.Future[object]] = [txn.accepted]  # type: ignore[list-item]
        if task is not None and task.task is not None:
            waiters.append(task.task)  # type: ignore[arg-type]
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        if not txn.accepted.done():
            raise CannotConnectNow("the table's dataflow failed while taking the write; it is recovering, retry")
