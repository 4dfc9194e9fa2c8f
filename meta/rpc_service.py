"""Meta's RPC surface: for compute nodes, frontends and compactors.

Every call maps onto a `MetaNode` method. Frontends also subscribe to a
stream of notifications (catalog changes, committed epochs), so their view
of the catalog and of the newest snapshot follows meta's without polling.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pyarrow as pa

from common import codec
from common.catalog import RelationKind
from common.flight_rpc import RpcServer
from common.rpc import ActorFailure, BarrierCompleteReport
from meta.meta_node import MetaNode

NOTIFY = "subscribe"
_KEEPALIVE_S = 1.0


def notification_batch(event: Any) -> pa.RecordBatch:
    return pa.RecordBatch.from_arrays([pa.array([codec.dumps(event)], pa.string())], ["event"])


def serve_meta(meta: MetaNode, server: RpcServer) -> None:
    async def register_worker(req: tuple[str, int]) -> Any:
        return await meta.register_remote(req[0], req[1])

    async def heartbeat(req: tuple[int, str]) -> bool:
        return meta.heartbeat(req[0], req[1])

    async def barrier_complete(report: BarrierCompleteReport) -> None:
        if report.node_id in meta.cluster.workers:  # a node whose lease expired commits nothing
            await meta.barrier_complete(report)

    async def actor_failure(failure: ActorFailure) -> None:
        if failure.node_id in meta.cluster.workers:
            meta.actor_failure(failure)

    async def pin_version(req: tuple[int, int]) -> None:
        meta.pin_version(req[0], req[1])

    async def unpin_version(req: tuple[int, int]) -> None:
        meta.unpin_version(req[0], req[1])

    async def cluster_info(_: Any) -> Any:
        return meta.cluster_info()

    async def catalog(_: Any) -> Any:
        return (meta.catalog.relations(), meta.committed_epoch, meta.barriers.recovery_count, meta.users())

    def users_changed() -> None:
        meta.notifications.publish(("users", meta.users()))

    async def create_user(user: Any) -> Any:
        created = await meta.create_user(user)
        users_changed()
        return created

    async def update_user(user: Any) -> Any:
        updated = await meta.update_user(user)
        users_changed()
        return updated

    async def drop_user(name: str) -> Any:
        dropped = await meta.drop_user(name)
        users_changed()
        return dropped

    async def pin_snapshot(_: Any) -> tuple[int, int]:
        return await meta.pin_snapshot()

    async def unpin_snapshot(pin_id: int) -> None:
        await meta.unpin_snapshot(pin_id)

    async def create_job(req: tuple[Any, Any, bool]) -> Any:
        return await meta.create_job(req[0], req[1], if_not_exists=req[2])

    async def cancel_creation(job_id: int) -> bool:
        return meta.cancel_creation(job_id)

    async def drop_relation(req: tuple[str, RelationKind, bool, bool]) -> list[str]:
        return await meta.drop_relation(req[0], req[1], if_exists=req[2], cascade=req[3])

    async def flush(_: Any) -> tuple[int, int]:
        epoch = await meta.flush()
        return epoch, meta.barriers.recovery_count

    async def workers(_: Any) -> list[tuple[int, str]]:
        return [(n, w.address) for n, w in meta.cluster.workers.items()]

    async def dml_node(table_id: int) -> str | None:
        node = meta.dml_node(table_id)
        info = meta.cluster.workers.get(node) if node is not None else None
        return None if info is None else info.address

    async def alter_parallelism(req: tuple[str, int | None]) -> None:
        await meta.alter_parallelism(req[0], req[1])

    async def get_compaction_task(_: Any) -> Any:
        return meta.hummock.get_compaction_task()

    async def report_compaction(req: tuple[int, Any]) -> Any:
        version = await meta.hummock.report_compaction(req[0], req[1])
        if version is not None:
            meta.publish_version(version)
        return version

    async def watermark_epoch(_: Any) -> int:
        return meta.hummock.watermark_epoch()

    async def allocate_ids(n: int) -> list[int]:
        return await meta.allocate_ids(n)

    async def new_object_ids(n: int) -> list[int]:
        return await meta.new_object_ids(n)

    async def renew_snapshots(pin_ids: list[int]) -> list[int]:
        return meta.renew_snapshots(pin_ids)

    async def cluster_status(_: Any) -> Any:
        return await meta.cluster_status()

    server.actions.update({
        "register_worker": register_worker, "heartbeat": heartbeat, "barrier_complete": barrier_complete,
        "actor_failure": actor_failure, "new_object_ids": new_object_ids, "pin_version": pin_version,
        "unpin_version": unpin_version, "cluster_info": cluster_info, "catalog": catalog,
        "allocate_ids": allocate_ids, "create_job": create_job, "drop_relation": drop_relation, "flush": flush,
        "workers": workers, "dml_node": dml_node, "alter_parallelism": alter_parallelism,
        "get_compaction_task": get_compaction_task, "report_compaction": report_compaction,
        "watermark_epoch": watermark_epoch, "create_user": create_user, "update_user": update_user,
        "drop_user": drop_user, "pin_snapshot": pin_snapshot, "unpin_snapshot": unpin_snapshot,
        "cluster_status": cluster_status, "renew_snapshots": renew_snapshots, "cancel_creation": cancel_creation,
    })

    async def subscribe(_: Any) -> AsyncIterator[pa.RecordBatch]:
        q = meta.notifications.subscribe()
        try:
            yield notification_batch(("hello", meta.barriers.recovery_count))
            while True:
                try:
                    event = await asyncio.wait_for(q.get(), _KEEPALIVE_S)
                except TimeoutError:
                    event = ("keepalive",)
                yield notification_batch(event)
        finally:
            meta.notifications.unsubscribe(q)

    server.gets[NOTIFY] = subscribe
