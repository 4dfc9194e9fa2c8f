"""Storage errors: objects that are missing or whose bytes fail their checksums.

Both are internal errors as far as a client is concerned; corruption has its
own SQLSTATE (XX001, "data corrupted") so operators can tell it apart.
"""

from __future__ import annotations

from common.errors import InternalError


class ObjectStoreError(InternalError):
    """An object-store call failed (after the store's own retries)."""


class ObjectNotFound(ObjectStoreError):
    """The named object does not exist."""

    def __init__(self, key: str) -> None:
        super().__init__(f"object not found: {key}")
        self.key = key


class DataCorrupted(InternalError):
    """Bytes read from an object fail their checksum or do not parse."""

    sqlstate = "XX001"

    def __init__(self, key: str, what: str) -> None:
        super().__init__(f"data corrupted in object {key}: {what}")
        self.key = key
