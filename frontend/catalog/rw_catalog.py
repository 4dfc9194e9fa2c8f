"""rw_catalog: Eddy's own catalog of streaming jobs, dataflows and the cluster, named as RisingWave names it.

- rw_relations, rw_tables, rw_materialized_views: the user relations and
  their definitions (a table's primary key, a view's inputs).
- rw_fragments: each fragment of each job, with its distribution, state
  tables, upstream fragments, operators, and how many actors (parallelism)
  on how many worker nodes run it.
- rw_actors: each actor, its fragment, worker node and vnode count.
- rw_worker_nodes: the compute nodes.
- rw_barrier: one row, the committed epoch (and its wall-clock time), the
  latency of the last barrier from injection to commit, the barrier
  interval and how many recoveries happened.
- rw_streaming_jobs: jobs still being created (what SHOW JOBS lists).

Cluster facts come from `MetaClient.cluster_status()`, which the query
handler fetches before binding a statement that reads them (CLUSTER_RELATIONS).
"""

from __future__ import annotations

import datetime as dt

from common.catalog import RelationKind
from common.cluster_status import ClusterStatus
from common.epoch import epoch_to_ms
from common.functions_system import PUBLIC_OID
from frontend.catalog.rows import Row, builder
from frontend.catalog.snapshot import CatalogSnapshot

CLUSTER_RELATIONS = frozenset({"rw_fragments", "rw_actors", "rw_worker_nodes", "rw_barrier", "rw_streaming_jobs"})


def cluster_status(s: CatalogSnapshot) -> ClusterStatus | None:
    return s.cluster


def _created(ms: int) -> dt.datetime | None:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC) if ms else None


@builder("rw_catalog", "rw_relations")
def rw_relations(s: CatalogSnapshot) -> list[Row]:
    return [{"id": r.id, "name": r.name, "relation_type": r.kind.value, "schema_id": PUBLIC_OID,
             "owner": s.owner_id(r), "definition": r.definition, "created_at": _created(r.created_at_ms)}
            for r in s.relations]


@builder("rw_catalog", "rw_tables")
def rw_tables(s: CatalogSnapshot) -> list[Row]:
    return [{"id": r.id, "name": r.name, "schema_id": PUBLIC_OID, "owner": s.owner_id(r), "definition": r.definition,
             "primary_key": ", ".join(r.pk_names) if r.row_id_index is None else None,
             "created_at": _created(r.created_at_ms)} for r in s.relations if r.kind is RelationKind.TABLE]


@builder("rw_catalog", "rw_materialized_views")
def rw_materialized_views(s: CatalogSnapshot) -> list[Row]:
    return [{"id": r.id, "name": r.name, "schema_id": PUBLIC_OID, "owner": s.owner_id(r), "definition": r.definition,
             "depends_on": list(r.depends_on), "status": r.status.value, "created_at": _created(r.created_at_ms)}
            for r in s.relations if r.kind is RelationKind.MATERIALIZED_VIEW]


@builder("rw_catalog", "rw_fragments")
def rw_fragments(s: CatalogSnapshot) -> list[Row]:
    status = cluster_status(s)
    if status is None:
        return []
    actors: dict[int, list[int]] = {}
    for a in status.actors:
        actors.setdefault(a.fragment_id, []).append(a.worker_id)
    return [{"fragment_id": f.fragment_id, "table_id": f.job_id, "distribution_type": f.distribution,
             "state_table_ids": list(f.state_tables), "upstream_fragment_ids": list(f.upstream_fragments),
             "flags": ", ".join(f.operators), "parallelism": len(actors.get(f.fragment_id, [])),
             "node_count": len(set(actors.get(f.fragment_id, [])))} for f in status.fragments]


@builder("rw_catalog", "rw_actors")
def rw_actors(s: CatalogSnapshot) -> list[Row]:
    status = cluster_status(s)
    if status is None:
        return []
    return [{"actor_id": a.actor_id, "fragment_id": a.fragment_id, "table_id": a.job_id, "worker_id": a.worker_id,
             "vnode_count": a.vnode_count, "state": "RUNNING"} for a in status.actors]


@builder("rw_catalog", "rw_worker_nodes")
def rw_worker_nodes(s: CatalogSnapshot) -> list[Row]:
    status = cluster_status(s)
    if status is None:
        return []
    rows = []
    for w in status.workers:
        host, _, port = w.address.rpartition(":")
        rows.append({"id": w.worker_id, "host": host or w.address, "port": port if host else None,
                     "type": "compute", "state": w.state, "parallelism": w.parallelism, "is_streaming": True,
                     "is_serving": True})
    return rows


@builder("rw_catalog", "rw_barrier")
def rw_barrier(s: CatalogSnapshot) -> list[Row]:
    status = cluster_status(s)
    epoch = status.committed_epoch if status is not None else s.session.meta.committed_epoch
    row: Row = {"committed_epoch": epoch, "committed_at": _created(epoch_to_ms(epoch)) if epoch else None}
    if status is not None:
        row |= {"last_barrier_latency_ms": status.last_barrier_latency_ms,
                "barrier_interval_ms": status.barrier_interval_ms, "recovery_count": status.recovery_count}
    return [row]


def job_rows(s: CatalogSnapshot) -> list[Row]:
    status = cluster_status(s)
    if status is None:
        return []
    return [{"job_id": j.job_id, "name": j.name, "definition": j.definition, "status": j.status,
             "progress": None if j.progress is None else f"{j.progress * 100:.2f}%"} for j in status.jobs]


builder("rw_catalog", "rw_streaming_jobs")(job_rows)
