"""Transaction modes as BEGIN, START TRANSACTION and SET TRANSACTION spell them, and savepoint lookup."""

from __future__ import annotations

import pytest

from common.errors import InvalidSavepointSpecification, SyntaxError_
from frontend.handlers.transaction import Savepoint, Transaction, TransactionModes, parse_modes


@pytest.mark.parametrize(("modes", "expected"), [
    ("", TransactionModes()),
    ("isolation level read committed", TransactionModes("read committed")),
    ("ISOLATION LEVEL SERIALIZABLE, READ ONLY", TransactionModes("serializable", True)),
    ("read write isolation level repeatable read", TransactionModes("repeatable read", False)),
    ("read only, deferrable", TransactionModes(None, True)),
    ("not deferrable isolation level read uncommitted", TransactionModes("read uncommitted")),
])
def test_modes(modes: str, expected: TransactionModes) -> None:
    assert parse_modes(modes) == expected


@pytest.mark.parametrize("modes", ["isolation level chaos", "read sometimes", "isolation", "whatever"])
def test_bad_modes_are_syntax_errors(modes: str) -> None:
    with pytest.raises(SyntaxError_):
        parse_modes(modes)


def test_the_newest_savepoint_of_a_name_wins() -> None:
    txn = Transaction("read committed", False)
    txn.savepoints = [Savepoint("a", 0, frozenset()), Savepoint("b", 1, frozenset()), Savepoint("a", 2, frozenset())]
    assert txn.savepoint_index("a") == 2
    assert txn.savepoint_index("b") == 1
    with pytest.raises(InvalidSavepointSpecification, match='savepoint "c" does not exist'):
        txn.savepoint_index("c")
