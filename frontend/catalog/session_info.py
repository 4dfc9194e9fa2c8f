"""What the system catalogs and catalog functions read from a session (frontend.session.Session is one)."""

from __future__ import annotations

from typing import Protocol

from frontend.cluster import MetaClient
from frontend.session_vars import SessionVariables


class SessionInfo(Protocol):
    """The session a statement is bound for: who, where, its settings, and its view of the cluster."""

    user: str
    database: str
    vars: SessionVariables
    meta: MetaClient

    @property
    def process_id(self) -> int: ...
