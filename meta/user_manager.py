"""Users: the catalog of roles that may connect, persisted in the meta store (namespace `user`).

Each user is one document keyed by its id. The bootstrap superuser `root`
exists without a document until it is first changed (say, given a
password), so a fresh cluster has a user to connect as without ever
writing. Names are unique; ids are never reused, since they come from the
catalog's persisted id allocator.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any

from common.errors import DependentObjectsStillExist, DuplicateObject, UndefinedObject
from common.user import ROOT_USER, ROOT_USER_ID, UserInfo
from meta.meta_store import MetaStore

NS_USER = "user"

IdAllocator = Callable[[int], Awaitable[list[int]]]

_FIELDS = tuple(f.name for f in dataclasses.fields(UserInfo))


def _to_doc(user: UserInfo) -> dict[str, Any]:
    return {name: getattr(user, name) for name in _FIELDS}


def _from_doc(doc: dict[str, Any]) -> UserInfo:
    return UserInfo(**{name: doc[name] for name in _FIELDS if name in doc})


class UserManager:
    """Users by id and name; every change is one meta-store write, applied in memory once it is durable."""

    def __init__(self, store: MetaStore, allocate_ids: IdAllocator) -> None:
        self._store = store
        self._allocate_ids = allocate_ids
        self._users: dict[int, UserInfo] = {}
        self._lock = asyncio.Lock()

    def load(self) -> None:
        self._users = {}
        for _, doc in self._store.scan(NS_USER):
            user = _from_doc(doc)
            self._users[user.id] = user
        if ROOT_USER_ID not in self._users:
            self._users[ROOT_USER_ID] = UserInfo(ROOT_USER_ID, ROOT_USER, is_super=True, can_login=True,
                                                 can_create_db=True, can_create_user=True)

    def users(self) -> list[UserInfo]:
        return sorted(self._users.values(), key=lambda u: u.id)

    def by_name(self, name: str) -> UserInfo | None:
        return next((u for u in self._users.values() if u.name == name), None)

    async def create(self, user: UserInfo) -> UserInfo:
        """Add `user` (its id is ignored and assigned here)."""
        async with self._lock:
            if self.by_name(user.name) is not None:
                raise DuplicateObject(f'role "{user.name}" already exists')
            new_id = ROOT_USER_ID
            while new_id == ROOT_USER_ID or new_id in self._users:
                # The allocator's ids start at 1, so it may hand out the bootstrap user's id once.
                new_id = (await self._allocate_ids(1))[0]
            created = dataclasses.replace(user, id=new_id)
            await self._put(created)
            return created

    async def update(self, user: UserInfo) -> UserInfo:
        """Replace the user with `user.id` (a rename included)."""
        async with self._lock:
            if user.id not in self._users:
                raise UndefinedObject(f'role "{user.name}" does not exist')
            other = self.by_name(user.name)
            if other is not None and other.id != user.id:
                raise DuplicateObject(f'role "{user.name}" already exists')
            await self._put(user)
            return user

    async def drop(self, name: str) -> UserInfo:
        async with self._lock:
            user = self.by_name(name)
            if user is None:
                raise UndefinedObject(f'role "{name}" does not exist')
            if user.id == ROOT_USER_ID:
                raise DependentObjectsStillExist(f'cannot drop role {name} because it is required by the database '
                                                 "system")
            await self._store.write(deletes=[(NS_USER, str(user.id))])
            del self._users[user.id]
            return user

    async def _put(self, user: UserInfo) -> None:
        await self._store.write([(NS_USER, str(user.id), _to_doc(user))])
        self._users[user.id] = user
