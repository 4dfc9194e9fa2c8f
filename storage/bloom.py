"""Bloom filters over user keys: one per SST, so a point lookup skips SSTs that lack the key.

A key is hashed once (`key_hash`, the same 64-bit hash `common.vnode`
computes for binary columns, mixed with the table id), and that one hash
drives every probe (double hashing), so a point get hashes its key once
whatever the number of SSTs it checks. Building hashes whole key columns
with numpy.
"""

from __future__ import annotations

import math
import struct

import numpy as np
import pyarrow as pa

from common.vnode import hash_bytes, hash_column

_U64 = 0xFFFFFFFFFFFFFFFF
_HEADER = struct.Struct(">BQ")  # probes, bit count


def _mix(x: int) -> int:
    """splitmix64's finalizer: spreads the table id over all 64 bits."""
    x = (x + 0x9E3779B97F4A7C15) & _U64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _U64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _U64
    return x ^ (x >> 31)


def key_hashes(table_id: int, keys: pa.Array) -> np.ndarray:
    """The uint64 hash of each (table id, table key): the hash of the user key."""
    return hash_column(keys) ^ np.uint64(_mix(table_id))


def key_hash(table_id: int, key: bytes) -> int:
    """`key_hashes` of one key (a point get's), without building an array."""
    return hash_bytes(key) ^ _mix(table_id)


class BloomFilter:
    """A bit array probed `k` times per key; no false negatives, ~1 % false positives at 10 bits a key."""

    __slots__ = ("_bits", "_k", "_m")

    def __init__(self, bits: bytes, k: int, m: int) -> None:
        self._bits = bits
        self._k = k
        self._m = m

    @staticmethod
    def build(hashes: np.ndarray, bits_per_key: int = 10) -> BloomFilter:
        n = max(len(hashes), 1)
        m = max(64, (n * bits_per_key + 63) // 64 * 64)
        k = max(1, min(30, round(bits_per_key * math.log(2))))
        bitmap = np.zeros(m, dtype=bool)
        if len(hashes):
            bitmap[_positions(hashes.astype(np.uint64, copy=False), k, m).ravel()] = True
        return BloomFilter(np.packbits(bitmap, bitorder="little").tobytes(), k, m)

    def may_contain(self, h: int) -> bool:
        h1, h2 = h & 0xFFFFFFFF, (h >> 32) | 1
        bits, m = self._bits, self._m
        for i in range(self._k):
            p = (h1 + i * h2) % m
            if not bits[p >> 3] >> (p & 7) & 1:
                return False
        return True

    def to_bytes(self) -> bytes:
        return _HEADER.pack(self._k, self._m) + self._bits

    @staticmethod
    def from_bytes(data: bytes) -> BloomFilter:
        k, m = _HEADER.unpack_from(data)
        bits = bytes(data[_HEADER.size:])
        if len(bits) * 8 < m:
            raise ValueError("bloom filter shorter than its bit count")
        return BloomFilter(bits, k, m)

    @property
    def nbytes(self) -> int:
        return len(self._bits)


def _positions(hashes: np.ndarray, k: int, m: int) -> np.ndarray:
    h1 = hashes & np.uint64(0xFFFFFFFF)
    h2 = (hashes >> np.uint64(32)) | np.uint64(1)
    i = np.arange(k, dtype=np.uint64)
    with np.errstate(over="ignore"):
        return (h1[:, None] + i[None, :] * h2[:, None]) % np.uint64(m)
