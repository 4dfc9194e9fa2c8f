"""Virtual nodes: rows hash to one of 256 vnodes by their distribution key.

The hash is stable across processes and runs (state keys start with the
vnode), vectorized over Arrow columns with numpy, and the same for every
caller: the frontend routing DML, dispatchers, and state tables.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

VNODE_COUNT = 256

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_NULL_HASH = np.uint64(0x2545F4914F6CDD1D)
_POSITION_SEEDS_LEN = 4096


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finalizer on uint64 (wrapping arithmetic)."""
    with np.errstate(over="ignore"):
        x = x ^ (x >> np.uint64(30))
        x = x * _M1
        x = x ^ (x >> np.uint64(27))
        x = x * _M2
        return x ^ (x >> np.uint64(31))


def _position_seeds(n: int) -> np.ndarray:
    with np.errstate(over="ignore"):
        return _mix(np.arange(1, n + 1, dtype=np.uint64) * _GOLDEN)


_SEEDS = _position_seeds(_POSITION_SEEDS_LEN)


def _hash_bytes(arr: pa.Array) -> np.ndarray:
    """Hash each value of a string/binary array from its UTF-8 bytes."""
    off_dtype: type[np.signedinteger] = np.int64  # type: ignore[type-arg]
    if pa.types.is_large_string(arr.type) or pa.types.is_large_binary(arr.type):
        off_dtype = np.int64
    else:
        arr = arr.cast(pa.binary()) if pa.types.is_string(arr.type) else arr
        off_dtype = np.int32
    n = len(arr)
    bufs = arr.buffers()
    offsets = np.frombuffer(bufs[1], dtype=off_dtype)[arr.offset: arr.offset + n + 1].astype(np.int64)
    start, end = int(offsets[0]), int(offsets[-1])
    data = np.frombuffer(bufs[2], dtype=np.uint8)[start:end] if bufs[2] is not None and end > start else np.zeros(0, np.uint8)
    lengths = np.diff(offsets)
    seeds = _SEEDS
    maxlen = int(lengths.max()) if n else 0
    if maxlen > len(seeds):
        seeds = _position_seeds(maxlen)
    pos = np.arange(end - start, dtype=np.int64) - np.repeat(offsets[:-1] - start, lengths)
    with np.errstate(over="ignore"):
        contrib = (data.astype(np.uint64) + np.uint64(1)) * seeds[pos]
        csum = np.concatenate([np.zeros(1, np.uint64), np.cumsum(contrib, dtype=np.uint64)])
        h = csum[offsets[1:] - start] - csum[offsets[:-1] - start]
        return _mix(h + lengths.astype(np.uint64) * _GOLDEN)


def _as_uint64(arr: pa.Array) -> np.ndarray:
    """Reinterpret the values of a fixed-width array as uint64 hash input."""
    t = arr.type
    if pa.types.is_boolean(t):
        return arr.cast(pa.uint8()).fill_null(0).to_numpy(zero_copy_only=False).astype(np.uint64)
    if pa.types.is_floating(t):
        f = arr.cast(pa.float64()).fill_null(0.0).to_numpy(zero_copy_only=False).copy()
        f[f == 0.0] = 0.0  # -0.0 and 0.0 are equal, so they hash alike
        f[np.isnan(f)] = np.nan
        return f.view(np.uint64)
    if pa.types.is_decimal(t):
        raw = np.frombuffer(arr.buffers()[1], dtype=np.uint64)[2 * arr.offset: 2 * (arr.offset + len(arr))]
        lo, hi = raw[0::2], raw[1::2]
        with np.errstate(over="ignore"):
            return lo ^ _mix(hi + _GOLDEN)
    if pa.types.is_interval(t):
        # Equal intervals ('1 day' = '24 hours') hash alike: hash the normalized nanoseconds.
        vals = arr.to_pylist()
        total = [0 if v is None else ((v.months * 30 + v.days) * 86_400_000_000_000 + v.nanoseconds) & 0xFFFFFFFFFFFFFFFF
                 for v in vals]
        return np.array(total, dtype=np.uint64)
    if pa.types.is_date32(t):
        arr = arr.cast(pa.int32())
    elif pa.types.is_timestamp(t):
        arr = arr.cast(pa.int64())
    return arr.cast(pa.int64()).fill_null(0).to_numpy(zero_copy_only=False).view(np.uint64)


def hash_column(arr: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A stable 64-bit hash per value; NULLs hash to a fixed constant."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if pa.types.is_string(arr.type) or pa.types.is_binary(arr.type) or pa.types.is_large_string(arr.type) \
            or pa.types.is_large_binary(arr.type):
        h = _hash_bytes(arr)
    else:
        h = _mix(_as_uint64(arr) + _GOLDEN)
    if arr.null_count:
        valid = pc.is_valid(arr).to_numpy(zero_copy_only=False)
        h = np.where(valid, h, _NULL_HASH)
    return h


def hash_columns(columns: Sequence[pa.Array], num_rows: int) -> np.ndarray:
    h = np.full(num_rows, _GOLDEN, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for col in columns:
            h = _mix(h * np.uint64(31) + hash_column(col))
    return h


def compute_vnodes(columns: Sequence[pa.Array], num_rows: int) -> np.ndarray:
    """The vnode (0..255) of each row, from its distribution-key columns.

    With no columns (a singleton distribution) every row is vnode 0.
    """
    if not columns:
        return np.zeros(num_rows, dtype=np.int64)
    return (hash_columns(columns, num_rows) % np.uint64(VNODE_COUNT)).astype(np.int64)


class VnodeBitmap:
    """A set of vnodes, as a boolean numpy mask of length VNODE_COUNT."""

    __slots__ = ("_mask",)

    def __init__(self, vnodes: Iterable[int] = ()) -> None:
        mask = np.zeros(VNODE_COUNT, dtype=bool)
        for v in vnodes:
            mask[v] = True
        self._mask = mask

    @staticmethod
    def full() -> VnodeBitmap:
        return VnodeBitmap(range(VNODE_COUNT))

    @staticmethod
    def from_mask(mask: np.ndarray) -> VnodeBitmap:
        b = VnodeBitmap()
        b._mask = mask.astype(bool, copy=True)
        return b

    @property
    def mask(self) -> np.ndarray:
        return self._mask

    def __contains__(self, vnode: int) -> bool:
        return bool(self._mask[vnode])

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(np.flatnonzero(self._mask).tolist())

    def __len__(self) -> int:
        return int(self._mask.sum())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, VnodeBitmap) and bool(np.array_equal(self._mask, other._mask))

    def __hash__(self) -> int:
        return hash(self._mask.tobytes())

    def __repr__(self) -> str:
        return f"VnodeBitmap({len(self)} vnodes)"

    def to_list(self) -> list[int]:
        return np.flatnonzero(self._mask).tolist()


def split_vnodes(parallelism: int) -> list[VnodeBitmap]:
    """Spread the vnodes evenly over `parallelism` owners, in contiguous ranges."""
    bounds = np.linspace(0, VNODE_COUNT, parallelism + 1).astype(int)
    return [VnodeBitmap(range(bounds[i], bounds[i + 1])) for i in range(parallelism)]


def vnode_mapping(owners: Sequence[tuple[int, VnodeBitmap]]) -> tuple[int, ...]:
    """The owner id of each vnode, given (owner id, bitmap) pairs that cover all vnodes."""
    mapping = [-1] * VNODE_COUNT
    for owner, bitmap in owners:
        for v in bitmap:
            mapping[v] = owner
    if -1 in mapping:
        raise ValueError("vnode mapping does not cover every vnode")
    return tuple(mapping)


# -- scalar path: the same hash for one row of Python values -----------------

_U64 = 0xFFFFFFFFFFFFFFFF
_I_M1, _I_M2, _I_GOLDEN, _I_NULL = int(_M1), int(_M2), int(_GOLDEN), int(_NULL_HASH)
_SEEDS_LIST = [int(s) for s in _SEEDS]


def _mix_int(x: int) -> int:
    x ^= x >> 30
    x = (x * _I_M1) & _U64
    x ^= x >> 27
    x = (x * _I_M2) & _U64
    return x ^ (x >> 31)


def hash_bytes(b: bytes) -> int:
    """The hash `hash_column` gives a binary value, for one value, in pure Python (no array round trip)."""
    seeds = _SEEDS_LIST if len(b) <= len(_SEEDS_LIST) else [int(s) for s in _position_seeds(len(b))]
    h = sum((byte + 1) * seed for byte, seed in zip(b, seeds)) & _U64
    return _mix_int((h + len(b) * _I_GOLDEN) & _U64)


def _hash_scalar(v: object) -> int:
    import datetime
    import math
    from decimal import Decimal

    if v is None:
        return _I_NULL
    if isinstance(v, (str, bytes)):
        return hash_bytes(v.encode() if isinstance(v, str) else v)
    if isinstance(v, bool):
        u = int(v)
    elif isinstance(v, int):
        u = v & _U64
    elif isinstance(v, float):
        f = 0.0 if v == 0.0 else (float("nan") if math.isnan(v) else v)
        u = int(np.array([f], dtype=np.float64).view(np.uint64)[0])
    elif isinstance(v, Decimal):
        raise TypeError("use vnode_of_row with the column's DataType for NUMERIC")
    elif isinstance(v, datetime.datetime):
        base = datetime.datetime(1970, 1, 1, tzinfo=v.tzinfo) if v.tzinfo else datetime.datetime(1970, 1, 1)
        d = v - base
        u = ((d.days * 86_400 + d.seconds) * 1_000_000 + d.microseconds) & _U64
    elif isinstance(v, datetime.date):
        u = (v - datetime.date(1970, 1, 1)).days & _U64
    else:  # interval (MonthDayNano)
        u = ((v.months * 30 + v.days) * 86_400_000_000_000 + v.nanoseconds) & _U64  # type: ignore[attr-defined]
        return _mix_int((u + _I_GOLDEN) & _U64)
    return _mix_int((u + _I_GOLDEN) & _U64)


def vnode_of_row(values: Sequence[object], arrow_types: Sequence[pa.DataType] | None = None) -> int:
    """The vnode of one row's distribution-key values; equals `compute_vnodes` on that row.

    NUMERIC values need their Arrow decimal type (for the scale) in `arrow_types`.
    """
    if not values:
        return 0
    h = int(_GOLDEN)
    for i, v in enumerate(values):
        if arrow_types is not None and v is not None and pa.types.is_decimal(arrow_types[i]):
            hv = int(hash_column(pa.array([v], arrow_types[i]))[0])
        else:
            hv = _hash_scalar(v)
        h = _mix_int((h * 31 + hv) & _U64)
    return h % VNODE_COUNT
