"""Dispatch: sends an actor's output to the downstream actors of each outgoing edge.

HASH routes each row by the vnode of its distribution key; SIMPLE and
NO_SHUFFLE send everything to one actor; BROADCAST to all. Barriers go to
every output. Mutations change the outputs at the barrier that carries
them: an Add gains outputs before the barrier is sent (the new actors must
see it first), a Stop drops outputs after it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Protocol

import numpy as np

from common.chunk import StreamChunk
from common.message import AddMutation, Barrier, Message, StopMutation, UpdateMutation
from common.stream_plan import Dispatcher, DispatcherKind
from common.types import DataType
from common.vnode import compute_vnodes
from compute.stream.executor import Executor


class Output(Protocol):
    """A local Channel or a RemoteOutput."""

    async def send(self, msg: Message) -> None: ...


ChannelFactory = Callable[[int], Output]  # downstream actor id -> where this actor's messages for it go


def split_by_vnode(chunk: StreamChunk, dist_key: Sequence[int], owner_of_vnode: np.ndarray,
                   num_outputs: int) -> list[StreamChunk | None]:
    """Split a chunk into one chunk per output by the vnode of `dist_key` (None: no rows).

    Update pairs whose halves land on different outputs become DELETE + INSERT.
    """
    vnodes = compute_vnodes([chunk.column(i) for i in dist_key], chunk.num_rows)
    target = owner_of_vnode[vnodes]
    ops = chunk.ops_numpy()
    out: list[StreamChunk | None] = []
    for i in range(num_outputs):
        idx = np.flatnonzero(target == i)
        if len(idx) == 0:
            out.append(None)
            continue
        part = chunk if len(idx) == chunk.num_rows else chunk.take(idx)
        if len(idx) != chunk.num_rows and ((ops == 3) | (ops == 4)).any():
            part = part.fix_update_pairs()
        out.append(part)
    return out


class _Output:
    """One outgoing edge: a dispatcher and the channels of its downstream actors."""

    def __init__(self, spec: Dispatcher, channels: ChannelFactory) -> None:
        self.spec = spec
        self.channels = {a: channels(a) for a in spec.downstream_actors}
        self._owner_index: np.ndarray | None = None
        if spec.kind is DispatcherKind.HASH:
            assert spec.vnode_mapping is not None
            order = list(spec.downstream_actors)
            self._owner_index = np.array([order.index(a) for a in spec.vnode_mapping], dtype=np.int64)

    async def send_chunk(self, chunk: StreamChunk) -> None:
        kind = self.spec.kind
        if kind is DispatcherKind.HASH:
            assert self._owner_index is not None
            parts = split_by_vnode(chunk, self.spec.dist_key, self._owner_index, len(self.spec.downstream_actors))
            sends = [self.channels[a].send(p) for a, p in zip(self.spec.downstream_actors, parts) if p is not None]
            if len(sends) == 1:
                await sends[0]
            elif sends:
                await asyncio.gather(*sends)
        elif kind is DispatcherKind.BROADCAST:
            await asyncio.gather(*(ch.send(chunk) for ch in self.channels.values()))
        else:
            for ch in self.channels.values():
                await ch.send(chunk)

    async def send_barrier(self, barrier: Barrier) -> None:
        for ch in self.channels.values():
            await ch.send(barrier)

    def drop(self, actors: set[int]) -> bool:
        """Forget stopped downstream actors; True when no output remains."""
        for a in actors & self.channels.keys():
            del self.channels[a]
        return not self.channels


class DispatchExecutor:
    """The last executor of every actor whose fragment has downstream fragments."""

    def __init__(self, input: Executor, actor_id: int, dispatchers: Sequence[Dispatcher],
                 channels: ChannelFactory) -> None:
        self.input = input
        self.types: tuple[DataType, ...] = input.types
        self.actor_id = actor_id
        self._channels = channels
        self.outputs = [_Output(d, channels) for d in dispatchers]

    async def execute(self) -> AsyncIterator[Message]:
        async for msg in self.input.execute():
            if isinstance(msg, StreamChunk):
                if msg.num_rows:
                    for out in self.outputs:
                        await out.send_chunk(msg)
            elif isinstance(msg, Barrier):
                await self._on_barrier(msg)
                yield msg
            else:
                for out in self.outputs:
                    for ch in out.channels.values():
                        await ch.send(msg)

    async def _on_barrier(self, barrier: Barrier) -> None:
        m = barrier.mutation
        replaced: list[_Output] = []
        if isinstance(m, AddMutation):
            for upstream, spec in m.adds:
                if upstream == self.actor_id:
                    self.outputs.append(_Output(spec, self._channels))
        elif isinstance(m, UpdateMutation):
            for upstream, spec in m.dispatchers:
                if upstream == self.actor_id:
                    replaced += [o for o in self.outputs if o.spec.dispatcher_id == spec.dispatcher_id]
                    self.outputs = [o for o in self.outputs if o.spec.dispatcher_id != spec.dispatcher_id]
                    self.outputs.append(_Output(spec, self._channels))
        # The barrier reaches old and new downstream actors alike: old ones stop at it, new ones start at it.
        sent: set[int] = set()
        for out in [*self.outputs, *replaced]:
            for ch in out.channels.values():
                if id(ch) not in sent:
                    sent.add(id(ch))
                    await ch.send(barrier)
        if isinstance(m, (StopMutation, UpdateMutation)):
            stopped = set(m.actors if isinstance(m, StopMutation) else m.removed_actors)
            self.outputs = [o for o in self.outputs if not o.drop(stopped)]
