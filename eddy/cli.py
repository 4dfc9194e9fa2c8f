"""The `eddy` command."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from eddy import __version__


def _playground_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", default="./eddy-data", help="where state and the meta store live (default %(default)s)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default %(default)s)")
    p.add_argument("--port", type=int, default=4566, help="PostgreSQL port (default %(default)s)")
    p.add_argument("--object-store", default=None,
                   help="s3://bucket/prefix to keep state in S3 (default: <data-dir>/objects)")
    p.add_argument("--s3-endpoint", default=None, help="endpoint URL of an S3-compatible store")
    p.add_argument("--meta-store", default=None, help="sqlite:///path/meta.db (default: <data-dir>/meta.db)")
    p.add_argument("--barrier-interval-ms", type=int, default=1000, help="barrier interval (default %(default)s)")
    p.add_argument("--checkpoint-frequency", type=int, default=1,
                   help="every how many barriers a checkpoint is taken (default %(default)s)")
    p.add_argument("--parallelism", type=int, default=0,
                   help="default parallelism of streaming jobs (default: the machine's cores, up to 4)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="eddy", description="Eddy, a SQL streaming database")
    parser.add_argument("--version", action="version", version=f"eddy {__version__}")
    parser.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING or ERROR")
    sub = parser.add_subparsers(dest="command", required=True)
    pg = sub.add_parser("playground", help="every component in one process, state in a local directory")
    _playground_args(pg)
    args = parser.parse_args(argv)
    logging.basicConfig(level=getattr(logging, args.log_level.upper(), logging.INFO),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    if args.command == "playground":
        from eddy.playground import PlaygroundConfig, run_playground

        config = PlaygroundConfig(data_dir=args.data_dir, host=args.host, port=args.port,
                                  object_store=args.object_store, s3_endpoint=args.s3_endpoint,
                                  meta_store=args.meta_store, barrier_interval_ms=args.barrier_interval_ms,
                                  checkpoint_frequency=args.checkpoint_frequency, parallelism=args.parallelism)
        asyncio.run(run_playground(config))
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
