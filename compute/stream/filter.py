"""Filter: keeps the rows whose predicate is true (NULL counts as false).

Stateless. When only one half of an update passes, the pair becomes a
plain DELETE (old row passed) or INSERT (new row passed), so downstream
never sees half an update.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import numpy as np

from common.chunk import Op, StreamChunk
from common.message import Message
from common.stream_plan import FilterNode
from compute.expr import ErrorMode, EvalContext, evaluate_predicate
from compute.stream.executor import ActorContext, Executor


def filter_chunk(chunk: StreamChunk, mask: np.ndarray) -> StreamChunk | None:
    if mask.all():
        return chunk
    if not mask.any():
        return None
    ops = chunk.ops_numpy()
    ud = np.flatnonzero(ops[:-1] == Op.UPDATE_DELETE)
    if len(ud):
        new_ops = ops.copy()
        keep_old, keep_new = mask[ud], mask[ud + 1]
        new_ops[ud[keep_old & ~keep_new]] = Op.DELETE
        new_ops[ud[~keep_old & keep_new] + 1] = Op.INSERT
        chunk = chunk.with_ops(new_ops)
    return chunk.filter(mask)


class FilterExecutor:
    def __init__(self, input: Executor, node: FilterNode, actor: ActorContext) -> None:
        self.input = input
        self.node = node
        self.types = node.types
        self._eval = EvalContext(mode=ErrorMode.NULL, on_error=actor.report_expression_error)

    async def execute(self) -> AsyncIterator[Message]:
        async for msg in self.input.execute():
            if isinstance(msg, StreamChunk):
                mask = evaluate_predicate(self.node.predicate, msg.data, self._eval)
                out = filter_chunk(msg, mask.to_numpy(zero_copy_only=False).astype(bool))
                if out is not None:
                    yield out
            else:
                yield msg
