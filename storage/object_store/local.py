"""An object store in a local directory: the playground's default and a stand-in for S3 on one machine.

A put writes a temporary file, fsyncs it, renames it over the key and
fsyncs the directory, so after a crash an object is either absent or
complete (never torn), just as with S3. File I/O runs off the event loop.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import os
import uuid
from collections.abc import Sequence

from storage.errors import ObjectNotFound, ObjectStoreError
from storage.object_store import ObjectMeta

_TMP_PREFIX = ".tmp-"


class LocalObjectStore:
    def __init__(self, root_dir: str) -> None:
        self._root = os.path.abspath(root_dir)
        os.makedirs(self._root, exist_ok=True)

    @property
    def root(self) -> str:
        return self._root

    def _path(self, key: str) -> str:
        path = os.path.normpath(os.path.join(self._root, key))
        if not path.startswith(self._root + os.sep):
            raise ObjectStoreError(f"invalid object key: {key}")
        return path

    async def put(self, key: str, data: bytes) -> None:
        await asyncio.to_thread(self._put_sync, self._path(key), data)

    @staticmethod
    def _put_sync(path: str, data: bytes) -> None:
        directory = os.path.dirname(path)
        os.makedirs(directory, exist_ok=True)
        tmp = os.path.join(directory, f"{_TMP_PREFIX}{uuid.uuid4().hex}")
        try:
            with open(tmp, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        # The rename is durable only once the directory entry is.
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    async def get(self, key: str) -> bytes:
        return await asyncio.to_thread(self._read, key, 0, None)

    async def get_range(self, key: str, start: int, end: int) -> bytes:
        return await asyncio.to_thread(self._read, key, start, end)

    def _read(self, key: str, start: int, end: int | None) -> bytes:
        try:
            with open(self._path(key), "rb") as f:
                if start:
                    f.seek(start)
                return f.read() if end is None else f.read(max(0, end - start))
        except FileNotFoundError:
            raise ObjectNotFound(key) from None

    async def size(self, key: str) -> int:
        try:
            return os.stat(self._path(key)).st_size
        except FileNotFoundError:
            raise ObjectNotFound(key) from None

    async def delete_many(self, keys: Sequence[str]) -> None:
        paths = [self._path(k) for k in keys]
        await asyncio.to_thread(self._delete_sync, paths)

    @staticmethod
    def _delete_sync(paths: list[str]) -> None:
        for p in paths:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(p)

    async def list(self, prefix: str = "") -> list[ObjectMeta]:
        return await asyncio.to_thread(self._list_sync, prefix)

    def _list_sync(self, prefix: str) -> builtins.list[ObjectMeta]:
        # Walk only the deepest directory the prefix names, not the whole root.
        base = os.path.join(self._root, os.path.dirname(prefix)) if "/" in prefix else self._root
        out: builtins.list[ObjectMeta] = []
        for dirpath, _dirs, files in os.walk(base):
            for name in files:
                if name.startswith(_TMP_PREFIX):
                    continue
                path = os.path.join(dirpath, name)
                key = os.path.relpath(path, self._root).replace(os.sep, "/")
                if not key.startswith(prefix):
                    continue
                try:
                    st = os.stat(path)
                except FileNotFoundError:
                    continue  # deleted while listing
                out.append(ObjectMeta(key, st.st_size, st.st_mtime))
        out.sort(key=lambda m: m.key)
        return out
