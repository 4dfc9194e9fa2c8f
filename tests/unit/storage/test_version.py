"""Versions: deltas apply in order, keep levels sorted and non-overlapping, and survive JSON."""

from __future__ import annotations

import json

import pytest

from common.errors import InternalError
from storage.version import HummockVersion, SstInfo, VersionDelta, object_id_of_key, sst_object_key


def sst(object_id: int, lo: bytes, hi: bytes, epoch: int = 1) -> SstInfo:
    return SstInfo(object_id, sst_object_key(object_id), 100, (1,), lo, hi, epoch, epoch, 10)


def test_commits_prepend_to_l0_and_compaction_swaps() -> None:
    v = HummockVersion.empty()
    v = v.apply(VersionDelta(1, 0, 10, l0_added=(sst(1, b"a", b"m", 10),)))
    v = v.apply(VersionDelta(2, 1, 20, l0_added=(sst(2, b"c", b"z", 20),)))
    assert [s.object_id for s in v.l0] == [2, 1]
    assert (v.id, v.committed_epoch) == (2, 20)
    v = v.apply(VersionDelta(3, 2, 20, removed_object_ids=(1, 2), target_level=1,
                             level_added=(sst(4, b"n", b"z"), sst(3, b"a", b"m"))))
    assert v.l0 == ()
    assert [s.object_id for s in v.level(1)] == [3, 4]
    assert v.object_ids() == {3, 4} and v.sst_count() == 2
    v = v.apply(VersionDelta(4, 3, 20, removed_object_ids=(3,), target_level=2, level_added=(sst(5, b"a", b"m"),)))
    assert [[s.object_id for s in lv] for lv in v.levels] == [[4], [5]]


def test_rejects_bad_deltas() -> None:
    v = HummockVersion.empty().apply(VersionDelta(1, 0, 10, target_level=1, level_added=(sst(1, b"a", b"f"),)))
    with pytest.raises(InternalError, match="follows version"):
        v.apply(VersionDelta(3, 2, 10))
    with pytest.raises(InternalError, match="backwards"):
        v.apply(VersionDelta(2, 1, 5))
    with pytest.raises(InternalError, match="not in version"):
        v.apply(VersionDelta(2, 1, 10, removed_object_ids=(99,)))
    with pytest.raises(InternalError, match="overlap"):
        v.apply(VersionDelta(2, 1, 10, target_level=1, level_added=(sst(2, b"e", b"g"),)))


def test_json_round_trip() -> None:
    v = HummockVersion(7, 123, (sst(9, b"\x00\x01", b"\xff\xfe", 5),), ((sst(3, b"a", b"b"),), (sst(4, b"c", b"d"),)))
    assert HummockVersion.from_json(json.loads(json.dumps(v.to_json()))) == v
    d = VersionDelta(8, 7, 130, (sst(10, b"x", b"y"),), (3,), 1, (sst(11, b"a", b"b"),))
    assert VersionDelta.from_json(json.loads(json.dumps(d.to_json()))) == d


def test_object_keys() -> None:
    assert sst_object_key(255) == "sst/00000000000000ff.sst"
    assert object_id_of_key(sst_object_key(2**40 + 3)) == 2**40 + 3
    assert object_id_of_key("sst/zz.sst") is None
    assert object_id_of_key("other/0001.sst") is None
