"""pg_catalog relations about the database, its users and this session: pg_database, pg_roles and
friends, pg_settings, pg_stat_activity.

Eddy has one database (`dev`, UTF8, C collation). Users come from meta;
a user's password verifier is never shown (rolpassword is '********' as
PostgreSQL shows it to non-superusers). pg_settings lists the session's
parameters with their current values; pg_stat_activity lists this
session.
"""

from __future__ import annotations

import datetime as dt

from common.catalog import DEFAULT_DATABASE
from common.functions_system import DATABASE_OID, DEFAULT_TABLESPACE_OID
from common.user import ROOT_USER_ID, UserInfo
from frontend.catalog.rows import Row, builder
from frontend.catalog.snapshot import CatalogSnapshot

_STARTED = dt.datetime.now(dt.UTC)


@builder("pg_catalog", "pg_database")
def pg_database(s: CatalogSnapshot) -> list[Row]:
    return [{"oid": DATABASE_OID, "datname": DEFAULT_DATABASE, "datdba": ROOT_USER_ID, "encoding": 6,
             "datlocprovider": "c", "datistemplate": False, "datallowconn": True, "datconnlimit": -1,
             "datfrozenxid": 0, "datminmxid": 1, "dattablespace": DEFAULT_TABLESPACE_OID, "datcollate": "C",
             "datctype": "C"}]


def _role(u: UserInfo) -> Row:
    return {"oid": u.id, "rolname": u.name, "rolsuper": u.is_super, "rolinherit": True,
            "rolcreaterole": u.can_create_user or u.is_super, "rolcreatedb": u.can_create_db or u.is_super,
            "rolcanlogin": u.can_login, "rolreplication": False, "rolconnlimit": -1,
            "rolpassword": "********" if u.password else None, "rolbypassrls": u.is_super}


@builder("pg_catalog", "pg_roles", "pg_authid")
def pg_roles(s: CatalogSnapshot) -> list[Row]:
    return [_role(u) for u in s.users]


@builder("pg_catalog", "pg_user", "pg_shadow")
def pg_user(s: CatalogSnapshot) -> list[Row]:
    return [{"usename": u.name, "usesysid": u.id, "usecreatedb": u.can_create_db or u.is_super,
             "usesuper": u.is_super, "userepl": False, "usebypassrls": u.is_super,
             "passwd": "********" if u.password else None} for u in s.users if u.can_login]


def _vartype(value: str) -> str:
    if value in ("on", "off"):
        return "bool"
    if value.lstrip("-").isdigit():
        return "integer"
    return "string"


@builder("pg_catalog", "pg_settings")
def pg_settings(s: CatalogSnapshot) -> list[Row]:
    rows = []
    for name, value, description in s.session.vars.all():
        rows.append({"name": name, "setting": value, "category": "Eddy" if name in ("implicit_flush",
                     "streaming_parallelism") else "Client Connection Defaults", "short_desc": description or None,
                     "context": "user", "vartype": _vartype(value), "source": "default", "boot_val": value,
                     "reset_val": value, "pending_restart": False})
    return rows


@builder("pg_catalog", "pg_stat_activity")
def pg_stat_activity(s: CatalogSnapshot) -> list[Row]:
    session = s.session
    return [{"datid": DATABASE_OID, "datname": session.database, "pid": session.process_id,
             "usesysid": s.current_user_id, "usename": session.user,
             "application_name": session.vars.get("application_name"), "backend_start": _STARTED,
             "state": "active", "backend_type": "client backend"}]
