"""CREATE TABLE, CREATE MATERIALIZED VIEW and DROP.

A table is a streaming job of two fragments: a singleton DML source, and
its materialize, hash-distributed by the primary key (or by a hidden
`_row_id` when it has none). A view is its query planned as a dataflow.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

from common import functions
from common.catalog import ROW_ID_COLUMN, ColumnDesc, OrderType, Relation, RelationKind, TableDesc
from common.errors import (
    DuplicateColumn,
    DuplicateTable,
    FeatureNotSupported,
    InvalidParameterValue,
    InvalidTableDefinition,
    UndefinedColumn,
    UndefinedTable,
    WrongObjectType,
)
from common.expr import Expr, FuncCall
from common.stream_plan import ConflictBehavior, Distribution, DmlNode, ExchangeNode, MaterializeNode
from common.types import BIGINT
from frontend.binder.expr import identifier
from frontend.binder.query import QueryBinder
from frontend.binder.types import bind_type
from frontend.pgwire.session_api import QueryResult
from frontend.planner.fragmenter import build_fragment_graph
from frontend.planner.logical import LFilter, LJoin, LogicalNode, LProject, children
from frontend.planner.optimizer import optimize
from frontend.planner.stream import StreamPlanner
from frontend.sql.dialect import AlterParallelism

if TYPE_CHECKING:
    from frontend.session import Session


async def create(session: Session, tree: exp.Create, sql: str) -> QueryResult:
    kind = str(tree.args.get("kind") or "").upper()
    props = tree.args.get("properties")
    materialized = props is not None and any(isinstance(p, exp.MaterializedProperty) for p in props.expressions)
    if kind == "TABLE":
        if tree.expression is not None:
            raise FeatureNotSupported("CREATE TABLE AS is not supported yet")
        return await create_table(session, tree, sql)
    if kind == "VIEW" and materialized:
        return await create_materialized_view(session, tree, sql)
    if kind == "VIEW":
        raise FeatureNotSupported("CREATE VIEW is not supported yet; use CREATE MATERIALIZED VIEW")
    raise FeatureNotSupported(f"CREATE {kind} is not supported")


def _exists_notice(session: Session, name: str, if_not_exists: bool) -> QueryResult | None:
    if session.lookup(name, None) is None:
        return None
    if not if_not_exists:
        raise DuplicateTable(f'relation "{name}" already exists')
    return QueryResult("CREATE TABLE", notices=[f'relation "{name}" already exists, skipping'])


async def create_table(session: Session, tree: exp.Create, sql: str) -> QueryResult:
    schema = tree.this
    if not isinstance(schema, exp.Schema):
        raise FeatureNotSupported("CREATE TABLE needs a column list")
    name = identifier(schema.this.this)
    skipped = _exists_notice(session, name, bool(tree.args.get("exists")))
    if skipped is not None:
        return skipped
    columns: list[ColumnDesc] = []
    pk_names: list[str] = []
    for item in schema.expressions:
        if isinstance(item, exp.ColumnDef):
            cname = identifier(item.this)
            if any(c.name == cname for c in columns):
                raise DuplicateColumn(f'column "{cname}" specified more than once')
            if item.args.get("kind") is None:
                raise FeatureNotSupported(f'column "{cname}" needs a type')
            columns.append(ColumnDesc(cname, bind_type(item.args["kind"])))
            for c in item.args.get("constraints") or []:
                k = c.args.get("kind")
                if isinstance(k, exp.PrimaryKeyColumnConstraint):
                    if pk_names:
                        raise InvalidTableDefinition(f'multiple primary keys for table "{name}" are not allowed')
                    pk_names.append(cname)
                elif isinstance(k, exp.NotNullColumnConstraint):
                    continue
                else:
                    raise FeatureNotSupported(f"column constraint {c.sql('postgres')} is not supported yet")
        elif isinstance(item, exp.PrimaryKey):
            if pk_names:
                raise InvalidTableDefinition(f'multiple primary keys for table "{name}" are not allowed')
            pk_names = [identifier(e) for e in item.expressions]
        else:
            raise FeatureNotSupported(f"table element {item.sql('postgres')} is not supported yet")
    for pk_name in pk_names:
        if not any(c.name == pk_name for c in columns):
            raise UndefinedColumn(f'column "{pk_name}" named in key does not exist')
    if any(c.name == ROW_ID_COLUMN for c in columns):
        raise DuplicateColumn(f'column name "{ROW_ID_COLUMN}" is reserved')
    row_id_index = None
    if pk_names:
        pk = tuple(next(i for i, c in enumerate(columns) if c.name == n) for n in pk_names)
    else:
        columns.append(ColumnDesc(ROW_ID_COLUMN, BIGINT, hidden=True))
        row_id_index = len(columns) - 1
        pk = (row_id_index,)
    ids = await session.meta.allocate_ids(3)
    table_id, fragment_ids = ids[0], iter(ids[1:])
    desc = TableDesc(table_id, tuple(columns), pk, (OrderType.ASC,) * len(pk), pk)
    types = desc.types
    dml = DmlNode(table_id, types, pk, row_id_index)
    root = MaterializeNode(ExchangeNode(dml, Distribution.hash(pk), types, pk), desc, ConflictBehavior.OVERWRITE,
                           types, pk)
    graph = build_fragment_graph(root, fragment_ids, session.vars.parallelism)
    relation = Relation(table_id, name, RelationKind.TABLE, desc, sql, row_id_index=row_id_index)
    await session.meta.create_job(relation, graph, if_not_exists=bool(tree.args.get("exists")))
    return QueryResult("CREATE TABLE")


async def create_materialized_view(session: Session, tree: exp.Create, sql: str) -> QueryResult:
    name = identifier(tree.this.this)
    if session.lookup(name, None) is not None:
        if tree.args.get("exists"):
            return QueryResult("CREATE MATERIALIZED VIEW", notices=[f'relation "{name}" already exists, skipping'])
        raise DuplicateTable(f'relation "{name}" already exists')
    bound = QueryBinder(session.lookup, session.bind_context()).bind(tree.expression)
    logical = optimize(bound.plan)
    _check_deterministic(logical)
    ids = iter(await session.meta.allocate_ids(2 + 4 * _count_nodes(logical)))
    view_id = next(ids)
    planner = StreamPlanner(lambda: next(ids), lambda rel: rel.fragment_ids[0], session.vars.backfill_rate_limit)
    plan = planner.plan_view(logical, view_id)
    graph = build_fragment_graph(plan.root, ids, session.vars.parallelism)
    relation = Relation(view_id, name, RelationKind.MATERIALIZED_VIEW, plan.table, sql,
                        depends_on=tuple(plan.depends_on),
                        internal_tables=tuple(t.table_id for t in plan.internal_tables))
    await session.meta.create_job(relation, graph, if_not_exists=bool(tree.args.get("exists")))
    return QueryResult("CREATE MATERIALIZED VIEW", notices=plan.notices)


def _count_nodes(node: LogicalNode) -> int:
    return 1 + sum(_count_nodes(c) for c in children(node))


def _check_deterministic(node: LogicalNode) -> None:
    exprs: list[Expr] = []
    if isinstance(node, LFilter):
        exprs.append(node.predicate)
    elif isinstance(node, LProject):
        exprs.extend(node.exprs)
    elif isinstance(node, LJoin) and node.condition is not None:
        exprs.append(node.condition)
    for e in exprs:
        _check_expr(e)
    for c in children(node):
        _check_deterministic(c)


def _check_expr(e: Expr) -> None:
    stack = [e]
    while stack:
        x = stack.pop()
        if isinstance(x, FuncCall):
            if not functions.is_deterministic(x.func):
                raise FeatureNotSupported(
                    f"function {x.func}() is not allowed in a materialized view: its value changes over time")
            stack.extend(x.args)
        else:
            for attr in ("arg", "default"):
                v = getattr(x, attr, None)
                if v is not None:
                    stack.append(v)
            for c, r in getattr(x, "branches", ()):
                stack.extend((c, r))


async def drop(session: Session, tree: exp.Drop) -> QueryResult:
    kind = str(tree.args.get("kind") or "").upper()
    if kind == "TABLE":
        rkind, tag = RelationKind.TABLE, "DROP TABLE"
    elif kind == "VIEW" and tree.args.get("materialized"):
        rkind, tag = RelationKind.MATERIALIZED_VIEW, "DROP MATERIALIZED VIEW"
    elif kind == "VIEW":
        for t in tree.expressions if tree.expressions else tree.args.get("tables") or []:
            rel = session.lookup(identifier(t.this), None)
            if rel is not None and rel.kind is RelationKind.MATERIALIZED_VIEW:
                raise WrongObjectType(f'"{rel.name}" is not a view',
                                      hint="Use DROP MATERIALIZED VIEW to remove a materialized view.")
        raise FeatureNotSupported("DROP VIEW: only materialized views exist in Eddy")
    else:
        raise FeatureNotSupported(f"DROP {kind} is not supported")
    notices: list[str] = []
    for t in tree.args.get("tables") or []:
        notices += await session.meta.drop_relation(identifier(t.this), rkind, if_exists=bool(tree.args.get("exists")),
                                                    cascade=bool(tree.args.get("cascade")))
    return QueryResult(tag, notices=notices)


async def alter_parallelism(session: Session, tree: AlterParallelism) -> QueryResult:
    """Rescale a table or view online; its state stays where it is, only vnode ownership moves."""
    name = tree.name
    kind = RelationKind.TABLE if tree.args["kind"] == "table" else RelationKind.MATERIALIZED_VIEW
    rel = session.lookup(name, None)
    if rel is None:
        raise UndefinedTable(f'relation "{name}" does not exist')
    if rel.kind is not kind:
        raise WrongObjectType(f'"{name}" is not a {kind.value}',
                              hint=f"Use ALTER {rel.kind.value.upper()} to change a {rel.kind.value}.")
    value = tree.args.get("parallelism")
    parallelism = int(value) if value is not None else None
    if parallelism is not None and parallelism < 1:
        raise InvalidParameterValue("parallelism must be at least 1")
    await session.meta.alter_parallelism(name, parallelism)
    return QueryResult(f"ALTER {'TABLE' if kind is RelationKind.TABLE else 'MATERIALIZED VIEW'}")
