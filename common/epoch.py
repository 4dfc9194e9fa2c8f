"""Epochs: 64-bit, strictly increasing logical times derived from the wall clock.

An epoch is milliseconds since the Unix epoch shifted left by 16 bits. The
low 16 bits stay free, as in RisingWave, for sub-epoch sequencing. A
barrier carries an `EpochPair`: data written between two barriers carries
the `prev` epoch of the barrier that closes it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

PHYSICAL_SHIFT = 16
EPOCH_UNIT = 1 << PHYSICAL_SHIFT
INVALID_EPOCH = 0
MAX_EPOCH = (1 << 63) - 1


def now_epoch() -> int:
    return int(time.time() * 1000) << PHYSICAL_SHIFT


def next_epoch(prev: int) -> int:
    """The next epoch after `prev`: the wall clock, or prev + 1 ms if the clock stepped back.

    Never spins waiting for the clock (RisingWave does; a clock stepped back
    by a minute would stall barriers for a minute).
    """
    return max(now_epoch(), prev + EPOCH_UNIT)


def epoch_to_ms(epoch: int) -> int:
    return epoch >> PHYSICAL_SHIFT


@dataclass(frozen=True, slots=True)
class EpochPair:
    """`curr` is the epoch a barrier opens; `prev` the one it closes."""

    curr: int
    prev: int

    @staticmethod
    def first(curr: int, prev: int = INVALID_EPOCH) -> EpochPair:
        return EpochPair(curr, prev)

    def __str__(self) -> str:
        return f"({self.prev}->{self.curr})"
