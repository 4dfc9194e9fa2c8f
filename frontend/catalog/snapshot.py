"""One statement's view of the catalog: the user relations, users and session, and what pg_catalog derives from them.

Everything the system relations show is computed from a snapshot taken
once per statement, so the rows of pg_class, pg_attribute and pg_index
agree with each other. A table's primary key appears as PostgreSQL shows
one: a unique index `<table>_pkey` (relkind 'i') and a constraint of the
same name. Hidden columns (a table's `_row_id`, a view's extra stream key
columns) are not shown; the other columns keep their position in the
relation as attnum, which is also what RowDescription reports.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

from common.catalog import ColumnDesc, Relation, RelationKind
from common.cluster_status import ClusterStatus
from common.functions_system import primary_key_constraint_oid, primary_key_index_oid
from common.user import ROOT_USER, ROOT_USER_ID, UserInfo
from frontend.catalog.session_info import SessionInfo


@dataclass(frozen=True, slots=True)
class Attribute:
    relation: Relation
    attnum: int
    column: ColumnDesc


@dataclass(frozen=True, slots=True)
class PrimaryKey:
    relation: Relation
    index_oid: int
    constraint_oid: int
    name: str
    attnums: tuple[int, ...]

    @property
    def columns(self) -> list[str]:
        return [self.relation.columns[a - 1].name for a in self.attnums]

    def index_definition(self, schema: str = "public") -> str:
        cols = ", ".join(quote_ident(c) for c in self.columns)
        return (f"CREATE UNIQUE INDEX {quote_ident(self.name)} ON {schema}.{quote_ident(self.relation.name)} "
                f"USING btree ({cols})")

    def constraint_definition(self) -> str:
        return f"PRIMARY KEY ({', '.join(quote_ident(c) for c in self.columns)})"


def quote_ident(name: str) -> str:
    from common.functions_system import RESERVED_KEYWORDS

    plain = name and (name[0].isalpha() or name[0] == "_") and all(
        c.islower() or c.isdigit() or c in "_$" for c in name) and name not in RESERVED_KEYWORDS
    return name if plain else '"' + name.replace('"', '""') + '"'


def visible_attributes(rel: Relation) -> list[Attribute]:
    return [Attribute(rel, i + 1, c) for i, c in enumerate(rel.columns) if not c.hidden]


def primary_key(rel: Relation) -> PrimaryKey | None:
    """The declared primary key of a table (views and tables without one have none)."""
    if rel.kind is not RelationKind.TABLE or rel.row_id_index is not None or not rel.desc.pk:
        return None
    return PrimaryKey(rel, primary_key_index_oid(rel.id), primary_key_constraint_oid(rel.id), f"{rel.name}_pkey",
                      tuple(i + 1 for i in rel.desc.pk))


@dataclass(frozen=True)
class CatalogSnapshot:
    """`cluster` is meta's cluster status when the statement reads it (the query handler fetches it first)."""

    relations: tuple[Relation, ...]
    users: tuple[UserInfo, ...]
    session: SessionInfo
    cluster: ClusterStatus | None = None

    @functools.cached_property
    def primary_keys(self) -> list[PrimaryKey]:
        return [pk for pk in (primary_key(r) for r in self.relations) if pk is not None]

    @functools.cached_property
    def user_ids(self) -> dict[str, int]:
        return {u.name: u.id for u in self.users}

    def owner_id(self, rel: Relation) -> int:
        return self.user_ids.get(rel.owner, ROOT_USER_ID)

    @functools.cached_property
    def current_user_id(self) -> int:
        return self.user_ids.get(self.session.user, ROOT_USER_ID)


def take_snapshot(session: SessionInfo, cluster: ClusterStatus | None = None) -> CatalogSnapshot:
    relations = tuple(r for r in session.meta.relations() if r.kind in (RelationKind.TABLE,
                                                                          RelationKind.MATERIALIZED_VIEW))
    return CatalogSnapshot(relations, tuple(users_of(session)), session, cluster)


def users_of(session: SessionInfo) -> Sequence[UserInfo]:
    """The cluster's users; a meta client without users knows only the bootstrap superuser."""
    users = getattr(session.meta, "users", None)
    found = list(users()) if callable(users) else []
    if not any(u.id == ROOT_USER_ID for u in found):
        found.insert(0, UserInfo(ROOT_USER_ID, ROOT_USER, is_super=True, can_create_db=True, can_create_user=True))
    return found
