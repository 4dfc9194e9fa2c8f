"""The meta node: catalog, cluster membership, stream scheduling, barriers and the version.

Frontends call it for DDL, FLUSH and the committed snapshot; compute nodes
report barriers and failures to it. Creating a streaming job starts its
actors at one barrier; they read their upstreams' existing rows while
barriers keep flowing, and report when done; a later checkpoint, which
holds the complete backfill, commits the job's catalog entry. Dropping a job stops its actors and removes its entry in
one barrier.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
import os
import time
from collections.abc import Callable, Sequence
from typing import Any

from common.catalog import JobStatus, Relation, RelationKind
from common.cluster_status import ClusterStatus
from common.errors import (
    CannotConnectNow,
    DependentObjectsStillExist,
    DuplicateTable,
    ObjectInUse,
    UndefinedTable,
    WrongObjectType,
)
from common.message import AddMutation, PauseMutation, ResumeMutation, StopMutation, UpdateMutation
from common.rpc import SNAPSHOT_LEASE_S, ActorFailure, BarrierCompleteReport, ClusterInfo, UpdateLocations
from common.stream_plan import FragmentGraph
from common.user import UserInfo
from meta import rescheduler
from meta.barrier_manager import BarrierManager, Command, ComputeClient
from meta.catalog_manager import CatalogManager
from meta.cluster_manager import ClusterManager, WorkerInfo
from meta.fragment_manager import FragmentManager, PlacedFragment, has_backfill
from meta.hummock_manager import HummockManager
from meta.meta_store import MetaStore
from meta.notification import NotificationHub
from meta.status import BackfillProgress, build_status
from meta.user_manager import UserManager

log = logging.getLogger("eddy.meta")

CatalogListener = Callable[[list[Relation]], None]


@dataclasses.dataclass
class MetaConfig:
    barrier_interval_ms: int = 1000
    checkpoint_frequency: int = 1
    barrier_timeout_s: float = 60.0
    heartbeat_timeout_s: float = 5.0
    default_parallelism: int = 0  # 0: the cores the compute nodes announce
    vacuum_interval_s: float = 30.0
    full_gc_interval_s: float = 3600.0
    snapshot_lease_s: float = SNAPSHOT_LEASE_S  # a transaction's pinned snapshot lapses unless renewed
    object_store: str = ""  # what compute nodes and compactors open (cluster mode)
    s3_endpoint: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class _Creation:
    """A job being created, and the task creating it (cancelled to cancel the creation)."""

    relation: Relation
    task: asyncio.Task[Any] | None


def _backfilling_actors(placed: Sequence[PlacedFragment]) -> set[int]:
    """The actors of a new job that read existing rows first."""
    return {a.actor_id for pf in placed if has_backfill(pf.fragment.root) for a in pf.actors}


class MetaNode:
    def __init__(self, store: MetaStore, config: MetaConfig | None = None,
                 connect: Callable[[str], ComputeClient] | None = None) -> None:
        self.store = store
        self.config = config or MetaConfig()
        self.catalog = CatalogManager(store)
        self.fragments = FragmentManager()
        self.hummock: HummockManager = None  # type: ignore[assignment]  # set in start()
        self.barriers: BarrierManager = None  # type: ignore[assignment]
        self.cluster = ClusterManager(self.config.heartbeat_timeout_s, self._new_node_id, self._on_node_lost)
        self._clients: dict[int, ComputeClient] = {}
        self._connect = connect
        self._ddl_lock = asyncio.Lock()
        self._catalog_listeners: list[CatalogListener] = []
        self._version_listeners: list[Callable[[Any], None]] = []
        self.notifications = NotificationHub()
        self.started_at = time.time()
        self._gc_task: asyncio.Task[None] | None = None
        self._creating: dict[int, _Creation] = {}  # jobs whose creation has not committed yet

    async def start(self) -> None:
        acquire = getattr(self.store, "acquire_leadership", None)
        if acquire is not None:
            await _maybe_await(acquire())
        self.catalog.load()
        self.fragments.load(self.store)
        self.hummock = await HummockManager.load(self.store)
        c = self.config
        self.barriers = BarrierManager(
            self.hummock, self.fragments, lambda: self.workers, self._reload, self.publish_version,
            self._locations, self._on_unreachable, lambda: self.cluster.wait_for_workers(1),
            interval_ms=c.barrier_interval_ms,
            checkpoint_frequency=c.checkpoint_frequency,
            barrier_timeout_s=c.barrier_timeout_s)
        self.publish_version(self.hummock.version)  # nodes read committed state from this version on
        self.cluster.start()
        await self.barriers.start()

    async def stop(self) -> None:
        if self._gc_task is not None:
            self._gc_task.cancel()
        await self.cluster.stop()
        if self.barriers is not None:
            await self.barriers.stop()

    # -- membership ----------------------------------------------------------

    @property
    def workers(self) -> dict[int, ComputeClient]:
        """The live compute nodes' clients."""
        return {n: self._clients[n] for n in self.cluster.workers if n in self._clients}

    def register_worker(self, node_id: int, client: ComputeClient, parallelism: int) -> None:
        """A compute node in this process (the playground); it never misses a heartbeat."""
        self.cluster.add_local(WorkerInfo(node_id, "local", max(1, parallelism), "local"))
        self._clients[node_id] = client
        if self.hummock is not None:
            client.update_version(self.hummock.version)

    async def register_remote(self, address: str, parallelism: int) -> WorkerInfo:
        """A compute node process joins: it gets an id and the committed version; work comes with the
        next job, rescale or recovery."""
        assert self._connect is not None, "this meta takes no remote compute nodes"
        info = await self.cluster.register(address, parallelism)
        client = self._connect(address)
        self._clients[info.node_id] = client
        if self.hummock is not None:
            client.update_version(self.hummock.version)
        return info

    def heartbeat(self, node_id: int, session: str) -> bool:
        return self.cluster.heartbeat(node_id, session)

    async def _new_node_id(self) -> int:
        return (await self.catalog.allocate_ids(1))[0]

    def _on_node_lost(self, info: WorkerInfo) -> None:
        self._clients.pop(info.node_id, None)
        if self.fragments.actors_by_worker().get(info.node_id):
            self.barriers.request_recovery(f"compute node {info.node_id} at {info.address} failed")

    def _on_unreachable(self, node_id: int, error: BaseException) -> None:
        if self.cluster.remove(node_id, f"unreachable: {error}") is not None:
            self._clients.pop(node_id, None)

    def _locations(self) -> UpdateLocations:
        addresses = tuple((n, w.address) for n, w in self.cluster.workers.items())
        return UpdateLocations(tuple(self.fragments.locations().items()), addresses, self.barriers.recovery_count)

    @property
    def default_parallelism(self) -> int:
        if self.config.default_parallelism > 0:
            return self.config.default_parallelism
        return max(1, sum(w.parallelism for w in self.cluster.workers.values()))

    def cluster_info(self) -> ClusterInfo:
        c = self.config
        return ClusterInfo(c.object_store, c.s3_endpoint, c.barrier_interval_ms, c.heartbeat_timeout_s)

    def dml_node(self, table_id: int) -> int | None:
        """The worker running the DML source of a table (where its writes go)."""
        for pf in self.fragments.job_fragments(table_id):
            if pf.is_source and pf.actors:
                return pf.actors[0].worker_id
        return None

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
        self.notifications.publish(("catalog", rels))

    def publish_version(self, version: Any) -> None:
        for client in self.workers.values():
            client.update_version(version)
        for listener in self._version_listeners:
            listener(version)
        self.notifications.publish(("epoch", version.committed_epoch, self.barriers.recovery_count))

    async def _reload(self) -> None:
        """Recovery: forget everything not committed; move actors off nodes that are gone."""
        self.catalog = CatalogManager(self.store)
        self.catalog.load()
        self.fragments.load(self.store)
        moved = self.fragments.reassign(list(self.cluster.workers))
        if moved:
            await self.store.write(self.fragments.puts_of(moved))
            log.info("moved the actors of %d fragments to live nodes", len(moved))
        self._publish_catalog()

    # -- compute node reports ------------------------------------------------------

    async def barrier_complete(self, report: BarrierCompleteReport) -> None:
        await self.barriers.barrier_complete(report)

    def actor_failure(self, failure: ActorFailure) -> None:
        self.barriers.actor_failure(failure)

    async def new_object_ids(self, n: int) -> list[int]:
        return await self.hummock.new_object_ids(n)

    def pin_version(self, node_id: int, version: Any) -> None:
        if isinstance(version, int):
            self.hummock.pin_version_id(("compute", node_id), version)
        else:
            self.hummock.pin_version(("compute", node_id), version)

    def unpin_version(self, node_id: int, version_id: int) -> None:
        self.hummock.unpin_version(("compute", node_id), version_id)

    # -- garbage ----------------------------------------------------------------------

    def start_garbage_collection(self, object_store: Any) -> None:
        gc = self.hummock.collect_garbage(object_store, self.config.vacuum_interval_s, self.config.full_gc_interval_s)
        self._gc_task = asyncio.get_running_loop().create_task(gc, name="meta-gc")

    # -- frontend requests -----------------------------------------------------------

    @property
    def committed_epoch(self) -> int:
        return self.barriers.committed_epoch

    async def allocate_ids(self, n: int) -> list[int]:
        return await self.catalog.allocate_ids(n)

    async def flush(self) -> int:
        return await self.barriers.flush()

    async def create_job(self, relation: Relation, graph: FragmentGraph, *, if_not_exists: bool = False) -> Relation:
        """Create a table or view: start its actors, wait for their backfill, commit its catalog entry.

        The DDL lock is held to start the job and to commit it, not while it backfills, so other DDL
        goes on meanwhile; the name stays reserved, and what the job reads cannot be dropped or rescaled.
        If the creation fails or is cancelled (not by a recovery, which drops it anyway), its actors stop.
        """
        async with self._ddl_lock:
            existing = self.catalog.by_name(relation.name, relation.schema_name) or self._creating_named(relation)
            if existing is not None:
                if if_not_exists:
                    return existing
                being = " and is being created" if existing.id in self._creating else ""
                raise DuplicateTable(f'relation "{relation.name}" already exists{being}')
            placed = await self._place(relation.id, graph)
            self.fragments.add(placed)
            self._creating[relation.id] = _Creation(relation, asyncio.current_task())
            recoveries = self.barriers.recovery_count
            try:
                await self._start_job(relation, placed)
            except BaseException:
                self._forget_creation(relation.id)
                raise
        try:
            await self.barriers.wait_backfilled(_backfilling_actors(placed), since_recovery=recoveries)
            created = dataclasses.replace(relation, status=JobStatus.CREATED, created_at_ms=int(time.time() * 1000),
                                          fragment_ids=tuple(f.fragment_id for f in graph.fragments))

            async def publish() -> None:
                self.catalog.apply_put(created)
                self._publish_catalog()

            async with self._ddl_lock:
                await self.barriers.run_command(Command(
                    puts=[self.catalog.put_of(created), *self.fragments.puts_of(placed)], after_commit=publish))
        except BaseException:
            if self.catalog.get(relation.id) is None and self.barriers.recovery_count == recoveries:
                await asyncio.shield(self._cancel_creation(relation))
            raise
        finally:
            self._forget_creation(relation.id)
        log.info("created %s %s (id %d, %d actors)", relation.kind.value, relation.name, relation.id,
                 sum(len(pf.actors) for pf in placed))
        return created

    def _forget_creation(self, job_id: int) -> None:
        if self.catalog.get(job_id) is None:
            self.fragments.remove_job(job_id)
        self._creating.pop(job_id, None)

    def _creating_named(self, relation: Relation) -> Relation | None:
        return next((c.relation for c in self._creating.values()
                     if c.relation.name == relation.name and c.relation.schema_name == relation.schema_name), None)

    async def _cancel_creation(self, relation: Relation) -> None:
        """Stop the actors of a job whose creation failed; they run, and upstreams feed them, until then."""
        try:
            await self._drop_one(relation)
            log.info("cancelled the creation of %s %s: its actors are stopped", relation.kind.value, relation.name)
        except Exception:
            log.exception("stopping the actors of %s after its creation failed", relation.name)

    def cancel_creation(self, job_id: int) -> bool:
        """Cancel a job being created (its frontend gave up); True if there was one."""
        creation = self._creating.get(job_id)
        if creation is None or creation.task is None:
            return False
        creation.task.cancel()
        return True

    async def _place(self, job_id: int, graph: FragmentGraph) -> list[PlacedFragment]:
        await self.barriers.serving()
        workers = list(self.workers)
        if not workers:
            raise CannotConnectNow("no compute node is available to run the job; start one and retry")
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

    async def alter_parallelism(self, name: str, parallelism: int | None) -> None:
        """Rescale a table or view online: pause sources, checkpoint, swap actors at one barrier, resume.

        No data is in flight while the actors swap, and every change before it is committed, so the
        new actors start exactly from the committed state of the vnodes they now own.
        """
        async with self._ddl_lock:
            rel = self.catalog.by_name(name)
            if rel is None:
                raise UndefinedTable(f'relation "{name}" does not exist')
            if self._creating:
                job = next(iter(self._creating.values())).relation
                raise ObjectInUse(f"cannot change the parallelism of {rel.name} while {job.kind.value} {job.name} "
                                  "is being created", hint="Wait for its creation to finish (see SHOW JOBS) and retry.")
            await self.barriers.serving()
            workers = list(self.workers)
            if not workers:
                raise CannotConnectNow("no compute node is available")
            target = parallelism or self.default_parallelism
            ids = iter(await self.catalog.allocate_ids(rescheduler.count_actors(self.fragments, rel.id, target)))
            await self.barriers.run_command(Command(mutation=PauseMutation()))
            try:
                plan = rescheduler.plan(self.fragments, rel.id, target, workers, ids)
                removed = plan.removed_ids

                async def drop_old() -> None:
                    await asyncio.gather(*(c.drop_actors(list(removed)) for c in self.workers.values()))

                try:
                    await self.barriers.run_command(Command(
                        mutation=UpdateMutation(plan.added_ids, removed, tuple(plan.dispatchers), tuple(plan.merges)),
                        build=plan.added, collect_also=plan.removed, puts=self.fragments.puts_of(plan.new_fragments),
                        after_commit=drop_old))
                except BaseException:
                    self.fragments.add(plan.old_fragments)  # not committed: the old placement stands
                    raise
            finally:
                await self.barriers.run_command(Command(mutation=ResumeMutation()))
            log.info("rescaled %s %s to parallelism %d", rel.kind.value, rel.name, target)

    async def drop_relation(self, name: str, kind: RelationKind, *, if_exists: bool = False,
                            cascade: bool = False) -> list[str]:
        """Drop a table or view (and, with cascade, what depends on it); returns notices."""
        async with self._ddl_lock:
            rel = self.catalog.by_name(name)
            if rel is None and any(c.relation.name == name for c in self._creating.values()):
                raise ObjectInUse(f'{kind.value} "{name}" is being created',
                                  hint="Cancel its CREATE statement, or drop it once created (see SHOW JOBS).")
            if rel is None:
                if if_exists:
                    return [f'{kind.value} "{name}" does not exist, skipping']
                raise UndefinedTable(f'{kind.value} "{name}" does not exist')
            if rel.kind is not kind:
                raise WrongObjectType(f'"{name}" is not a {kind.value}',
                                      hint=f"Use DROP {rel.kind.value.upper()} to remove a {rel.kind.value}.")
            creating = [c.relation for c in self._creating.values() if rel.id in c.relation.depends_on]
            if creating:
                raise DependentObjectsStillExist(
                    f"cannot drop {rel.kind.value} {rel.name} because {creating[0].kind.value} {creating[0].name} "
                    "is being created over it",
                    hint="Wait for its creation to finish (see SHOW JOBS), or cancel its CREATE statement.")
            victims = self._drop_order(rel, cascade)
            notices = [f"drop cascades to {v.kind.value} {v.name}" for v in victims if v.id != rel.id]
            for v in victims:
                await self._drop_one(v)
                log.info("dropped %s %s", v.kind.value, v.name)
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
            await asyncio.gather(*(c.drop_actors(actors) for c in self.workers.values()))
            self._publish_catalog()

        await self.barriers.run_command(Command(
            mutation=StopMutation(tuple(actors)),
            deletes=[self.catalog.delete_of(rel.id), *self.fragments.deletes_of(fragments)],
            after_commit=forget))

    # -- users (issue 4) ----------------------------------------------------------------
    # Users persist in the meta store (namespace `user`); transaction blocks of
    # frontend sessions pin the snapshot they read, like a batch query's version.

    @functools.cached_property
    def user_manager(self) -> UserManager:
        manager = UserManager(self.store, lambda n: self.catalog.allocate_ids(n))
        manager.load()
        return manager

    def users(self) -> list[UserInfo]:
        return self.user_manager.users()

    async def create_user(self, user: UserInfo) -> UserInfo:
        return await self.user_manager.create(user)

    async def update_user(self, user: UserInfo) -> UserInfo:
        return await self.user_manager.update(user)

    async def drop_user(self, name: str) -> UserInfo:
        return await self.user_manager.drop(name)

    async def pin_snapshot(self, leased: bool = True) -> tuple[int, int]:
        """Pin the committed version for a transaction block's reads. A remote frontend's pin is leased and
        renewed (a frontend that dies mid-transaction must not hold the version's objects forever); a
        frontend in meta's own process dies with it, so its pins need no lease."""
        pin_id = (await self.catalog.allocate_ids(1))[0]
        version = self.hummock.pin_version(("snapshot", pin_id))
        if leased:
            self.hummock.lease(("snapshot", pin_id), self.config.snapshot_lease_s)
        return pin_id, version.committed_epoch

    async def unpin_snapshot(self, pin_id: int) -> None:
        self.hummock.unpin_version(("snapshot", pin_id))

    def renew_snapshots(self, pin_ids: list[int]) -> list[int]:
        """Extend the leases of snapshots still held; return the ids meta no longer holds."""
        lost = self.hummock.renew_leases([("snapshot", p) for p in pin_ids], self.config.snapshot_lease_s)
        return [c[1] for c in lost]  # type: ignore[index]

    # -- catalog (issue 4): what rw_catalog and SHOW JOBS show (meta.status) ------------

    async def cluster_status(self) -> ClusterStatus:
        """The status, with the backfill progress of jobs being created (asked of the compute nodes)."""
        progress: BackfillProgress = {}
        if self._creating:
            answers = await asyncio.gather(*(c.backfill_progress() for c in self.workers.values()),
                                           return_exceptions=True)
            for answer in answers:
                if isinstance(answer, dict):
                    progress.update(answer)
        return build_status(self.fragments, self.cluster.workers.values(), self.catalog,
                            [c.relation for c in self._creating.values()], progress, self.barriers,
                            self.config.barrier_interval_ms)


async def _maybe_await(x: Any) -> Any:
    if asyncio.iscoroutine(x):
        return await x
    return x


def default_cores() -> int:
    return max(1, min(4, os.cpu_count() or 1))
