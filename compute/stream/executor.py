"""The executor interface and the context every actor's executors share.

An executor is an async iterator of messages built on its inputs'
iterators. Every executor forwards each barrier only after it has flushed
the state changes of the epoch the barrier closes, and emits nothing of an
epoch after the barrier that closes it.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Protocol

from common.errors import EddyError
from common.message import Message
from common.types import DataType
from common.vnode import VnodeBitmap
from compute.stream.local_barrier_manager import BackfillTracker
from storage.state_store import StateStore

log = logging.getLogger("eddy.stream")


class Executor(Protocol):
    types: tuple[DataType, ...]

    def execute(self) -> AsyncIterator[Message]: ...


@dataclass
class ActorContext:
    """What an actor's executors know about where they run."""

    actor_id: int
    fragment_id: int
    store: StateStore
    vnodes: VnodeBitmap | None
    job_name: str = ""
    expression_errors: int = field(default=0)
    backfills: BackfillTracker = field(default_factory=BackfillTracker)  # the node's, shared by its actors

    def report_expression_error(self, err: EddyError, rows: int) -> None:
        """An expression failed inside a running view: its rows get NULL, the view keeps running."""
        self.expression_errors += rows
        log.warning("materialized view %s (actor %d): %s on %d row(s); the value is NULL",
                    self.job_name, self.actor_id, err.message, rows)
