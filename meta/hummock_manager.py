"""Meta's hummock manager: owns the LSM version, allocates SST object ids, schedules compaction, deletes dead SSTs.

Every change of the version is one meta-store transaction holding the
delta, the whole new version and whatever the caller commits with it (an
epoch commit carries catalog or source-position updates), so a restart
resumes exactly at the last committed version. Object ids are reserved
in persisted ranges and never handed out twice, even across restarts.

An SST leaves the version when compaction replaces it; it is deleted
(`vacuum`) once no pinned version older than that change remains.
`full_gc` deletes what no version ever named: uploads of syncs and
compactions that never committed.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import logging
import time
from collections import Counter
from collections.abc import Hashable, Sequence

from common.errors import InternalError
from meta.meta_store import Delete, MetaStore, Put
from storage.compaction import CompactionConfig, CompactionTask, pick_compaction
from storage.object_store import ObjectStore
from storage.version import SST_PREFIX, HummockVersion, SstInfo, VersionDelta, object_id_of_key, sst_object_key

log = logging.getLogger("eddy.meta.hummock")

NAMESPACE = "hummock"
DELTA_NAMESPACE = "hummock_delta"
_VERSION = "version"
_OBJECT_ID_LIMIT = "object_id_limit"
_STALE = "stale_objects"
_ID_RANGE = 1024  # ids reserved per meta-store write
_DELTAS_KEPT = 1000
_RECENT_VERSIONS = 64


class HummockManager:
    def __init__(self, meta_store: MetaStore, version: HummockVersion, object_id_limit: int,
                 stale: dict[int, int], config: CompactionConfig) -> None:
        self._store = meta_store
        self._version = version
        self._next_object_id = object_id_limit  # the rest of a range reserved before a restart stays unused
        self._object_id_limit = object_id_limit
        self._stale = stale  # object id -> id of the version that first lacks it
        self.config = config
        self._lock = asyncio.Lock()
        self._tasks: dict[int, CompactionTask] = {}
        self._task_ids = itertools.count(1)
        self._pins: dict[Hashable, Counter[int]] = {}
        self._pinned_versions: dict[int, HummockVersion] = {}
        self._leases: dict[Hashable, float] = {}  # context -> when its pins lapse unless renewed (monotonic)
        self._recent: dict[int, HummockVersion] = {version.id: version}  # for pins that name a version by id
        # When each stale object became stale (objects stale before a restart count from the restart).
        self._stale_since: dict[int, float] = dict.fromkeys(stale, time.monotonic())

    @classmethod
    async def load(cls, meta_store: MetaStore, config: CompactionConfig | None = None) -> HummockManager:
        """The manager at the last committed version (an empty version on a fresh meta store)."""
        doc = meta_store.get(NAMESPACE, _VERSION)
        version = HummockVersion.from_json(doc) if doc is not None else HummockVersion.empty()
        limit = meta_store.get(NAMESPACE, _OBJECT_ID_LIMIT) or 1
        stale = {int(k): int(v) for k, v in (meta_store.get(NAMESPACE, _STALE) or {}).items()}
        return cls(meta_store, version, int(limit), stale, config or CompactionConfig())

    @property
    def version(self) -> HummockVersion:
        return self._version

    # -- object ids ----------------------------------------------------------

    async def new_object_ids(self, n: int) -> list[int]:
        async with self._lock:
            if self._next_object_id + n > self._object_id_limit:
                limit = self._next_object_id + max(n, _ID_RANGE)
                await self._store.write([(NAMESPACE, _OBJECT_ID_LIMIT, limit)])
                self._object_id_limit = limit
            first = self._next_object_id
            self._next_object_id += n
            return list(range(first, first + n))

    # -- commits ---------------------------------------------------------------

    async def commit_epoch(self, epoch: int, ssts: Sequence[SstInfo], extra_puts: Sequence[Put] = (),
                           extra_deletes: Sequence[Delete] = ()) -> HummockVersion:
        """Add a checkpoint's SSTs to L0 and advance the committed epoch, in one meta-store transaction.

        `extra_puts`/`extra_deletes` (catalog changes riding on the checkpoint) commit in the same transaction.
        """
        async with self._lock:
            v = self._version
            if epoch <= v.committed_epoch:
                raise InternalError(f"commit of epoch {epoch} is not after the committed epoch {v.committed_epoch}")
            for s in ssts:
                if s.object_id >= self._object_id_limit:
                    raise InternalError(f"sst {s.object_id} has an object id meta never allocated")
            added = tuple(sorted(ssts, key=lambda s: s.smallest_key))
            delta = VersionDelta(v.id + 1, v.id, epoch, l0_added=added)
            return await self._apply(delta, extra_puts, extra_deletes=extra_deletes)

    async def _apply(self, delta: VersionDelta, extra_puts: Sequence[Put] = (),
                     stale: dict[int, int] | None = None, extra_deletes: Sequence[Delete] = ()) -> HummockVersion:
        new = self._version.apply(delta)
        puts: list[Put] = [
            (NAMESPACE, _VERSION, new.to_json()),
            (DELTA_NAMESPACE, f"{delta.id:016x}", delta.to_json()),
            *extra_puts,
        ]
        if stale is not None:
            puts.append((NAMESPACE, _STALE, {str(k): v for k, v in stale.items()}))
        deletes: list[Delete] = list(extra_deletes)
        if delta.id > _DELTAS_KEPT:
            deletes.append((DELTA_NAMESPACE, f"{delta.id - _DELTAS_KEPT:016x}"))
        await self._store.write(puts, deletes)
        self._version = new
        self._recent[new.id] = new
        while len(self._recent) > _RECENT_VERSIONS:
            del self._recent[next(iter(self._recent))]
        if stale is not None:
            now = time.monotonic()
            for oid in stale.keys() - self._stale.keys():
                self._stale_since[oid] = now
            self._stale = stale
        return new

    # -- compaction ------------------------------------------------------------

    def get_compaction_task(self) -> CompactionTask | None:
        """Pick a compaction; its levels stay reserved until it is reported."""
        busy = frozenset(lv for t in self._tasks.values() for lv in t.levels)
        task = pick_compaction(self._version, self.config, busy_levels=busy)
        if task is None:
            return None
        task = dataclasses.replace(task, task_id=next(self._task_ids), watermark_epoch=self.watermark_epoch())
        self._tasks[task.task_id] = task
        return task

    async def next_task(self) -> CompactionTask | None:
        """`get_compaction_task` for a compactor in the same process (storage.compactor.CompactionTaskSource)."""
        return self.get_compaction_task()

    async def report_compaction(self, task_id: int, outputs: Sequence[SstInfo] | None) -> HummockVersion | None:
        """Swap a task's inputs for its outputs in one transaction; None if it failed or is no longer valid.

        Outputs that do not enter the version are marked for deletion.
        """
        task = self._tasks.pop(task_id, None)
        async with self._lock:
            v = self._version
            present = v.object_ids()
            if task is None or outputs is None or not all(s.object_id in present for s in task.all_inputs):
                if outputs:
                    await self._mark_stale({s.object_id: 0 for s in outputs})
                return None
            stale = dict(self._stale)
            for s in task.all_inputs:
                stale[s.object_id] = v.id + 1
            delta = VersionDelta(v.id + 1, v.id, v.committed_epoch,
                                 removed_object_ids=tuple(s.object_id for s in task.all_inputs),
                                 target_level=task.target_level, level_added=tuple(outputs))
            return await self._apply(delta, stale=stale)

    async def _mark_stale(self, objects: dict[int, int]) -> None:
        stale = {**self._stale, **objects}
        await self._store.write([(NAMESPACE, _STALE, {str(k): v for k, v in stale.items()})])
        now = time.monotonic()
        for oid in objects:
            self._stale_since.setdefault(oid, now)
        self._stale = stale

    def pending_tasks(self) -> list[CompactionTask]:
        return list(self._tasks.values())

    # -- pins and deletion -------------------------------------------------------

    def pin_version(self, context_id: Hashable, version: HummockVersion | None = None) -> HummockVersion:
        """Pin a version for a reader (a compute node's batch query): the current one, or the one it reads."""
        v = self._version if version is None else version
        self._pins.setdefault(context_id, Counter())[v.id] += 1
        self._pinned_versions[v.id] = v
        return v

    def pin_version_id(self, context_id: Hashable, version_id: int) -> None:
        """Pin a version a remote reader names by id.

        A version too old to be remembered is held as the current one under its own id: its id keeps
        vacuum conservative, and the later unpin by that id matches.
        """
        v = self._recent.get(version_id) or self._version
        self._pins.setdefault(context_id, Counter())[version_id] += 1
        self._pinned_versions.setdefault(version_id, v)

    def unpin_version(self, context_id: Hashable, version_id: int | None = None) -> None:
        """Drop one pin of `version_id` by the context, or all of its pins (a node that left)."""
        pins = self._pins.get(context_id)
        if pins is None:
            return
        if version_id is None:
            pins.clear()
        elif pins[version_id] > 0:
            pins[version_id] -= 1
            if not pins[version_id]:
                del pins[version_id]
        if not pins:
            del self._pins[context_id]
            self._leases.pop(context_id, None)
        live = {vid for c in self._pins.values() for vid in c}
        for vid in list(self._pinned_versions):
            if vid not in live:
                del self._pinned_versions[vid]

    def lease(self, context_id: Hashable, seconds: float, now: float | None = None) -> None:
        """The context's pins lapse `seconds` from now unless renewed (a reader that may die without unpinning)."""
        self._leases[context_id] = (time.monotonic() if now is None else now) + seconds

    def renew_leases(self, context_ids: Sequence[Hashable], seconds: float, now: float | None = None) -> list[Hashable]:
        """Extend the leases of the contexts still pinned; return those that are not (lapsed, or meta restarted)."""
        lost = []
        for c in context_ids:
            if c in self._leases:
                self.lease(c, seconds, now)
            else:
                lost.append(c)
        return lost

    def expire_leases(self, now: float | None = None) -> list[Hashable]:
        """Drop every pin of the contexts whose lease lapsed; return those contexts."""
        now = time.monotonic() if now is None else now
        lapsed = [c for c, until in self._leases.items() if until <= now]
        for c in lapsed:
            self.unpin_version(c)
            self._leases.pop(c, None)
        return lapsed

    def min_pinned_version_id(self) -> int | None:
        return min(self._pinned_versions) if self._pinned_versions else None

    def watermark_epoch(self) -> int:
        """The oldest epoch a reader may still read at: compaction keeps every version visible there."""
        epochs = [v.committed_epoch for v in self._pinned_versions.values()]
        return min([self._version.committed_epoch, *epochs])

    async def collect_garbage(self, object_store: ObjectStore, interval_s: float, full_interval_s: float) -> None:
        """Forever: expire lapsed pins, delete SSTs compaction replaced (after `interval_s`), and, every
        `full_interval_s`, orphans of crashed uploads."""
        last_full = 0.0
        while True:
            await asyncio.sleep(interval_s)
            try:
                for lapsed in self.expire_leases():
                    log.warning("snapshot pin %s lapsed: its frontend stopped renewing it", lapsed)
                deleted = await self.vacuum(object_store, min_stale_s=interval_s)
                if time.monotonic() - last_full > full_interval_s:
                    deleted += await self.full_gc(object_store, min_age_s=full_interval_s)
                    last_full = time.monotonic()
                if deleted:
                    log.info("garbage collection deleted %d objects", deleted)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("garbage collection failed")

    async def vacuum(self, object_store: ObjectStore, min_stale_s: float = 0.0) -> int:
        """Delete objects compaction removed that no pinned version still names; returns how many.

        An object must have been out of the version for `min_stale_s`: a reader that took a version just
        before the change and has not pinned it yet (a node between receiving and pinning) stays safe.
        """
        oldest = self.min_pinned_version_id()
        now = time.monotonic()
        doomed = {oid for oid, removed_at in self._stale.items()
                  if (oldest is None or oldest >= removed_at) and now - self._stale_since.get(oid, now) >= min_stale_s}
        if not doomed:
            return 0
        # No version a reader can still pin names these objects, so the deletes
        # need not hold up commits.
        await object_store.delete_many([sst_object_key(oid) for oid in sorted(doomed)])
        async with self._lock:
            stale = {k: v for k, v in self._stale.items() if k not in doomed}
            await self._store.write([(NAMESPACE, _STALE, {str(k): v for k, v in stale.items()})])
            self._stale = stale
            for oid in doomed:
                self._stale_since.pop(oid, None)
        return len(doomed)

    async def full_gc(self, object_store: ObjectStore, min_age_s: float) -> int:
        """Delete SST objects that no version names and that are older than `min_age_s`; returns how many.

        The age keeps uploads still in flight (a sync whose commit is coming) safe.
        """
        objects = await object_store.list(SST_PREFIX)
        async with self._lock:
            keep = self._version.object_ids() | set(self._stale)
            for v in self._pinned_versions.values():
                keep |= v.object_ids()
        cutoff = time.time() - min_age_s
        doomed = []
        for meta in objects:
            oid = object_id_of_key(meta.key)
            if oid is not None and oid not in keep and meta.last_modified < cutoff:
                doomed.append(meta.key)
        if doomed:
            await object_store.delete_many(doomed)
        return len(doomed)
