"""The PostgreSQL wire protocol: framing, startup, simple and extended query flows.

Kept apart from SQL: it talks to a `Session` (see session_api.py) and never
parses a statement itself.
"""
