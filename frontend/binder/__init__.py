"""The binder: sqlglot trees to Eddy's bound expressions and logical plans; sqlglot stops here."""
