"""The cluster status meta reports for rw_catalog and SHOW JOBS, built from what meta holds.

The placed fragments and actors, the workers, the barrier manager's
progress, and jobs whose fragments are placed but whose catalog entry has
not committed yet (or whose entry says CREATING), with their backfill
progress as the compute nodes report it.
"""

from __future__ import annotations

from collections.abc import Iterable

from common.catalog import JobStatus, Relation
from common.cluster_status import ActorStatus, ClusterStatus, FragmentStatus, JobStatusInfo, WorkerStatus
from common.stream_plan import StreamNode, stream_inputs
from meta.barrier_manager import BarrierManager
from meta.catalog_manager import CatalogManager
from meta.cluster_manager import WorkerInfo
from meta.fragment_manager import FragmentManager, PlacedFragment

BackfillProgress = dict[int, tuple[int, int]]  # actor id -> (vnodes read, vnodes owned)


def build_status(fragments: FragmentManager, workers: Iterable[WorkerInfo], catalog: CatalogManager,
                 creating: Iterable[Relation], progress: BackfillProgress, barriers: BarrierManager,
                 barrier_interval_ms: int) -> ClusterStatus:
    frags, actors = [], []
    for pf in fragments.fragments.values():
        frags.append(_fragment_status(pf))
        for a in pf.actors:
            vnodes = 256 if a.vnodes is None else len(a.vnodes)
            actors.append(ActorStatus(a.actor_id, pf.fragment_id, pf.job_id, a.worker_id, vnodes))
    worker_status = tuple(WorkerStatus(w.node_id, w.address, w.parallelism, "RUNNING") for w in workers)
    committed = {r.id for r in catalog.relations() if r.status is not JobStatus.CREATING}
    jobs = [JobStatusInfo(r.id, r.name, r.definition, "CREATING", _job_progress(fragments, r.id, progress))
            for r in [*creating, *catalog.creating()]]
    known = {j.job_id for j in jobs}
    for job_id in sorted({pf.job_id for pf in fragments.fragments.values()} - committed - known):
        jobs.append(JobStatusInfo(job_id, None, None, "CREATING", None))
    return ClusterStatus(tuple(frags), tuple(actors), worker_status, tuple(jobs), barriers.committed_epoch,
                         barriers.last_barrier_latency_ms, barrier_interval_ms, barriers.recovery_count)


def _fragment_status(pf: PlacedFragment) -> FragmentStatus:
    f = pf.fragment
    operators: list[str] = []
    stack: list[StreamNode] = [f.root]
    while stack:
        node = stack.pop()
        operators.append(type(node).__name__.removesuffix("Node"))
        stack.extend(reversed(stream_inputs(node)))
    return FragmentStatus(pf.fragment_id, pf.job_id, f.distribution.kind.value, f.state_tables,
                          tuple(e.upstream for e in pf.inputs), tuple(operators))


def _job_progress(fragments: FragmentManager, job_id: int, progress: BackfillProgress) -> float:
    done = total = 0
    for actor in fragments.job_actor_ids(job_id):
        d, t = progress.get(actor, (0, 0))
        done, total = done + d, total + t
    return done / total if total else 0.0
