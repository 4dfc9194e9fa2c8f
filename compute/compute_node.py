"""A compute node: runs actors and batch queries over state in the shared object store.

Its surface is what meta and frontends call: build actors, inject
barriers, drop or reset actors, take new committed versions (control);
execute batch plans and take DML writes (data). In the playground these
are direct calls; in cluster mode the same methods sit behind RPC.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any, Protocol

import pyarrow as pa

from common.batch_plan import BatchNode
from common.chunk import StreamChunk
from common.pgtext import FormatOptions
from common.rpc import ActorFailure, BarrierCompleteReport, BuildActors, InjectBarrier, UpdateLocations
from compute.batch import BatchContext, execute
from compute.dml_manager import DmlManager
from compute.expr import EvalContext
from compute.stream.local_barrier_manager import LocalBarrierManager
from compute.stream.stream_manager import StreamManager
from compute.table_reader import StoreTableReader
from storage.object_store import ObjectStore
from storage.state_store import StateStore

log = logging.getLogger("eddy.compute")


class MetaForCompute(Protocol):
    """What a compute node asks of meta."""

    async def barrier_complete(self, report: BarrierCompleteReport) -> None: ...

    def actor_failure(self, failure: ActorFailure) -> None: ...

    async def new_object_ids(self, n: int) -> list[int]: ...

    def pin_version(self, node_id: int, version: Any) -> None:
        """A batch query reads this version: keep its objects until unpinned."""
        ...

    def unpin_version(self, node_id: int, version_id: int) -> None: ...


class ComputeNode:
    def __init__(self, node_id: int, object_store: ObjectStore, meta: MetaForCompute,
                 *, block_cache_bytes: int = 256 << 20) -> None:
        self.node_id = node_id
        self.meta = meta
        self.store = StateStore(object_store, id_allocator=meta.new_object_ids, block_cache_bytes=block_cache_bytes)
        self.barriers = LocalBarrierManager(node_id, self.store, meta.barrier_complete, self._on_failure)
        self.streams = StreamManager(node_id, self.store, self.barriers)
        self.dml = DmlManager(self.streams, self.barriers)
        self._reader = StoreTableReader(self.store)

    async def start(self) -> None:
        self.barriers.start()

    async def stop(self) -> None:
        self.streams.reset()
        await self.barriers.close()

    def _on_failure(self, actor_id: int, exc: BaseException) -> None:
        self.meta.actor_failure(ActorFailure(self.node_id, actor_id, f"{type(exc).__name__}: {exc}"))

    # -- control, from meta ----------------------------------------------

    async def build_actors(self, req: BuildActors) -> None:
        if req.version is not None:
            self.update_version(req.version)  # new actors must see every committed epoch before theirs
        self.streams.build_actors(req.actors, dict(req.job_names))

    async def inject_barrier(self, req: InjectBarrier) -> None:
        self.barriers.inject(req.barrier, set(req.actors_to_collect), set(req.source_actors), req.node_id or None)

    async def drop_actors(self, actor_ids: Sequence[int]) -> None:
        self.streams.forget_actors(actor_ids)

    async def reset(self, generation: int | None = None) -> None:
        """Recovery: drop every actor and every uncommitted write; refuse exchanges of older generations."""
        self.streams.reset(generation)
        self.barriers.reset()
        self.store.clear_uncommitted()

    async def update_locations(self, req: UpdateLocations) -> None:
        self.streams.update_locations(dict(req.locations), dict(req.addresses))
        # A node that joined after the last recovery has no actors of an older generation to protect.
        self.streams.generation = max(self.streams.generation, req.generation)

    def update_version(self, version: Any) -> None:
        if version.id >= self.store.version.id:  # versions pushed over the network may arrive out of order
            self.store.update_version(version)

    async def backfill_progress(self) -> dict[int, tuple[int, int]]:
        """Actor id -> (vnodes read, vnodes to read) of the backfills running here."""
        return self.streams.barrier_manager.backfills.progress()

    def set_node_id(self, node_id: int) -> None:
        """A (re-)registration gave this node a new id."""
        self.node_id = node_id
        self.barriers.node_id = node_id
        self.streams.node_id = node_id

    # -- data, from frontends --------------------------------------------

    async def execute_batch(self, plan: BatchNode, epoch: int, format: FormatOptions,
                            cancelled: Callable[[], bool] | None = None) -> AsyncIterator[pa.RecordBatch]:
        eval_ctx = EvalContext(format=format)
        await self.store.wait_committed(epoch)
        version = self.store.pin()
        self.meta.pin_version(self.node_id, version)
        try:
            ctx = BatchContext(epoch=epoch, reader=self._reader, dml=self.dml, eval_ctx=eval_ctx,
                               cancelled=cancelled or (lambda: False))
            async for batch in execute(plan, ctx):
                yield batch
        finally:
            self.store.unpin(version)
            self.meta.unpin_version(self.node_id, version.id)

    async def dml_write(self, table_id: int, chunk: StreamChunk) -> None:
        await self.dml.write(table_id, chunk)
