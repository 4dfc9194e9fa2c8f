"""What the frontend asks of meta and compute nodes.

The playground implements these with direct calls into the components in
the same process; cluster mode implements them over RPC.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Protocol

import pyarrow as pa

from common.batch_plan import BatchNode
from common.catalog import Relation, RelationKind
from common.cluster_status import ClusterStatus
from common.pgtext import FormatOptions
from common.stream_plan import FragmentGraph
from common.user import UserInfo


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

    async def alter_parallelism(self, name: str, parallelism: int | None) -> None:
        """Rescale a table or view (None: the cluster's default parallelism)."""
        ...

    # -- users and session snapshots (issue 4) ----------------------------------

    def users(self) -> list[UserInfo]:
        """Every user (kept current like `relations`)."""
        ...

    async def create_user(self, user: UserInfo) -> UserInfo:
        """Add a user; meta assigns its id. Raises DuplicateObject (42710) for a taken name."""
        ...

    async def update_user(self, user: UserInfo) -> UserInfo:
        """Replace the user with `user.id` (password, attributes, name)."""
        ...

    async def drop_user(self, name: str) -> UserInfo:
        """Remove a user; raises UndefinedObject (42704) if there is none of that name."""
        ...

    async def pin_snapshot(self) -> tuple[int, int]:
        """Pin the committed snapshot for a transaction block: (pin id, its epoch). Reads at that epoch
        stay possible (compaction and vacuum keep what it sees) until `unpin_snapshot`."""
        ...

    async def unpin_snapshot(self, pin_id: int) -> None: ...

    # -- catalog (issue 4) --------------------------------------------------------------------

    async def cluster_status(self) -> ClusterStatus:
        """Fragments, actors, workers, barrier progress and jobs being created (rw_catalog, SHOW JOBS)."""
        ...

    # -- end of catalog (issue 4)


class ComputeClient(Protocol):
    def execute_batch(self, plan: BatchNode, epoch: int, format: FormatOptions,
                      cancelled: Callable[[], bool] | None = None) -> AsyncIterator[pa.RecordBatch]: ...
