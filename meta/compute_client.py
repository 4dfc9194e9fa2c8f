"""Meta's client of a compute node over RPC (the same surface the playground calls directly)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from common.flight_rpc import RpcClient
from common.rpc import BuildActors, InjectBarrier, UpdateLocations

log = logging.getLogger("eddy.meta.compute")


class RemoteComputeClient:
    def __init__(self, address: str) -> None:
        self.address = address
        self.client = RpcClient(address)
        self._version_task: asyncio.Task[None] | None = None
        self._latest_version: Any = None

    async def build_actors(self, req: BuildActors) -> None:
        await self.client.call("build_actors", req)

    async def inject_barrier(self, req: InjectBarrier) -> None:
        await self.client.call("inject_barrier", req)

    async def drop_actors(self, actor_ids: list[int]) -> None:
        await self.client.call("drop_actors", list(actor_ids))

    async def reset(self, generation: int | None = None) -> None:
        await self.client.call("reset", generation)

    async def update_locations(self, req: UpdateLocations) -> None:
        await self.client.call("update_locations", req)

    async def backfill_progress(self) -> dict[int, tuple[int, int]]:
        return dict(await self.client.call("backfill_progress", None, timeout_s=5))

    def update_version(self, version: Any) -> None:
        """Push the newest committed version; only the latest matters, so pushes coalesce."""
        self._latest_version = version
        if self._version_task is None or self._version_task.done():
            self._version_task = asyncio.get_running_loop().create_task(self._push_versions())

    async def _push_versions(self) -> None:
        sent = None
        while self._latest_version is not sent:
            sent = self._latest_version
            try:
                await self.client.call("update_version", sent)
            except Exception as exc:  # a node that cannot take it is being detected by heartbeats
                log.debug("version push to %s failed: %s", self.address, exc)
                return

    def close(self) -> None:
        self.client.close()
