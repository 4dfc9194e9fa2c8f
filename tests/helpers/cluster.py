"""A real Eddy cluster for tests: meta, compute nodes, a compactor and frontends as OS processes."""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.helpers.eddy_server import ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RoleProcess:
    """One `eddy <role>` process; `address` comes from its ready line."""

    def __init__(self, name: str, args: list[str], log_dir: Path, env: dict[str, str] | None = None) -> None:
        self.name = name
        self.args = args
        self.log_path = log_dir / f"{name}.log"
        self.env = env
        self.proc: subprocess.Popen[str] | None = None
        self.address = ""

    def start(self, timeout: float = 90.0) -> RoleProcess:
        env = dict(os.environ, PYTHONUNBUFFERED="1", **(self.env or {}))
        log = open(self.log_path, "a")  # noqa: SIM115 - the child owns it
        self.proc = subprocess.Popen([sys.executable, "-m", "eddy", *self.args], stdout=subprocess.PIPE,
                                     stderr=log, text=True, cwd=ROOT, env=env)
        lines: queue.Queue[str | None] = queue.Queue()

        def pump() -> None:
            assert self.proc is not None and self.proc.stdout is not None
            for line in self.proc.stdout:
                lines.put(line)
            lines.put(None)

        threading.Thread(target=pump, daemon=True).start()
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                line = ""
            if line is None:
                raise RuntimeError(f"{self.name} exited with {self.proc.wait()}: {self.log_tail()}")
            if "is ready:" in line:
                self.address = line.split("is ready:")[1].strip()
                return self
            if time.monotonic() > deadline:
                self.kill()
                raise TimeoutError(f"{self.name} did not start: {self.log_tail()}")

    def log_tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text().splitlines()[-n:])
        except OSError:
            return "(no log)"

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


class Cluster:
    """Meta on a fixed port (so it can restart at the same address), and the other roles around it."""

    def __init__(self, root: Path, *, compute_nodes: int = 3, frontends: int = 1, meta_store: str | None = None,
                 barrier_interval_ms: int = 200, heartbeat_timeout: float = 2.0, parallelism: int = 2,
                 object_store: list[str] | None = None, env: dict[str, str] | None = None) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.meta_port = free_port()
        self.meta_store = meta_store or f"sqlite://{root / 'meta.db'}"
        self.storage = object_store or ["--data-dir", str(root)]
        self.env = env
        self.meta = RoleProcess("meta", ["meta", "--listen", f"127.0.0.1:{self.meta_port}", "--meta-store",
                                         self.meta_store, *self.storage,
                                         "--barrier-interval-ms", str(barrier_interval_ms),
                                         "--heartbeat-timeout", str(heartbeat_timeout)], root, env)
        self.parallelism = parallelism
        self.computes = [self._compute(i) for i in range(compute_nodes)]
        local = ["--data-dir", str(root)] if object_store is None else []
        self.compactor = RoleProcess("compactor", ["compactor", "--meta", self.meta_addr, *local], root, env)
        self.frontends = [RoleProcess(f"frontend{i}", ["frontend", "--meta", self.meta_addr, "--listen",
                                                       "127.0.0.1:0"], root, env) for i in range(frontends)]

    @property
    def meta_addr(self) -> str:
        return f"127.0.0.1:{self.meta_port}"

    def _compute(self, i: int) -> RoleProcess:
        local = ["--data-dir", str(self.root)] if self.storage[0] == "--data-dir" else []
        return RoleProcess(f"compute{i}", ["compute", "--meta", self.meta_addr, "--listen", "127.0.0.1:0",
                                           "--parallelism", str(self.parallelism), *local], self.root, self.env)

    def start(self) -> Cluster:
        self.meta.start()
        for c in self.computes:
            c.start()
        self.compactor.start()
        for f in self.frontends:
            f.start()
        return self

    def add_compute(self) -> RoleProcess:
        node = self._compute(len(self.computes))
        self.computes.append(node)
        return node.start()

    def dsn(self, frontend: int = 0) -> str:
        return f"postgresql://root@{self.frontends[frontend].address}/dev"

    def all(self) -> list[RoleProcess]:
        return [self.meta, *self.computes, self.compactor, *self.frontends]

    def kill_all(self) -> None:
        for p in self.all():
            p.kill()

    def logs(self) -> str:
        return "\n\n".join(f"--- {p.name}\n{p.log_tail(25)}" for p in self.all())
