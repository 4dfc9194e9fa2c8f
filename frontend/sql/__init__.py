"""Eddy's SQL dialect (a sqlglot dialect on top of PostgreSQL's) and statement parsing."""
