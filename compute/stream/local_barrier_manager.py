"""The compute node's barrier manager: injects barriers at sources, collects them from actors.

Meta sends each barrier with the set of actors on this node that must pass
it. When all have, and the barrier is a checkpoint, the node syncs: it
builds SSTs from the shared buffer for every epoch up to the one closed,
uploads them, and reports them to meta, which commits. Completions are
reported in epoch order.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field

from common.message import Barrier
from common.rpc import BarrierCompleteReport
from storage.state_store import StateStore

log = logging.getLogger("eddy.barrier")


class SourceQueue:
    """The input of a source actor: barriers and DML transactions in one order.

    Barriers never wait; DML writers wait for row permits so a slow table
    applies back-pressure to writers, never to barrier injection.
    """

    def __init__(self, max_pending_rows: int = 1 << 20) -> None:
        self._queue: asyncio.Queue[object] = asyncio.Queue()
        self._max_rows = max_pending_rows
        self._pending_rows = 0
        self._room = asyncio.Condition()

    def put_barrier(self, barrier: Barrier) -> None:
        self._queue.put_nowait(barrier)

    async def put_data(self, item: object, rows: int) -> None:
        async with self._room:
            await self._room.wait_for(lambda: self._pending_rows == 0 or self._pending_rows + rows <= self._max_rows)
            self._pending_rows += rows
        self._queue.put_nowait(item)

    async def get(self) -> object:
        return await self._queue.get()

    async def release(self, rows: int) -> None:
        async with self._room:
            self._pending_rows -= rows
            self._room.notify_all()


class BackfillTracker:
    """The backfills running on this node: per actor, the vnodes read of the vnodes to read.

    An actor's stream scans register their vnodes when built and advance as they go;
    an actor is finished once every one of its scans is (SHOW JOBS reads the progress,
    meta learns of finished actors from barrier reports).
    """

    def __init__(self) -> None:
        self._progress: dict[int, tuple[int, int]] = {}
        self._reported: set[int] = set()

    def register(self, actor_id: int, vnodes: int) -> None:
        done, total = self._progress.get(actor_id, (0, 0))
        self._progress[actor_id] = (done, total + vnodes)

    def advance(self, actor_id: int, vnodes: int) -> None:
        done, total = self._progress[actor_id]
        self._progress[actor_id] = (done + vnodes, total)

    def progress(self) -> dict[int, tuple[int, int]]:
        return dict(self._progress)

    def newly_finished(self) -> tuple[int, ...]:
        """Actors whose backfill finished since the last call."""
        out = tuple(a for a, (done, total) in self._progress.items() if done >= total and a not in self._reported)
        self._reported.update(out)
        return out

    def forget(self, actor_ids: Iterable[int]) -> None:
        for a in actor_ids:
            self._progress.pop(a, None)
            self._reported.discard(a)

    def clear(self) -> None:
        self._progress.clear()
        self._reported.clear()


@dataclass
class _Epoch:
    barrier: Barrier
    to_collect: set[int]
    reporter: int  # the node id meta addressed this barrier to
    collected: set[int] = field(default_factory=set)


class LocalBarrierManager:
    def __init__(self, node_id: int, store: StateStore,
                 report: Callable[[BarrierCompleteReport], Awaitable[None]],
                 on_failure: Callable[[int, BaseException], None]) -> None:
        self.node_id = node_id
        self.store = store
        self._report = report
        self._on_failure = on_failure
        self.sources: dict[int, SourceQueue] = {}
        self._epochs: dict[int, _Epoch] = {}
        # A barrier can reach an actor through the dataflow (from a source on another node) before
        # meta's request to inject it here arrives: those actors are remembered until it does.
        self._early: dict[int, set[int]] = {}
        self._completions: asyncio.Queue[_Epoch] = asyncio.Queue()
        self._completer: asyncio.Task[None] | None = None
        self.failed = False
        self.backfills = BackfillTracker()

    def start(self) -> None:
        self._completer = asyncio.get_running_loop().create_task(self._complete_loop(), name="barrier-completer")

    def register_source(self, actor_id: int) -> SourceQueue:
        q = self.sources.get(actor_id)
        if q is None:
            q = self.sources[actor_id] = SourceQueue()
        return q

    def inject(self, barrier: Barrier, actors_to_collect: set[int], source_actors: set[int],
               node_id: int | None = None) -> None:
        """Start a barrier on this node. With no actors to collect it completes at once.

        The report names `node_id` (the node meta sent it to), not whatever id this node
        believes it has: a node that just (re-)registered may not have applied its new id yet.
        """
        if barrier.epoch.curr in self._epochs:
            raise RuntimeError(f"barrier {barrier.epoch} injected twice")
        st = _Epoch(barrier, set(actors_to_collect), self.node_id if node_id is None else node_id)
        st.collected |= self._early.pop(barrier.epoch.curr, set())
        self._epochs[barrier.epoch.curr] = st
        log.debug("node %d: barrier %s to %d actors (sources %s)", self.node_id, barrier.epoch,
                  len(st.to_collect), sorted(source_actors))
        for a in source_actors:
            self.register_source(a).put_barrier(barrier)
        if st.collected >= st.to_collect:
            self._finish(st)

    def collect(self, actor_id: int, barrier: Barrier) -> None:
        st = self._epochs.get(barrier.epoch.curr)
        if st is None:
            self._early.setdefault(barrier.epoch.curr, set()).add(actor_id)
            return
        st.collected.add(actor_id)
        log.debug("node %d: actor %d passed %s (%d/%d)", self.node_id, actor_id, barrier.epoch, len(st.collected),
                  len(st.to_collect))
        if st.collected >= st.to_collect:
            self._finish(st)
        if barrier.is_stop(actor_id):
            self.sources.pop(actor_id, None)

    def _finish(self, st: _Epoch) -> None:
        del self._epochs[st.barrier.epoch.curr]
        self._completions.put_nowait(st)

    async def _complete_loop(self) -> None:
        while True:
            st = await self._completions.get()
            b = st.barrier
            try:
                ssts = await self.store.sync(b.epoch.prev) if b.is_checkpoint else []
                await self._report(BarrierCompleteReport(st.reporter, b.epoch.curr, b.epoch.prev,
                                                         b.kind, tuple(ssts), self.backfills.newly_finished()))
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.exception("completing barrier %s failed", b.epoch)
                self._on_failure(-1, exc)

    def describe(self) -> list[str]:
        """The barriers in flight on this node and the actors that have not passed them (for debugging)."""
        return [f"barrier {e.barrier.epoch} ({e.barrier.kind.value}): waiting for actors "
                f"{sorted(e.to_collect - e.collected)}" for e in self._epochs.values()]

    def notify_failure(self, actor_id: int, exc: BaseException) -> None:
        self.failed = True
        self._on_failure(actor_id, exc)

    def reset(self) -> None:
        """Recovery: forget in-flight barriers and source queues (actors are being dropped)."""
        self._epochs.clear()
        self._early.clear()
        self.sources.clear()
        while not self._completions.empty():
            self._completions.get_nowait()
        self.failed = False

    async def close(self) -> None:
        if self._completer is not None:
            self._completer.cancel()
            try:
                await self._completer
            except (asyncio.CancelledError, Exception):
                pass
