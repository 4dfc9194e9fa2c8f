"""Planning a rescale: new actors for a job's fragments, spread over the live nodes.

A fragment that reads its upstream through a NO_SHUFFLE edge mirrors that
upstream actor for actor, so fragments linked by NO_SHUFFLE edges move
together: rescaling a table also rescales the backfill fragments of the
views reading it. State is not copied: new actors own new vnode sets and
read the committed state of those vnodes from the object store.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from common.errors import FeatureNotSupported
from common.stream_plan import ActorInfo, Dispatcher, DispatcherKind, DistributionKind
from common.vnode import split_vnodes
from meta.fragment_manager import ActorPlacement, FragmentManager, PlacedFragment


@dataclass
class ReschedulePlan:
    new_fragments: list[PlacedFragment]
    old_fragments: list[PlacedFragment]
    added: dict[int, list[ActorInfo]]  # worker -> new actors
    removed: dict[int, set[int]]  # worker -> actors that stop
    dispatchers: list[tuple[int, Dispatcher]]
    merges: list[tuple[int, int, tuple[int, ...]]]

    @property
    def removed_ids(self) -> tuple[int, ...]:
        return tuple(sorted(a for actors in self.removed.values() for a in actors))

    @property
    def added_ids(self) -> tuple[int, ...]:
        return tuple(sorted(i.actor_id for infos in self.added.values() for i in infos))


def ensemble(fm: FragmentManager, job_id: int) -> list[int]:
    """The fragments that change when this job is rescaled, upstreams first."""
    job = {pf.fragment_id for pf in fm.job_fragments(job_id)}
    roots = []
    for fid in job:
        pf = fm.fragments[fid]
        if pf.fragment.distribution.kind is DistributionKind.SINGLE:
            continue
        mirrors_outside = any(e.kind is DispatcherKind.NO_SHUFFLE and e.upstream not in job for e in pf.inputs)
        mirrors_inside = any(e.kind is DispatcherKind.NO_SHUFFLE for e in pf.inputs)
        if not mirrors_outside and not mirrors_inside:
            roots.append(fid)
    if not roots:
        raise FeatureNotSupported("this view's parallelism follows the table or view it reads; "
                                  "change that one's parallelism instead")
    members = set(roots)
    changed = True
    while changed:
        changed = False
        for pf in fm.fragments.values():
            if pf.fragment_id not in members and any(
                    e.kind is DispatcherKind.NO_SHUFFLE and e.upstream in members for e in pf.inputs):
                members.add(pf.fragment_id)
                changed = True
    return [fid for fid in fm._topological_ids() if fid in members]


def plan(fm: FragmentManager, job_id: int, parallelism: int, workers: Sequence[int],
         actor_ids: Iterator[int]) -> ReschedulePlan:
    """Place new actors for the ensemble and apply them to `fm` (in memory); the plan says what changed."""
    members = ensemble(fm, job_id)
    rr = itertools.cycle(sorted(workers))
    old = [fm.fragments[fid] for fid in members]
    new: dict[int, PlacedFragment] = {}
    for pf in old:
        mirror = next((e for e in pf.inputs if e.kind is DispatcherKind.NO_SHUFFLE and e.upstream in new), None)
        if mirror is not None:
            actors = tuple(ActorPlacement(next(actor_ids), a.worker_id, a.vnodes) for a in new[mirror.upstream].actors)
        else:
            actors = tuple(ActorPlacement(next(actor_ids), next(rr), b) for b in split_vnodes(parallelism))
        fragment = dataclasses.replace(pf.fragment, parallelism=parallelism) if mirror is None else pf.fragment
        new[pf.fragment_id] = PlacedFragment(pf.job_id, fragment, actors, pf.inputs)
    fm.add(new.values())
    member_set = set(members)
    added: dict[int, list[ActorInfo]] = {}
    for info in fm.actor_infos(members, backfill=False):
        added.setdefault(info.worker_id, []).append(info)
    removed: dict[int, set[int]] = {}
    for pf in old:
        for a in pf.actors:
            removed.setdefault(a.worker_id, set()).add(a.actor_id)
    dispatchers: list[tuple[int, Dispatcher]] = []
    merges: list[tuple[int, int, tuple[int, ...]]] = []
    for pf in fm.fragments.values():
        for e in pf.inputs:
            if e.downstream in member_set and e.upstream not in member_set:
                dispatchers += [(a.actor_id, fm.dispatcher(e, a.actor_id)) for a in fm.fragments[e.upstream].actors]
            elif e.upstream in member_set and e.downstream not in member_set:
                ups = tuple(a.actor_id for a in fm.fragments[e.upstream].actors)
                merges += [(a.actor_id, e.upstream, ups) for a in pf.actors]
    return ReschedulePlan(list(new.values()), old, added, removed, dispatchers, merges)


def count_actors(fm: FragmentManager, job_id: int, parallelism: int) -> int:
    """How many new actors a rescale will need (to allocate their ids up front)."""
    members = ensemble(fm, job_id)
    return parallelism * len(members)
