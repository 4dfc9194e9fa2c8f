"""A compute node's RPC surface: control from meta, batch queries from frontends, exchanges from peers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pyarrow as pa

from common.chunk import arrow_schema
from common.errors import CannotConnectNow
from common.flight_rpc import ExchangeReader, RpcServer
from common.message import Message
from common.rpc import BatchRequest
from compute.compute_node import ComputeNode
from compute.stream.remote_exchange import EXCHANGE
from storage.version import HummockVersion

_DELIVERY_CHECK_S = 1.0


def serve_compute(node: ComputeNode, server: RpcServer) -> None:
    loop = server.loop

    async def drop_actors(ids: list[int]) -> None:
        await node.drop_actors(ids)

    async def update_version(version: HummockVersion) -> None:
        node.update_version(version)

    async def ping(_: Any) -> str:
        return "pong"

    async def status(_: Any) -> dict[str, int]:
        return {"node_id": node.node_id, "actors": len(node.streams.actors),
                "generation": node.streams.generation}

    server.actions.update({
        "build_actors": node.build_actors,
        "inject_barrier": node.inject_barrier,
        "drop_actors": drop_actors,
        "reset": node.reset,
        "update_locations": node.update_locations,
        "update_version": update_version,
        "ping": ping,
        "status": status,
        "backfill_progress": lambda _: node.backfill_progress(),
    })

    async def batch(req: BatchRequest) -> AsyncIterator[pa.RecordBatch]:
        produced = False
        async for b in node.execute_batch(req.plan, req.epoch, req.format):
            produced = True
            yield b
        if not produced:  # a stream needs a schema even when there are no rows
            yield pa.RecordBatch.from_pylist([], schema=arrow_schema(req.plan.types))

    server.gets["batch"] = batch

    def inbound(request: Any, reader: ExchangeReader) -> None:
        """Feed one upstream actor's stream into its local channel; runs on a Flight thread."""
        generation, upstream, downstream = request
        if generation != node.streams.generation:
            raise CannotConnectNow(f"exchange from generation {generation}; this node is at "
                                   f"{node.streams.generation}")

        async def deliver(msg: Message) -> None:
            ch = node.streams.channel(upstream, downstream)
            while True:
                if node.streams.generation != generation:
                    raise CannotConnectNow("the node recovered; this exchange is stale")
                try:
                    await asyncio.wait_for(ch.send(msg), _DELIVERY_CHECK_S)
                    return
                except TimeoutError:
                    continue  # the consumer is behind: back-pressure; check the generation and wait again

        for msg in reader:
            asyncio.run_coroutine_threadsafe(deliver(msg), loop).result()

    server.exchanges[EXCHANGE] = inbound
