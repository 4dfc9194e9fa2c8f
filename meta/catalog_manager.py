"""The catalog: tables, materialized views and their internal state tables, by id and name.

Entries live in the meta store (namespace `relation`), written in the same
transaction as the checkpoint that makes them real, and are mirrored in
memory. Ids (relations, state tables, fragments, actors) come from one
persisted allocator, handed out in blocks so a restart never reuses one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from common import codec
from common.catalog import JobStatus, Relation, RelationKind
from meta.meta_store import Delete, MetaStore, Put

NS_RELATION = "relation"
NS_SYSTEM = "system"
_ID_BLOCK = 1000


class CatalogManager:
    def __init__(self, store: MetaStore) -> None:
        self.store = store
        self._relations: dict[int, Relation] = {}
        self._next_id = 1
        self._id_limit = 0
        self._id_lock = asyncio.Lock()

    def load(self) -> None:
        for _, value in self.store.scan(NS_RELATION):
            rel: Relation = codec.from_json(value)
            self._relations[rel.id] = rel
        limit = self.store.get(NS_SYSTEM, "id_limit") or 0
        self._next_id = self._id_limit = max(int(limit), 1)

    async def allocate_ids(self, n: int) -> list[int]:
        async with self._id_lock:
            if self._next_id + n > self._id_limit:
                new_limit = self._next_id + n + _ID_BLOCK
                await self.store.write([(NS_SYSTEM, "id_limit", new_limit)])
                self._id_limit = new_limit
            ids = list(range(self._next_id, self._next_id + n))
            self._next_id += n
            return ids

    # -- reads -------------------------------------------------------------

    def relations(self) -> list[Relation]:
        return sorted(self._relations.values(), key=lambda r: r.id)

    def get(self, relation_id: int) -> Relation | None:
        return self._relations.get(relation_id)

    def by_name(self, name: str, schema: str = "public") -> Relation | None:
        for r in self._relations.values():
            if r.name == name and r.schema_name == schema:
                return r
        return None

    def dependents(self, relation_id: int) -> list[Relation]:
        return [r for r in self._relations.values() if relation_id in r.depends_on]

    def by_kind(self, kind: RelationKind) -> list[Relation]:
        return [r for r in self.relations() if r.kind is kind]

    # -- writes: puts/deletes for the caller's transaction, then apply -----

    @staticmethod
    def put_of(rel: Relation) -> Put:
        return (NS_RELATION, str(rel.id), codec.to_json(rel))

    @staticmethod
    def delete_of(relation_id: int) -> Delete:
        return (NS_RELATION, str(relation_id))

    def apply_put(self, rel: Relation) -> None:
        self._relations[rel.id] = rel

    def apply_delete(self, relation_ids: Iterable[int]) -> None:
        for rid in relation_ids:
            self._relations.pop(rid, None)

    def creating(self) -> list[Relation]:
        return [r for r in self._relations.values() if r.status is JobStatus.CREATING]
