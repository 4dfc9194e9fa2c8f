"""An actor: one asyncio task running a fragment's executor chain for a set of vnodes."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from common.message import Barrier
from compute.stream.executor import Executor

if TYPE_CHECKING:
    from compute.stream.local_barrier_manager import LocalBarrierManager

log = logging.getLogger("eddy.actor")


class Actor:
    def __init__(self, actor_id: int, fragment_id: int, consumer: Executor,
                 barrier_manager: LocalBarrierManager) -> None:
        self.actor_id = actor_id
        self.fragment_id = fragment_id
        self.consumer = consumer
        self.barrier_manager = barrier_manager
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self._run(), name=f"actor-{self.actor_id}")

    async def _run(self) -> None:
        try:
            async for msg in self.consumer.execute():
                if isinstance(msg, Barrier):
                    self.barrier_manager.collect(self.actor_id, msg)
                    if msg.is_stop(self.actor_id):
                        return
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # an actor boundary: report, never crash the node
            log.exception("actor %d failed", self.actor_id)
            self.barrier_manager.notify_failure(self.actor_id, exc)

    def stop(self) -> None:
        if self.task is not None and not self.task.done():
            self.task.cancel()
