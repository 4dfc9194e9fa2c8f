"""The user catalog in the meta store: bootstrap root, unique names, fresh ids, changes that survive a restart."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from common.errors import DependentObjectsStillExist, DuplicateObject, UndefinedObject
from common.user import ROOT_USER_ID, UserInfo
from meta.meta_store import SqliteMetaStore
from meta.user_manager import UserManager


class Ids:
    """An allocator like the catalog's, starting at 1."""

    def __init__(self) -> None:
        self.next = 1

    async def __call__(self, n: int) -> list[int]:
        ids = list(range(self.next, self.next + n))
        self.next += n
        return ids


def manager(path: Path, ids: Ids) -> UserManager:
    m = UserManager(SqliteMetaStore(str(path)), ids)
    m.load()
    return m


async def test_root_exists_without_ever_being_written(tmp_path: Path) -> None:
    m = manager(tmp_path / "meta.db", Ids())
    (root,) = m.users()
    assert (root.id, root.name, root.is_super, root.can_login, root.password) == (ROOT_USER_ID, "root", True, True,
                                                                                  None)
    assert SqliteMetaStore(str(tmp_path / "meta.db")).scan("user") == []


async def test_changes_survive_a_restart(tmp_path: Path) -> None:
    ids = Ids()
    m = manager(tmp_path / "meta.db", ids)
    alice = await m.create(UserInfo(0, "alice", password="md5" + "0" * 32))
    bob = await m.create(UserInfo(0, "bob", can_login=False))
    root = m.by_name("root")
    assert root is not None
    await m.update(dataclasses.replace(root, password="SCRAM-SHA-256$4096:c2FsdA==$a2V5:a2V5"))
    await m.update(dataclasses.replace(bob, name="robert"))
    await m.drop("alice")
    again = manager(tmp_path / "meta.db", ids)
    assert sorted((u.name, u.can_login, u.password is not None) for u in again.users()) == [
        ("robert", False, False), ("root", True, True)]
    assert again.by_name("alice") is None and alice.id != bob.id


async def test_names_are_unique_and_ids_never_repeat_the_root_id(tmp_path: Path) -> None:
    ids = Ids()
    ids.next = ROOT_USER_ID  # the allocator is about to hand out root's id
    m = manager(tmp_path / "meta.db", ids)
    user = await m.create(UserInfo(0, "u"))
    assert user.id not in (ROOT_USER_ID, 0)
    with pytest.raises(DuplicateObject, match='role "u" already exists'):
        await m.create(UserInfo(0, "u"))
    other = await m.create(UserInfo(0, "v"))
    with pytest.raises(DuplicateObject):
        await m.update(dataclasses.replace(other, name="u"))
    with pytest.raises(UndefinedObject):
        await m.update(UserInfo(12345, "ghost"))
    with pytest.raises(UndefinedObject, match='role "ghost" does not exist'):
        await m.drop("ghost")
    with pytest.raises(DependentObjectsStillExist):
        await m.drop("root")
