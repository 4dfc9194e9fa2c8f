"""Project: computes each output column from the input row, a whole column at a time.

Stateless. Ops pass through unchanged; the planner keeps the stream key
among the outputs. An expression error turns that row's value to NULL and
is reported with the view's name; the view keeps running.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from common.chunk import StreamChunk
from common.message import Message
from common.stream_plan import ProjectNode
from compute.expr import ErrorMode, EvalContext, evaluate
from compute.stream.executor import ActorContext, Executor


def project_chunk(chunk: StreamChunk, node: ProjectNode, ctx: EvalContext) -> StreamChunk:
    return chunk.with_columns([evaluate(e, chunk.data, ctx) for e in node.exprs])


class ProjectExecutor:
    def __init__(self, input: Executor, node: ProjectNode, actor: ActorContext) -> None:
        self.input = input
        self.node = node
        self.types = node.types
        self._eval = EvalContext(mode=ErrorMode.NULL, on_error=actor.report_expression_error)

    async def execute(self) -> AsyncIterator[Message]:
        async for msg in self.input.execute():
            if isinstance(msg, StreamChunk):
                yield project_chunk(msg, self.node, self._eval)
            else:
                yield msg
