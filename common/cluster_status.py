"""What meta reports about the running cluster: fragments, actors, workers, barriers and jobs being created.

Frontends show it as Eddy's own catalog (rw_catalog) and SHOW JOBS; meta
builds it from its fragment manager, cluster membership, barrier manager
and catalog (MetaNode.cluster_status).
"""

from __future__ import annotations

from dataclasses import dataclass

from common.codec import register


@register
@dataclass(frozen=True, slots=True)
class FragmentStatus:
    """One fragment of a job: how its rows are spread, its state tables, what feeds it, what it runs."""

    fragment_id: int
    job_id: int
    distribution: str
    state_tables: tuple[int, ...]
    upstream_fragments: tuple[int, ...]
    operators: tuple[str, ...]


@register
@dataclass(frozen=True, slots=True)
class ActorStatus:
    actor_id: int
    fragment_id: int
    job_id: int
    worker_id: int
    vnode_count: int


@register
@dataclass(frozen=True, slots=True)
class WorkerStatus:
    worker_id: int
    address: str
    parallelism: int
    state: str


@register
@dataclass(frozen=True, slots=True)
class JobStatusInfo:
    """A streaming job whose creation has not committed yet. `progress` is a fraction in 0..1 when known."""

    job_id: int
    name: str | None
    definition: str | None
    status: str
    progress: float | None


@register
@dataclass(frozen=True, slots=True)
class ClusterStatus:
    fragments: tuple[FragmentStatus, ...]
    actors: tuple[ActorStatus, ...]
    workers: tuple[WorkerStatus, ...]
    jobs: tuple[JobStatusInfo, ...]
    committed_epoch: int
    last_barrier_latency_ms: float
    barrier_interval_ms: int
    recovery_count: int
