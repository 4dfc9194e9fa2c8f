"""Bloom filters: never a false negative, few false positives, and the same after a round trip."""

from __future__ import annotations

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from storage.bloom import BloomFilter, key_hash, key_hashes


@settings(max_examples=50, deadline=None)
@given(st.sets(st.binary(max_size=40), max_size=300), st.integers(0, 2**32 - 1))
def test_no_false_negatives(keys: set[bytes], table_id: int) -> None:
    keys_list = sorted(keys)
    f = BloomFilter.from_bytes(BloomFilter.build(key_hashes(table_id, pa.array(keys_list, pa.binary()))).to_bytes())
    assert all(f.may_contain(key_hash(table_id, k)) for k in keys_list)


def test_scalar_hash_equals_vectorized() -> None:
    keys = [b"", b"a", b"\x00\xff" * 50]
    assert key_hashes(3, pa.array(keys, pa.binary())).tolist() == [key_hash(3, k) for k in keys]


def test_false_positive_rate_and_table_separation() -> None:
    keys = [b"key-%d" % i for i in range(20_000)]
    f = BloomFilter.build(key_hashes(1, pa.array(keys, pa.binary())))
    absent = sum(f.may_contain(key_hash(1, b"absent-%d" % i)) for i in range(20_000))
    other_table = sum(f.may_contain(key_hash(2, k)) for k in keys)
    assert absent < 20_000 * 0.03
    assert other_table < 20_000 * 0.03


def test_empty_filter_rejects() -> None:
    import numpy as np

    f = BloomFilter.build(np.zeros(0, dtype=np.uint64))
    assert not f.may_contain(key_hash(1, b"x"))
