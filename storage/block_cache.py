"""A byte-bounded LRU cache for decoded SST blocks and parsed SST metas.

Concurrent misses on the same key share one load, so a burst of readers
touching a cold block issues one GET, not one each.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class LruCache(Generic[V]):
    def __init__(self, capacity_bytes: int, weigh: Callable[[V], int]) -> None:
        self._capacity = capacity_bytes
        self._weigh = weigh
        self._entries: OrderedDict[Hashable, tuple[V, int]] = OrderedDict()
        self._bytes = 0
        self._loading: dict[Hashable, asyncio.Future[V]] = {}
        self.hits = 0
        self.misses = 0

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Hashable) -> V | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        self._entries.move_to_end(key)
        return entry[0]

    def put(self, key: Hashable, value: V) -> None:
        weight = self._weigh(value)
        old = self._entries.pop(key, None)
        if old is not None:
            self._bytes -= old[1]
        if weight > self._capacity:
            return  # larger than the whole cache: caching it would only evict everything else
        self._entries[key] = (value, weight)
        self._bytes += weight
        while self._bytes > self._capacity:
            _, (_, w) = self._entries.popitem(last=False)
            self._bytes -= w

    def invalidate(self, key: Hashable) -> None:
        old = self._entries.pop(key, None)
        if old is not None:
            self._bytes -= old[1]

    async def get_or_load(self, key: Hashable, load: Callable[[], Awaitable[V]]) -> V:
        value = self.get(key)
        if value is not None:
            self.hits += 1
            return value
        pending = self._loading.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        self.misses += 1
        fut: asyncio.Future[V] = asyncio.get_running_loop().create_future()
        self._loading[key] = fut
        try:
            value = await load()
        except BaseException as e:
            fut.set_exception(e)
            fut.exception()  # mark retrieved: nobody else may be waiting
            raise
        finally:
            self._loading.pop(key, None)
        fut.set_result(value)
        self.put(key, value)
        return value
