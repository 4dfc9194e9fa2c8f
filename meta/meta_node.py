"""The meta node: catalog, cluster membership, stream scheduling, barriers and the version.

Frontends call it for DDL, FLUSH and the committed snapshot; compute nodes
report barriers and failures to it. Creating a streaming job takes two
barriers: the first starts its actors (and backfill), the second commits a
checkpoint that holds the complete backfill, together with the job's
catalog entry. Dropping a job stops its actors and removes its entry in
one barrier.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import time
from collections.abc import Callable, Sequence
from typing import Any

from common.catalog import JobStatus, Relation, RelationKind
from common.errors import DependentObjectsStillExist, DuplicateTable, UndefinedTable, WrongObjectType
from common.message import AddMutation, StopMutation
from common.plan import FragmentGraph
from common.rpc import ActorFailure, BarrierCompleteReport
from meta.barrier_manager import BarrierManager, Command, ComputeClient
from meta.catalog_manager import CatalogManager
from meta.fragment_manager import FragmentManager, PlacedFragment
from meta.hummock_manager import HummockManager
from meta.meta_store import MetaStore

log = logging.getLogger("eddy.meta")

CatalogListener = Callable[[list[Relation]], None]


@dataclasses.dataclass
class MetaConfig:
    barrier_interval_ms: int = 1000
    checkpoint_frequency: int = 1
    barrier_timeout_s: float = 60.0
    default_parallelism: int = 0  # 0: the cores the compute nodes announce
    vacuum_interval_s: float = 30.0
    full_gc_interval_s: float = 3600.0


@dataclasses.dataclass
class Worker:
    node_id: int
    client: ComputeClient
    parallelism: int


class MetaNode:
    def __init__(self, store: MetaStore, config: MetaConfig | None = None) -> None:
        self.store = store
        self.config = config or MetaConfig()
        self.catalog = CatalogManager(store)
        self.fragments = FragmentManager()
        self.hummock: HummockManager = None  # type: ignore[assignment]  # set in start()
        self.barriers: BarrierManager = None  # type: ignore[assignment]
        self.workers: dict[int, Worker] = {}
        self._ddl_lock = asyncio.Lock()
        self._catalog_listeners: list[CatalogListener] = []
        self._version_listeners: list[Callable[[Any], None]] = []
        self.started_at = time.time()
        self._gc_task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.catalog.load()
        self.fragments.load(self.store)
        self.hummock = await HummockManager.load(self.store)
        c = self.config
        self.barriers = BarrierManager(
            self.hummock, self.fragments, lambda: {w.node_id: w.client for w in self.workers.values()},
            self._reload, self.publish_version, interval_ms=c.barrier_interval_ms,
            checkpoint_frequency=c.checkpoint_frequency, barrier_timeout_s=c.barrier_timeout_s)
        self.publish_version(self.hummock.version)  # nodes read committed state from this version on
        await self.barriers.start()

    async def stop(self) -> None:
        if self._gc_task is not None:
            self._gc_task.cancel()
        if self.barriers is not None:
            await self.barriers.stop()

    # -- membership ----------------------------------------------------------

    def register_worker(self, node_id: int, client: ComputeClient, parallelism: int) -> None:
        self.workers[node_id] = Worker(node_id, client, max(1, parallelism))

    @property
    def default_parallelism(self) -> int:
        if self.config.default_parallelism > 0:
            return self.config.default_parallelism
        return max(1, sum(w.parallelism for w in self.workers.values()))

    # -- listeners (frontends) --------------------------------------------------

    def subscribe_catalog(self, listener: CatalogListener) -> None:
        self._catalog_listeners.append(listener)
        listener(self.catalog.relations())

    def subscribe_version(self, listener: Callable[[Any], None]) -> None:
        self._version_listeners.append(listener)

    def _publish_catalog(self) -> None:
        rels = self.catalog.relations()
        for listener in self._catalog_listeners:
            listener(rels)

    def publish_version(self, version: Any) -> None:
        for w in self.workers.values():
            w.client.update_version(version)
        for listener in self._version_listeners:
            listener(version)

    async def _reload(self) -> None:
        """Recovery: forget everything not committed."""
        self.catalog = CatalogManager(self.store)
        self.catalog.load()
        self.fragments.load(self.store)
        self._publish_catalog()

    # -- compute node reports ------------------------------------------------------

    async def barrier_complete(self, report: BarrierCompleteReport) -> None:
        await self.barriers.barrier_complete(report)

    def actor_failure(self, failure: ActorFailure) -> None:
        self.barriers.actor_failure(failure)

    async def new_object_ids(self, n: int) -> list[int]:
        return await self.hummock.new_object_ids(n)

    def pin_version(self, node_id: int, version: Any) -> None:
        self.hummock.pin_version(("compute", node_id), version)

    def unpin_version(self, node_id: int, version_id: int) -> None:
        self.hummock.unpin_version(("compute", node_id), version_id)

    # -- garbage ----------------------------------------------------------------------

    async def _collect_garbage(self, object_store: Any) -> None:
        """Delete SSTs compaction replaced (after a grace period), and, hourly, orphans of crashed uploads."""
        c = self.config
        last_full = 0.0
        while True:
            await asyncio.sleep(c.vacuum_interval_s)
            try:
                deleted = await self.hummock.vacuum(object_store, min_stale_s=c.vacuum_interval_s)
                if time.monotonic() - last_full > c.full_gc_interval_s:
                    deleted += await self.hummock.full_gc(object_store, min_age_s=c.full_gc_interval_s)
                    last_full = time.monotonic()
                if deleted:
                    log.info("garbage collection deleted %d objects", deleted)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("garbage collection failed")

    def start_garbage_collection(self, object_store: Any) -> None:
        self._gc_task = asyncio.get_running_loop().create_task(self._collect_garbage(object_store), name="meta-gc")

    # -- frontend requests -----------------------------------------------------------

    @property
    def committed_epoch(self) -> int:
        return self.barriers.committed_epoch

    async def allocate_ids(self, n: int) -> list[int]:
        return await self.catalog.allocate_ids(n)

    async def flush(self) -> int:
        return await self.barriers.flush()

    async def create_job(self, relation: Relation, graph: FragmentGraph, *, if_not_exists: bool = False) -> Relation:
        async with self._ddl_lock:
            existing = self.catalog.by_name(relation.name, relation.schema_name)
            if existing is not None:
                if if_not_exists:
                    return existing
                raise DuplicateTable(f'relation "{relation.name}" already exists')
            placed = await self._place(relation.id, graph)
            self.fragments.add(placed)
            try:
                await self._start_job(relation, placed)
                created = dataclasses.replace(relation, status=JobStatus.CREATED, created_at_ms=int(time.time() * 1000),
                                              fragment_ids=tuple(f.fragment_id for f in graph.fragments))

                async def publish() -> None:
                    self.catalog.apply_put(created)
                    self._publish_catalog()

                await self.barriers.run_command(Command(
                    puts=[self.catalog.put_of(created), *self.fragments.puts_of(placed)], after_commit=publish))
            except BaseException:
                if self.catalog.get(relation.id) is None:
                    self.fragments.remove_job(relation.id)
                raise
            log.info("created %s %s (id %d, %d actors)", relation.kind.value, relation.name, relation.id,
                     sum(len(pf.actors) for pf in placed))
            return created

    async def _place(self, job_id: int, graph: FragmentGraph) -> list[PlacedFragment]:
        workers = list(self.workers)
        counter = iter(range(1 << 62))
        dry = self.fragments.place(job_id, graph, workers, self.default_parallelism, counter)
        ids = await self.catalog.allocate_ids(sum(len(pf.actors) for pf in dry))
        return self.fragments.place(job_id, graph, workers, self.default_parallelism, ids)

    async def _start_job(self, relation: Relation, placed: Sequence[PlacedFragment]) -> None:
        new_ids = {pf.fragment_id for pf in placed}
        infos = self.fragments.actor_infos(new_ids)
        build: dict[int, list[Any]] = {}
        for info in infos:
            build.setdefault(info.worker_id, []).append(info)
        adds = []
        for pf in placed:
            for edge in pf.inputs:
                if edge.upstream not in new_ids:
                    for a in self.fragments.fragments[edge.upstream].actors:
                        adds.append((a.actor_id, self.fragments.dispatcher(edge, a.actor_id)))
        mutation = AddMutation(tuple(i.actor_id for i in infos), tuple(adds))
        await self.barriers.run_command(Command(mutation=mutation, build=build,
                                                job_names={pf.fragment_id: relation.name for pf in placed}))

    async def drop_relation(self, name: str, kind: RelationKind, *, if_exists: bool = False,
                            cascade: bool = False) -> list[str]:
        """Drop a table or view (and, with cascade, what depends on it); returns notices."""
        async with self._ddl_lock:
            rel = self.catalog.by_name(name)
            if rel is None:
                if if_exists:
                    return [f'{kind.value} "{name}" does not exist, skipping']
                raise UndefinedTable(f'{kind.value} "{name}" does not exist')
            if rel.kind is not kind:
                raise WrongObjectType(f'"{name}" is not a {kind.value}',
                                      hint=f"Use DROP {rel.kind.value.upper()} to remove a {rel.kind.value}.")
            victims = self._drop_order(rel, cascade)
            notices = [f"drop cascades to {v.kind.value} {v.name}" for v in victims if v.id != rel.id]
            for v in victims:
                await self._drop_one(v)
            return notices

    def _drop_order(self, rel: Relation, cascade: bool) -> list[Relation]:
        deps = self.catalog.dependents(rel.id)
        if deps and not cascade:
            detail = "\n".join(f"{d.kind.value} {d.name} depends on {rel.kind.value} {rel.name}" for d in deps)
            raise DependentObjectsStillExist(
                f"cannot drop {rel.kind.value} {rel.name} because other objects depend on it", detail=detail,
                hint="Use DROP ... CASCADE to drop the dependent objects too.")
        order: list[Relation] = []
        for d in deps:
            for v in self._drop_order(d, cascade):
                if v not in order:
                    order.append(v)
        order.append(rel)
        return order

    async def _drop_one(self, rel: Relation) -> None:
        actors = self.fragments.job_actor_ids(rel.id)
        fragments = self.fragments.job_fragments(rel.id)

        async def forget() -> None:
            self.fragments.remove_job(rel.id)
            self.catalog.apply_delete([rel.id])
            for w in self.workers.values():
                await w.client.drop_actors(actors)
            self._publish_catalog()

        await self.barriers.run_command(Command(
            mutation=StopMutation(tuple(actors)),
            deletes=[self.catalog.delete_of(rel.id), *self.fragments.deletes_of(fragments)],
            after_commit=forget))
        log.info("dropped %s %s", rel.kind.value, rel.name)


def default_cores() -> int:
    return max(1, min(4, os.cpu_count() or 1))
