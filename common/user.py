"""Users (PostgreSQL roles): the catalog entry meta persists and frontends authenticate against.

A user's password is never kept: `password` is PostgreSQL's verifier of
it, either `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`
or `md5` followed by md5(password || user name) in hex, so that catalog
dumps and the meta store hold nothing a client could log in with.
"""

from __future__ import annotations

from dataclasses import dataclass

from common.codec import register

ROOT_USER = "root"
ROOT_USER_ID = 10
"""The bootstrap superuser's OID, as PostgreSQL numbers its own."""


@register
@dataclass(frozen=True, slots=True)
class UserInfo:
    id: int
    name: str
    is_super: bool = False
    can_login: bool = True
    can_create_db: bool = False
    can_create_user: bool = False
    password: str | None = None
    """The password verifier (see the module docstring), or None for no password."""
