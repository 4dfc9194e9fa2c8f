"""The one registry from stream plan nodes to executors."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from common.stream_plan import (
    ActorInfo,
    DmlNode,
    FilterNode,
    HashAggNode,
    HashJoinNode,
    MaterializeNode,
    MergeNode,
    ProjectNode,
    StreamNode,
    StreamScanNode,
)
from common.types import DataType
from compute.stream.channel import Channel
from compute.stream.dispatch import DispatchExecutor
from compute.stream.dml import DmlExecutor
from compute.stream.executor import ActorContext, Executor
from compute.stream.filter import FilterExecutor
from compute.stream.hash_agg import HashAggExecutor
from compute.stream.hash_join import HashJoinExecutor
from compute.stream.local_barrier_manager import LocalBarrierManager
from compute.stream.materialize import MaterializeExecutor
from compute.stream.merge import MergeExecutor
from compute.stream.project import ProjectExecutor
from compute.stream.remote_exchange import RemoteOutput
from compute.stream.stream_scan import StreamScanExecutor


@dataclass
class BuildContext:
    info: ActorInfo
    actor: ActorContext
    barrier_manager: LocalBarrierManager
    channel: Callable[[int, int], Channel]  # (upstream actor, downstream actor on this node) -> channel
    output: Callable[[int, int, tuple[DataType, ...]], Channel | RemoteOutput]  # this node's actor -> anywhere


def _merge(node: MergeNode, b: BuildContext) -> Executor:
    upstream_actors = dict(b.info.upstreams)[node.upstream_fragment_id]
    me = b.info.actor_id
    return MergeExecutor(node.types, [b.channel(u, me) for u in upstream_actors], me,
                         node.upstream_fragment_id, lambda u: b.channel(u, me))


def _dml(node: DmlNode, b: BuildContext) -> Executor:
    return DmlExecutor(node, b.barrier_manager.register_source(b.info.actor_id), b.info.actor_id)


_BUILDERS: dict[type, Callable[[Any, BuildContext], Executor]] = {
    MergeNode: _merge,
    DmlNode: _dml,
    ProjectNode: lambda n, b: ProjectExecutor(build(n.input, b), n, b.actor),
    FilterNode: lambda n, b: FilterExecutor(build(n.input, b), n, b.actor),
    HashAggNode: lambda n, b: HashAggExecutor(build(n.input, b), n, b.actor),
    HashJoinNode: lambda n, b: HashJoinExecutor(build(n.left, b), build(n.right, b), n, b.actor),
    MaterializeNode: lambda n, b: MaterializeExecutor(build(n.input, b), n, b.actor),
    StreamScanNode: lambda n, b: StreamScanExecutor(build(n.input, b), n, b.actor),
}


def build(node: StreamNode, b: BuildContext) -> Executor:
    try:
        builder = _BUILDERS[type(node)]
    except KeyError:
        raise TypeError(f"no executor for stream node {type(node).__name__}") from None
    return builder(node, b)


def build_actor_executor(b: BuildContext) -> Executor:
    """The whole chain of an actor, ending in a dispatcher when it has downstream actors."""
    root = build(b.info.node, b)
    me = b.info.actor_id
    return DispatchExecutor(root, me, b.info.dispatchers, lambda down: b.output(me, down, root.types))
