"""The LSM version: which SSTs make up the committed state, per level, and the committed epoch.

Meta owns the version and changes it only by applying a `VersionDelta`
(an epoch commit adds SSTs to L0; a compaction swaps SSTs for others one
level down). L0 holds overlapping SSTs, newest first, each newer than
everything in L1; L1..Ln are each sorted and non-overlapping, and each
level is newer than the next. Versions and deltas are JSON-able for the
meta store, with keys as hex.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from common import codec
from common.errors import InternalError

SST_PREFIX = "sst/"


def sst_object_key(object_id: int) -> str:
    return f"{SST_PREFIX}{object_id:016x}.sst"


def object_id_of_key(key: str) -> int | None:
    """The object id named by an SST object key, or None if the key is not one."""
    if not (key.startswith(SST_PREFIX) and key.endswith(".sst")):
        return None
    try:
        return int(key[len(SST_PREFIX): -len(".sst")], 16)
    except ValueError:
        return None


@codec.register
@dataclass(frozen=True, slots=True)
class SstInfo:
    """What the version knows of one SST object; keys are user keys (table id | table key), inclusive."""

    object_id: int
    object_key: str
    file_size: int
    table_ids: tuple[int, ...]
    smallest_key: bytes
    largest_key: bytes
    min_epoch: int
    max_epoch: int
    entry_count: int

    def overlaps(self, smallest: bytes, largest: bytes) -> bool:
        return self.smallest_key <= largest and smallest <= self.largest_key

    def to_json(self) -> dict[str, Any]:
        return {
            "object_id": self.object_id, "object_key": self.object_key, "file_size": self.file_size,
            "table_ids": list(self.table_ids), "smallest_key": self.smallest_key.hex(),
            "largest_key": self.largest_key.hex(), "min_epoch": self.min_epoch, "max_epoch": self.max_epoch,
            "entry_count": self.entry_count,
        }

    @staticmethod
    def from_json(d: dict[str, Any]) -> SstInfo:
        return SstInfo(d["object_id"], d["object_key"], d["file_size"], tuple(d["table_ids"]),
                       bytes.fromhex(d["smallest_key"]), bytes.fromhex(d["largest_key"]), d["min_epoch"],
                       d["max_epoch"], d["entry_count"])


def _ssts_json(ssts: tuple[SstInfo, ...]) -> list[dict[str, Any]]:
    return [s.to_json() for s in ssts]


def _ssts_from_json(items: list[dict[str, Any]]) -> tuple[SstInfo, ...]:
    return tuple(SstInfo.from_json(d) for d in items)


@codec.register
@dataclass(frozen=True, slots=True)
class VersionDelta:
    """One change to the version: SSTs added to L0 (a commit) and/or a compaction's swap.

    `removed_object_ids` leave whichever level holds them; `level_added` goes
    to level `target_level` (1..n).
    """

    id: int
    prev_id: int
    committed_epoch: int
    l0_added: tuple[SstInfo, ...] = ()
    removed_object_ids: tuple[int, ...] = ()
    target_level: int = 0
    level_added: tuple[SstInfo, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "prev_id": self.prev_id, "committed_epoch": self.committed_epoch,
            "l0_added": _ssts_json(self.l0_added), "removed_object_ids": list(self.removed_object_ids),
            "target_level": self.target_level, "level_added": _ssts_json(self.level_added),
        }

    @staticmethod
    def from_json(d: dict[str, Any]) -> VersionDelta:
        return VersionDelta(d["id"], d["prev_id"], d["committed_epoch"], _ssts_from_json(d["l0_added"]),
                            tuple(d["removed_object_ids"]), d["target_level"], _ssts_from_json(d["level_added"]))


@codec.register
@dataclass(frozen=True, slots=True)
class HummockVersion:
    id: int
    committed_epoch: int
    l0: tuple[SstInfo, ...] = ()
    levels: tuple[tuple[SstInfo, ...], ...] = field(default=())

    @staticmethod
    def empty() -> HummockVersion:
        return HummockVersion(0, 0)

    def level(self, n: int) -> tuple[SstInfo, ...]:
        """Level `n`'s SSTs: 0 is L0, n >= 1 is levels[n - 1] (empty past the deepest level)."""
        if n == 0:
            return self.l0
        return self.levels[n - 1] if n <= len(self.levels) else ()

    def all_ssts(self) -> Iterator[SstInfo]:
        yield from self.l0
        for level in self.levels:
            yield from level

    def object_ids(self) -> set[int]:
        return {s.object_id for s in self.all_ssts()}

    def sst_count(self) -> int:
        return len(self.l0) + sum(len(lv) for lv in self.levels)

    def apply(self, delta: VersionDelta) -> HummockVersion:
        if delta.prev_id != self.id:
            raise InternalError(f"version delta {delta.id} follows version {delta.prev_id}, not {self.id}")
        if delta.committed_epoch < self.committed_epoch:
            raise InternalError(f"version delta {delta.id} moves the committed epoch backwards")
        removed = set(delta.removed_object_ids)
        present = self.object_ids()
        if not removed <= present:
            raise InternalError(f"version delta {delta.id} removes objects not in version {self.id}: "
                                f"{sorted(removed - present)}")
        l0 = tuple(delta.l0_added) + tuple(s for s in self.l0 if s.object_id not in removed)
        levels = [tuple(s for s in lv if s.object_id not in removed) for lv in self.levels]
        if delta.level_added:
            if delta.target_level < 1:
                raise InternalError("compaction output must go to a level of at least 1")
            while len(levels) < delta.target_level:
                levels.append(())
            merged = sorted(levels[delta.target_level - 1] + delta.level_added, key=lambda s: s.smallest_key)
            for a, b in itertools.pairwise(merged):
                if a.largest_key >= b.smallest_key:
                    raise InternalError(f"ssts {a.object_id} and {b.object_id} overlap in level {delta.target_level}")
            levels[delta.target_level - 1] = tuple(merged)
        while levels and not levels[-1]:
            levels.pop()
        return replace(self, id=delta.id, committed_epoch=delta.committed_epoch, l0=l0, levels=tuple(levels))

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "committed_epoch": self.committed_epoch, "l0": _ssts_json(self.l0),
                "levels": [_ssts_json(lv) for lv in self.levels]}

    @staticmethod
    def from_json(d: dict[str, Any]) -> HummockVersion:
        return HummockVersion(d["id"], d["committed_epoch"], _ssts_from_json(d["l0"]),
                              tuple(_ssts_from_json(lv) for lv in d["levels"]))
