"""Meta's barrier manager: injects barriers, collects them, commits checkpoints in order, recovers.

Every `barrier_interval_ms` (or at once for a command) it allocates the
next epoch and injects a barrier at every compute node, naming the actors
there that must pass it. When every node has reported a checkpoint
barrier complete, it commits: the nodes' SSTs and the command's catalog
changes go into the version in one meta-store transaction, strictly in
epoch order; then nodes and frontends move to the new version.

A failed actor, a failed node report, or a barrier that does not complete
in time triggers recovery: every node drops its actors and uncommitted
state, meta reloads what is committed, rebuilds every actor, and injects an
INITIAL barrier of a fresh epoch over the last committed one.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from common.epoch import EpochPair, next_epoch
from common.errors import CannotConnectNow
from common.message import Barrier, BarrierKind, Mutation
from common.rpc import ActorFailure, BarrierCompleteReport, BuildActors, InjectBarrier, UpdateLocations
from common.stream_plan import ActorInfo
from meta.fragment_manager import FragmentManager, is_source
from meta.hummock_manager import HummockManager
from meta.meta_store import Delete, Put

log = logging.getLogger("eddy.meta.barrier")


class ComputeClient(Protocol):
    """The control surface of a compute node, as meta sees it."""

    async def build_actors(self, req: BuildActors) -> None: ...

    async def inject_barrier(self, req: InjectBarrier) -> None: ...

    async def drop_actors(self, actor_ids: list[int]) -> None: ...

    async def reset(self, generation: int | None = None) -> None: ...

    async def update_locations(self, req: UpdateLocations) -> None: ...

    async def backfill_progress(self) -> dict[int, tuple[int, int]]: ...

    def update_version(self, version: Any) -> None: ...


@dataclass
class Command:
    """A change that rides on a barrier; `done` resolves with the committed epoch.

    `build`: actors to create (by worker) before the barrier is injected.
    `puts`/`deletes`: catalog changes committed with the barrier's checkpoint.
    `after_commit`: in-memory changes once committed.
    """

    mutation: Mutation | None = None
    build: dict[int, list[ActorInfo]] = field(default_factory=dict)
    job_names: dict[int, str] = field(default_factory=dict)
    puts: list[Put] = field(default_factory=list)
    deletes: list[Delete] = field(default_factory=list)
    after_commit: Callable[[], Awaitable[None]] | None = None
    collect_also: dict[int, set[int]] = field(default_factory=dict)  # actors no longer placed, stopping here
    done: asyncio.Future[int] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


@dataclass
class _Inflight:
    barrier: Barrier
    pending: set[int]
    command: Command | None
    injected_at: float
    ssts: list[Any] = field(default_factory=list)


class BarrierManager:
    def __init__(self, hummock: HummockManager, fragments: FragmentManager,
                 workers: Callable[[], dict[int, ComputeClient]],
                 reload: Callable[[], Awaitable[None]], on_version: Callable[[Any], None],
                 locations: Callable[[], UpdateLocations],
                 on_unreachable: Callable[[int, BaseException], None] = lambda n, e: None,
                 wait_for_workers: Callable[[], Awaitable[None]] | None = None,
                 *, interval_ms: int = 1000, checkpoint_frequency: int = 1, barrier_timeout_s: float = 60.0,
                 max_inflight: int = 8) -> None:
        self.hummock = hummock
        self.fragments = fragments
        self._workers = workers
        self._reload = reload
        self._on_version = on_version
        self._locations = locations
        self._on_unreachable = on_unreachable
        self._wait_for_workers = wait_for_workers
        self._serving = asyncio.Event()  # clear while recovering: new commands wait instead of failing
        self.interval_s = interval_ms / 1000
        self.checkpoint_frequency = max(1, checkpoint_frequency)
        self.barrier_timeout_s = barrier_timeout_s
        self.max_inflight = max_inflight
        self._inflight: OrderedDict[int, _Inflight] = OrderedDict()
        self._commands: asyncio.Queue[Command | None] = asyncio.Queue()
        self._commit_lock = asyncio.Lock()
        self._committed = asyncio.Condition()
        self._last_epoch = 0
        self._since_checkpoint = 0
        self._recovery_reason: str | None = None
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.recovery_count = 0
        self.last_barrier_latency_ms = 0.0
        self._backfilled: set[int] = set()  # actors that reported their backfill finished
        self._backfill_news = asyncio.Condition()

    @property
    def committed_epoch(self) -> int:
        return self.hummock.version.committed_epoch

    async def start(self) -> None:
        """Start the loop; the first recovery runs once compute nodes are there (see `ready`)."""
        self._task = asyncio.get_running_loop().create_task(self._run(), name="barrier-manager")

    async def ready(self) -> None:
        await self._ready.wait()

    async def serving(self) -> None:
        """Until the first recovery is done and no recovery is under way."""
        await self._ready.wait()
        await self._serving.wait()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass

    # -- requests ------------------------------------------------------------

    async def run_command(self, cmd: Command) -> int:
        await self._serving.wait()
        await self._commands.put(cmd)
        return await cmd.done

    async def flush(self) -> int:
        """Commit a checkpoint that holds everything written before this call; its epoch."""
        return await self.run_command(Command())

    async def wait_committed(self, epoch: int) -> None:
        async with self._committed:
            await self._committed.wait_for(lambda: self.committed_epoch >= epoch)

    async def wait_backfilled(self, actor_ids: set[int], since_recovery: int | None = None) -> None:
        """Until every one of the actors reported its backfill finished; fails if the cluster recovers first
        (recovery drops jobs whose creation has not committed), or has recovered since `since_recovery`."""
        recoveries = self.recovery_count if since_recovery is None else since_recovery
        async with self._backfill_news:
            await self._backfill_news.wait_for(
                lambda: actor_ids <= self._backfilled or self.recovery_count != recoveries)
        if not actor_ids <= self._backfilled:
            raise CannotConnectNow("the cluster recovered while the view was being created; create it again")
        self._backfilled -= actor_ids

    def request_recovery(self, reason: str) -> None:
        if self._recovery_reason is None:
            self._recovery_reason = reason
            self._commands.put_nowait(None)  # wake the loop

    def describe(self) -> list[str]:
        """The barriers in flight and the nodes that have not reported them (for debugging)."""
        return [f"barrier {i.barrier.epoch} ({i.barrier.kind.value}, command={i.command is not None}): "
                f"waiting for nodes {sorted(i.pending)}" for i in self._inflight.values()]

    # -- reports from compute nodes -------------------------------------------

    async def barrier_complete(self, report: BarrierCompleteReport) -> None:
        inflight = self._inflight.get(report.epoch)
        if inflight is None or report.node_id not in inflight.pending:
            return  # a report from before a recovery
        inflight.pending.discard(report.node_id)
        inflight.ssts.extend(report.ssts)
        if report.backfilled:
            async with self._backfill_news:
                self._backfilled.update(report.backfilled)
                self._backfill_news.notify_all()
        await self._try_commit()

    def actor_failure(self, failure: ActorFailure) -> None:
        self.request_recovery(f"actor {failure.actor_id} on node {failure.node_id} failed: {failure.message}")

    # -- the loop ----------------------------------------------------------------

    async def _run(self) -> None:
        await self._recover("bootstrap")
        self._ready.set()
        while True:
            if self._recovery_reason is not None:
                await self._recover(self._recovery_reason)
                continue
            try:
                cmd = await asyncio.wait_for(self._commands.get(), timeout=self.interval_s)
            except TimeoutError:
                cmd = None
            if self._recovery_reason is not None:
                if cmd is not None:
                    self._fail(cmd, "the cluster is recovering; retry")
                continue
            self._check_timeout()
            if len(self._inflight) >= self.max_inflight:
                if cmd is not None:
                    self._commands.put_nowait(cmd)
                await self._wait_for_commit_progress()
                continue
            try:
                await self._inject(cmd)
            except Exception as exc:
                log.exception("injecting a barrier failed")
                if cmd is not None:
                    self._fail(cmd, f"could not start the change: {exc}")
                self.request_recovery(f"barrier injection failed: {exc}")

    async def _wait_for_commit_progress(self) -> None:
        async with self._committed:
            try:
                await asyncio.wait_for(self._committed.wait(), timeout=self.interval_s)
            except TimeoutError:
                pass

    def _check_timeout(self) -> None:
        if self._inflight:
            oldest = next(iter(self._inflight.values()))
            if time.monotonic() - oldest.injected_at > self.barrier_timeout_s:
                self.request_recovery(f"barrier {oldest.barrier.epoch} did not complete in "
                                      f"{self.barrier_timeout_s:.0f}s")

    async def _inject(self, cmd: Command | None, kind: BarrierKind | None = None) -> _Inflight:
        workers = self._workers()
        if cmd is not None and cmd.build:
            locations = self._locations()
            await asyncio.gather(*(c.update_locations(locations) for c in workers.values()))
            version = self.hummock.version
            await asyncio.gather(*(workers[w].build_actors(BuildActors(tuple(infos), tuple(cmd.job_names.items()),
                                                                       version))
                                   for w, infos in cmd.build.items()))
        prev = self._last_epoch if self._last_epoch else self.committed_epoch
        curr = next_epoch(max(prev, self.committed_epoch))
        self._since_checkpoint += 1
        if kind is None:
            checkpoint = cmd is not None or self._since_checkpoint >= self.checkpoint_frequency
            kind = BarrierKind.CHECKPOINT if checkpoint else BarrierKind.BARRIER
        if kind is not BarrierKind.BARRIER:
            self._since_checkpoint = 0
        barrier = Barrier(EpochPair(curr, prev), kind, cmd.mutation if cmd else None)
        actors = self.fragments.actors_by_worker()
        for worker, infos in (cmd.build.items() if cmd else ()):
            actors.setdefault(worker, set()).update(i.actor_id for i in infos)
        for worker, stopping in (cmd.collect_also.items() if cmd else ()):
            actors.setdefault(worker, set()).update(stopping)
        sources = self.fragments.sources_by_worker()
        for worker, infos in (cmd.build.items() if cmd else ()):
            for info in infos:
                if is_source(info.node):
                    sources.setdefault(worker, set()).add(info.actor_id)
        inflight = _Inflight(barrier, set(workers), cmd, time.monotonic())
        self._inflight[curr] = inflight
        self._last_epoch = curr
        await asyncio.gather(*(client.inject_barrier(InjectBarrier(barrier, tuple(sorted(actors.get(worker, ()))),
                                                                   tuple(sorted(sources.get(worker, ()))), worker))
                               for worker, client in workers.items()))
        return inflight

    async def _try_commit(self) -> None:
        async with self._commit_lock:
            while self._inflight:
                epoch, inflight = next(iter(self._inflight.items()))
                if inflight.pending:
                    return
                del self._inflight[epoch]
                await self._commit(inflight)

    async def _commit(self, inflight: _Inflight) -> None:
        b, cmd = inflight.barrier, inflight.command
        if b.is_checkpoint and b.epoch.prev > self.committed_epoch:
            try:
                version = await self.hummock.commit_epoch(b.epoch.prev, inflight.ssts,
                                                          extra_puts=cmd.puts if cmd else (),
                                                          extra_deletes=cmd.deletes if cmd else ())
            except Exception as exc:
                log.exception("committing epoch %d failed", b.epoch.prev)
                if cmd is not None:
                    self._fail(cmd, f"commit failed: {exc}")
                self.request_recovery(f"commit of epoch {b.epoch.prev} failed: {exc}")
                return
            self._on_version(version)
        self.last_barrier_latency_ms = (time.monotonic() - inflight.injected_at) * 1000
        if cmd is not None:
            if cmd.after_commit is not None:
                await cmd.after_commit()
            if not cmd.done.done():
                cmd.done.set_result(self.committed_epoch)
        async with self._committed:
            self._committed.notify_all()

    # -- recovery ------------------------------------------------------------------

    def _fail(self, cmd: Command, message: str) -> None:
        if not cmd.done.done():
            cmd.done.set_exception(CannotConnectNow(message))

    async def _recover(self, reason: str) -> None:
        self._serving.clear()
        try:
            await self._recover_until_done(reason)
        finally:
            self._serving.set()

    async def _recover_until_done(self, reason: str) -> None:
        attempt = 0
        while True:
            attempt += 1
            self.recovery_count += 1
            log.warning("recovery #%d (attempt %d): %s", self.recovery_count, attempt, reason)
            async with self._backfill_news:  # creations waiting for backfills fail: their jobs are dropped
                self._backfilled.clear()
                self._backfill_news.notify_all()
            self._recovery_reason = None
            for inflight in self._inflight.values():
                if inflight.command is not None:
                    self._fail(inflight.command, f"the cluster is recovering ({reason}); retry")
            self._inflight.clear()
            while not self._commands.empty():
                cmd = self._commands.get_nowait()
                if cmd is not None:
                    self._fail(cmd, f"the cluster is recovering ({reason}); retry")
            try:
                await self._recover_once()
                log.info("recovery done: committed epoch %d", self.committed_epoch)
                return
            except Exception as exc:
                log.exception("recovery attempt %d failed", attempt)
                reason = f"retry after: {exc}"
                await asyncio.sleep(min(5.0, 0.02 * (2 ** attempt)))

    async def _recover_once(self) -> None:
        workers = self._workers()
        if not workers and self._wait_for_workers is not None:
            log.info("waiting for a compute node to join")
            await self._wait_for_workers()
            workers = self._workers()
        if not workers:
            raise RuntimeError("no compute node has joined yet")
        results = await asyncio.gather(*(c.reset(self.recovery_count) for c in workers.values()),
                                       return_exceptions=True)
        for node, result in zip(list(workers), results):
            if isinstance(result, BaseException):
                self._on_unreachable(node, result)  # it leaves the cluster; its actors move
        await self._reload()
        workers = self._workers()
        locations = self._locations()
        await asyncio.gather(*(c.update_locations(locations) for c in workers.values()))
        by_worker: dict[int, list[ActorInfo]] = {}
        for info in self.fragments.actor_infos(backfill=False):
            by_worker.setdefault(info.worker_id, []).append(info)
        missing = set(by_worker) - set(workers)
        if missing:
            raise RuntimeError(f"actors are placed on nodes that are gone: {sorted(missing)}")
        version = self.hummock.version
        await asyncio.gather(*(workers[w].build_actors(BuildActors(tuple(infos), (), version))
                               for w, infos in by_worker.items()))
        self._last_epoch = 0
        inflight = await self._inject(None, BarrierKind.INITIAL)
        deadline = time.monotonic() + self.barrier_timeout_s
        async with self._committed:
            while inflight.barrier.epoch.curr in self._inflight:
                if self._recovery_reason is not None:
                    raise RuntimeError(self._recovery_reason)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError("the first barrier after recovery did not complete")
                try:
                    await asyncio.wait_for(self._committed.wait(), timeout=min(remaining, 0.5))
                except TimeoutError:
                    pass

