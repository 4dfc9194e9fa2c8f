"""One Eddy role per process, and `standalone`, which runs every role as a child process.

Each role prints one line `Eddy <role> is ready: <address>` on stdout once
it serves, then runs until SIGINT or SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

from common.flight_rpc import RpcClient, RpcUnavailable, start_server

log = logging.getLogger("eddy.roles")


def _split(listen: str) -> tuple[str, int]:
    host, _, port = listen.rpartition(":")
    return host or "127.0.0.1", int(port)


def _ready(role: str, address: str) -> None:
    print(f"Eddy {role} is ready: {address}", flush=True)


_DESCRIBERS: list[Callable[[], list[str]]] = []


def dump_tasks() -> None:
    """Where every asyncio task waits, and the role's barrier bookkeeping, on stderr.

    `kill -USR2 <pid>`; -USR1 dumps every thread's stack instead.
    """
    for describe in _DESCRIBERS:
        for line in describe():
            print(f"=== {line}", file=sys.stderr)
    for task in asyncio.all_tasks():
        lines = []
        coro: Any = task.get_coro()
        while coro is not None:
            frame = getattr(coro, "cr_frame", None) or getattr(coro, "ag_frame", None)
            if frame is not None:
                lines.append(f"    {frame.f_code.co_filename}:{frame.f_lineno} in {frame.f_code.co_name}")
            coro = getattr(coro, "cr_await", None) or getattr(coro, "ag_await", None)
        print(f"--- task {task.get_name()}\n" + "\n".join(lines), file=sys.stderr)
    sys.stderr.flush()


async def _until_signalled() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    loop.add_signal_handler(signal.SIGUSR2, dump_tasks)
    await stop.wait()


async def _retry(what: str, call: Callable[[], Awaitable[Any]], timeout_s: float = 120.0) -> Any:
    """Call until it works: roles may start before meta does."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return await call()
        except RpcUnavailable:
            if time.monotonic() > deadline:
                raise
            log.info("waiting for %s", what)
            await asyncio.sleep(0.5)


def _local_objects(data_dir: str | None) -> str:
    return os.path.join(os.path.abspath(data_dir or "./eddy-data"), "objects")


# -- meta --------------------------------------------------------------------------

async def _meta(args: argparse.Namespace) -> None:
    from meta.compute_client import RemoteComputeClient
    from meta.meta_node import MetaConfig, MetaNode
    from meta.meta_store import open_meta_store
    from meta.rpc_service import serve_meta
    from storage.object_store import object_store_from_url

    url = args.object_store or _local_objects(args.data_dir)
    config = MetaConfig(barrier_interval_ms=args.barrier_interval_ms, checkpoint_frequency=args.checkpoint_frequency,
                        heartbeat_timeout_s=args.heartbeat_timeout, default_parallelism=args.default_parallelism,
                        object_store=url, s3_endpoint=args.s3_endpoint)
    meta = MetaNode(open_meta_store(args.meta_store), config, connect=RemoteComputeClient)
    await meta.start()
    _DESCRIBERS.append(meta.barriers.describe)
    host, port = _split(args.listen)
    server = start_server(host, port)
    serve_meta(meta, server)
    meta.start_garbage_collection(object_store_from_url(url, s3_endpoint=args.s3_endpoint))
    _ready("meta", f"{host}:{server.port}")
    await _until_signalled()
    server.shutdown()
    await meta.stop()


def run_meta(args: argparse.Namespace) -> int:
    asyncio.run(_meta(args))
    return 0


# -- compute ------------------------------------------------------------------------

async def _compute(args: argparse.Namespace) -> None:
    from compute.compute_node import ComputeNode
    from compute.meta_client import RemoteMeta, keep_registered
    from compute.rpc_service import serve_compute
    from meta.meta_node import default_cores
    from storage.object_store import object_store_from_url

    meta = RemoteMeta(RpcClient(args.meta))
    info = await _retry("meta", meta.cluster_info)
    url = _local_objects(args.data_dir) if args.data_dir and not info.object_store.startswith("s3://") \
        else info.object_store
    node = ComputeNode(0, object_store_from_url(url, s3_endpoint=info.s3_endpoint), meta)
    await node.start()
    _DESCRIBERS.append(node.barriers.describe)
    host, port = _split(args.listen)
    server = start_server(host, port)
    serve_compute(node, server)
    advertise = args.advertise or f"{socket.gethostname() if host == '0.0.0.0' else host}:{server.port}"
    parallelism = args.parallelism or default_cores()

    async def registered(node_id: int) -> None:
        # No reset here: barriers for the new id may already be arriving (the node was reset
        # when it lost its previous registration, and starts empty).
        node.set_node_id(node_id)
        log.info("registered with meta as compute node %d", node_id)

    heartbeat_s = max(0.1, min(1.0, info.heartbeat_timeout_s / 4))
    task = asyncio.get_running_loop().create_task(
        keep_registered(meta, advertise, parallelism, heartbeat_s, info.heartbeat_timeout_s, registered, node.reset))
    _ready("compute", advertise)
    await _until_signalled()
    task.cancel()
    server.shutdown()
    await node.stop()


def run_compute(args: argparse.Namespace) -> int:
    asyncio.run(_compute(args))
    return 0


# -- frontend -----------------------------------------------------------------------

async def _frontend(args: argparse.Namespace) -> None:
    from eddy.cli import frontend_config
    from frontend.frontend_node import FrontendNode
    from frontend.remote_clients import ComputeRouter, RemoteMetaClient

    meta = RemoteMetaClient(args.meta)
    await _retry("meta", meta.start)
    router = ComputeRouter(meta)
    node = FrontendNode(meta, lambda: router, frontend_config(args))
    host, port = _split(args.listen)
    server = await node.start(host, port)
    _ready("frontend", f"{host}:{server.port}")
    await _until_signalled()
    await node.stop()
    await meta.stop()


def run_frontend(args: argparse.Namespace) -> int:
    asyncio.run(_frontend(args))
    return 0


# -- compactor ----------------------------------------------------------------------

class RemoteCompactionSource:
    """A compactor's view of meta (storage.compactor.CompactionTaskSource)."""

    def __init__(self, client: RpcClient) -> None:
        self.client = client

    async def next_task(self) -> Any:
        return await self.client.call("get_compaction_task")

    async def report_compaction(self, task_id: int, outputs: Any) -> Any:
        return await self.client.call("report_compaction", (task_id, outputs), timeout_s=120)

    async def new_object_ids(self, n: int) -> list[int]:
        return list(await self.client.call("new_object_ids", n))


async def _compactor(args: argparse.Namespace) -> None:
    from compute.meta_client import RemoteMeta
    from storage.compactor import Compactor
    from storage.object_store import object_store_from_url

    client = RpcClient(args.meta)
    info = await _retry("meta", RemoteMeta(client).cluster_info)
    url = _local_objects(args.data_dir) if args.data_dir and not info.object_store.startswith("s3://") \
        else info.object_store
    compactor = Compactor(RemoteCompactionSource(client), object_store_from_url(url, s3_endpoint=info.s3_endpoint),
                          lambda version: None)
    compactor.start()
    _ready("compactor", args.meta)
    await _until_signalled()
    await compactor.stop()


def run_compactor(args: argparse.Namespace) -> int:
    asyncio.run(_compactor(args))
    return 0


# -- standalone ---------------------------------------------------------------------

def _wait_for_workers(meta_addr: str, n: int, children: list[subprocess.Popen[bytes]],
                      timeout_s: float = 120.0) -> None:
    client = RpcClient(meta_addr)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and all(c.poll() is None for c in children):
        try:
            if len(client.call_sync("workers", timeout_s=2)) >= n:
                return
        except Exception:  # meta is still starting
            pass
        time.sleep(0.2)
    log.warning("starting the frontend before all %d compute nodes joined", n)


def run_standalone(args: argparse.Namespace) -> int:
    """Meta, compute nodes, a compactor and a frontend as child processes of this one."""
    data_dir = os.path.abspath(args.data_dir)
    os.makedirs(data_dir, exist_ok=True)
    meta_store = args.meta_store or f"sqlite://{os.path.join(data_dir, 'meta.db')}"
    meta_addr = f"127.0.0.1:{args.meta_port}"
    base = [sys.executable, "-m", "eddy", "--log-level", logging.getLevelName(logging.getLogger().level)]
    storage = ["--object-store", args.object_store] if args.object_store else ["--data-dir", data_dir]
    if args.s3_endpoint:
        storage += ["--s3-endpoint", args.s3_endpoint]
    meta_cmd = [*base, "meta", "--listen", meta_addr, "--meta-store", meta_store, *storage,
                "--barrier-interval-ms", str(args.barrier_interval_ms),
                "--checkpoint-frequency", str(args.checkpoint_frequency),
                "--heartbeat-timeout", str(args.heartbeat_timeout)]
    local = [] if args.object_store else ["--data-dir", data_dir]
    children = [subprocess.Popen(meta_cmd)]
    for _ in range(args.compute_nodes):
        cmd = [*base, "compute", "--meta", meta_addr, "--listen", "127.0.0.1:0", *local]
        if args.parallelism:
            cmd += ["--parallelism", str(args.parallelism)]
        children.append(subprocess.Popen(cmd, stdout=subprocess.DEVNULL))
    children.append(subprocess.Popen([*base, "compactor", "--meta", meta_addr, *local], stdout=subprocess.DEVNULL))
    # Clients come in once every compute node has joined, so the first tables and views spread over all.
    _wait_for_workers(meta_addr, args.compute_nodes, children)
    tls = ["--tls-cert", args.tls_cert, "--tls-key", args.tls_key] if args.tls_cert else []
    children.append(subprocess.Popen([*base, "frontend", "--meta", meta_addr, "--listen", f"{args.host}:{args.port}",
                                      "--auth", args.auth, *tls, *(["--require-tls"] if args.require_tls else [])]))

    def stop(*_: Any) -> None:
        for c in children:
            if c.poll() is None:
                c.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        while all(c.poll() is None for c in children):
            time.sleep(0.5)
    finally:
        stop()
        for c in children:
            try:
                c.wait(timeout=30)
            except subprocess.TimeoutExpired:
                c.kill()
    return 0
