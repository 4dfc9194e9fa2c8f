"""The one error hierarchy: every user-visible error carries its PostgreSQL SQLSTATE.

Only the wire layer turns these into ErrorResponse fields. Messages are
lowercase without a trailing period, as PostgreSQL writes them.
"""

from __future__ import annotations


class EddyError(Exception):
    """Base of all errors that reach a client; `sqlstate` is the SQLSTATE code."""

    sqlstate = "XX000"
    severity = "ERROR"

    def __init__(self, message: str, *, detail: str | None = None, hint: str | None = None,
                 position: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail
        self.hint = hint
        self.position = position

    def __str__(self) -> str:
        return self.message


# Class 08: connection exception
class ProtocolViolation(EddyError):
    sqlstate = "08P01"


class ConnectionFailure(EddyError):
    sqlstate = "08006"


class TransactionResolutionUnknown(EddyError):
    """A write's outcome is unknown: the cluster recovered while it was being committed."""

    sqlstate = "08007"


# Class 0A: feature not supported
class FeatureNotSupported(EddyError):
    sqlstate = "0A000"


# Class 22: data exception
class DataException(EddyError):
    sqlstate = "22000"


class StringDataRightTruncation(DataException):
    sqlstate = "22001"


class NumericValueOutOfRange(DataException):
    sqlstate = "22003"


class InvalidDatetimeFormat(DataException):
    sqlstate = "22007"


class DatetimeFieldOverflow(DataException):
    sqlstate = "22008"


class InvalidTimeZoneDisplacementValue(DataException):
    sqlstate = "22009"


class IntervalFieldOverflow(DataException):
    sqlstate = "22015"


class DivisionByZero(DataException):
    sqlstate = "22012"


class InvalidParameterValue(DataException):
    sqlstate = "22023"


class InvalidTextRepresentation(DataException):
    sqlstate = "22P02"


class SubstringError(DataException):
    sqlstate = "22011"


class InvalidEscapeSequence(DataException):
    sqlstate = "22025"


class InvalidArgumentForLogarithm(DataException):
    sqlstate = "2201E"


class InvalidArgumentForPowerFunction(DataException):
    sqlstate = "2201F"


class InvalidBinaryRepresentation(DataException):
    sqlstate = "22P03"


class CharacterNotInRepertoire(DataException):
    sqlstate = "22021"


class BadCopyFileFormat(DataException):
    sqlstate = "22P04"


# Class 23: integrity constraint violation
class NotNullViolation(EddyError):
    sqlstate = "23502"


class UniqueViolation(EddyError):
    sqlstate = "23505"


# Class 25: invalid transaction state
class InvalidTransactionState(EddyError):
    sqlstate = "25000"


class ActiveSqlTransaction(EddyError):
    sqlstate = "25001"


class NoActiveSqlTransaction(EddyError):
    sqlstate = "25P01"


class ReadOnlySqlTransaction(EddyError):
    sqlstate = "25006"


class InFailedSqlTransaction(EddyError):
    sqlstate = "25P02"


# Class 24 / 26 / 34 / 3B: cursors, prepared statements, savepoints
class InvalidCursorState(EddyError):
    sqlstate = "24000"


class InvalidSqlStatementName(EddyError):
    sqlstate = "26000"


class InvalidCursorName(EddyError):
    sqlstate = "34000"


class InvalidSavepointSpecification(EddyError):
    sqlstate = "3B001"


# Class 28: invalid authorization specification
class InvalidAuthorizationSpecification(EddyError):
    sqlstate = "28000"
    severity = "FATAL"


class InvalidPassword(EddyError):
    sqlstate = "28P01"
    severity = "FATAL"


# Class 2B: dependent privilege descriptors still exist
class DependentObjectsStillExist(EddyError):
    sqlstate = "2BP01"


# Class 3D: invalid catalog name
class InvalidCatalogName(EddyError):
    sqlstate = "3D000"
    severity = "FATAL"


# Class 42: syntax error or access rule violation
class SyntaxError_(EddyError):
    """A statement that does not parse (named with an underscore to keep the builtin)."""

    sqlstate = "42601"


class InsufficientPrivilege(EddyError):
    sqlstate = "42501"


class UndefinedColumn(EddyError):
    sqlstate = "42703"


class UndefinedFunction(EddyError):
    sqlstate = "42883"


class AmbiguousFunction(EddyError):
    sqlstate = "42725"


class UndefinedTable(EddyError):
    sqlstate = "42P01"


class UndefinedObject(EddyError):
    sqlstate = "42704"


class DuplicateTable(EddyError):
    sqlstate = "42P07"


class DuplicateObject(EddyError):
    sqlstate = "42710"


class DuplicateColumn(EddyError):
    sqlstate = "42701"


class DuplicateCursor(EddyError):
    sqlstate = "42P03"


class DuplicatePreparedStatement(EddyError):
    sqlstate = "42P05"


class AmbiguousColumn(EddyError):
    sqlstate = "42702"


class GroupingError(EddyError):
    sqlstate = "42803"


class DatatypeMismatch(EddyError):
    sqlstate = "42804"


class CannotCoerce(EddyError):
    sqlstate = "42846"


class InvalidColumnReference(EddyError):
    sqlstate = "42P10"


class InvalidTableDefinition(EddyError):
    sqlstate = "42P16"


class WrongObjectType(EddyError):
    sqlstate = "42809"


class ReservedName(EddyError):
    sqlstate = "42939"


# Class 53 / 54 / 55 / 57: resources, limits, prerequisite state, operator intervention
class OutOfMemory(EddyError):
    sqlstate = "53200"


class ProgramLimitExceeded(EddyError):
    sqlstate = "54000"


class ObjectNotInPrerequisiteState(EddyError):
    sqlstate = "55000"


class ObjectInUse(ObjectNotInPrerequisiteState):
    sqlstate = "55006"


class LockNotAvailable(ObjectNotInPrerequisiteState):
    """Another process holds a lock this one needs (another meta node owns the meta store)."""

    sqlstate = "55P03"


class QueryCanceled(EddyError):
    sqlstate = "57014"


class AdminShutdown(EddyError):
    sqlstate = "57P01"
    severity = "FATAL"


class CannotConnectNow(EddyError):
    """The cluster is recovering and cannot serve the request yet."""

    sqlstate = "57P03"


# Class XX: internal error
class InternalError(EddyError):
    sqlstate = "XX000"


# -- catalog and subquery errors (issue 4) --------------------------------------------
class CardinalityViolation(EddyError):
    sqlstate = "21000"


class InvalidRegularExpression(DataException):
    sqlstate = "2201B"


class NullValueNotAllowed(DataException):
    sqlstate = "22004"


class InvalidSchemaName(EddyError):
    sqlstate = "3F000"
