"""The LRU cache: bounded by bytes, least recently used out first, one load per key at a time."""

from __future__ import annotations

import asyncio

import pytest

from storage.block_cache import LruCache


def test_evicts_least_recently_used_by_bytes() -> None:
    cache: LruCache[bytes] = LruCache(10, len)
    cache.put("a", b"aaaa")
    cache.put("b", b"bbbb")
    assert cache.get("a") == b"aaaa"  # now b is the oldest
    cache.put("c", b"cccc")
    assert cache.get("b") is None
    assert cache.get("a") == b"aaaa" and cache.get("c") == b"cccc"
    assert cache.size_bytes == 8
    cache.put("huge", b"x" * 11)  # bigger than the cache: not kept, nothing evicted
    assert cache.get("huge") is None and len(cache) == 2


async def test_concurrent_misses_share_one_load() -> None:
    cache: LruCache[bytes] = LruCache(100, len)
    release = asyncio.Event()
    loads = 0

    async def load() -> bytes:
        nonlocal loads
        loads += 1
        await release.wait()
        return b"value"

    readers = [asyncio.create_task(cache.get_or_load("k", load)) for _ in range(5)]
    await asyncio.sleep(0)
    release.set()
    assert await asyncio.gather(*readers) == [b"value"] * 5
    assert loads == 1 and cache.misses == 1
    assert await cache.get_or_load("k", load) == b"value" and cache.hits == 1


async def test_failed_load_reaches_every_waiter_and_is_not_cached() -> None:
    cache: LruCache[bytes] = LruCache(100, len)
    release = asyncio.Event()

    async def failing() -> bytes:
        await release.wait()
        raise OSError("object store down")

    readers = [asyncio.create_task(cache.get_or_load("k", failing)) for _ in range(3)]
    await asyncio.sleep(0)
    release.set()
    results = await asyncio.gather(*readers, return_exceptions=True)
    assert all(isinstance(r, OSError) for r in results)

    async def ok() -> bytes:
        return b"back"

    assert await cache.get_or_load("k", ok) == b"back"
    with pytest.raises(OSError):
        await cache.get_or_load("other", failing)  # released already: fails at once
