"""Messages between meta, compute nodes and frontends.

In the playground they are passed as Python objects between components in
one process; in cluster mode the same messages cross the network.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from common.message import Barrier, BarrierKind
from common.stream_plan import ActorInfo

# A transaction block's pinned snapshot lapses this long after its frontend last renewed it;
# frontends renew the snapshots they hold every third of it.
SNAPSHOT_LEASE_S = 60.0


@dataclass(frozen=True, slots=True)
class InjectBarrier:
    """Start `barrier` on a node: push it into `source_actors`, wait for `actors_to_collect`."""

    barrier: Barrier
    actors_to_collect: tuple[int, ...]
    source_actors: tuple[int, ...]
    node_id: int = 0  # who meta sent it to: the completion report names this node


@dataclass(frozen=True, slots=True)
class BarrierCompleteReport:
    """Every actor of a node passed a barrier; for a checkpoint, the SSTs it uploaded.

    `ssts` holds `storage.version.SstInfo` values. `backfilled` names the actors that
    finished reading their upstreams' existing rows since the node's last report: what
    they emitted belongs to an epoch no later than the next barrier's previous one.
    """

    node_id: int
    epoch: int
    prev_epoch: int
    kind: BarrierKind
    ssts: tuple[Any, ...]
    backfilled: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class BuildActors:
    """Create these actors (not yet started: they wait for their first barrier)."""

    actors: tuple[ActorInfo, ...]
    job_names: tuple[tuple[int, str], ...] = ()  # fragment id -> name of the view it belongs to
    version: Any = None  # the committed version the actors start from (applied first if newer)


@dataclass(frozen=True, slots=True)
class ActorFailure:
    node_id: int
    actor_id: int
    message: str


@dataclass(frozen=True, slots=True)
class UpdateLocations:
    """Where actors run (actor -> worker) and how to reach workers (worker -> address)."""

    locations: tuple[tuple[int, int], ...]
    addresses: tuple[tuple[int, str], ...]
    generation: int = 0  # the recovery generation: exchange streams of older ones are refused


@dataclass(frozen=True, slots=True)
class ClusterInfo:
    """What a process joining the cluster learns from meta."""

    object_store: str
    s3_endpoint: str | None
    barrier_interval_ms: int
    heartbeat_timeout_s: float


@dataclass(frozen=True, slots=True)
class BatchRequest:
    """Run a batch plan at a committed epoch and stream its result."""

    plan: Any
    epoch: int
    format: Any
