"""Catalog and session functions the binder evaluates, and the catalog lookups it hands to compute.

Functions whose value is the session's (current_setting, current_user,
version, ...) are evaluated while binding, from constant arguments: only
the frontend knows the session. set_config changes the setting when the
statement executes (not when a client merely describes it). A reg* cast
of a constant name is resolved to its OID here too ('pg_class'::regclass).

Where such a function reads a column (pg_get_userbyid(relowner),
c.oid::regclass::text), the binder attaches the catalog facts it needs
as a JSON table literal and compute looks the values up (see
compute.expr.system_functions).
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import json
from collections.abc import Callable
from typing import TYPE_CHECKING

from common.catalog import RelationKind
from common.errors import (
    FeatureNotSupported,
    InvalidSchemaName,
    UndefinedFunction,
    UndefinedObject,
    UndefinedTable,
)
from common.expr import Cast, Expr, FuncCall, Literal
from common.functions_system import normalize_name, procedure_oid, schema_oid, type_oid
from common.types import (
    BIGINT,
    BOOLEAN,
    INTEGER,
    NAME,
    REGCLASS,
    REGROLE,
    TIMESTAMPTZ,
    VARCHAR,
    DataType,
    TypeName,
    array_of,
)
from frontend.catalog.snapshot import CatalogSnapshot, quote_ident
from frontend.session_vars import SERVER_VERSION

if TYPE_CHECKING:
    from frontend.binder.expr import BindContext

_STARTED = dt.datetime.now(dt.UTC)


def eddy_version() -> str:
    try:
        return importlib.metadata.version("eddy")
    except importlib.metadata.PackageNotFoundError:
        return "dev"


def version_string() -> str:
    """version(): PostgreSQL's number first (clients parse it), then Eddy's."""
    return f"PostgreSQL {SERVER_VERSION}-Eddy-{eddy_version()} on x86_64-pc-linux-gnu, compiled by Python, 64-bit"


def _constant(e: Expr) -> tuple[bool, object]:
    if isinstance(e, Literal):
        return True, e.value
    if isinstance(e, Cast) and isinstance(e.arg, Literal):
        return True, e.arg.value
    return False, None


def _session(ctx: BindContext, name: str) -> object:
    if ctx.session is None:
        raise FeatureNotSupported(f"{name}() is not available here")
    return ctx.session


# -- catalog tables handed to compute --------------------------------------------------------


def relation_names(snapshot: CatalogSnapshot) -> dict[str, str]:
    """OID -> the name regclass prints: bare when visible on the search path, qualified otherwise."""
    from frontend.catalog.registry import system_tables

    out = {str(r.id): quote_ident(r.name) for r in snapshot.relations}
    out |= {str(pk.index_oid): quote_ident(pk.name) for pk in snapshot.primary_keys}
    for t in system_tables().values():
        shown = quote_ident(t.name) if t.schema == "pg_catalog" else f"{t.schema}.{quote_ident(t.name)}"
        out[str(t.oid)] = shown
    return out


def relation_oids(snapshot: CatalogSnapshot) -> dict[str, str]:
    """Names (bare for relations on the search path, and qualified) -> OID, for regclass input."""
    from frontend.catalog.registry import system_tables

    out: dict[str, str] = {}
    for t in system_tables().values():
        out[f"{t.schema}.{t.name}"] = str(t.oid)
        if t.schema == "pg_catalog":
            out[t.name] = str(t.oid)
    for r in snapshot.relations:
        out.setdefault(r.name, str(r.id))
        out[f"public.{r.name}"] = str(r.id)
    for pk in snapshot.primary_keys:
        out.setdefault(pk.name, str(pk.index_oid))
        out[f"public.{pk.name}"] = str(pk.index_oid)
    return out


def _user_names(snapshot: CatalogSnapshot) -> dict[str, str]:
    return {str(u.id): u.name for u in snapshot.users}


def _index_definitions(snapshot: CatalogSnapshot) -> dict[str, str]:
    out = {}
    for pk in snapshot.primary_keys:
        out[f"{pk.index_oid}:0"] = out[str(pk.index_oid)] = pk.index_definition()
        for i, column in enumerate(pk.columns):
            out[f"{pk.index_oid}:{i + 1}"] = quote_ident(column)
    return out


def _constraint_definitions(snapshot: CatalogSnapshot) -> dict[str, str]:
    return {str(pk.constraint_oid): pk.constraint_definition() for pk in snapshot.primary_keys}


def _view_definitions(snapshot: CatalogSnapshot) -> dict[str, str]:
    out = {}
    for r in snapshot.relations:
        if r.kind is RelationKind.MATERIALIZED_VIEW:
            body = r.definition
            marker = body.upper().find(" AS ")
            out[str(r.id)] = (body[marker + 4:] if marker >= 0 else body).strip().rstrip(";")
    return out


_TABLES: dict[str, Callable[[CatalogSnapshot], dict[str, str]]] = {
    "pg_get_userbyid": _user_names, "regrole_name": _user_names, "pg_get_indexdef": _index_definitions,
    "pg_get_constraintdef": _constraint_definitions, "pg_get_viewdef": _view_definitions,
    "regclass_name": relation_names, "to_regclass": relation_oids, "regclass_in": relation_oids,
}


def with_table(ctx: BindContext, func: str, args: list[Expr], ret: DataType) -> Expr:
    """`func(args...)` evaluated by compute with the catalog table it needs as its last argument."""
    snapshot = ctx.catalog()
    table = json.dumps(_TABLES[func](snapshot), sort_keys=True)
    return FuncCall(func, (*args, Literal(table, VARCHAR)), ret)


# -- reg* casts ------------------------------------------------------------------------------


def reg_from_text(ctx: BindContext, text: str, target: DataType) -> Literal:
    """A constant name cast to regclass, regtype, regproc, regnamespace or regrole."""
    if text.strip().isdigit():
        return Literal(int(text), target)
    name = target.name
    oid: int | None
    if name is TypeName.REGCLASS:
        found = relation_oids(ctx.catalog()).get(normalize_name(text))
        if found is None:
            raise UndefinedTable(f'relation "{text}" does not exist')
        oid = int(found)
    elif name is TypeName.REGTYPE:
        oid = type_oid(text)
        if oid is None:
            raise UndefinedObject(f'type "{text}" does not exist')
    elif name is TypeName.REGPROC:
        oid = procedure_oid(text)
        if oid is None:
            raise UndefinedFunction(f'function "{text}" does not exist')
    elif name is TypeName.REGNAMESPACE:
        oid = schema_oid(text)
        if oid is None:
            raise InvalidSchemaName(f'schema "{text}" does not exist')
    else:
        users = {v: k for k, v in _user_names(ctx.catalog()).items()}
        found = users.get(normalize_name(text))
        if found is None:
            raise UndefinedObject(f'role "{text}" does not exist')
        oid = int(found)
    return Literal(oid, target)


def reg_to_text(ctx: BindContext, e: Expr) -> Expr | None:
    """regclass and regrole values print names only the catalog knows; None for the other types."""
    if e.type.name is TypeName.REGCLASS:
        return with_table(ctx, "regclass_name", [e], VARCHAR)
    if e.type.name is TypeName.REGROLE:
        return with_table(ctx, "regrole_name", [e], VARCHAR)
    return None


def text_to_regclass(ctx: BindContext, e: Expr) -> Expr:
    return with_table(ctx, "regclass_in", [e], REGCLASS)


# -- session functions -------------------------------------------------------------------------


def fold(ctx: BindContext, name: str, args: list[Expr], ret: DataType) -> Expr | None:
    """The value of a session or catalog function call, or its lookup form; None to evaluate it normally."""
    if name == "version":
        return Literal(version_string(), ret)
    if name in ("current_schema",):
        return Literal("public", NAME)
    if name == "current_schemas":
        ok, implicit = _constant(args[0])
        schemas = ["pg_catalog", "public"] if (ok and implicit) else ["public"]
        return Literal(schemas, array_of(NAME)) if ok else None
    if name == "pg_postmaster_start_time":
        return Literal(_STARTED, TIMESTAMPTZ)
    if name in ("pg_cancel_backend", "pg_terminate_backend"):
        return Literal(False, BOOLEAN)
    if name in ("pg_relation_size", "pg_total_relation_size", "pg_table_size", "pg_indexes_size",
                "pg_database_size"):
        return Literal(0, BIGINT)
    if name in ("pg_get_userbyid", "pg_get_indexdef", "pg_get_constraintdef", "pg_get_viewdef"):
        return with_table(ctx, name, args, ret)
    if name == "to_regclass":
        return with_table(ctx, name, args, ret)
    if name == "to_regrole":
        ok, text = _constant(args[0])
        if not ok:
            raise FeatureNotSupported("to_regrole() needs a constant argument")
        try:
            return reg_from_text(ctx, str(text), REGROLE)
        except UndefinedObject:
            return Literal(None, REGROLE)
    return _fold_session(ctx, name, args, ret)


def _fold_session(ctx: BindContext, name: str, args: list[Expr], ret: DataType) -> Expr | None:
    session = _session(ctx, name)
    if name in ("current_user", "session_user"):
        return Literal(session.user, NAME)  # type: ignore[attr-defined]
    if name == "current_database":
        return Literal(session.database, NAME)  # type: ignore[attr-defined]
    if name == "pg_backend_pid":
        return Literal(session.process_id, INTEGER)  # type: ignore[attr-defined]
    if name == "txid_current":
        return Literal(session.meta.committed_epoch >> 16, BIGINT)  # type: ignore[attr-defined]
    values = [_constant(a) for a in args]
    if not all(ok for ok, _ in values):
        if ctx.describing:
            return Literal(None, ret)
        raise FeatureNotSupported(f"{name}() needs constant arguments")
    consts = [v for _, v in values]
    if name == "current_setting":
        return _current_setting(session, consts, ret)
    if name == "set_config":
        if any(v is None for v in consts[:2]):
            return Literal(None, ret)
        if not ctx.describing:
            session.vars.set(str(consts[0]), str(consts[1]))  # type: ignore[attr-defined]
        return Literal(session.vars.get(str(consts[0])), ret)  # type: ignore[attr-defined]
    return None


def _current_setting(session: object, consts: list[object], ret: DataType) -> Literal:
    name, missing_ok = consts[0], consts[1] if len(consts) > 1 else False
    if name is None:
        return Literal(None, ret)
    try:
        return Literal(session.vars.get(str(name)), ret)  # type: ignore[attr-defined]
    except UndefinedObject:
        if missing_ok:
            return Literal(None, ret)
        raise
