"""The compactor: takes compaction tasks from meta, merges SSTs, reports the result.

Runs inside the playground process or as its own `eddy compactor` process.
It can be killed at any moment: meta only puts its outputs into the
version when the report arrives, and the outputs are fully uploaded before
that; an abandoned task's uploads are orphans that full GC removes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Protocol

from storage.compaction import CompactionTask, compact
from storage.object_store import ObjectStore
from storage.version import HummockVersion, SstInfo

log = logging.getLogger("eddy.compactor")


class CompactionTaskSource(Protocol):
    """What a compactor asks of meta. A task carries the watermark epoch it may compact below."""

    async def next_task(self) -> CompactionTask | None: ...

    async def report_compaction(self, task_id: int, outputs: Sequence[SstInfo] | None) -> HummockVersion | None: ...

    async def new_object_ids(self, n: int) -> list[int]: ...


class Compactor:
    def __init__(self, source: CompactionTaskSource, object_store: ObjectStore,
                 on_version: Callable[[HummockVersion], None], *, idle_interval_s: float = 1.0) -> None:
        self.source = source
        self.object_store = object_store
        self._on_version = on_version
        self._idle = idle_interval_s
        self._task: asyncio.Task[None] | None = None
        self.tasks_done = 0

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="compactor")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass

    async def run_once(self) -> bool:
        """Run one task if meta has one; True if it did."""
        task = await self.source.next_task()
        if task is None:
            return False
        try:
            outputs = await compact(task, self.object_store, self.source.new_object_ids)
        except asyncio.CancelledError:
            await self.source.report_compaction(task.task_id, None)
            raise
        except Exception:
            log.exception("compaction task %d failed", task.task_id)
            await self.source.report_compaction(task.task_id, None)
            return True
        version = await self.source.report_compaction(task.task_id, outputs)
        if version is not None:
            self.tasks_done += 1
            self._on_version(version)
        return True

    async def _run(self) -> None:
        while True:
            try:
                busy = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("compactor loop error")
                busy = False
            if not busy:
                await asyncio.sleep(self._idle)
