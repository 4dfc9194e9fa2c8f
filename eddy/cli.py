"""The `eddy` command: the playground, a standalone cluster, or one role per process."""

from __future__ import annotations

import argparse
import asyncio
import faulthandler
import logging
import signal
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from eddy import __version__

if TYPE_CHECKING:
    from frontend.frontend_node import FrontendConfig


def _storage_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--object-store", default=None,
                   help="s3://bucket/prefix to keep state in S3 (default: <data-dir>/objects)")
    p.add_argument("--s3-endpoint", default=None, help="endpoint URL of an S3-compatible store")


def _barrier_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--barrier-interval-ms", type=int, default=1000, help="barrier interval (default %(default)s)")
    p.add_argument("--checkpoint-frequency", type=int, default=1,
                   help="every how many barriers a checkpoint is taken (default %(default)s)")


def _heartbeat_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--heartbeat-timeout", type=float, default=5.0,
                   help="seconds without a heartbeat before a compute node counts as failed (default %(default)s)")


def _frontend_args(p: argparse.ArgumentParser) -> None:
    """How the PostgreSQL endpoint authenticates clients and whether it speaks TLS (issue 4)."""
    p.add_argument("--auth", choices=("password", "cleartext", "trust"), default="password",
                   help="password: users prove their password by SCRAM-SHA-256 or MD5, except root while it has "
                        "none; cleartext: the same, the password sent as is (use with TLS); trust: no passwords "
                        "(default %(default)s)")
    p.add_argument("--tls-cert", default=None, help="PEM certificate (chain) file: accept TLS connections")
    p.add_argument("--tls-key", default=None, help="PEM private key file of --tls-cert")
    p.add_argument("--require-tls", action="store_true", help="refuse clients that do not use TLS")


def frontend_config(args: argparse.Namespace) -> FrontendConfig:
    from frontend.frontend_node import AuthMode, FrontendConfig

    return FrontendConfig(AuthMode(args.auth), args.tls_cert, args.tls_key, args.require_tls)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="eddy", description="Eddy, a SQL streaming database")
    parser.add_argument("--version", action="version", version=f"eddy {__version__}")
    parser.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING or ERROR")
    sub = parser.add_subparsers(dest="command", required=True)

    pg = sub.add_parser("playground", help="every component in one process, state in a local directory")
    pg.add_argument("--data-dir", default="./eddy-data", help="where state and the meta store live (default %(default)s)")
    pg.add_argument("--host", default="127.0.0.1", help="address to listen on (default %(default)s)")
    pg.add_argument("--port", type=int, default=4566, help="PostgreSQL port (default %(default)s)")
    _storage_args(pg)
    pg.add_argument("--meta-store", default=None, help="sqlite:///path/meta.db (default: <data-dir>/meta.db)")
    _barrier_args(pg)
    pg.add_argument("--parallelism", type=int, default=0,
                    help="default parallelism of streaming jobs (default: the machine's cores, up to 4)")
    _frontend_args(pg)

    sa = sub.add_parser("standalone", help="meta, frontend, compute nodes and a compactor as separate processes")
    sa.add_argument("--compute-nodes", type=int, default=1, help="how many compute node processes (default %(default)s)")
    sa.add_argument("--data-dir", default="./eddy-data",
                    help="shared directory for the object store (unless --object-store) and the meta store")
    sa.add_argument("--host", default="127.0.0.1", help="address the frontend listens on (default %(default)s)")
    sa.add_argument("--port", type=int, default=4566, help="PostgreSQL port (default %(default)s)")
    sa.add_argument("--meta-port", type=int, default=5690, help="meta's RPC port (default %(default)s)")
    _storage_args(sa)
    sa.add_argument("--meta-store", default=None,
                    help="sqlite:///path or postgresql://user@host/db (default: <data-dir>/meta.db)")
    _barrier_args(sa)
    _heartbeat_args(sa)
    sa.add_argument("--parallelism", type=int, default=0, help="cores each compute node announces (default: its cores)")
    _frontend_args(sa)

    meta = sub.add_parser("meta", help="the meta node: catalog, scheduling, barriers, the LSM version, recovery")
    meta.add_argument("--listen", default="127.0.0.1:5690", help="host:port for RPC (default %(default)s)")
    meta.add_argument("--meta-store", required=True, help="sqlite:///path/meta.db or postgresql://user@host/db")
    meta.add_argument("--data-dir", default=None, help="the local object store directory when no --object-store")
    _storage_args(meta)
    _barrier_args(meta)
    _heartbeat_args(meta)
    meta.add_argument("--default-parallelism", type=int, default=0,
                      help="parallelism of new jobs (default: the sum of the compute nodes' cores)")

    compute = sub.add_parser("compute", help="a compute node: runs actors and batch queries")
    compute.add_argument("--meta", required=True, help="meta's address, http://host:port")
    compute.add_argument("--listen", default="127.0.0.1:5688", help="host:port for RPC (default %(default)s)")
    compute.add_argument("--advertise", default=None, help="host:port other nodes reach this one at (default: --listen)")
    compute.add_argument("--parallelism", type=int, default=0, help="cores to announce (default: the machine's)")
    compute.add_argument("--data-dir", default=None, help="the local object store directory when meta uses one")

    fe = sub.add_parser("frontend", help="a frontend: the PostgreSQL endpoint")
    fe.add_argument("--meta", required=True, help="meta's address, http://host:port")
    fe.add_argument("--listen", default="127.0.0.1:4566", help="host:port for PostgreSQL clients (default %(default)s)")
    _frontend_args(fe)

    compactor = sub.add_parser("compactor", help="a compactor: merges SSTs for meta")
    compactor.add_argument("--meta", required=True, help="meta's address, http://host:port")
    compactor.add_argument("--data-dir", default=None, help="the local object store directory when meta uses one")
    return parser


def _run_playground(args: argparse.Namespace) -> int:
    from eddy.playground import PlaygroundConfig, run_playground

    config = PlaygroundConfig(data_dir=args.data_dir, host=args.host, port=args.port,
                              object_store=args.object_store, s3_endpoint=args.s3_endpoint,
                              meta_store=args.meta_store, barrier_interval_ms=args.barrier_interval_ms,
                              checkpoint_frequency=args.checkpoint_frequency, parallelism=args.parallelism,
                              frontend=frontend_config(args))
    asyncio.run(run_playground(config))
    return 0


def _run_role(args: argparse.Namespace) -> int:
    from eddy import roles

    runner: Callable[[argparse.Namespace], int] = getattr(roles, f"run_{args.command}")
    return runner(args)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    faulthandler.register(signal.SIGUSR1, all_threads=True)  # `kill -USR1 <pid>` dumps every thread's stack
    from common import codec

    codec.preload()  # before any RPC thread decodes a message
    logging.basicConfig(level=getattr(logging, args.log_level.upper(), logging.INFO),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    if args.command == "playground":
        return _run_playground(args)
    return _run_role(args)


if __name__ == "__main__":
    sys.exit(main())
