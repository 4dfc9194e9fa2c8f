"""Helpers for stream executor tests: scripted inputs, barriers, a real in-memory state store."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Sequence

from common.chunk import StreamChunk
from common.epoch import EPOCH_UNIT, EpochPair
from common.message import Barrier, BarrierKind, Message
from common.types import DataType
from compute.stream.executor import ActorContext
from storage.object_store import object_store_from_url
from storage.state_store import StateStore

_ids = itertools.count(1)


async def _allocate(n: int) -> list[int]:
    return [next(_ids) for _ in range(n)]


def make_store() -> StateStore:
    return StateStore(object_store_from_url("memory://test"), id_allocator=_allocate)


def actor_context(store: StateStore | None = None) -> ActorContext:
    return ActorContext(actor_id=1, fragment_id=1, store=store or make_store(), vnodes=None, job_name="test_view")


def barrier(n: int, kind: BarrierKind = BarrierKind.CHECKPOINT) -> Barrier:
    """The n-th barrier (n >= 1): closes epoch n-1 and opens epoch n."""
    return Barrier(EpochPair(n * EPOCH_UNIT + EPOCH_UNIT, (n - 1) * EPOCH_UNIT + EPOCH_UNIT if n > 1 else 0), kind)


class MockSource:
    """An executor that yields a fixed list of messages, then ends."""

    def __init__(self, types: Sequence[DataType], messages: Sequence[Message]) -> None:
        self.types = tuple(types)
        self.messages = list(messages)

    async def execute(self) -> AsyncIterator[Message]:
        for m in self.messages:
            yield m


async def collect(executor) -> list[Message]:  # type: ignore[no-untyped-def]
    return [m async for m in executor.execute()]


def chunks_between_barriers(messages: Sequence[Message]) -> list[list[str]]:
    """The pretty rows emitted in each epoch (one list per barrier, what came before it)."""
    out: list[list[str]] = []
    current: list[str] = []
    for m in messages:
        if isinstance(m, StreamChunk):
            current.extend(m.to_pretty().splitlines())
        elif isinstance(m, Barrier):
            out.append(current)
            current = []
    return out
