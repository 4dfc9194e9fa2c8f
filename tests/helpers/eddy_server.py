"""Start and kill real `eddy playground` processes for end-to-end tests."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


class EddyProcess:
    """One `eddy playground` OS process on a free port, with its data directory and log file."""

    def __init__(self, data_dir: Path, *, barrier_interval_ms: int = 100, parallelism: int = 2,
                 extra_args: tuple[str, ...] = (), env: dict[str, str] | None = None) -> None:
        self.data_dir = Path(data_dir)
        self.barrier_interval_ms = barrier_interval_ms
        self.parallelism = parallelism
        self.extra_args = extra_args
        self.env = env
        self.port = 0
        self.proc: subprocess.Popen[str] | None = None
        self.log_path = self.data_dir.parent / f"{self.data_dir.name}.log"

    @property
    def dsn(self) -> str:
        return f"postgresql://root@127.0.0.1:{self.port}/dev"

    def start(self, timeout: float = 90.0) -> EddyProcess:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "eddy", "playground", "--data-dir", str(self.data_dir), "--port", "0",
               "--barrier-interval-ms", str(self.barrier_interval_ms), "--parallelism", str(self.parallelism),
               *self.extra_args]
        env = dict(os.environ)
        env.update(self.env or {})
        env["PYTHONUNBUFFERED"] = "1"
        log = open(self.log_path, "a")  # noqa: SIM115 - closed by the process ending
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log, text=True, cwd=ROOT, env=env)
        lines: queue.Queue[str | None] = queue.Queue()

        def pump() -> None:
            assert self.proc is not None and self.proc.stdout is not None
            for line in self.proc.stdout:
                lines.put(line)
            lines.put(None)

        threading.Thread(target=pump, daemon=True).start()
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.kill()
                raise TimeoutError(f"eddy did not start in {timeout}s; log: {self.log_tail()}")
            try:
                line = lines.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                raise RuntimeError(f"eddy exited with {self.proc.wait()}; log: {self.log_tail()}")
            if "Eddy is ready" in line:
                self.port = int(line.split(" -p ")[1].split()[0])
                return self

    def log_tail(self, n: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text().splitlines()[-n:])
        except OSError:
            return "(no log)"

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a crash."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


def wait_until(predicate, timeout: float = 30.0, interval: float = 0.05, message: str = "condition"):  # type: ignore[no-untyped-def]
    """Poll `predicate` until it returns a truthy value; return that value."""
    deadline = time.monotonic() + timeout
    last_exc: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Exception as exc:  # the condition may raise while the system settles
            last_exc = exc
        time.sleep(interval)
    raise TimeoutError(f"timed out waiting for {message}" + (f" (last error: {last_exc})" if last_exc else ""))


class SlowCreate:
    """A CREATE run in its own session on a thread, its backfill slowed to `rate` rows per second per actor.

    `errors` holds what the statement raised; `session` is its connection once open (to cancel it).
    """

    def __init__(self, dsn: str, sql: str, rate: int) -> None:
        import psycopg

        self.errors: list[BaseException] = []
        self.session: psycopg.Connection | None = None
        opened = threading.Event()

        def run() -> None:
            try:
                with psycopg.connect(dsn, autocommit=True) as conn:
                    self.session = conn
                    opened.set()
                    conn.execute(f"SET backfill_rate_limit = {rate}")
                    conn.execute(sql)
            except BaseException as e:
                self.errors.append(e)
            finally:
                opened.set()

        self.thread = threading.Thread(target=run)
        self.thread.start()
        opened.wait(timeout=30)

    def is_alive(self) -> bool:
        return self.thread.is_alive()

    def join(self, timeout: float | None = None) -> None:
        self.thread.join(timeout)
