"""Frontend: PostgreSQL wire server, sessions, SQL dialect, binder and planner."""
