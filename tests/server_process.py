"""Run Upwatch as a user does, `streamlit run app.py`, in a child process on a free port."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class UpwatchServer:
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    started_in_s: float

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGTERM, timeout_s: float = 15) -> float:
        """Send `sig` and return how long the process took to exit."""
        began = time.monotonic()
        self.process.send_signal(sig)
        self.process.wait(timeout=timeout_s)
        return time.monotonic() - began


def wait_until(predicate, timeout_s: float, what: str, every_s: float = 0.2):
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(every_s)


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@contextmanager
def running_upwatch(port: int, env: dict[str, str], log_path: Path) -> Iterator[UpwatchServer]:
    command = [
        sys.executable, "-m", "streamlit", "run", "app.py",
        "--server.port", str(port), "--server.address", "127.0.0.1",
    ]
    with running_server(command, port, ROOT, {**os.environ, **env}, log_path) as server:
        yield server


@contextmanager
def running_server(command: list[str], port: int, cwd: Path, env: dict[str, str],
                   log_path: Path) -> Iterator[UpwatchServer]:
    """`command` (a server on 127.0.0.1:`port`) run in `cwd` with exactly `env`, until
    /healthz answers 200; killed when the block ends."""
    with log_path.open("ab") as log:
        began = time.monotonic()
        process = subprocess.Popen(
            command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    server = UpwatchServer(url, process, log_path, 0.0)
    try:
        wait_until(lambda: _healthy(url) or process.poll() is not None, 90, "/healthz")
        if process.poll() is not None:
            raise AssertionError(f"Upwatch exited at start:\n{server.log()}")
        server.started_in_s = time.monotonic() - began
        yield server
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
