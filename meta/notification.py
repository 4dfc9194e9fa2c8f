"""Notifications meta pushes to subscribers (frontends): catalog changes and committed epochs."""

from __future__ import annotations

import asyncio
from typing import Any

_QUEUE = 256


class NotificationHub:
    """Each subscriber gets every notification published after it subscribed; a slow one drops the oldest."""

    def __init__(self) -> None:
        self._queues: set[asyncio.Queue[Any]] = set()
        self.last: dict[str, Any] = {}

    def publish(self, event: tuple[Any, ...]) -> None:
        self.last[event[0]] = event
        for q in self._queues:
            if q.full():
                q.get_nowait()
            q.put_nowait(event)

    def subscribe(self) -> asyncio.Queue[Any]:
        q: asyncio.Queue[Any] = asyncio.Queue(_QUEUE)
        for event in self.last.values():  # a new subscriber starts from the current state
            q.put_nowait(event)
        self._queues.add(q)
        return q

    def unsubscribe(self, q: asyncio.Queue[Any]) -> None:
        self._queues.discard(q)
