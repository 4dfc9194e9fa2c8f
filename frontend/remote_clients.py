"""The frontend's clients of meta and compute nodes in cluster mode.

The catalog and the committed epoch follow meta's notification stream;
when meta restarts the stream is re-opened and the state fetched afresh.
Ad-hoc queries go to compute nodes in turn (any node reads any table from
the object store at the committed epoch); a DML plan goes to the node
running its table's DML source.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import pyarrow as pa

from common import codec
from common.batch_plan import BatchDml, BatchNode
from common.catalog import Relation, RelationKind
from common.cluster_status import ClusterStatus
from common.errors import CannotConnectNow
from common.flight_rpc import RpcClient
from common.pgtext import FormatOptions
from common.rpc import SNAPSHOT_LEASE_S, BatchRequest
from common.stream_plan import FragmentGraph
from common.user import UserInfo

log = logging.getLogger("eddy.frontend.meta")
_RECONNECT_S = 0.5
_CREATE_TIMEOUT_S = 24 * 3600  # a view's backfill takes as long as its upstream's rows take to read


class RemoteMetaClient:
    """Implements frontend.cluster.MetaClient over RPC."""

    def __init__(self, address: str) -> None:
        self.client = RpcClient(address)
        self._relations: list[Relation] = []
        self._users: list[UserInfo] = []
        self._epoch = 0
        self._recoveries = 0
        self._task: asyncio.Task[None] | None = None
        self._renewer: asyncio.Task[None] | None = None
        self._synced = asyncio.Event()
        self._snapshots: set[int] = set()  # snapshot pins this frontend holds; their leases need renewing

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._task = loop.create_task(self._follow(), name="meta-notifications")
        self._renewer = loop.create_task(self._renew_snapshots(), name="snapshot-leases")
        await self._synced.wait()

    async def stop(self) -> None:
        for task in (self._task, self._renewer):
            if task is not None:
                task.cancel()

    async def _renew_snapshots(self) -> None:
        while True:
            await asyncio.sleep(SNAPSHOT_LEASE_S / 3)
            if not self._snapshots:
                continue
            try:
                lost = await self.client.call("renew_snapshots", sorted(self._snapshots))
            except Exception as exc:  # meta unreachable: try again next round, well inside the lease
                log.warning("renewing snapshot leases failed: %s", exc)
                continue
            for pin_id in lost:
                log.warning("meta no longer holds snapshot pin %d (it lapsed or meta restarted)", pin_id)
                self._snapshots.discard(pin_id)

    async def _follow(self) -> None:
        while True:
            try:
                await self._refresh()
                self._synced.set()
                async for batch in self.client.stream("subscribe", None):
                    for text in batch.column(0).to_pylist():
                        self._apply(codec.loads(text))
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.debug("meta notifications interrupted: %s", exc)
            await asyncio.sleep(_RECONNECT_S)

    def _apply(self, event: Any) -> None:
        kind = event[0]
        if kind == "catalog":
            self._relations = list(event[1])
        elif kind == "epoch":
            self._epoch = max(self._epoch, event[1])
            self._recoveries = event[2]
        elif kind == "users":
            self._users = list(event[1])
        elif kind == "hello":
            self._recoveries = event[1]

    async def _refresh(self) -> None:
        relations, epoch, recoveries, users = await self.client.call("catalog")
        self._relations = list(relations)
        self._users = list(users)
        self._epoch = max(self._epoch, epoch)
        self._recoveries = recoveries

    def relations(self) -> list[Relation]:
        return self._relations

    @property
    def committed_epoch(self) -> int:
        return self._epoch

    @property
    def recovery_count(self) -> int:
        return self._recoveries

    async def allocate_ids(self, n: int) -> list[int]:
        return list(await self.client.call("allocate_ids", n))

    async def create_job(self, relation: Relation, graph: FragmentGraph, *, if_not_exists: bool = False) -> Relation:
        try:
            created = await self.client.call("create_job", (relation, graph, if_not_exists), timeout_s=_CREATE_TIMEOUT_S)
        except asyncio.CancelledError:  # the statement was cancelled: so is the job, which meta would finish
            try:
                await asyncio.shield(self.client.call("cancel_creation", relation.id, timeout_s=10))
            except Exception:
                log.warning("could not cancel the creation of %s", relation.name, exc_info=True)
            raise
        await self._refresh()
        return created  # type: ignore[no-any-return]

    async def drop_relation(self, name: str, kind: RelationKind, *, if_exists: bool = False,
                            cascade: bool = False) -> list[str]:
        notices = await self.client.call("drop_relation", (name, kind, if_exists, cascade), timeout_s=600)
        await self._refresh()
        return list(notices)

    async def flush(self) -> int:
        epoch, recoveries = await self.client.call("flush", None, timeout_s=600)
        self._epoch = max(self._epoch, epoch)
        self._recoveries = recoveries
        return int(epoch)

    async def alter_parallelism(self, name: str, parallelism: int | None) -> None:
        await self.client.call("alter_parallelism", (name, parallelism), timeout_s=600)
        await self._refresh()

    def users(self) -> list[UserInfo]:
        return self._users

    async def create_user(self, user: UserInfo) -> UserInfo:
        created = await self.client.call("create_user", user)
        await self._refresh()
        return created  # type: ignore[no-any-return]

    async def update_user(self, user: UserInfo) -> UserInfo:
        updated = await self.client.call("update_user", user)
        await self._refresh()
        return updated  # type: ignore[no-any-return]

    async def drop_user(self, name: str) -> UserInfo:
        dropped = await self.client.call("drop_user", name)
        await self._refresh()
        return dropped  # type: ignore[no-any-return]

    async def pin_snapshot(self) -> tuple[int, int]:
        pin_id, epoch = await self.client.call("pin_snapshot")
        self._snapshots.add(int(pin_id))
        return int(pin_id), int(epoch)

    async def unpin_snapshot(self, pin_id: int) -> None:
        self._snapshots.discard(pin_id)
        await self.client.call("unpin_snapshot", pin_id)

    async def cluster_status(self) -> ClusterStatus:
        return await self.client.call("cluster_status", None, timeout_s=10)  # type: ignore[no-any-return]

    async def workers(self) -> list[tuple[int, str]]:
        return list(await self.client.call("workers"))

    async def dml_node(self, table_id: int) -> str | None:
        return await self.client.call("dml_node", table_id)  # type: ignore[no-any-return]


class ComputeRouter:
    """Implements frontend.cluster.ComputeClient over the cluster's compute nodes."""

    def __init__(self, meta: RemoteMetaClient) -> None:
        self.meta = meta
        self._clients: dict[str, RpcClient] = {}
        self._turn = itertools.count()

    def _client(self, address: str) -> RpcClient:
        c = self._clients.get(address)
        if c is None:
            c = self._clients[address] = RpcClient(address)
        return c

    async def _pick(self, plan: BatchNode) -> RpcClient:
        if isinstance(plan, BatchDml):
            address = await self.meta.dml_node(plan.table_id)
            if address is None:
                raise CannotConnectNow("the table is not accepting writes right now (recovering); retry")
            return self._client(address)
        workers = await self.meta.workers()
        if not workers:
            raise CannotConnectNow("no compute node is available yet")
        return self._client(workers[next(self._turn) % len(workers)][1])

    def execute_batch(self, plan: BatchNode, epoch: int, format: FormatOptions,
                      cancelled: Callable[[], bool] | None = None) -> AsyncIterator[pa.RecordBatch]:
        return self._execute(plan, epoch, format, cancelled)

    async def _execute(self, plan: BatchNode, epoch: int, format: FormatOptions,
                       cancelled: Callable[[], bool] | None) -> AsyncIterator[pa.RecordBatch]:
        client = await self._pick(plan)
        async for batch in client.stream("batch", BatchRequest(plan, epoch, format)):
            if cancelled is not None and cancelled():
                return
            yield batch
