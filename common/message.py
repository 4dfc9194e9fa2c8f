"""Messages on a stream: chunks, barriers and watermarks, and the mutations barriers carry.

Meta injects a barrier at every source actor; it travels in-band through the
dataflow, and every actor passes it on only after it has flushed the state
changes of the epoch it closes. A mutation changes the topology at exactly
that point in every stream.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Union

from common.chunk import StreamChunk
from common.epoch import EpochPair
from common.stream_plan import Dispatcher
from common.types import DataType


class BarrierKind(enum.Enum):
    INITIAL = "initial"  # first barrier after (re)start: actors load from committed state
    BARRIER = "barrier"  # closes an epoch, no checkpoint
    CHECKPOINT = "checkpoint"  # closes an epoch and makes it durable


@dataclass(frozen=True, slots=True)
class AddMutation:
    """New actors start; existing upstream actors gain dispatchers to them.

    `adds[i]` = (upstream actor id, new dispatcher it gains).
    """

    added_actors: tuple[int, ...]
    adds: tuple[tuple[int, Dispatcher], ...]


@dataclass(frozen=True, slots=True)
class StopMutation:
    """Actors stop after this barrier; upstream actors drop their outputs to them."""

    actors: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class UpdateMutation:
    """Rescale: some fragments' actors are replaced by new ones with new vnode sets.

    At this barrier `removed_actors` stop and `added_actors` start (reading
    the committed state of the vnodes they now own); upstream actors swap
    `dispatchers` (upstream actor, new dispatcher) and downstream actors swap
    the upstream actors they merge: `merges` = (actor, upstream fragment,
    new upstream actors). Sources are paused around it, so no data is in flight.
    """

    added_actors: tuple[int, ...]
    removed_actors: tuple[int, ...]
    dispatchers: tuple[tuple[int, Dispatcher], ...]
    merges: tuple[tuple[int, int, tuple[int, ...]], ...]


@dataclass(frozen=True, slots=True)
class PauseMutation:
    pass


@dataclass(frozen=True, slots=True)
class ResumeMutation:
    pass


Mutation = Union[AddMutation, StopMutation, UpdateMutation, PauseMutation, ResumeMutation]


@dataclass(frozen=True, slots=True)
class Barrier:
    epoch: EpochPair
    kind: BarrierKind
    mutation: Mutation | None = None

    @property
    def is_checkpoint(self) -> bool:
        return self.kind is not BarrierKind.BARRIER

    def is_stop(self, actor_id: int) -> bool:
        m = self.mutation
        return (isinstance(m, StopMutation) and actor_id in m.actors) or (
            isinstance(m, UpdateMutation) and actor_id in m.removed_actors)

    def with_mutation(self, mutation: Mutation | None) -> Barrier:
        return Barrier(self.epoch, self.kind, mutation)


@dataclass(frozen=True, slots=True)
class Watermark:
    """No later row will have column `col_idx` below `value`."""

    col_idx: int
    type: DataType
    value: object


Message = Union[StreamChunk, Barrier, Watermark]
