"""Shared helpers for storage tests: entry tables from Python rows, and a store that counts its reads."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from storage.iterator import sort_entries
from storage.object_store import ObjectMeta, ObjectStore
from storage.sst import entry_schema

VALUE_SCHEMA = pa.schema([("c0", pa.int64()), ("c1", pa.string())])
ENTRY_SCHEMA = entry_schema(VALUE_SCHEMA)


def entries(items: Sequence[tuple[bytes, int, tuple[int, str] | None]],
            schema: pa.Schema = ENTRY_SCHEMA) -> pa.Table:
    """An entry table from (key, epoch, row or None) items, sorted."""
    width = len(schema) - 3
    rows = [r if r is not None else (None,) * width for _, _, r in items]
    cols = list(zip(*rows)) if rows else [() for _ in range(width)]
    arrays = [pa.array([k for k, _, _ in items], pa.binary()),
              pa.array(np.array([e for _, e, _ in items], dtype=np.uint64)),
              pa.array([r is None for _, _, r in items], pa.bool_())]
    arrays += [pa.array(list(c), schema.field(3 + i).type) for i, c in enumerate(cols)]
    return sort_entries(pa.Table.from_arrays(arrays, schema=schema))


class CountingStore:
    """Wraps a store and records every read it serves."""

    def __init__(self, inner: ObjectStore) -> None:
        self.inner = inner
        self.gets: list[str] = []
        self.ranges: list[tuple[str, int, int]] = []

    @property
    def bytes_read(self) -> int:
        return sum(e - s for _, s, e in self.ranges)

    def reset(self) -> None:
        self.gets.clear()
        self.ranges.clear()

    async def put(self, key: str, data: bytes) -> None:
        await self.inner.put(key, data)

    async def get(self, key: str) -> bytes:
        self.gets.append(key)
        return await self.inner.get(key)

    async def get_range(self, key: str, start: int, end: int) -> bytes:
        self.ranges.append((key, start, end))
        return await self.inner.get_range(key, start, end)

    async def size(self, key: str) -> int:
        return await self.inner.size(key)

    async def delete_many(self, keys: Sequence[str]) -> None:
        await self.inner.delete_many(keys)

    async def list(self, prefix: str = "") -> list[ObjectMeta]:
        return await self.inner.list(prefix)
