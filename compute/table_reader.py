"""Batch reads of whole state tables at a committed epoch, for ad-hoc queries and DML."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pyarrow as pa

from common.catalog import TableDesc
from storage.state_store import StateStore
from storage.state_table import scan_table

BATCH_ROWS = 65536


class StoreTableReader:
    def __init__(self, store: StateStore) -> None:
        self.store = store

    async def scan(self, table: TableDesc, epoch: int) -> AsyncIterator[pa.RecordBatch]:
        result: pa.Table = await scan_table(self.store, table, epoch)
        names = [f"c{i}" for i in range(len(table.columns))]
        result = result.select(names)
        for batch in result.to_batches(BATCH_ROWS):
            yield batch
