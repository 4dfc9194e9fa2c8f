"""A compute node's view of meta over RPC: reports, object ids, pins, registration and heartbeats."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from common.flight_rpc import RpcClient
from common.rpc import ActorFailure, BarrierCompleteReport, ClusterInfo

log = logging.getLogger("eddy.compute.meta")


class RemoteMeta:
    """Implements compute_node.MetaForCompute against a meta process."""

    def __init__(self, client: RpcClient) -> None:
        self.client = client
        self._tasks: set[asyncio.Task[Any]] = set()

    def _background(self, coro: Awaitable[Any]) -> None:
        task: asyncio.Task[Any] = asyncio.get_running_loop().create_task(coro)  # type: ignore[arg-type]
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def barrier_complete(self, report: BarrierCompleteReport) -> None:
        await self.client.call("barrier_complete", report)

    def actor_failure(self, failure: ActorFailure) -> None:
        self._background(self._quiet("actor_failure", failure))

    async def new_object_ids(self, n: int) -> list[int]:
        return list(await self.client.call("new_object_ids", n))

    def pin_version(self, node_id: int, version: Any) -> None:
        self._background(self._quiet("pin_version", (node_id, version.id)))

    def unpin_version(self, node_id: int, version_id: int) -> None:
        self._background(self._quiet("unpin_version", (node_id, version_id)))

    async def _quiet(self, method: str, request: Any) -> None:
        try:
            await self.client.call(method, request)
        except Exception as exc:  # a report meta cannot take is retried by recovery, not here
            log.warning("meta did not take %s: %s", method, exc)

    async def cluster_info(self) -> ClusterInfo:
        info = await self.client.call("cluster_info")
        assert isinstance(info, ClusterInfo)
        return info


async def keep_registered(meta: RemoteMeta, address: str, parallelism: int, heartbeat_s: float,
                          lease_s: float, on_registered: Callable[[int], Awaitable[None]],
                          on_lost: Callable[[], Awaitable[None]]) -> None:
    """Register, then heartbeat for ever; re-register after losing the lease.

    While meta cannot be reached, the node keeps trying; once a whole lease
    has passed without a heartbeat getting through, it drops its actors and
    uncommitted state itself (meta has moved its work elsewhere by then).
    """
    node_id: int | None = None
    session = ""
    last_ok = asyncio.get_running_loop().time()
    while True:
        try:
            if node_id is None:
                info = await meta.client.call("register_worker", (address, parallelism), timeout_s=10)
                node_id, session = info.node_id, info.session
                last_ok = asyncio.get_running_loop().time()
                await on_registered(node_id)
            elif await meta.client.call("heartbeat", (node_id, session), timeout_s=max(1.0, heartbeat_s * 2)):
                last_ok = asyncio.get_running_loop().time()
            else:
                log.warning("meta no longer knows node %d: dropping work and registering again", node_id)
                await on_lost()
                node_id = None
                continue
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if node_id is not None and asyncio.get_running_loop().time() - last_ok > lease_s:
                log.warning("no contact with meta for %.1fs (%s): dropping work", lease_s, exc)
                await on_lost()
                node_id = None
        await asyncio.sleep(heartbeat_s)
