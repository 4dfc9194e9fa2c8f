"""Exchange across nodes: an actor's output to an actor on another compute node.

A `RemoteOutput` stands where a local `Channel` would, on the sending side:
its first message opens a Flight exchange stream to the downstream node,
and each send waits while the receiver is behind, so back-pressure crosses
the network. The receiving node feeds the stream into the downstream
actor's ordinary local channel (see compute/rpc_service.py). Streams carry
the recovery generation: one from before a recovery is refused.
"""

from __future__ import annotations

import asyncio

from common.flight_rpc import ExchangeWriter, RpcClient, message_schema
from common.message import Message
from common.types import DataType

EXCHANGE = "exchange"


class RemoteOutput:
    def __init__(self, client: RpcClient, generation: int, upstream_actor: int, downstream_actor: int,
                 types: tuple[DataType, ...]) -> None:
        self._client = client
        self._generation = generation
        self.upstream_actor = upstream_actor
        self.downstream_actor = downstream_actor
        self._types = types
        self._writer: ExchangeWriter | None = None
        self._opening = asyncio.Lock()

    async def send(self, msg: Message) -> None:
        if self._writer is None:
            async with self._opening:
                if self._writer is None:
                    self._writer = await self._client.open_exchange(
                        EXCHANGE, (self._generation, self.upstream_actor, self.downstream_actor),
                        message_schema(self._types))
        await self._writer.send(msg)

    async def close(self) -> None:
        if self._writer is not None:
            await self._writer.close()
            self._writer = None

    def __repr__(self) -> str:
        return f"RemoteOutput({self.upstream_actor}->{self.downstream_actor})"
