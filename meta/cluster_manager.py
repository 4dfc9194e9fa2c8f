"""Cluster membership: compute nodes register, heartbeat, and expire.

A node gets a fresh id and a session token at every registration. It
holds a lease while its heartbeats arrive; a node silent for longer than
the heartbeat timeout loses it and is reported failed, which triggers
recovery. A heartbeat from a node whose lease is gone (or from before a
meta restart) is refused: that node must drop its actors and register
again, so a node cut off from meta can never commit stale work.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from common import codec

log = logging.getLogger("eddy.meta.cluster")


@codec.register
@dataclass(frozen=True, slots=True)
class WorkerInfo:
    node_id: int
    address: str
    parallelism: int
    session: str


@dataclass
class _Lease:
    info: WorkerInfo
    last_heartbeat: float = field(default_factory=time.monotonic)


class ClusterManager:
    def __init__(self, heartbeat_timeout_s: float, allocate_id: Callable[[], Awaitable[int]],
                 on_expired: Callable[[WorkerInfo], None]) -> None:
        self.heartbeat_timeout_s = heartbeat_timeout_s
        self._allocate_id = allocate_id
        self._on_expired = on_expired
        self._leases: dict[int, _Lease] = {}
        self._changed = asyncio.Event()
        self._monitor: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._monitor = asyncio.get_running_loop().create_task(self._watch(), name="heartbeat-monitor")

    async def stop(self) -> None:
        if self._monitor is not None:
            self._monitor.cancel()

    async def register(self, address: str, parallelism: int) -> WorkerInfo:
        node_id = await self._allocate_id()
        info = WorkerInfo(node_id, address, max(1, parallelism), uuid.uuid4().hex)
        self._leases[node_id] = _Lease(info)
        self._changed.set()
        log.info("compute node %d joined at %s (%d cores)", node_id, address, info.parallelism)
        return info

    def add_local(self, info: WorkerInfo) -> None:
        """A node in meta's own process (the playground): it never expires."""
        self._leases[info.node_id] = _Lease(info, last_heartbeat=float("inf"))
        self._changed.set()

    def heartbeat(self, node_id: int, session: str) -> bool:
        lease = self._leases.get(node_id)
        if lease is None or lease.info.session != session:
            return False
        lease.last_heartbeat = time.monotonic()
        return True

    def remove(self, node_id: int, reason: str) -> WorkerInfo | None:
        lease = self._leases.pop(node_id, None)
        if lease is not None:
            log.warning("compute node %d left: %s", node_id, reason)
            self._changed.set()
        return None if lease is None else lease.info

    @property
    def workers(self) -> dict[int, WorkerInfo]:
        return {n: lease.info for n, lease in self._leases.items()}

    async def wait_for_workers(self, n: int = 1) -> None:
        while len(self._leases) < n:
            self._changed.clear()
            await self._changed.wait()

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(min(0.5, self.heartbeat_timeout_s / 4))
            now = time.monotonic()
            for node_id, lease in list(self._leases.items()):
                if now - lease.last_heartbeat > self.heartbeat_timeout_s:
                    info = self.remove(node_id, f"no heartbeat for {self.heartbeat_timeout_s:.1f}s")
                    if info is not None:
                        self._on_expired(info)
