"""One Eddy role per process: meta, compute, frontend, compactor, and standalone (all of them as children)."""

from __future__ import annotations

import argparse

from common.errors import FeatureNotSupported


def _not_yet(role: str) -> int:
    raise FeatureNotSupported(f"eddy {role} arrives with cluster mode")


def run_meta(args: argparse.Namespace) -> int:
    return _not_yet("meta")


def run_compute(args: argparse.Namespace) -> int:
    return _not_yet("compute")


def run_frontend(args: argparse.Namespace) -> int:
    return _not_yet("frontend")


def run_compactor(args: argparse.Namespace) -> int:
    return _not_yet("compactor")


def run_standalone(args: argparse.Namespace) -> int:
    return _not_yet("standalone")
