"""An in-memory object store, for unit tests and the single-process playground without a disk."""

from __future__ import annotations

import time
from collections.abc import Sequence

from storage.errors import ObjectNotFound
from storage.object_store import ObjectMeta


class MemoryObjectStore:
    """Objects in a dict; each value is replaced whole, so a reader never sees half a put."""

    def __init__(self) -> None:
        self._objects: dict[str, tuple[bytes, float]] = {}

    async def put(self, key: str, data: bytes) -> None:
        self._objects[key] = (bytes(data), time.time())

    async def get(self, key: str) -> bytes:
        return self._lookup(key)

    async def get_range(self, key: str, start: int, end: int) -> bytes:
        return self._lookup(key)[start:end]

    async def size(self, key: str) -> int:
        return len(self._lookup(key))

    async def delete_many(self, keys: Sequence[str]) -> None:
        for k in keys:
            self._objects.pop(k, None)

    async def list(self, prefix: str = "") -> list[ObjectMeta]:
        return [ObjectMeta(k, len(v), t) for k, (v, t) in sorted(self._objects.items()) if k.startswith(prefix)]

    def _lookup(self, key: str) -> bytes:
        try:
            return self._objects[key][0]
        except KeyError:
            raise ObjectNotFound(key) from None
