"""Uploading built SSTs: allocate object ids from meta, put the objects, describe them for the version.

The `SstInfo`s are returned only after every put has completed, so a
version that names them never names an object that is not fully uploaded.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

from storage.object_store import ObjectStore
from storage.sst_builder import BuiltSst
from storage.version import SstInfo, sst_object_key

IdAllocator = Callable[[int], Awaitable[list[int]]]


async def upload_ssts(built: Sequence[BuiltSst], object_store: ObjectStore, id_allocator: IdAllocator) -> list[SstInfo]:
    if not built:
        return []
    ids = await id_allocator(len(built))
    infos = [SstInfo(object_id, sst_object_key(object_id), len(b.data), b.table_ids, b.smallest_key, b.largest_key,
                     b.min_epoch, b.max_epoch, b.entry_count) for object_id, b in zip(ids, built)]
    await asyncio.gather(*(object_store.put(info.object_key, b.data) for info, b in zip(infos, built)))
    return infos
