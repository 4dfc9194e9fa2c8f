"""Reading SSTs from the object store by ranged GETs, through the meta and block caches.

A point lookup costs at most three small GETs on a cold cache (footer,
meta, one block) and none on a warm one; a whole object is never fetched
on the read path.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence

from storage.block_cache import LruCache
from storage.errors import DataCorrupted
from storage.object_store import ObjectStore
from storage.sst import FOOTER_SIZE, Block, SstMeta, decode_block, decode_footer, decode_meta
from storage.version import SstInfo

_MAX_CONCURRENT_GETS = 16


class SstableStore:
    def __init__(self, object_store: ObjectStore, *, block_cache_bytes: int = 256 << 20,
                 meta_cache_bytes: int = 64 << 20) -> None:
        self.object_store = object_store
        self.block_cache: LruCache[Block] = LruCache(block_cache_bytes, lambda b: b.nbytes)
        self.meta_cache: LruCache[SstMeta] = LruCache(meta_cache_bytes, lambda m: m.encoded_size * 2)
        self._gets = asyncio.Semaphore(_MAX_CONCURRENT_GETS)

    async def meta(self, sst: SstInfo) -> SstMeta:
        return await self.meta_cache.get_or_load(sst.object_id, lambda: self._load_meta(sst))

    async def _load_meta(self, sst: SstInfo) -> SstMeta:
        return await read_meta(self.object_store, sst, self._gets)

    async def block(self, sst: SstInfo, meta: SstMeta, index: int) -> Block:
        return await self.block_cache.get_or_load((sst.object_id, index), lambda: self._load_block(sst, meta, index))

    async def _load_block(self, sst: SstInfo, meta: SstMeta, index: int) -> Block:
        start = meta.offsets[index]
        async with self._gets:
            data = await self.object_store.get_range(sst.object_key, start, start + meta.lengths[index])
        return decode_block(data, meta, index, sst.object_key)

    async def blocks(self, requests: Sequence[tuple[SstInfo, SstMeta, int]], *,
                     fill_cache: bool = True) -> list[Block]:
        """Several blocks fetched concurrently (bounded), in request order.

        Without `fill_cache`, blocks not already cached are read past the cache,
        so one large scan does not evict the blocks that point reads keep hot.
        """
        if fill_cache:
            return list(await asyncio.gather(*(self.block(s, m, i) for s, m, i in requests)))

        async def one(sst: SstInfo, meta: SstMeta, index: int) -> Block:
            cached = self.block_cache.get((sst.object_id, index))
            return cached if cached is not None else await self._load_block(sst, meta, index)

        return list(await asyncio.gather(*(one(s, m, i) for s, m, i in requests)))


async def read_meta(object_store: ObjectStore, sst: SstInfo,
                    gets: asyncio.Semaphore | None = None) -> SstMeta:
    """An SST's meta by two ranged GETs (footer, then meta), each checked; `gets` bounds concurrent GETs."""
    key = sst.object_key
    if sst.file_size < FOOTER_SIZE:
        raise DataCorrupted(key, "object smaller than a footer")
    limit = gets if gets is not None else contextlib.nullcontext()
    async with limit:
        footer = await object_store.get_range(key, sst.file_size - FOOTER_SIZE, sst.file_size)
    offset, length, crc = decode_footer(footer, key)
    if offset + length + FOOTER_SIZE != sst.file_size:
        raise DataCorrupted(key, "meta section out of bounds")
    async with limit:
        data = await object_store.get_range(key, offset, offset + length)
    return decode_meta(data, crc, key)
