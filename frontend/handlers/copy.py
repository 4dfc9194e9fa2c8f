"""COPY FROM STDIN and COPY TO STDOUT, in the text and CSV formats.

COPY FROM reads the client's data in batches of whole lines (about 8 MiB
each, copy_reader.py) and inserts each batch as one DML transaction, so a
file of any size loads with bounded memory; an error stops the load, and
the batches before it stay loaded (inside a transaction block they are
kept for COMMIT like any other write). Values are parsed a column at a
time by `common.pgtext.parse_array`, with PostgreSQL's input rules.

COPY TO runs the query (or reads the table) at the session's snapshot and
formats each result batch a column at a time. Files and programs on the
server are not supported: psql's `\\copy` does the same through STDIN and
STDOUT.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING

import pyarrow as pa
from sqlglot import exp

from common.batch_plan import BatchArrow, BatchDml, DmlKind
from common.catalog import Relation, RelationKind
from common.errors import (
    DuplicateColumn,
    FeatureNotSupported,
    NotNullViolation,
    ReadOnlySqlTransaction,
    SyntaxError_,
    UndefinedColumn,
    UndefinedTable,
    WrongObjectType,
)
from common.pgtext import parse_array
from common.types import BIGINT
from frontend.handlers import query
from frontend.handlers.copy_format import CopyFormat, copy_format, header_line, write_rows
from frontend.handlers.copy_reader import CopyReader
from frontend.handlers.cursor import QUERY_TYPES
from frontend.pgwire.session_api import CopyIn, CopyOut, QueryResult
from frontend.sql.commands import CopyStatement
from frontend.sql.parser import parse_one

if TYPE_CHECKING:
    from frontend.session import Session


async def copy(session: Session, tree: CopyStatement) -> QueryResult:
    to = bool(tree.args.get("to"))
    if tree.args.get("target") != "stdio":
        raise FeatureNotSupported(f"COPY {'to' if to else 'from'} a file or program is not supported",
                                  hint=f"Use COPY ... {'TO STDOUT' if to else 'FROM STDIN'} (psql: \\copy).")
    fmt = copy_format(tree.args.get("options") or {}, to=to)
    if to:
        return _copy_to(session, tree, fmt)
    return _copy_from(session, tree, fmt)


def _relation(session: Session, tree: CopyStatement) -> Relation:
    name = str(tree.name)
    schema = tree.args.get("db")
    rel = session.lookup(name, schema)
    if rel is None:
        raise UndefinedTable(f'relation "{name if schema is None else f"{schema}.{name}"}" does not exist')
    return rel


def _columns(rel: Relation, names: list[str] | None) -> list[str]:
    visible = [c.name for c in rel.columns if not c.hidden]
    if names is None:
        return visible
    for n in names:
        if n not in visible:
            raise UndefinedColumn(f'column "{n}" of relation "{rel.name}" does not exist')
    if len(set(names)) != len(names):
        raise DuplicateColumn(f'column "{next(n for n in names if names.count(n) > 1)}" specified more than once')
    return names


# -- COPY FROM ------------------------------------------------------------------------

def _copy_from(session: Session, tree: CopyStatement, fmt: CopyFormat) -> QueryResult:
    rel = _relation(session, tree)
    if rel.kind is not RelationKind.TABLE:
        raise WrongObjectType(f'cannot copy to {rel.kind.value} "{rel.name}"')
    if session.read_only():
        raise ReadOnlySqlTransaction("cannot execute COPY FROM in a read-only transaction")
    names = _columns(rel, tree.args.get("columns"))

    async def load(data: AsyncIterator[bytes]) -> int:
        return await session.run_guarded(_load(session, rel, names, fmt, data))

    return QueryResult("COPY", copy_in=CopyIn(len(names), load))


async def _load(session: Session, rel: Relation, names: list[str], fmt: CopyFormat,
                data: AsyncIterator[bytes]) -> int:
    reader = CopyReader(fmt, names)
    rows = 0
    async for chunk in data:
        for batch in reader.feed(chunk):
            rows += await _insert(session, rel, names, batch)
    for batch in reader.finish():
        rows += await _insert(session, rel, names, batch)
    return rows


async def _insert(session: Session, rel: Relation, names: Sequence[str], strings: list[pa.Array]) -> int:
    n = len(strings[0]) if strings else 0
    if n == 0:
        return 0
    by_name = dict(zip(names, strings))
    opts = session.format_options()
    pk = set(rel.pk_names)
    arrays = []
    visible = [c for c in rel.columns if not c.hidden]
    for c in visible:
        text = by_name.get(c.name)
        values = pa.nulls(n, c.type.arrow) if text is None else parse_array(text, c.type, opts)
        if c.name in pk and values.null_count:
            raise NotNullViolation(f'null value in column "{c.name}" of relation "{rel.name}" violates '
                                   "not-null constraint")
        arrays.append(values)
    batch = pa.RecordBatch.from_arrays(arrays, [f"c{i}" for i in range(len(arrays))])
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, batch.schema) as writer:
        writer.write_batch(batch)
    types = tuple(c.type for c in visible)
    source = BatchArrow(sink.getvalue().to_pybytes(), types)
    return await session.run_dml(BatchDml(DmlKind.INSERT, rel.id, rel.desc, source, (BIGINT,)))


# -- COPY TO --------------------------------------------------------------------------

def _copy_to(session: Session, tree: CopyStatement, fmt: CopyFormat) -> QueryResult:
    text = tree.args.get("query")
    if text is not None:
        body = parse_one(str(text))
        if not isinstance(body, QUERY_TYPES):
            raise SyntaxError_("COPY (query) TO needs a SELECT or VALUES query")
    else:
        rel = _relation(session, tree)
        names = _columns(rel, tree.args.get("columns"))
        table = exp.Table(this=exp.to_identifier(rel.name, quoted=True),
                          db=exp.to_identifier(rel.schema_name, quoted=True))
        body = exp.select(*[exp.column(n, quoted=True) for n in names]).from_(table)
    planned = query.plan_query(session, body)
    names = [c.name for c in planned.columns]
    types = [c.type for c in planned.columns]
    opts = session.format_options()

    async def rows() -> AsyncIterator[pa.Array]:
        async for batch in session.run_query(planned.plan):
            if batch.num_rows:
                yield write_rows(batch, types, names, fmt, opts)

    header = header_line(names, fmt) if fmt.header else None
    return QueryResult("COPY", copy_out=CopyOut(len(names), rows(), header))
