"""INSERT, UPDATE and DELETE: batch plans whose changes enter the table's dataflow as one transaction.

Values are computed completely before anything is written, so a failing
statement changes nothing. UPDATE and DELETE (and INSERT ... SELECT) read
the committed snapshot; when this session has writes not yet committed,
they first wait for a checkpoint, so a session always sees its own writes.
With `implicit_flush` on, a DML statement returns only after the epoch
holding its changes is committed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

import pyarrow as pa
from sqlglot import exp

from common import functions
from common.batch_plan import BatchArrow, BatchDml, BatchFilter, BatchProject, BatchScan, DmlKind
from common.catalog import Relation, RelationKind
from common.errors import (
    DatatypeMismatch,
    FeatureNotSupported,
    NotNullViolation,
    SyntaxError_,
    UndefinedColumn,
    UndefinedTable,
    WrongObjectType,
)
from common.expr import Cast, Expr, InputRef, Literal
from common.pgtext import FormatOptions, parse_array
from common.types import BIGINT, DataType, TypeName
from frontend.binder.expr import BindContext, ExprBinder, Scope, identifier
from frontend.binder.naming import output_name
from frontend.binder.query import QueryBinder, expand_stars, unalias
from frontend.pgwire.session_api import QueryResult, ResultColumn
from frontend.planner.batch import to_batch
from frontend.planner.logical import Field, LogicalNode, LValues
from frontend.planner.optimizer import optimize
from frontend.sql.fast_insert import BOOL, NULL, NUM, STR, Cell, FastInsert
from frontend.sql.parser import parse_one

if TYPE_CHECKING:
    from frontend.session import Session


def _target(session: Session, table: exp.Expression) -> Relation:
    name = identifier(table.this)
    rel = session.lookup(name, identifier(table.args.get("db")) or None)
    if rel is None:
        raise UndefinedTable(f'relation "{name}" does not exist')
    if rel.kind is not RelationKind.TABLE:
        raise WrongObjectType(f'cannot change materialized view "{rel.name}"')
    return rel


def assignment_cast(e: Expr, target: DataType, column: str) -> Expr:
    """PostgreSQL's assignment cast of a value into a column (numeric -> integer rounds, text -> int fails)."""
    if e.type == target:
        return e
    if isinstance(e, Literal) and e.value is None:
        return Literal(None, target)
    if not functions.can_assign(e.type, target):
        raise DatatypeMismatch(f'column "{column}" is of type {target} but expression is of type {e.type}',
                               hint="You will need to rewrite or cast the expression.")
    return Cast(e, target)


async def insert(session: Session, tree: exp.Insert) -> QueryResult:
    if tree.args.get("conflict"):
        raise FeatureNotSupported("INSERT ... ON CONFLICT is not supported; a table with a primary key already "
                                  "overwrites the existing row")
    target = tree.this
    names: list[str] | None = None
    if isinstance(target, exp.Schema):
        names = [identifier(c) for c in target.expressions]
        target = target.this
    rel = _target(session, target)
    visible = [c for c in rel.columns if not c.hidden]
    if names is None:
        cols = visible
    else:
        by_name = {c.name: c for c in visible}
        for n in names:
            if n not in by_name:
                raise UndefinedColumn(f'column "{n}" of relation "{rel.name}" does not exist')
        if len(set(names)) != len(names):
            raise SyntaxError_(f'column "{next(n for n in names if names.count(n) > 1)}" specified more than once')
        cols = [by_name[n] for n in names]
    source = tree.expression
    binder = QueryBinder(session.lookup, session.bind_context())
    plan: LogicalNode
    if isinstance(source, exp.Values):
        plan = binder.values(source.expressions, [c.type for c in cols])
    else:
        await session.read_own_writes()
        plan = optimize(binder.bind(source).plan)
    width = len(plan.fields)
    if width > len(cols):
        raise SyntaxError_("INSERT has more expressions than target columns")
    if width < len(cols) and names is not None:
        raise SyntaxError_("INSERT has more target columns than expressions")
    position = {c.name: i for i, c in enumerate(cols)}
    exprs: list[Expr] = []
    pk_names = set(rel.pk_names)
    for c in visible:
        if c.name in position and position[c.name] < width:
            i = position[c.name]
            exprs.append(assignment_cast(InputRef(i, plan.fields[i].type), c.type, c.name))
        else:
            if c.name in pk_names:
                raise NotNullViolation(f'null value in column "{c.name}" of relation "{rel.name}" violates '
                                       "not-null constraint")
            exprs.append(Literal(None, c.type))
    if not binder.ctx.describing:
        _check_literal_keys(rel, plan, position, pk_names)
    project = BatchProject(to_batch(plan), tuple(exprs), tuple(c.type for c in visible))
    fields = tuple(Field(c.name, c.type, rel.name) for c in visible)
    returning = _bind_returning(tree, rel, fields, binder.ctx)
    return await _run("INSERT", session, BatchDml(DmlKind.INSERT, rel.id, rel.desc, project, (BIGINT,)), returning)


async def insert_literals(session: Session, tree: FastInsert, sql: str) -> QueryResult:
    """INSERT of literal rows, converted a column at a time; anything unusual takes the general path."""
    rel = _target(session, exp.Table(this=exp.to_identifier(tree.name)))
    visible = [c for c in rel.columns if not c.hidden]
    names = tree.args.get("columns")
    rows: list[list[Cell]] = tree.args["rows"]
    width = len(rows[0])
    if names is None:
        names = [c.name for c in visible[:width]]
    by_name = {c.name: c for c in visible}
    if len(names) != width or any(n not in by_name for n in names) or len(set(names)) != len(names):
        return await _general_insert(session, sql)  # the general path reports the error
    position = {n: i for i, n in enumerate(names)}
    arrays: list[pa.Array] = []
    fmt = session.format_options()
    for c in visible:
        i = position.get(c.name)
        if i is None:
            if c.name in rel.pk_names:
                raise NotNullViolation(f'null value in column "{c.name}" of relation "{rel.name}" violates '
                                       "not-null constraint")
            arrays.append(pa.nulls(len(rows), c.type.arrow))
            continue
        arr = literal_column([r[i] for r in rows], c.type, fmt)
        if arr is None or (c.name in rel.pk_names and arr.null_count):
            return await _general_insert(session, sql)
        arrays.append(arr)
    types = tuple(c.type for c in visible)
    data = pa.RecordBatch.from_arrays(arrays, [f"c{i}" for i in range(len(arrays))])
    source = BatchArrow(_ipc(data), types)
    count = await session.run_dml(BatchDml(DmlKind.INSERT, rel.id, rel.desc, source, (BIGINT,)))
    return QueryResult("INSERT", row_count=count)


async def _general_insert(session: Session, sql: str) -> QueryResult:
    tree = parse_one(sql)
    assert isinstance(tree, exp.Insert)
    return await insert(session, tree)


def literal_column(cells: list[Cell], t: DataType, fmt: FormatOptions) -> pa.Array | None:
    """One column of literal cells as an array of `t`, exactly as PostgreSQL would read them; None if unsure."""
    kinds = {c.kind for c in cells} - {NULL}
    values = [None if c.kind == NULL else c.text for c in cells]
    try:
        if kinds <= {STR}:
            return parse_array(pa.array(values, pa.string()), t, fmt)
        if kinds == {NUM}:
            if t.is_integer and all(v is None or v.lstrip("+-").isdigit() for v in values):
                return pa.array([None if v is None else int(v) for v in values], t.arrow)
            if t.is_float:
                floats = [None if v is None else float(v) for v in values]
                if any(f is not None and (f in (float("inf"), float("-inf"))) for f in floats):
                    return None
                return pa.array(floats, t.arrow)
            if t.name is TypeName.NUMERIC:
                return pa.array([None if v is None else Decimal(v) for v in values], t.arrow)
            return None
        if kinds == {BOOL} and t.name is TypeName.BOOLEAN:
            return pa.array([None if v is None else v == "true" for v in values], pa.bool_())
    except (pa.ArrowInvalid, OverflowError, ArithmeticError):
        return None
    return None


def _check_literal_keys(rel: Relation, plan: object, position: dict[str, int], pk_names: set[str]) -> None:
    """A NULL primary key in VALUES is refused up front, as PostgreSQL refuses it."""
    if not isinstance(plan, LValues):
        return
    for name in pk_names:
        i = position.get(name)
        if i is None:
            continue
        for row in plan.rows:
            cell = row[i]
            if isinstance(cell, Literal) and cell.value is None:
                raise NotNullViolation(f'null value in column "{name}" of relation "{rel.name}" violates '
                                       "not-null constraint")


def _scan_scope(rel: Relation, table: exp.Expression) -> tuple[BatchScan, Scope]:
    alias = identifier(table.args["alias"].this) if table.args.get("alias") else rel.name
    fields = tuple(Field(c.name, c.type, alias, c.hidden) for c in rel.columns)
    desc = rel.desc
    return BatchScan(desc, tuple(range(len(desc.columns))), desc.types), Scope(fields)


async def update(session: Session, tree: exp.Update) -> QueryResult:
    if tree.args.get("from") or tree.args.get("from_"):
        raise FeatureNotSupported("UPDATE ... FROM is not supported yet")
    rel = _target(session, tree.this)
    scan, scope = _scan_scope(rel, tree.this)
    ctx = session.bind_context()
    binder = ExprBinder(scope, ctx, "UPDATE")
    new: dict[int, Expr] = {}
    for a in tree.expressions:
        if not isinstance(a, exp.EQ) or not isinstance(a.this, exp.Column):
            raise SyntaxError_("expected column = expression in SET")
        name = identifier(a.this.this)
        idx = next((i for i, c in enumerate(rel.columns) if c.name == name and not c.hidden), None)
        if idx is None:
            raise UndefinedColumn(f'column "{name}" of relation "{rel.name}" does not exist')
        col = rel.columns[idx]
        new[idx] = assignment_cast(binder.bind(a.expression, col.type), col.type, col.name)
    source = _filtered(scan, tree, scope, ctx)
    old = [InputRef(i, c.type) for i, c in enumerate(rel.columns)]
    exprs = tuple(old) + tuple(new.get(i, old[i]) for i in range(len(old)))
    project = BatchProject(source, exprs, rel.desc.types * 2)
    returning = _bind_returning(tree, rel, scope.fields, ctx)
    await session.read_own_writes()
    return await _run("UPDATE", session, BatchDml(DmlKind.UPDATE, rel.id, rel.desc, project, (BIGINT,)), returning)


async def delete(session: Session, tree: exp.Delete) -> QueryResult:
    if tree.args.get("using"):
        raise FeatureNotSupported("DELETE ... USING is not supported yet")
    rel = _target(session, tree.this)
    scan, scope = _scan_scope(rel, tree.this)
    ctx = session.bind_context()
    source = _filtered(scan, tree, scope, ctx)
    returning = _bind_returning(tree, rel, scope.fields, ctx)
    await session.read_own_writes()
    return await _run("DELETE", session, BatchDml(DmlKind.DELETE, rel.id, rel.desc, source, (BIGINT,)), returning)


@dataclass(frozen=True, slots=True)
class _Returning:
    exprs: tuple[Expr, ...]
    columns: list[ResultColumn]


def _bind_returning(tree: exp.Expression, rel: Relation, fields: tuple[Field, ...],
                    ctx: BindContext) -> _Returning | None:
    """RETURNING's expressions over the rows a statement writes (`fields`: those rows' columns)."""
    returning = tree.args.get("returning")
    if returning is None:
        return None
    binder = ExprBinder(Scope(fields), ctx, "RETURNING")
    exprs: list[Expr] = []
    columns: list[ResultColumn] = []
    for item in expand_stars(returning.expressions, fields):
        e = binder.bind(unalias(item))
        exprs.append(e)
        source = (rel.id, e.index + 1) if isinstance(e, InputRef) else (0, 0)
        columns.append(ResultColumn(output_name(item), e.type, *source))
    return _Returning(tuple(exprs), columns)


async def _run(command: str, session: Session, plan: BatchDml, returning: _Returning | None) -> QueryResult:
    """Run the DML; with RETURNING, answer with its expressions over the rows written (an UPDATE's new rows)."""
    if returning is None:
        return QueryResult(command, row_count=await session.run_dml(plan))
    written = await session.run_dml_returning(plan)
    types = plan.input.types
    if plan.kind is DmlKind.UPDATE:
        width = len(types) // 2
        written = [pa.RecordBatch.from_arrays(b.columns[width:], [f"c{i}" for i in range(width)]) for b in written]
        types = types[width:]

    async def rows() -> AsyncIterator[pa.RecordBatch]:
        for batch in written:
            source = BatchArrow(_ipc(batch), types)
            async for out in session.run_query(BatchProject(source, returning.exprs, tuple(e.type for e in returning.exprs))):
                yield out

    return QueryResult(command, columns=returning.columns, batches=rows())


def _ipc(batch: pa.RecordBatch) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, batch.schema) as writer:
        writer.write_batch(batch)
    return sink.getvalue().to_pybytes()


def _filtered(scan: BatchScan, tree: exp.Expression, scope: Scope, ctx) -> BatchScan | BatchFilter:  # type: ignore[no-untyped-def]
    where = tree.args.get("where")
    if where is None:
        return scan
    predicate = ExprBinder(scope, ctx, "WHERE").bind_predicate(where.this)
    return BatchFilter(scan, predicate, scan.types)
