"""CREATE, ALTER and DROP USER (or ROLE): users are catalog objects kept by meta.

Passwords are stored as verifiers (common/user.py): SCRAM-SHA-256 unless
`password_encryption` is `md5`; a password that already is a verifier (as
pg_dump writes them) is stored as given. Only superusers manage users,
except that a user may change its own password. As in PostgreSQL, renaming
a user with an MD5 password clears it, since the user name salts it.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from common.errors import (
    DependentObjectsStillExist,
    FeatureNotSupported,
    InsufficientPrivilege,
    ObjectInUse,
    ReservedName,
    SyntaxError_,
    UndefinedObject,
)
from common.user import UserInfo
from frontend.pgwire.password import encrypt_password, is_md5_verifier
from frontend.pgwire.session_api import QueryResult
from frontend.sql.commands import UserStatement

if TYPE_CHECKING:
    from frontend.session import Session

_IGNORED = ("inherit", "connection limit")
_UNSUPPORTED = ("replication", "bypassrls", "valid until")


async def user_statement(session: Session, tree: UserStatement) -> QueryResult:
    kind = str(tree.name)
    what = "ROLE" if tree.args.get("role") else "USER"
    names: list[str] = tree.args["names"]
    if kind == "create":
        return await _create(session, names[0], tree.args.get("options") or [], is_role=what == "ROLE")
    if kind == "alter":
        return await _alter(session, names[0], tree.args.get("options") or [], what)
    if kind == "rename":
        return await _rename(session, names[0], str(tree.args["new_name"]))
    return await _drop(session, names, bool(tree.args.get("if_exists")))


def _current(session: Session) -> UserInfo:
    user = session.node.user(session.user)
    if user is None:
        raise UndefinedObject(f'role "{session.user}" does not exist')
    return user


def _require_superuser(session: Session, action: str) -> None:
    if not _current(session).is_super:
        raise InsufficientPrivilege(f"permission denied to {action}",
                                    detail="Only roles with the SUPERUSER attribute may manage roles.")


def _check_name(name: str) -> None:
    if name.startswith("pg_"):
        raise ReservedName(f'role name "{name}" is reserved', detail='Role names starting with "pg_" are reserved.')
    if name in ("public", "none"):
        raise ReservedName(f'role name "{name}" is reserved')


def _apply(session: Session, user: UserInfo, options: list[tuple[str, Any]]) -> tuple[UserInfo, list[str]]:
    notices: list[str] = []
    seen: set[str] = set()
    for key, value in options:
        if key in seen:
            raise SyntaxError_("conflicting or redundant options")
        seen.add(key)
        if key == "superuser":
            user = dataclasses.replace(user, is_super=value)
        elif key == "login":
            user = dataclasses.replace(user, can_login=value)
        elif key == "createdb":
            user = dataclasses.replace(user, can_create_db=value)
        elif key == "createrole":
            user = dataclasses.replace(user, can_create_user=value)
        elif key == "password":
            if value == "":
                notices.append("empty string is not a valid password, clearing password")
                value = None
            secret = None if value is None else encrypt_password(user.name, value,
                                                                 session.vars.get("password_encryption"))
            user = dataclasses.replace(user, password=secret)
        elif key in _UNSUPPORTED:
            raise FeatureNotSupported(f"{key.upper()} is not supported")
        elif key not in _IGNORED:
            raise SyntaxError_(f'unrecognized role option "{key}"')
    return user, notices


async def _create(session: Session, name: str, options: list[tuple[str, Any]], *, is_role: bool) -> QueryResult:
    _require_superuser(session, "create role")
    _check_name(name)
    # CREATE ROLE makes a role that cannot log in unless told; CREATE USER one that can.
    user, notices = _apply(session, UserInfo(0, name, can_login=not is_role), options)
    await session.meta.create_user(user)
    return QueryResult("CREATE ROLE", notices=notices)


async def _alter(session: Session, name: str, options: list[tuple[str, Any]], what: str) -> QueryResult:
    user = session.node.user(name)
    if user is None:
        raise UndefinedObject(f'role "{name}" does not exist')
    me = _current(session)
    only_own_password = user.id == me.id and all(k == "password" for k, _ in options)
    if not me.is_super and not only_own_password:
        raise InsufficientPrivilege("permission denied to alter role")
    changed, notices = _apply(session, user, options)
    await session.meta.update_user(changed)
    return QueryResult("ALTER ROLE", notices=notices)


async def _rename(session: Session, name: str, new_name: str) -> QueryResult:
    _require_superuser(session, "rename role")
    user = session.node.user(name)
    if user is None:
        raise UndefinedObject(f'role "{name}" does not exist')
    if name == session.user:
        raise FeatureNotSupported("session user cannot be renamed")
    _check_name(new_name)
    if any(r.owner == name for r in session.meta.relations()):
        raise FeatureNotSupported(f'role "{name}" owns relations and cannot be renamed yet')
    notices = []
    renamed = dataclasses.replace(user, name=new_name)
    if user.password is not None and is_md5_verifier(user.password):
        renamed = dataclasses.replace(renamed, password=None)
        notices.append("MD5 password cleared because of role rename")
    await session.meta.update_user(renamed)
    return QueryResult("ALTER ROLE", notices=notices)


async def _drop(session: Session, names: list[str], if_exists: bool) -> QueryResult:
    _require_superuser(session, "drop role")
    notices = []
    for name in names:
        user = session.node.user(name)
        if user is None:
            if if_exists:
                notices.append(f'role "{name}" does not exist, skipping')
                continue
            raise UndefinedObject(f'role "{name}" does not exist')
        if name == session.user:
            raise ObjectInUse("current user cannot be dropped")
        owned = [r for r in session.meta.relations() if r.owner == name]
        if owned:
            detail = "\n".join(f"owner of {r.kind.value} {r.name}" for r in owned)
            raise DependentObjectsStillExist(f'role "{name}" cannot be dropped because some objects depend on it',
                                             detail=detail)
        await session.meta.drop_user(name)
    return QueryResult("DROP ROLE", notices=notices)
