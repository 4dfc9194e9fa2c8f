"""Transaction blocks: BEGIN ... COMMIT or ROLLBACK, savepoints, SET TRANSACTION, and the state a block keeps.

What a block means (README, "What to expect"):

- Reads see one snapshot: the committed epoch when the block's first
  statement that reads ran, pinned in meta until the block ends, so that
  compaction keeps what it sees. Every isolation level gets this.
- INSERT, UPDATE, DELETE and COPY FROM compute their changes at once,
  against that snapshot (so errors and row counts come at once), and the
  block keeps them. COMMIT applies them in order, each statement's changes
  as one DML transaction, and returns once they are committed (an implicit
  FLUSH). ROLLBACK discards them; ROLLBACK TO SAVEPOINT discards those made
  after the savepoint. Reads inside the block do not see its own pending
  writes.
- DDL inside a block takes effect at once; ROLLBACK does not undo it.
- After an error the block is failed ('E'): every statement but ROLLBACK,
  ROLLBACK TO SAVEPOINT and COMMIT (which then rolls back) fails with 25P02.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from common.batch_plan import BatchDml
from common.errors import (
    ActiveSqlTransaction,
    FeatureNotSupported,
    InvalidSavepointSpecification,
    NoActiveSqlTransaction,
    SyntaxError_,
)
from frontend.pgwire.session_api import QueryResult
from frontend.sql.dialect import TransactionControl

if TYPE_CHECKING:
    from frontend.session import Session

ISOLATION_LEVELS = ("serializable", "repeatable read", "read committed", "read uncommitted")


@dataclass(frozen=True, slots=True)
class Savepoint:
    name: str
    writes: int
    """How many of the block's writes came before it."""
    cursors: frozenset[str]
    """The cursors open when it was set."""


@dataclass(frozen=True, slots=True)
class TransactionModes:
    isolation: str | None = None
    read_only: bool | None = None


@dataclass
class Transaction:
    """An open transaction block."""

    isolation: str
    read_only: bool
    failed: bool = False
    snapshot: tuple[int, int] | None = None
    """(pin id, epoch) once a statement has read."""
    writes: list[BatchDml] = field(default_factory=list)
    """Changes to apply at COMMIT, in order: DML plans whose input is the computed rows."""
    savepoints: list[Savepoint] = field(default_factory=list)

    def savepoint_index(self, name: str) -> int:
        for i in range(len(self.savepoints) - 1, -1, -1):
            if self.savepoints[i].name == name:
                return i
        raise InvalidSavepointSpecification(f'savepoint "{name}" does not exist')


def parse_modes(modes: str) -> TransactionModes:
    """`ISOLATION LEVEL x`, `READ ONLY | READ WRITE`, `[NOT] DEFERRABLE`, separated by commas or spaces."""
    words = modes.replace(",", " ").lower().split()
    isolation: str | None = None
    read_only: bool | None = None
    i = 0
    while i < len(words):
        if words[i:i + 2] == ["isolation", "level"]:
            rest = " ".join(words[i + 2:])
            level = next((lv for lv in ISOLATION_LEVELS if rest.startswith(lv)), None)
            if level is None:
                raise SyntaxError_(f'syntax error at or near "{words[i + 2] if i + 2 < len(words) else ""}"')
            isolation = level
            i += 2 + len(level.split())
        elif words[i:i + 2] in (["read", "only"], ["read", "write"]):
            read_only = words[i + 1] == "only"
            i += 2
        elif words[i] == "deferrable":
            i += 1
        elif words[i:i + 2] == ["not", "deferrable"]:
            i += 2
        else:
            raise SyntaxError_(f'syntax error at or near "{words[i]}"')
    return TransactionModes(isolation, read_only)


def new_transaction(session: Session, modes: TransactionModes) -> Transaction:
    isolation = modes.isolation or session.vars.get("default_transaction_isolation")
    read_only = modes.read_only if modes.read_only is not None else (
        session.vars.get("default_transaction_read_only") == "on")
    return Transaction(isolation, read_only)


async def transaction(session: Session, tree: TransactionControl) -> QueryResult:
    kind = tree.name
    modes = str(tree.args.get("modes") or "")
    if kind == "begin":
        return _begin(session, parse_modes(modes))
    if kind == "commit":
        return await _commit(session)
    if kind == "rollback":
        return await _rollback(session)
    if kind == "set_transaction":
        return _set_transaction(session, parse_modes(modes))
    if kind == "set_session_characteristics":
        parsed = parse_modes(modes)
        if parsed.isolation is not None:
            session.vars.set("default_transaction_isolation", parsed.isolation)
        if parsed.read_only is not None:
            session.vars.set("default_transaction_read_only", "on" if parsed.read_only else "off")
        return QueryResult("SET")
    name = str(tree.args.get("name") or "").strip()
    if kind == "savepoint":
        return await _savepoint(session, name)
    if kind == "release":
        return _release(session, name)
    if kind == "rollback_to":
        return await _rollback_to(session, name)
    raise FeatureNotSupported(f"{kind} is not supported")


def _begin(session: Session, modes: TransactionModes) -> QueryResult:
    if session.txn is not None:
        return QueryResult("BEGIN", notices=["there is already a transaction in progress"])
    session.txn = new_transaction(session, modes)
    return QueryResult("BEGIN")


async def _commit(session: Session) -> QueryResult:
    txn = session.txn
    if txn is None:
        return QueryResult("COMMIT", notices=["there is no transaction in progress"])
    if txn.failed:
        await session.end_transaction(committed=False)
        return QueryResult("ROLLBACK")
    try:
        await session.apply_writes(txn.writes)
    except BaseException:
        await session.end_transaction(committed=False)
        raise
    await session.end_transaction(committed=True)
    return QueryResult("COMMIT")


async def _rollback(session: Session) -> QueryResult:
    if session.txn is None:
        return QueryResult("ROLLBACK", notices=["there is no transaction in progress"])
    await session.end_transaction(committed=False)
    return QueryResult("ROLLBACK")


def _set_transaction(session: Session, modes: TransactionModes) -> QueryResult:
    txn = session.txn
    if txn is None:
        return QueryResult("SET", notices=["SET TRANSACTION can only be used in transaction blocks"])
    if modes.isolation is not None:
        if txn.snapshot is not None and modes.isolation != txn.isolation:
            raise ActiveSqlTransaction("SET TRANSACTION ISOLATION LEVEL must be called before any query")
        txn.isolation = modes.isolation
    if modes.read_only is not None:
        if not modes.read_only and txn.read_only and txn.snapshot is not None:
            raise ActiveSqlTransaction("transaction read-write mode must be set before any query")
        txn.read_only = modes.read_only
    return QueryResult("SET")


def _block(session: Session, what: str) -> Transaction:
    if session.txn is None:
        raise NoActiveSqlTransaction(f"{what} can only be used in transaction blocks")
    return session.txn


async def _savepoint(session: Session, name: str) -> QueryResult:
    txn = _block(session, "SAVEPOINT")
    txn.savepoints.append(Savepoint(name, len(txn.writes), frozenset(session.cursors)))
    return QueryResult("SAVEPOINT")


def _release(session: Session, name: str) -> QueryResult:
    txn = _block(session, "RELEASE SAVEPOINT")
    del txn.savepoints[txn.savepoint_index(name):]
    return QueryResult("RELEASE")


async def _rollback_to(session: Session, name: str) -> QueryResult:
    txn = _block(session, "ROLLBACK TO SAVEPOINT")
    i = txn.savepoint_index(name)
    point = txn.savepoints[i]
    del txn.savepoints[i + 1:]
    del txn.writes[point.writes:]
    for cursor_name in set(session.cursors) - point.cursors:
        await session.close_cursor(cursor_name)
    txn.failed = False
    return QueryResult("ROLLBACK")
