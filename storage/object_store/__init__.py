"""Object stores: where SSTs live (S3, a local directory, or memory for tests).

Every store offers the same small async interface. Keys are `/`-separated
paths relative to the store's root or prefix. `get_range` takes a half-open
byte range `[start, end)`; a range past the end of the object is cut short.
A missing object raises `storage.errors.ObjectNotFound`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlparse

if TYPE_CHECKING:
    from storage.object_store.memory import MemoryObjectStore


@dataclass(frozen=True, slots=True)
class ObjectMeta:
    key: str
    size: int
    last_modified: float  # seconds since the Unix epoch


class ObjectStore(Protocol):
    async def put(self, key: str, data: bytes) -> None: ...

    async def get(self, key: str) -> bytes: ...

    async def get_range(self, key: str, start: int, end: int) -> bytes: ...

    async def size(self, key: str) -> int: ...

    async def delete_many(self, keys: Sequence[str]) -> None:
        """Delete the objects; keys that do not exist are ignored."""
        ...

    async def list(self, prefix: str = "") -> list[ObjectMeta]: ...


# Memory stores are shared per URL so that meta and compute, wired together in
# one process, see the same objects.
_MEMORY_STORES: dict[str, MemoryObjectStore] = {}


def object_store_from_url(url: str, *, s3_endpoint: str | None = None,
                          create_bucket: bool = False) -> ObjectStore:
    """`s3://bucket/prefix`, `file:///dir` or a plain path, or `memory://name`."""
    if url.startswith("memory://"):
        from storage.object_store.memory import MemoryObjectStore

        return _MEMORY_STORES.setdefault(url, MemoryObjectStore())
    if url.startswith("s3://"):
        from storage.object_store.s3 import S3ObjectStore

        parsed = urlparse(url)
        return S3ObjectStore(parsed.netloc, parsed.path.strip("/"), endpoint_url=s3_endpoint,
                             create_bucket=create_bucket)
    from storage.object_store.local import LocalObjectStore

    if url.startswith("file://"):
        return LocalObjectStore(urlparse(url).path)
    return LocalObjectStore(url)
