"""Exchange streams over Arrow Flight: back-pressure crosses the network, per stream.

A receiver that stops reading holds back its sender once the channel and
the transport's buffers are full (memory stays bounded), while another
stream to the same node and the node's control calls keep going.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pyarrow as pa
import pytest

from common.chunk import StreamChunk
from common.flight_rpc import ExchangeReader, RpcClient, RpcServer, message_schema, start_server
from common.message import Message
from common.types import BIGINT
from compute.stream.channel import Channel

T = (BIGINT,)
ROWS = 20_000  # 160 kB of values per chunk
CHUNKS = 200  # 32 MB in all: far more than any buffer on the way


def chunk(i: int) -> StreamChunk:
    return StreamChunk.inserts(pa.RecordBatch.from_arrays([pa.array([i] * ROWS, pa.int64())], ["c0"]))


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[RpcServer, dict[int, Channel]]]:
    loop = asyncio.get_running_loop()
    server = start_server("127.0.0.1", 0)
    channels: dict[int, Channel] = {}

    def inbound(request: Any, reader: ExchangeReader) -> None:  # as a compute node feeds its actors
        channel = channels[request]
        for msg in reader:
            asyncio.run_coroutine_threadsafe(channel.send(msg), loop).result()

    async def ping(_: Any) -> str:
        return "pong"

    server.exchanges["exchange"] = inbound
    server.actions["ping"] = ping
    yield server, channels
    await loop.run_in_executor(None, server.shutdown)


async def _settled(count: list[int]) -> int:
    """The count once it stops growing for a while (the sender is held back)."""
    last = -1
    while count[0] != last:
        last = count[0]
        await asyncio.sleep(0.5)  # sample the sender's progress; the loop ends when it stalls
    return last


async def test_a_stalled_receiver_holds_back_only_its_own_sender(receiver: tuple[RpcServer, dict[int, Channel]]) -> None:
    server, channels = receiver
    channels[1] = Channel(10, 1, capacity=4)
    channels[2] = Channel(20, 2, capacity=4)
    client = RpcClient(f"127.0.0.1:{server.port}")
    slow = await client.open_exchange("exchange", 1, message_schema(T))
    fast = await client.open_exchange("exchange", 2, message_schema(T))
    sent = [0]

    async def send_all() -> None:
        for i in range(CHUNKS):
            await slow.send(chunk(i))
            sent[0] += 1

    sender = asyncio.create_task(send_all())
    try:
        held_at = await _settled(sent)
        assert held_at < CHUNKS // 2, f"the sender ran {held_at} chunks ahead of a receiver that reads nothing"
        # another stream to the same node, and control calls, are not held back by the stalled one
        for i in range(10):
            await fast.send(chunk(i))
            got: Message = await asyncio.wait_for(channels[2].recv(), 30)
            assert isinstance(got, StreamChunk) and got.column(0)[0].as_py() == i
        assert await client.call("ping") == "pong"
        # once the receiver reads, everything arrives, in order
        for i in range(CHUNKS):
            got = await asyncio.wait_for(channels[1].recv(), 30)
            assert isinstance(got, StreamChunk) and got.num_rows == ROWS and got.column(0)[0].as_py() == i
        await asyncio.wait_for(sender, 30)
    finally:
        sender.cancel()
        await slow.close()
        await fast.close()
        client.close()
