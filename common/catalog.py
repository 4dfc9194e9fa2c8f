"""Catalog entries: state-table descriptors and the relations users see.

A `TableDesc` describes one state table, whatever owns it (a table, a
materialized view, or an operator's internal state): its columns, which of
them form the storage key (in what order), and which of them pick the vnode.
Its storage key is `vnode (2 bytes) | memcomparable(pk columns)`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from common.types import DataType

DEFAULT_SCHEMA = "public"
DEFAULT_DATABASE = "dev"
ROW_ID_COLUMN = "_row_id"


class OrderType(enum.Enum):
    """Key order of a pk column. ASC puts NULLs last, DESC first, as PostgreSQL does."""

    ASC = "asc"
    DESC = "desc"


@dataclass(frozen=True, slots=True)
class ColumnDesc:
    name: str
    type: DataType
    hidden: bool = False


@dataclass(frozen=True, slots=True)
class TableDesc:
    """One state table. `dist_key` indexes `columns` and is a subset of `pk` (or empty: vnode 0)."""

    table_id: int
    columns: tuple[ColumnDesc, ...]
    pk: tuple[int, ...]
    pk_order: tuple[OrderType, ...]
    dist_key: tuple[int, ...]

    @property
    def types(self) -> tuple[DataType, ...]:
        return tuple(c.type for c in self.columns)

    @property
    def pk_types(self) -> tuple[DataType, ...]:
        return tuple(self.columns[i].type for i in self.pk)

    @property
    def dist_key_in_pk(self) -> tuple[int, ...]:
        """Positions of the dist key columns within the pk."""
        return tuple(self.pk.index(i) for i in self.dist_key)


class RelationKind(enum.Enum):
    TABLE = "table"
    MATERIALIZED_VIEW = "materialized view"
    INTERNAL = "internal"
    SYSTEM = "system table"  # a pg_catalog, information_schema or rw_catalog relation (frontend.catalog)


class JobStatus(enum.Enum):
    """A streaming job is CREATING until its first checkpoint with complete backfill commits."""

    CREATING = "creating"
    CREATED = "created"


@dataclass(frozen=True, slots=True)
class Relation:
    """A table or materialized view as users see it.

    `desc` is the state table holding its rows (hidden columns included);
    `depends_on` lists the relations a view reads; `internal_tables` the
    operator state tables of its dataflow; `fragment_ids` its fragments,
    the one holding its materialize first.
    """

    id: int
    name: str
    kind: RelationKind
    desc: TableDesc
    definition: str
    schema_name: str = DEFAULT_SCHEMA
    depends_on: tuple[int, ...] = ()
    internal_tables: tuple[int, ...] = ()
    row_id_index: int | None = None
    status: JobStatus = JobStatus.CREATED
    owner: str = "root"
    created_at_ms: int = 0
    fragment_ids: tuple[int, ...] = field(default=())

    @property
    def columns(self) -> tuple[ColumnDesc, ...]:
        return self.desc.columns

    @property
    def visible_columns(self) -> tuple[tuple[int, ColumnDesc], ...]:
        return tuple((i, c) for i, c in enumerate(self.desc.columns) if not c.hidden)

    @property
    def pk_names(self) -> tuple[str, ...]:
        return tuple(self.desc.columns[i].name for i in self.desc.pk)
