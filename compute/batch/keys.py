"""Group codes: dense integer ids for rows that are equal on some key columns, as SQL compares them.

Hash aggregation groups by these codes and hash joins match on them. Arrow's
own equality differs from SQL's in a few places, so key columns are first
normalized: -0.0 equals 0.0 and NaN equals NaN (PostgreSQL's float
equality), and intervals compare by span ('1 month' = '30 days'). Arrays
and records (catalog queries group and join on them) compare by their
text, which is one-to-one for the element types catalogs hold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from common.pgtext import format_array
from common.types import from_arrow
from compute.batch import interval


@dataclass(frozen=True, slots=True)
class GroupCodes:
    """`codes[i]` is row i's group in 0..num_groups-1; `first[g]` the first row of group g.

    `has_null[i]` says whether row i has a NULL in any key column (NULLs
    group together but never join).
    """

    codes: np.ndarray
    first: np.ndarray
    has_null: np.ndarray

    @property
    def num_groups(self) -> int:
        return len(self.first)


def normalize(arr: pa.Array) -> pa.Array:
    """A column whose Arrow equality (and order) is SQL equality of `arr`."""
    t = arr.type
    if pa.types.is_floating(t):
        # Adding +0.0 turns -0.0 into 0.0; every NaN becomes the one canonical NaN.
        arr = pc.add(arr, pa.scalar(0.0, t))
        return pc.if_else(pc.is_nan(arr), pa.scalar(float("nan"), t), arr)
    if t == interval.INTERVAL_TYPE:
        return interval.span_key(arr)
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_struct(t):
        return format_array(arr, from_arrow(t))
    return arr


def group_codes(columns: Sequence[pa.Array], num_rows: int) -> GroupCodes:
    """Codes for the distinct value combinations of `columns` (no columns: one group of all rows).

    Codes are numbered in order of first appearance. Hashing only (Arrow's
    dictionary encoding), no sort: each further column is folded into the
    codes so far and the pair re-encoded, which keeps codes below num_rows.
    """
    has_null = np.zeros(num_rows, bool)
    if not columns:
        return GroupCodes(np.zeros(num_rows, np.int64), np.zeros(1 if num_rows else 0, np.int64), has_null)
    codes: np.ndarray | None = None
    for col in columns:
        idx, width = _encode(normalize(col))
        if col.null_count:
            has_null |= col.is_null().to_numpy(zero_copy_only=False)
        if codes is None:
            codes = idx
        else:
            codes, _ = _encode(pa.array(codes * width + idx, pa.int64()))
    assert codes is not None
    return GroupCodes(codes, _first_appearances(codes), has_null)


def _encode(arr: pa.Array) -> tuple[np.ndarray, int]:
    """Dense int64 codes in order of first appearance (NULL gets a code too), and how many there are."""
    encoded = pc.dictionary_encode(arr, null_encoding="encode")
    return encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64), len(encoded.dictionary)


def _first_appearances(codes: np.ndarray) -> np.ndarray:
    """Row of each code's first appearance; codes are numbered in order of first appearance."""
    if not len(codes):
        return np.zeros(0, np.int64)
    running_max = np.maximum.accumulate(codes)
    new = np.empty(len(codes), bool)
    new[0] = True
    new[1:] = running_max[1:] > running_max[:-1]
    return np.flatnonzero(new).astype(np.int64)
