"""Builds, runs and drops the actors of one compute node, and owns their local channels."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence

from common.flight_rpc import RpcClient
from common.stream_plan import ActorInfo, DmlNode, StreamNode, stream_inputs
from common.types import DataType
from compute.stream.actor import Actor
from compute.stream.builder import BuildContext, build_actor_executor
from compute.stream.channel import Channel
from compute.stream.executor import ActorContext
from compute.stream.local_barrier_manager import LocalBarrierManager
from compute.stream.remote_exchange import RemoteOutput
from storage.state_store import StateStore


def find_node(root: StreamNode, kind: type) -> StreamNode | None:
    stack = [root]
    while stack:
        n = stack.pop()
        if isinstance(n, kind):
            return n
        stack.extend(stream_inputs(n))
    return None


class StreamManager:
    """Actors of this node, and the channels between them and to other nodes.

    `locations` maps every actor meta has told this node about to its worker;
    an actor on another worker is reached through a RemoteOutput.
    """

    def __init__(self, node_id: int, store: StateStore, barrier_manager: LocalBarrierManager) -> None:
        self.node_id = node_id
        self.store = store
        self.barrier_manager = barrier_manager
        self.actors: dict[int, Actor] = {}
        self.dml_actors: dict[int, list[int]] = {}  # table id -> DML actors on this node
        self._channels: dict[tuple[int, int], Channel] = {}
        self._outputs: dict[tuple[int, int], RemoteOutput] = {}
        self.generation = 0
        self.locations: dict[int, int] = {}
        self.addresses: dict[int, str] = {}
        self._clients: dict[str, RpcClient] = {}

    def channel(self, upstream: int, downstream: int) -> Channel:
        """The local channel from `upstream` (anywhere) into `downstream` (on this node)."""
        ch = self._channels.get((upstream, downstream))
        if ch is None:
            ch = self._channels[(upstream, downstream)] = Channel(upstream, downstream)
        return ch

    def output(self, upstream: int, downstream: int, types: tuple[DataType, ...]) -> Channel | RemoteOutput:
        """Where `upstream` (on this node) sends to `downstream`: a local channel or the network."""
        worker = self.locations.get(downstream, self.node_id)
        if worker == self.node_id or worker not in self.addresses:
            return self.channel(upstream, downstream)
        out = self._outputs.get((upstream, downstream))
        if out is None:
            address = self.addresses[worker]
            client = self._clients.get(address)
            if client is None:
                client = self._clients[address] = RpcClient(address)
            out = self._outputs[(upstream, downstream)] = RemoteOutput(client, self.generation, upstream,
                                                                       downstream, types)
        return out

    def update_locations(self, locations: dict[int, int], addresses: dict[int, str]) -> None:
        self.locations.update(locations)
        self.addresses.update(addresses)

    def build_actors(self, infos: Sequence[ActorInfo], job_names: dict[int, str] | None = None) -> None:
        """Build and start actors; each waits for its first barrier before doing anything."""
        names = job_names or {}
        built = []
        for info in infos:
            ctx = ActorContext(info.actor_id, info.fragment_id, self.store, info.vnodes,
                               names.get(info.fragment_id, ""), backfills=self.barrier_manager.backfills)
            consumer = build_actor_executor(BuildContext(info, ctx, self.barrier_manager, self.channel, self.output))
            built.append(Actor(info.actor_id, info.fragment_id, consumer, self.barrier_manager))
            dml = find_node(info.node, DmlNode)
            if isinstance(dml, DmlNode):
                self.dml_actors.setdefault(dml.table_id, []).append(info.actor_id)
        for actor in built:
            self.actors[actor.actor_id] = actor
            actor.start()

    def forget_actors(self, actor_ids: Iterable[int]) -> None:
        """Drop stopped actors (their tasks have ended after the Stop barrier) and their channels."""
        ids = set(actor_ids)
        self.barrier_manager.backfills.forget(ids)
        for a in ids:
            actor = self.actors.pop(a, None)
            if actor is not None:
                actor.stop()
        for table, actors in list(self.dml_actors.items()):
            remaining = [a for a in actors if a not in ids]
            if remaining:
                self.dml_actors[table] = remaining
            else:
                del self.dml_actors[table]
        for key in [k for k in self._channels if k[0] in ids or k[1] in ids]:
            del self._channels[key]
        for key in [k for k in self._outputs if k[0] in ids or k[1] in ids]:
            out = self._outputs.pop(key)
            asyncio.get_running_loop().create_task(out.close())

    def reset(self, generation: int | None = None) -> None:
        """Recovery: stop every actor and forget every channel; streams of older generations are refused."""
        for actor in self.actors.values():
            actor.stop()
        self.actors.clear()
        self.dml_actors.clear()
        self.barrier_manager.backfills.clear()
        self._channels.clear()
        for out in self._outputs.values():
            asyncio.get_running_loop().create_task(out.close())
        self._outputs.clear()
        self.locations.clear()
        if generation is not None:
            self.generation = generation
