"""The global stream graph: every fragment with its actors, and the edges between fragments.

A fragment's actors are placed once (worker and vnodes each); everything
an actor needs to run (`ActorInfo`: its upstream actors and its
dispatchers) is derived from the placed fragments and the edges, so it can
be rebuilt anywhere after a failure. Fragments reading a NO_SHUFFLE edge
mirror their upstream's actors one to one (same count, vnodes and worker).
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from common import codec
from common.stream_plan import (
    ActorInfo,
    Dispatcher,
    DispatcherKind,
    DistributionKind,
    DmlNode,
    Fragment,
    FragmentEdge,
    FragmentGraph,
    StreamNode,
    StreamScanNode,
    stream_inputs,
)
from common.vnode import VnodeBitmap, split_vnodes, vnode_mapping
from meta.meta_store import Delete, MetaStore, Put

NS_FRAGMENT = "fragment"


@codec.register
@dataclass(frozen=True, slots=True)
class ActorPlacement:
    actor_id: int
    worker_id: int
    vnodes: VnodeBitmap | None


@codec.register
@dataclass(frozen=True, slots=True)
class PlacedFragment:
    """A fragment of job `job_id`, its actors, and the edges that feed it."""

    job_id: int
    fragment: Fragment
    actors: tuple[ActorPlacement, ...]
    inputs: tuple[FragmentEdge, ...]

    @property
    def fragment_id(self) -> int:
        return self.fragment.fragment_id

    @property
    def is_source(self) -> bool:
        return is_source(self.fragment.root)


def _contains(node: StreamNode, kind: type) -> bool:
    return isinstance(node, kind) or any(_contains(i, kind) for i in stream_inputs(node))


def is_source(node: StreamNode) -> bool:
    """Whether actors of this plan take barriers from their node directly (they have no upstream)."""
    return _contains(node, DmlNode)


def has_backfill(node: StreamNode) -> bool:
    """Whether actors of this plan first read their upstreams' existing rows."""
    return (isinstance(node, StreamScanNode) and node.backfill) or any(has_backfill(i) for i in stream_inputs(node))


def without_backfill(node: StreamNode) -> StreamNode:
    """The same plan with every StreamScan's backfill off (a created view never backfills again)."""
    if isinstance(node, StreamScanNode):
        return dataclasses.replace(node, backfill=False)
    replaced = {}
    for f in dataclasses.fields(node):  # type: ignore[arg-type]
        v = getattr(node, f.name)
        if f.name in ("input", "left", "right") and v is not None:
            replaced[f.name] = without_backfill(v)
    return dataclasses.replace(cast(Any, node), **replaced) if replaced else node  # type: ignore[no-any-return]


class FragmentManager:
    def __init__(self) -> None:
        self.fragments: dict[int, PlacedFragment] = {}

    def load(self, store: MetaStore) -> None:
        self.fragments = {}
        for _, value in store.scan(NS_FRAGMENT):
            pf: PlacedFragment = codec.from_json(value)
            self.fragments[pf.fragment_id] = pf

    # -- placement ---------------------------------------------------------

    def place(self, job_id: int, graph: FragmentGraph, workers: Sequence[int], default_parallelism: int,
              actor_ids: Iterable[int]) -> list[PlacedFragment]:
        """Place every fragment of a new job; upstream fragments of other jobs are already placed."""
        ids = iter(actor_ids)
        rr = itertools.cycle(sorted(workers))
        inputs = {f.fragment_id: tuple(e for e in graph.edges if e.downstream == f.fragment_id)
                  for f in graph.fragments}
        placed: dict[int, PlacedFragment] = {}
        for frag in _topological(graph):
            edges = inputs[frag.fragment_id]
            no_shuffle = [e for e in edges if e.kind is DispatcherKind.NO_SHUFFLE]
            if no_shuffle:
                up = placed.get(no_shuffle[0].upstream) or self.fragments[no_shuffle[0].upstream]
                actors = tuple(ActorPlacement(next(ids), a.worker_id, a.vnodes) for a in up.actors)
            elif frag.distribution.kind is DistributionKind.SINGLE:
                actors = (ActorPlacement(next(ids), next(rr), None),)
            else:
                p = frag.parallelism or default_parallelism
                actors = tuple(ActorPlacement(next(ids), next(rr), b) for b in split_vnodes(p))
            placed[frag.fragment_id] = PlacedFragment(job_id, frag, actors, edges)
        return list(placed.values())

    def reassign(self, live_workers: Sequence[int]) -> list[PlacedFragment]:
        """Move actors off workers that are gone; returns the fragments that changed.

        Actors keep their ids and vnodes (state stays where it is: in the object
        store). A NO_SHUFFLE mirror follows its upstream actor; others go round-robin.
        """
        if not live_workers:
            return []
        live = set(live_workers)
        rr = itertools.cycle(sorted(live))
        changed: dict[int, PlacedFragment] = {}
        for fid in self._topological_ids():
            pf = self.fragments[fid]
            mirror = next((e for e in pf.inputs if e.kind is DispatcherKind.NO_SHUFFLE), None)
            actors = []
            for i, a in enumerate(pf.actors):
                worker = a.worker_id
                if mirror is not None and mirror.upstream in self.fragments:
                    worker = self.fragments[mirror.upstream].actors[i].worker_id
                elif worker not in live:
                    worker = next(rr)
                actors.append(ActorPlacement(a.actor_id, worker, a.vnodes) if worker != a.worker_id else a)
            if any(x is not y for x, y in zip(actors, pf.actors)):
                pf = PlacedFragment(pf.job_id, pf.fragment, tuple(actors), pf.inputs)
                self.fragments[fid] = pf
                changed[fid] = pf
        return list(changed.values())

    def _topological_ids(self) -> list[int]:
        order: list[int] = []
        done: set[int] = set()
        pending = sorted(self.fragments)
        while pending:
            progressed = []
            for fid in pending:
                ups = {e.upstream for e in self.fragments[fid].inputs if e.upstream in self.fragments}
                if ups <= done:
                    order.append(fid)
                    done.add(fid)
                    progressed.append(fid)
            if not progressed:
                order.extend(pending)  # a cycle cannot happen; keep going regardless
                break
            pending = [f for f in pending if f not in done]
        return order

    def locations(self) -> dict[int, int]:
        """Actor id -> worker id, for every actor."""
        return {a.actor_id: a.worker_id for pf in self.fragments.values() for a in pf.actors}

    def add(self, fragments: Iterable[PlacedFragment]) -> None:
        for pf in fragments:
            self.fragments[pf.fragment_id] = pf

    def remove_job(self, job_id: int) -> list[PlacedFragment]:
        gone = [pf for pf in self.fragments.values() if pf.job_id == job_id]
        for pf in gone:
            del self.fragments[pf.fragment_id]
        return gone

    @staticmethod
    def puts_of(fragments: Iterable[PlacedFragment]) -> list[Put]:
        return [(NS_FRAGMENT, str(pf.fragment_id), codec.to_json(pf)) for pf in fragments]

    @staticmethod
    def deletes_of(fragments: Iterable[PlacedFragment]) -> list[Delete]:
        return [(NS_FRAGMENT, str(pf.fragment_id)) for pf in fragments]

    # -- derived views -----------------------------------------------------

    def job_fragments(self, job_id: int) -> list[PlacedFragment]:
        return [pf for pf in self.fragments.values() if pf.job_id == job_id]

    def actor_infos(self, fragment_ids: Iterable[int] | None = None, *, backfill: bool = True) -> list[ActorInfo]:
        ids = list(self.fragments) if fragment_ids is None else list(fragment_ids)
        out = []
        for fid in ids:
            pf = self.fragments[fid]
            root = pf.fragment.root if backfill else without_backfill(pf.fragment.root)
            for idx, a in enumerate(pf.actors):
                upstreams = tuple((e.upstream, self._feeding(e, idx)) for e in pf.inputs)
                dispatchers = tuple(self.dispatcher(e, a.actor_id) for e in self._outputs(fid))
                out.append(ActorInfo(a.actor_id, fid, root, a.vnodes, upstreams, dispatchers, a.worker_id))
        return out

    def _feeding(self, edge: FragmentEdge, actor_index: int) -> tuple[int, ...]:
        up = self.fragments[edge.upstream]
        if edge.kind is DispatcherKind.NO_SHUFFLE:
            return (up.actors[actor_index].actor_id,)
        return tuple(a.actor_id for a in up.actors)

    def _outputs(self, fragment_id: int) -> list[FragmentEdge]:
        return [e for pf in self.fragments.values() for e in pf.inputs if e.upstream == fragment_id]

    def dispatcher(self, edge: FragmentEdge, upstream_actor: int) -> Dispatcher:
        down = self.fragments[edge.downstream]
        if edge.kind is DispatcherKind.NO_SHUFFLE:
            idx = [a.actor_id for a in self.fragments[edge.upstream].actors].index(upstream_actor)
            return Dispatcher(edge.kind, edge.downstream, (down.actors[idx].actor_id,))
        actors = tuple(a.actor_id for a in down.actors)
        if edge.kind is DispatcherKind.HASH:
            mapping = vnode_mapping([(a.actor_id, a.vnodes or VnodeBitmap.full()) for a in down.actors])
            return Dispatcher(edge.kind, edge.downstream, actors, edge.dist_key, mapping)
        return Dispatcher(edge.kind, edge.downstream, actors, edge.dist_key)

    def actors_by_worker(self) -> dict[int, set[int]]:
        out: dict[int, set[int]] = {}
        for pf in self.fragments.values():
            for a in pf.actors:
                out.setdefault(a.worker_id, set()).add(a.actor_id)
        return out

    def sources_by_worker(self) -> dict[int, set[int]]:
        out: dict[int, set[int]] = {}
        for pf in self.fragments.values():
            if pf.is_source:
                for a in pf.actors:
                    out.setdefault(a.worker_id, set()).add(a.actor_id)
        return out

    def job_actor_ids(self, job_id: int) -> list[int]:
        return [a.actor_id for pf in self.job_fragments(job_id) for a in pf.actors]


def _topological(graph: FragmentGraph) -> list[Fragment]:
    inside = {f.fragment_id for f in graph.fragments}
    deps = {f.fragment_id: {e.upstream for e in graph.edges if e.downstream == f.fragment_id and e.upstream in inside}
            for f in graph.fragments}
    order: list[Fragment] = []
    done: set[int] = set()
    while len(order) < len(graph.fragments):
        progressed = False
        for f in graph.fragments:
            if f.fragment_id not in done and deps[f.fragment_id] <= done:
                order.append(f)
                done.add(f.fragment_id)
                progressed = True
        if not progressed:
            raise ValueError("fragment graph has a cycle")
    return order
