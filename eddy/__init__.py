"""The composition root: the `eddy` command, which wires the roles into processes."""

__version__ = "0.1.0"
