"""Merge: reads every upstream actor's channel and aligns barriers.

Chunks pass through as they arrive. Once a barrier arrives on one channel,
that channel is not read again until the same barrier has arrived on all of
them; then the barrier is emitted once. This is what makes a barrier a
consistent cut of the stream.

Under load, the chunks already waiting in the channels when one arrives are
coalesced into one chunk (up to COALESCE_ROWS rows): a hash exchange splits
its input N ways, and without this every hop would shrink the chunks and
multiply the per-chunk cost of the executors downstream. Nothing waits for
more input to arrive, so coalescing adds no latency.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence

import pyarrow as pa

from common.chunk import StreamChunk
from common.message import Barrier, Message, UpdateMutation
from common.types import DataType
from compute.stream.channel import Channel

COALESCE_ROWS = 4096


def _coalesce(chunks: list[StreamChunk]) -> list[StreamChunk]:
    if len(chunks) < 2:
        return chunks
    try:
        return [StreamChunk.concat(chunks)]
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # chunks whose column types differ (all-NULL columns)
        return chunks


class MergeExecutor:
    def __init__(self, types: tuple[DataType, ...], channels: Sequence[Channel], actor_id: int,
                 upstream_fragment_id: int, channel_factory: Callable[[int], Channel] | None = None) -> None:
        self.types = types
        self.channels = list(channels)
        self.actor_id = actor_id
        self.upstream_fragment_id = upstream_fragment_id
        self._channel_factory = channel_factory

    async def execute(self) -> AsyncIterator[Message]:
        while True:
            barrier = None
            async for msg in self._until_aligned():
                if isinstance(msg, Barrier):
                    barrier = msg
                else:
                    yield msg
            assert barrier is not None
            await self._on_barrier(barrier)
            yield barrier

    async def _until_aligned(self) -> AsyncIterator[Message]:
        """Yield chunks until every channel delivered a barrier; yield that barrier last."""
        pending: dict[asyncio.Task[Message], Channel] = {
            asyncio.ensure_future(ch.recv()): ch for ch in self.channels
        }
        barrier: Barrier | None = None
        try:
            while pending:
                done, _ = await asyncio.wait(pending.keys(), return_when=asyncio.FIRST_COMPLETED)
                ready: list[StreamChunk] = []
                rows = 0
                for task in done:
                    ch = pending.pop(task)
                    msg: Message | None = task.result()
                    while msg is not None:
                        if isinstance(msg, Barrier):  # this channel is blocked until the others catch up
                            if barrier is not None and msg.epoch != barrier.epoch:
                                raise RuntimeError(f"barrier misaligned at actor {self.actor_id}: "
                                                   f"{msg.epoch} vs {barrier.epoch}")
                            barrier = msg
                            break
                        if isinstance(msg, StreamChunk):
                            ready.append(msg)
                            rows += msg.num_rows
                        else:  # a watermark follows the chunks that came before it
                            for chunk in _coalesce(ready):
                                yield chunk
                            ready, rows = [], 0
                            yield msg
                        msg = ch.try_recv() if rows < COALESCE_ROWS else None
                        if msg is None:
                            pending[asyncio.ensure_future(ch.recv())] = ch
                for chunk in _coalesce(ready):
                    yield chunk
        finally:
            for task in pending:
                task.cancel()
        assert barrier is not None
        yield barrier

    async def _on_barrier(self, barrier: Barrier) -> None:
        """Rescale may replace this actor's upstream actors from the next epoch on.

        A new upstream actor started at this very barrier and sends it too:
        that copy is read and dropped here, so the barrier passes once.
        """
        m = barrier.mutation
        if isinstance(m, UpdateMutation) and self._channel_factory is not None:
            for actor, fragment, upstreams in m.merges:
                if actor == self.actor_id and fragment == self.upstream_fragment_id:
                    keep = {ch.upstream_actor: ch for ch in self.channels}
                    fresh = [self._channel_factory(u) for u in upstreams if u not in keep]
                    self.channels = [keep.get(u) or self._channel_factory(u) for u in upstreams]
                    for ch in fresh:
                        first = await ch.recv()
                        if not isinstance(first, Barrier) or first.epoch != barrier.epoch:
                            raise RuntimeError(f"actor {self.actor_id}: a new upstream began with {first!r}, "
                                               f"not barrier {barrier.epoch}")
