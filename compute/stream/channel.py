"""Bounded channels between actors: how back-pressure works locally.

A full channel makes the sender wait, so a slow consumer slows its
producers and memory stays bounded.
"""

from __future__ import annotations

import asyncio

from common.message import Message

DEFAULT_CAPACITY = 16


class Channel:
    """One upstream actor's output to one downstream actor."""

    __slots__ = ("_queue", "upstream_actor", "downstream_actor")

    def __init__(self, upstream_actor: int, downstream_actor: int, capacity: int = DEFAULT_CAPACITY) -> None:
        self._queue: asyncio.Queue[Message] = asyncio.Queue(capacity)
        self.upstream_actor = upstream_actor
        self.downstream_actor = downstream_actor

    async def send(self, msg: Message) -> None:
        await self._queue.put(msg)

    async def recv(self) -> Message:
        return await self._queue.get()

    def try_recv(self) -> Message | None:
        """The next message if one is waiting, else None."""
        try:
            return self._queue.get_nowait()
        except asyncio.QueueEmpty:
            return None

    def __repr__(self) -> str:
        return f"Channel({self.upstream_actor}->{self.downstream_actor})"
