"""What the frontend asks of meta and compute nodes.

The playground implements these with direct calls into the components in
the same process; cluster mode implements them over RPC.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Protocol

import pyarrow as pa

from common.catalog import Relation, RelationKind
from common.pgtext import FormatOptions
from common.plan import BatchNode, FragmentGraph


class MetaClient(Protocol):
    def relations(self) -> list[Relation]:
        """The committed catalog (kept current by meta's notifications)."""
        ...

    @property
    def committed_epoch(self) -> int: ...

    @property
    def recovery_count(self) -> int: ...

    async def allocate_ids(self, n: int) -> list[int]: ...

    async def create_job(self, relation: Relation, graph: FragmentGraph, *, if_not_exists: bool = False) -> Relation: ...

    async def drop_relation(self, name: str, kind: RelationKind, *, if_exists: bool = False,
                            cascade: bool = False) -> list[str]: ...

    async def flush(self) -> int: ...


class ComputeClient(Protocol):
    def execute_batch(self, plan: BatchNode, epoch: int, format: FormatOptions,
                      cancelled: Callable[[], bool] | None = None) -> AsyncIterator[pa.RecordBatch]: ...
