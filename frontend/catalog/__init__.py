"""System catalogs: pg_catalog, information_schema and rw_catalog relations, built from the session's view of the catalog.

`lookup_system` resolves a name to a system relation (a `Relation` of
kind SYSTEM); `system_rows` builds its rows for one statement as the
Arrow IPC a `BatchArrow` scan carries. The rows come from a snapshot of
the session (its relations, users, settings and meta's cluster status)
taken once per statement.
"""

from __future__ import annotations

from common.catalog import Relation
from frontend.catalog import information_schema, pg_relations, pg_session, pg_types, rw_catalog  # noqa: F401
from frontend.catalog.registry import SYSTEM_SCHEMAS, is_system_schema, lookup_system, system_tables
from frontend.catalog.rows import build_rows, to_ipc
from frontend.catalog.session_info import SessionInfo
from frontend.catalog.snapshot import CatalogSnapshot, take_snapshot


def system_rows(relation: Relation, snapshot: CatalogSnapshot) -> bytes:
    """The rows of system relation `relation` as Arrow IPC stream bytes."""
    return to_ipc(build_rows(relation, snapshot))


__all__ = ["SYSTEM_SCHEMAS", "CatalogSnapshot", "SessionInfo", "is_system_schema", "lookup_system", "system_rows",
           "system_tables", "take_snapshot"]
