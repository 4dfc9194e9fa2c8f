"""The shared buffer: sealed mem-tables of every state table on a node, until their epoch commits.

A state table hands over one `ImmBatch` per epoch (table key -> row, or
None for a delete). Batches are readable at once (point gets by dict
lookup, scans through a sorted Arrow view built on first use), are taken
by `sync` to become SSTs, and are dropped only when a committed version
covers their epoch, so reads never fall into a gap between the shared
buffer and the committed SSTs.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa

from storage.sst import entry_schema

Row = tuple[Any, ...]


class ImmBatch:
    """One state table's writes of one epoch; immutable once built."""

    __slots__ = ("_keys", "_table", "entries", "epoch", "schema", "seq", "synced", "table_id")

    def __init__(self, table_id: int, epoch: int, seq: int, entries: Mapping[bytes, Row | None],
                 value_schema: pa.Schema) -> None:
        self.table_id = table_id
        self.epoch = epoch
        self.seq = seq
        # A state table hands its mem-table over and starts a new one, so no copy.
        self.entries = entries if isinstance(entries, dict) else dict(entries)
        self.schema = entry_schema(value_schema)
        self.synced = False
        self._keys: list[bytes] | None = None
        self._table: pa.Table | None = None

    def sorted_keys(self) -> list[bytes]:
        if self._keys is None:
            self._keys = sorted(self.entries)
        return self._keys

    def to_arrow(self) -> pa.Table:
        """Entries as an entry table sorted by key (one epoch, so one version per key)."""
        if self._table is None:
            self._table = _entries_table(self.sorted_keys(), self.entries, self.epoch, self.schema)
        return self._table

    def slice(self, start: bytes, end: bytes | None) -> pa.Table:
        keys = self.sorted_keys()
        lo = bisect.bisect_left(keys, start)
        hi = len(keys) if end is None else bisect.bisect_left(keys, end)
        return self.to_arrow().slice(lo, max(0, hi - lo))


def _entries_table(keys: list[bytes], entries: Mapping[bytes, Row | None], epoch: int,
                   schema: pa.Schema) -> pa.Table:
    n = len(keys)
    width = len(schema) - 3
    empty: Row = (None,) * width
    rows = [entries[k] for k in keys]
    tomb = np.fromiter((r is None for r in rows), dtype=bool, count=n)
    columns = list(zip(*[empty if r is None else r for r in rows])) if n else [() for _ in range(width)]
    arrays = [pa.array(keys, pa.binary()), pa.array(np.full(n, epoch, dtype=np.uint64)), pa.array(tomb)]
    arrays += [pa.array(list(col), schema.field(3 + i).type) for i, col in enumerate(columns)]
    return pa.Table.from_arrays(arrays, schema=schema)


class SharedBuffer:
    def __init__(self) -> None:
        self._by_table: dict[int, list[ImmBatch]] = {}  # per table, by (epoch, seq) ascending
        self._seq = itertools.count()

    def add(self, table_id: int, epoch: int, entries: Mapping[bytes, Row | None], value_schema: pa.Schema) -> None:
        batch = ImmBatch(table_id, epoch, next(self._seq), entries, value_schema)
        batches = self._by_table.setdefault(table_id, [])
        # Actors of one table pass a barrier at different times, so one may
        # hand over epoch e after another has handed over e + 1.
        i = len(batches)
        while i and batches[i - 1].epoch > epoch:
            i -= 1
        batches.insert(i, batch)

    def get(self, table_id: int, key: bytes, epoch: int) -> tuple[bool, Row | None]:
        """The newest write of `key` at or below `epoch`: (found, row or None for a delete)."""
        for batch in reversed(self._by_table.get(table_id, ())):
            if batch.epoch <= epoch:
                if key in batch.entries:
                    return True, batch.entries[key]
        return False, None

    def batches(self, table_id: int, epoch: int) -> list[ImmBatch]:
        return [b for b in self._by_table.get(table_id, ()) if b.epoch <= epoch]

    def take_unsynced(self, epoch: int) -> list[ImmBatch]:
        """Mark every batch at or below `epoch` not yet taken as synced, and return them."""
        out = []
        for batches in self._by_table.values():
            for b in batches:
                if b.epoch <= epoch and not b.synced:
                    b.synced = True
                    out.append(b)
        return out

    def drop_committed(self, committed_epoch: int) -> None:
        for table_id in list(self._by_table):
            kept = [b for b in self._by_table[table_id] if b.epoch > committed_epoch]
            if kept:
                self._by_table[table_id] = kept
            else:
                del self._by_table[table_id]

    def clear(self) -> None:
        self._by_table.clear()

    def epochs(self) -> set[int]:
        return {b.epoch for batches in self._by_table.values() for b in batches}

    def __len__(self) -> int:
        return sum(len(v) for v in self._by_table.values())
