"""The statements the fake wire-protocol session answers (see pgwire_fakes), each a regex and a canned run.

Statements (case-insensitive, one per regex below): `SELECT <int>`, `SELECT *
FROM all_types` (every type, with extremes and NULLs), `SELECT * FROM
generate_series(1, N)` (N may be `$1`; rows arrive in batches of 3),
`SELECT $1::type, $2, ...` (echoes its parameters), `SELECT pg_sleep(s)`
(waits until cancelled), `SET application_name ...`, `SHOW application_name`,
BEGIN/COMMIT/ROLLBACK, CREATE TABLE, INSERT, UPDATE, DELETE, `DROP TABLE IF
EXISTS x` (a notice), `COPY t FROM STDIN` (collects the data; table `bad`
fails midway), `COPY t3 TO STDOUT [WITH CSV HEADER]` (three rows), `DECLARE c
[BINARY] CURSOR FOR ...` (a cursor of two columns), and errors: `SELECT * FROM missing` (42P01 with a
position), `SELECT 1/0` (22012), `SELECT hint()` (23505 with detail and hint),
`SELECT crash()` (a non-Eddy exception), `SELECT fail_midway()` (rows, then
22012), `SELECT fatal()` (FATAL 57P01). Anything else is a 42601 syntax error.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

import pyarrow as pa

from common import types as T
from common.errors import (
    AdminShutdown,
    BadCopyFileFormat,
    DivisionByZero,
    EddyError,
    SyntaxError_,
    UndefinedTable,
    UniqueViolation,
)
from common.types import DataType
from frontend.pgwire.session_api import (
    CopyIn,
    CopyOut,
    CursorInfo,
    PreparedStatement,
    QueryResult,
    ResultColumn,
)

if TYPE_CHECKING:
    from tests.unit.frontend.pgwire.pgwire_fakes import FakeSession

UTC = datetime.UTC
ALL_TYPES: list[tuple[str, DataType]] = [
    ("c_int2", T.SMALLINT), ("c_int4", T.INTEGER), ("c_int8", T.BIGINT), ("c_float4", T.REAL),
    ("c_float8", T.DOUBLE), ("c_numeric", T.NUMERIC), ("c_bool", T.BOOLEAN), ("c_varchar", T.VARCHAR),
    ("c_date", T.DATE), ("c_timestamp", T.TIMESTAMP), ("c_timestamptz", T.TIMESTAMPTZ), ("c_interval", T.INTERVAL),
]
ALL_TYPES_TABLE_OID = 16384
ALL_TYPES_ROWS: list[tuple[object, ...]] = [
    (1, 2, 3, 1.5, 2.25, Decimal("12.34"), True, "héllo", datetime.date(2024, 1, 2),
     datetime.datetime(2024, 1, 2, 3, 4, 5, 123456), datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
     pa.MonthDayNano((1, 2, (3 * 3600 + 4 * 60 + 5) * 10**9))),
    (-32768, 2147483647, -9223372036854775808, -2.5, -1234.5678, Decimal("-0.0001"), False, "",
     datetime.date(1999, 12, 31), datetime.datetime(1970, 1, 1),
     datetime.datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), pa.MonthDayNano((0, -1, 10**9))),
    (None,) * 12,
]
# The same rows as PostgreSQL literals, to ask the real server for its rendering.
ALL_TYPES_PG_SQL = (
    "SELECT * FROM (VALUES "
    "(1::int2, 2::int4, 3::int8, 1.5::float4, 2.25::float8, 12.34::numeric, true, 'héllo'::varchar, "
    "'2024-01-02'::date, '2024-01-02 03:04:05.123456'::timestamp, '2024-01-02 03:04:05+00'::timestamptz, "
    "'1 mon 2 days 03:04:05'::interval), "
    "(-32768, 2147483647, -9223372036854775808, -2.5, -1234.5678, -0.0001, false, '', '1999-12-31', "
    "'1970-01-01 00:00:00', '1999-12-31 23:59:59.999999+00', '-1 days +00:00:01'), "
    "(NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)) AS t")

class UndefinedParameter(EddyError):
    sqlstate = "42P02"


Runner = Callable[["FakeSession", list[object]], Awaitable[QueryResult]]


@dataclass(frozen=True, slots=True)
class Canned:
    run: Runner
    ends_transaction: bool = False


def _batches(batches: list[pa.RecordBatch]) -> AsyncIterator[pa.RecordBatch]:
    async def gen() -> AsyncIterator[pa.RecordBatch]:
        for b in batches:
            yield b
    return gen()


def _rows(columns: list[ResultColumn], rows: list[tuple[object, ...]]) -> QueryResult:
    arrays = [pa.array([r[i] for r in rows], c.type.arrow) for i, c in enumerate(columns)]
    batch = pa.RecordBatch.from_arrays(arrays, [c.name for c in columns])
    return QueryResult("SELECT", columns, _batches([batch]))


def _const(result: Callable[[list[object]], QueryResult]) -> Runner:
    async def run(session: FakeSession, params: list[object]) -> QueryResult:
        return result(params)
    return run


def _raise(err: Exception) -> Runner:
    async def run(session: FakeSession, params: list[object]) -> QueryResult:
        raise err
    return run


def _series(n_param: str) -> Runner:
    async def run(session: FakeSession, params: list[object]) -> QueryResult:
        n = int(params[0]) if n_param.startswith("$") else int(n_param)  # type: ignore[call-overload]
        batches = [pa.record_batch([pa.array(range(i, min(i + 3, n + 1)), pa.int64())], ["generate_series"])
                   for i in range(1, n + 1, 3)]
        return QueryResult("SELECT", [ResultColumn("generate_series", T.BIGINT)], _batches(batches))
    return run


async def _fail_midway(session: FakeSession, params: list[object]) -> QueryResult:
    async def gen() -> AsyncIterator[pa.RecordBatch]:
        yield pa.record_batch([pa.array([1, 2], pa.int32())], ["x"])
        raise DivisionByZero("division by zero")
    return QueryResult("SELECT", [ResultColumn("x", T.INTEGER)], gen())


def _transaction(command: str, status: str) -> Canned:
    async def run(session: FakeSession, params: list[object]) -> QueryResult:
        session.status = status
        return QueryResult(command)
    return Canned(run, ends_transaction=status == "I")


def split_statements(sql: str) -> list[str]:
    return [s.strip() for s in re.findall(r"(?:[^;']|'[^']*')+", sql) if s.strip()]


_PARAM = re.compile(r"\$(\d+)(?:::(\w+))?")
_CANNED: list[tuple[re.Pattern[str], Callable[[re.Match[str]], Canned]]] = []


def canned(pattern: str) -> Callable[[Callable[[re.Match[str]], Canned]], Callable[[re.Match[str]], Canned]]:
    def register(fn: Callable[[re.Match[str]], Canned]) -> Callable[[re.Match[str]], Canned]:
        _CANNED.append((re.compile(pattern, re.IGNORECASE | re.DOTALL), fn))
        return fn
    return register


@canned(r"select (-?\d+)")
def _select_int(m: re.Match[str]) -> Canned:
    return Canned(_const(lambda _: _rows([ResultColumn("?column?", T.INTEGER)], [(int(m[1]),)])))


@canned(r"select \* from all_types")
def _all_types(m: re.Match[str]) -> Canned:
    cols = [ResultColumn(n, t, ALL_TYPES_TABLE_OID, i + 1) for i, (n, t) in enumerate(ALL_TYPES)]
    return Canned(_const(lambda _: _rows(cols, ALL_TYPES_ROWS)))


@canned(r"select \* from generate_series\(1,\s*(\$1|\d+)\)")
def _generate_series(m: re.Match[str]) -> Canned:
    return Canned(_series(m[1]))


@canned(r"select pg_sleep\((\d+)\)")
def _sleep(m: re.Match[str]) -> Canned:
    async def run(session: FakeSession, params: list[object]) -> QueryResult:
        await session.sleep(float(m[1]))
        return _rows([ResultColumn("pg_sleep", T.VARCHAR)], [("",)])
    return Canned(run)


@canned(r"set application_name\s*(?:=|to)\s*'?([^']*)'?")
def _set_application_name(m: re.Match[str]) -> Canned:
    async def run(session: FakeSession, params: list[object]) -> QueryResult:
        session.set_parameter("application_name", m[1])
        return QueryResult("SET")
    return Canned(run)


@canned(r"show application_name")
def _show_application_name(m: re.Match[str]) -> Canned:
    async def run(session: FakeSession, params: list[object]) -> QueryResult:
        return _rows([ResultColumn("application_name", T.VARCHAR)], [(session.parameters["application_name"],)])
    return Canned(run)


@canned(r"select version\(\)")
def _version(m: re.Match[str]) -> Canned:
    return Canned(_const(lambda _: _rows([ResultColumn("version", T.VARCHAR)], [("PostgreSQL 13.14.0-Eddy",)])))


@canned(r"(begin|start transaction)\b.*")
def _begin(m: re.Match[str]) -> Canned:
    return _transaction("BEGIN", "T")


@canned(r"(commit|end)")
def _commit(m: re.Match[str]) -> Canned:
    return _transaction("COMMIT", "I")


@canned(r"rollback")
def _rollback(m: re.Match[str]) -> Canned:
    return _transaction("ROLLBACK", "I")


@canned(r"create table .*")
def _create_table(m: re.Match[str]) -> Canned:
    return Canned(_const(lambda _: QueryResult("CREATE TABLE")))


@canned(r"insert into \w+ .*values\s*(.*)")
def _insert(m: re.Match[str]) -> Canned:
    return Canned(_const(lambda _: QueryResult("INSERT", row_count=m[1].count("("))))


@canned(r"update .*")
def _update(m: re.Match[str]) -> Canned:
    return Canned(_const(lambda _: QueryResult("UPDATE", row_count=2)))


@canned(r"delete .*")
def _delete(m: re.Match[str]) -> Canned:
    return Canned(_const(lambda _: QueryResult("DELETE", row_count=3)))


@canned(r"drop table if exists (\w+)")
def _drop_table(m: re.Match[str]) -> Canned:
    notice = f'table "{m[1]}" does not exist, skipping'
    return Canned(_const(lambda _: QueryResult("DROP TABLE", notices=[notice])))


@canned(r"copy (\w+) from stdin")
def _copy_in(m: re.Match[str]) -> Canned:
    """Collects the data into `factory.copied`; loads one row per line; table `bad` fails on its second chunk."""
    async def run(session: FakeSession, params: list[object]) -> QueryResult:
        async def load(data: AsyncIterator[bytes]) -> int:
            received = bytearray()
            chunks = 0
            async for chunk in data:
                chunks += 1
                if m[1] == "bad" and chunks == 2:
                    raise BadCopyFileFormat("extra data after last expected column")
                received += chunk
            session._factory.copied.append(bytes(received))
            return received.count(b"\n")
        return QueryResult("COPY", copy_in=CopyIn(2, load))
    return Canned(run)


@canned(r"copy (\w+) to stdout( with csv header)?")
def _copy_out(m: re.Match[str]) -> Canned:
    """Rows "1\ta", "2\tb", ... up to the number in the table name (`t3`: three rows), two per batch."""
    n = int(re.sub(r"\D", "", m[1]) or 0)
    lines = [f"{i}\t{chr(96 + i)}\n" for i in range(1, n + 1)]

    async def rows() -> AsyncIterator[pa.Array]:
        for i in range(0, n, 2):
            yield pa.array(lines[i:i + 2], pa.string())

    async def run(session: FakeSession, params: list[object]) -> QueryResult:
        return QueryResult("COPY", copy_out=CopyOut(2, rows(), b"id,name\n" if m[2] else None))
    return Canned(run)


@canned(r"declare (\w+) (binary )?cursor for .*")
def _declare(m: re.Match[str]) -> Canned:
    async def run(session: FakeSession, params: list[object]) -> QueryResult:
        session.cursors[m[1]] = CursorInfo((ResultColumn("x", T.INTEGER), ResultColumn("y", T.VARCHAR)),
                                           binary=bool(m[2]))
        return QueryResult("DECLARE CURSOR")
    return Canned(run)


@canned(r"select \* from missing")
def _missing(m: re.Match[str]) -> Canned:
    return Canned(_raise(UndefinedTable('relation "missing" does not exist', position=15)))


@canned(r"select 1/0")
def _division_by_zero(m: re.Match[str]) -> Canned:
    return Canned(_raise(DivisionByZero("division by zero")))


@canned(r"select hint\(\)")
def _hint(m: re.Match[str]) -> Canned:
    return Canned(_raise(UniqueViolation('duplicate key value violates unique constraint "t_pkey"',
                                         detail="Key (id)=(1) already exists.", hint="Pick another id.")))


@canned(r"select crash\(\)")
def _crash(m: re.Match[str]) -> Canned:
    return Canned(_raise(RuntimeError("secret internals")))


@canned(r"select fail_midway\(\)")
def _midway(m: re.Match[str]) -> Canned:
    return Canned(_fail_midway)


@canned(r"select fatal\(\)")
def _fatal(m: re.Match[str]) -> Canned:
    return Canned(_raise(AdminShutdown("terminating connection due to administrator command")))


def _echo_params(sql: str, declared: list[DataType | None]) -> PreparedStatement | None:
    """`SELECT $1::type, $2, ...`: parameter and column types from the casts, declared types winning."""
    body = re.fullmatch(r"select\s+(.*)", sql, re.IGNORECASE | re.DOTALL)
    if body is None:
        return None
    items = [s.strip() for s in body[1].split(",")]
    matches = [_PARAM.fullmatch(s) for s in items]
    if not items or not all(matches):
        return None
    n = max(int(m[1]) for m in matches if m)
    param_types: list[DataType] = [T.VARCHAR] * n
    columns = []
    for m in matches:
        assert m is not None
        cast = T.TYPE_ALIASES[m[2].lower()] if m[2] else None
        i = int(m[1]) - 1
        param_types[i] = (declared[i] if i < len(declared) else None) or cast or T.VARCHAR
        columns.append((i, ResultColumn(m[2].lower() if m[2] else "?column?", cast or param_types[i])))
    result_columns = [c for _, c in columns]

    async def run(session: FakeSession, params: list[object]) -> QueryResult:
        return _rows(result_columns, [tuple(params[i] for i, _ in columns)])
    return PreparedStatement(sql, tuple(param_types), tuple(result_columns), Canned(run))


def plan(sql: str, declared: list[DataType | None]) -> PreparedStatement:
    sql = sql.strip().rstrip(";").strip()
    echo = _echo_params(sql, declared)
    if echo is not None:
        return echo
    for pattern, build in _CANNED:
        m = pattern.fullmatch(sql)
        if m:
            nparams = len({p[1] for p in _PARAM.finditer(sql)})
            types = tuple((declared[i] if i < len(declared) else None) or T.BIGINT for i in range(nparams))
            return PreparedStatement(sql, types, _columns_of(sql), build(m))
    word = sql.split()[0] if sql.split() else sql
    raise SyntaxError_(f'syntax error at or near "{word}"', position=1)


def _columns_of(sql: str) -> tuple[ResultColumn, ...] | None:
    """What Describe reports, without running the statement."""
    lowered = sql.lower()
    if lowered.startswith("select * from all_types"):
        return tuple(ResultColumn(n, t, ALL_TYPES_TABLE_OID, i + 1) for i, (n, t) in enumerate(ALL_TYPES))
    if "generate_series" in lowered:
        return (ResultColumn("generate_series", T.BIGINT),)
    if lowered.startswith(("select version", "select pg_sleep", "show application_name")):
        return (ResultColumn(lowered.split()[1].split("(")[0], T.VARCHAR),)
    if lowered.startswith("select fail_midway"):
        return (ResultColumn("x", T.INTEGER),)
    if lowered.startswith("select"):
        return (ResultColumn("?column?", T.INTEGER),)
    return None


