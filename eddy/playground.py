"""The playground: meta, one compute node, a compactor and a frontend in one process.

The components are the same as in cluster mode; they talk through direct
calls (in-process transports) instead of RPC.
"""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import dataclass, field

from common.catalog import Relation, RelationKind
from common.cluster_status import ClusterStatus
from common.stream_plan import FragmentGraph
from common.user import UserInfo
from compute.compute_node import ComputeNode
from frontend.frontend_node import FrontendConfig, FrontendNode
from meta.meta_node import MetaConfig, MetaNode, default_cores
from meta.meta_store import open_meta_store
from storage.compactor import Compactor
from storage.object_store import object_store_from_url

log = logging.getLogger("eddy.playground")


@dataclass
class PlaygroundConfig:
    data_dir: str = "./eddy-data"
    host: str = "127.0.0.1"
    port: int = 4566
    object_store: str | None = None
    s3_endpoint: str | None = None
    meta_store: str | None = None
    barrier_interval_ms: int = 1000
    checkpoint_frequency: int = 1
    parallelism: int = 0
    frontend: FrontendConfig = field(default_factory=FrontendConfig)


class LocalMetaClient:
    """The frontend's view of a meta node in the same process."""

    def __init__(self, meta: MetaNode) -> None:
        self._meta = meta

    def relations(self) -> list[Relation]:
        return self._meta.catalog.relations()

    @property
    def committed_epoch(self) -> int:
        return self._meta.committed_epoch

    @property
    def recovery_count(self) -> int:
        return self._meta.barriers.recovery_count

    async def allocate_ids(self, n: int) -> list[int]:
        return await self._meta.allocate_ids(n)

    async def create_job(self, relation: Relation, graph: FragmentGraph, *, if_not_exists: bool = False) -> Relation:
        return await self._meta.create_job(relation, graph, if_not_exists=if_not_exists)

    async def drop_relation(self, name: str, kind: RelationKind, *, if_exists: bool = False,
                            cascade: bool = False) -> list[str]:
        return await self._meta.drop_relation(name, kind, if_exists=if_exists, cascade=cascade)

    async def flush(self) -> int:
        return await self._meta.flush()

    async def alter_parallelism(self, name: str, parallelism: int | None) -> None:
        await self._meta.alter_parallelism(name, parallelism)

    # -- users and session snapshots (issue 4) ----------------------------------

    def users(self) -> list[UserInfo]:
        return self._meta.users()

    async def create_user(self, user: UserInfo) -> UserInfo:
        return await self._meta.create_user(user)

    async def update_user(self, user: UserInfo) -> UserInfo:
        return await self._meta.update_user(user)

    async def drop_user(self, name: str) -> UserInfo:
        return await self._meta.drop_user(name)

    async def pin_snapshot(self) -> tuple[int, int]:
        return await self._meta.pin_snapshot(leased=False)

    async def unpin_snapshot(self, pin_id: int) -> None:
        await self._meta.unpin_snapshot(pin_id)

    # -- catalog (issue 4) --------------------------------------------------------------------

    async def cluster_status(self) -> ClusterStatus:
        return await self._meta.cluster_status()

    # -- end of catalog (issue 4)


class Playground:
    def __init__(self, config: PlaygroundConfig) -> None:
        self.config = config
        self.meta: MetaNode | None = None
        self.compute: ComputeNode | None = None
        self.frontend: FrontendNode | None = None
        self.compactor: Compactor | None = None

    async def start(self) -> None:
        c = self.config
        os.makedirs(c.data_dir, exist_ok=True)
        meta_store = open_meta_store(c.meta_store or f"sqlite://{os.path.abspath(os.path.join(c.data_dir, 'meta.db'))}")
        object_store = object_store_from_url(c.object_store or os.path.join(os.path.abspath(c.data_dir), "objects"),
                                             s3_endpoint=c.s3_endpoint)
        self.meta = MetaNode(meta_store, MetaConfig(barrier_interval_ms=c.barrier_interval_ms,
                                                    checkpoint_frequency=c.checkpoint_frequency,
                                                    default_parallelism=c.parallelism))
        self.compute = ComputeNode(1, object_store, self.meta)
        await self.compute.start()
        self.meta.register_worker(1, self.compute, default_cores())
        await self.meta.start()
        await self.meta.barriers.ready()
        self.compactor = Compactor(self.meta.hummock, object_store, self.meta.publish_version)
        self.compactor.start()
        self.meta.start_garbage_collection(object_store)
        self.frontend = FrontendNode(LocalMetaClient(self.meta), lambda: self.compute,  # type: ignore[arg-type,return-value]
                                     c.frontend)
        await self.frontend.start(c.host, c.port)

    async def stop(self) -> None:
        if self.frontend is not None:
            await self.frontend.stop()
        if self.compactor is not None:
            await self.compactor.stop()
        if self.meta is not None:
            await self.meta.stop()
        if self.compute is not None:
            await self.compute.stop()


async def run_playground(config: PlaygroundConfig) -> None:
    pg = Playground(config)
    await pg.start()
    print(f"Eddy is ready: psql -h {config.host} -p {pg.frontend.server.port if pg.frontend and pg.frontend.server else config.port} "
          "-U root -d dev", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    import signal

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("shutting down")
    await pg.stop()
