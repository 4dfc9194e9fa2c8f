"""How an expression is evaluated: what to do with a failing row, session formats, the statement time."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable
from dataclasses import dataclass, field

from common.errors import EddyError
from common.pgtext import FormatOptions


class ErrorMode(enum.Enum):
    """RAISE fails the whole evaluation (batch queries); NULL turns only the failing rows into NULL (streaming)."""

    RAISE = "raise"
    NULL = "null"


@dataclass(slots=True)
class EvalContext:
    """Settings of one evaluation.

    `on_error(error, rows)` is called in ErrorMode.NULL once per failing
    function or cast with the first error and how many rows it nulled out.
    `now` is the statement's time for now()/current_date (the current time
    when unset). `params` holds the values of the correlation parameters a
    batch apply bound for the subquery being evaluated (`OuterRef`).
    """

    mode: ErrorMode = ErrorMode.RAISE
    format: FormatOptions = field(default_factory=FormatOptions)
    on_error: Callable[[EddyError, int], None] | None = None
    now: dt.datetime | None = None
    params: dict[int, object] = field(default_factory=dict)

    def probe(self) -> EvalContext:
        """A copy that raises instead of nulling rows, used to try an eager evaluation first."""
        return EvalContext(ErrorMode.RAISE, self.format, None, self.now, self.params)

    def with_params(self, params: dict[int, object]) -> EvalContext:
        """A copy that also binds `params` (an apply running its subquery for one outer binding)."""
        return EvalContext(self.mode, self.format, self.on_error, self.now, {**self.params, **params})
