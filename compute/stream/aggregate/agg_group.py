"""One group's aggregate state: applying deltas, and the output row it implies.

The state row stored in the result state table is
`group key | row count | each agg's agg_state_types columns`.
"""

from __future__ import annotations

import decimal
from collections.abc import Sequence
from decimal import Decimal
from typing import cast

from common.expr import AggCall, AggKind, agg_state_types
from common.types import TypeName

# Decimal arithmetic on sums must not round at the default 28 digits.
DECIMAL_CONTEXT = decimal.Context(prec=80)


class AggLayout:
    """Where each agg's state lives in a state row, and how to turn state into output."""

    def __init__(self, num_keys: int, aggs: Sequence[AggCall], retractable: Sequence[bool] = ()) -> None:
        self.num_keys = num_keys
        self.aggs = tuple(aggs)
        # MIN/MAX aggs whose values live in a value table (their deltas come as multiplicity changes)
        self.retractable = tuple(retractable) or (False,) * len(self.aggs)
        self.offsets: list[int] = []
        pos = 0
        for agg in self.aggs:
            self.offsets.append(pos)
            pos += len(agg_state_types(agg))
        self.width = pos
        self.quantum: list[Decimal | None] = [
            Decimal(1).scaleb(-agg.type.effective_scale) if agg.type.name is TypeName.NUMERIC else None
            for agg in self.aggs
        ]

    def zero_states(self) -> list[object]:
        out: list[object] = []
        for agg in self.aggs:
            if agg.kind in (AggKind.COUNT_STAR, AggKind.COUNT):
                out.append(0)
            elif agg.kind in (AggKind.SUM, AggKind.AVG):
                out.extend((None, 0))
            else:
                out.append(None)
        return out

    def output(self, states: Sequence[object]) -> list[object]:
        out: list[object] = []
        for agg, off, q in zip(self.aggs, self.offsets, self.quantum):
            if agg.kind in (AggKind.COUNT_STAR, AggKind.COUNT, AggKind.MIN, AggKind.MAX):
                out.append(states[off])
                continue
            total, count = states[off], states[off + 1]
            if not count:
                out.append(None)
            elif agg.kind is AggKind.SUM:
                out.append(cast(Decimal, total).quantize(q, context=DECIMAL_CONTEXT) if q is not None else total)
            elif q is not None:
                out.append((DECIMAL_CONTEXT.divide(Decimal(total), Decimal(count)))  # type: ignore[arg-type]
                           .quantize(q, context=DECIMAL_CONTEXT))
            else:
                out.append(total / count)  # type: ignore[operator]
        return out


class AggGroup:
    """A group's live state. `prev_output` is what was last emitted (None: no row)."""

    __slots__ = ("key", "vnode", "row_count", "states", "prev_output", "dirty", "existed", "recompute")

    def __init__(self, key: tuple[object, ...], vnode: int, row_count: int, states: list[object],
                 prev_output: tuple[object, ...] | None, existed: bool) -> None:
        self.key = key
        self.vnode = vnode
        self.row_count = row_count
        self.states = states
        self.prev_output = prev_output
        self.dirty = False
        self.existed = existed
        self.recompute: set[int] = set()

    def apply(self, layout: AggLayout, delta: dict[str, object], retract_updates: dict[int, list[tuple[object, int]]]
              ) -> None:
        """Fold one chunk's deltas for this group into the state."""
        self.row_count += delta["rows"]  # type: ignore[operator]
        s = self.states
        for i, (agg, off) in enumerate(zip(layout.aggs, layout.offsets)):
            kind = agg.kind
            if kind is AggKind.COUNT_STAR:
                s[off] += delta["rows"]  # type: ignore[operator]
            elif kind is AggKind.COUNT:
                s[off] += delta[f"a{i}_n"]  # type: ignore[operator]
            elif kind in (AggKind.SUM, AggKind.AVG):
                ds, dn = delta[f"a{i}_s"], delta[f"a{i}_n"]
                count = s[off + 1] + dn  # type: ignore[operator]
                if count == 0:
                    s[off] = None  # every value retracted: restart exactly, no float residue
                elif ds is not None:
                    s[off] = ds if s[off] is None else _add(s[off], ds)
                s[off + 1] = count
            elif i in retract_updates:
                self._apply_minmax(i, kind, off, retract_updates[i])
            elif layout.retractable[i]:
                continue  # no value of this group changed for this agg
            else:
                v = delta.get(f"a{i}_v")
                if v is not None and (s[off] is None or (v < s[off] if kind is AggKind.MIN else v > s[off])):  # type: ignore[operator]
                    s[off] = v

    def _apply_minmax(self, i: int, kind: AggKind, off: int, changes: list[tuple[object, int]]) -> None:
        cur = self.states[off]
        for value, n in changes:
            if n > 0:
                if cur is None or (value < cur if kind is AggKind.MIN else value > cur):  # type: ignore[operator]
                    cur = value
            elif value == cur:
                self.recompute.add(i)  # a copy of the extreme left: look in the value table
        self.states[off] = cur

    def state_row(self) -> tuple[object, ...]:
        return (*self.key, self.row_count, *self.states)


def _add(a: object, b: object) -> object:
    if isinstance(a, Decimal):
        return DECIMAL_CONTEXT.add(a, b)  # type: ignore[arg-type]
    return a + b  # type: ignore[operator]
