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
from common.plan import Dispatcher
from common.types import DataType
from common.vnode import VnodeBitmap


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
    """Rescale: actors take new vnode sets; upstream dispatchers get new mappings."""

    vnode_bitmaps: tuple[tuple[int, VnodeBitmap], ...]
    dispatchers: tuple[tuple[int, Dispatcher], ...]
    merges: tuple[tuple[int, int, tuple[int, ...]], ...]  # (actor, upstream fragment, new upstream actors)


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
        return isinstance(self.mutation, StopMutation) and actor_id in self.mutation.actors

    def with_mutation(self, mutation: Mutation | None) -> Barrier:
        return Barrier(self.epoch, self.kind, mutation)


@dataclass(frozen=True, slots=True)
class Watermark:
    """No later row will have column `col_idx` below `value`."""

    col_idx: int
    type: DataType
    value: object


Message = Union[StreamChunk, Barrier, Watermark]
