"""Prometheus's own tools for the tests: promtool, and a real Prometheus server on 127.0.0.1
scraping Upwatch's /metrics served on 127.0.0.1 (Debian package `prometheus`).

Without them the tests skip, saying so; with CI=true they fail (tests/conftest.require_or_skip).
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn

from tests.conftest import require_or_skip

PROMTOOL = shutil.which("promtool")
PROMETHEUS = shutil.which("prometheus")
HOST = "127.0.0.1"


def promtool(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    """promtool's answer (skips, or fails in CI, without it)."""
    require_or_skip(PROMTOOL is not None, "promtool (Debian package 'prometheus') is missing")
    assert PROMTOOL is not None
    return subprocess.run([PROMTOOL, *args], input=None if stdin is None else stdin.decode(),
                          capture_output=True, text=True, timeout=60, check=False)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _wait_until(condition: Any, what: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} within {timeout_s:.0f} s")
        time.sleep(0.1)


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """`app` served by uvicorn on 127.0.0.1, on a thread; its base URL."""
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host=HOST, port=port, log_level="warning",
                                           lifespan="off"))
    thread = threading.Thread(target=server.run, name="metrics-server", daemon=True)
    thread.start()
    try:
        _wait_until(lambda: server.started, "the metrics server started")
        yield f"http://{HOST}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as answer:
        return json.load(answer)


def _ready(base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/-/ready", timeout=2) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


@contextmanager
def running_prometheus(target: str, token: str, workdir: Path) -> Iterator[str]:
    """A Prometheus scraping `target` (host:port) every second with the API token; its URL."""
    require_or_skip(PROMETHEUS is not None,
                    "prometheus (Debian package 'prometheus') is missing")
    assert PROMETHEUS is not None
    config = workdir / "prometheus.yml"
    config.write_text(json.dumps({  # JSON is YAML
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s"},
        "scrape_configs": [{
            "job_name": "upwatch", "static_configs": [{"targets": [target]}],
            "authorization": {"credentials": token},
        }],
    }))
    port = _free_port()
    process = subprocess.Popen(
        [PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={workdir / 'tsdb'}",
         f"--web.listen-address={HOST}:{port}", "--log.level=warn"],
        stdout=subprocess.DEVNULL, stderr=(workdir / "prometheus.log").open("wb"))
    base = f"http://{HOST}:{port}"
    try:
        _wait_until(lambda: process.poll() is not None or _ready(base), "Prometheus was ready")
        assert process.poll() is None, (workdir / "prometheus.log").read_text()
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def query_until(base: str, promql: str, timeout_s: float = 30.0) -> list[dict[str, Any]]:
    """The first non-empty answer of an instant PromQL query, polled until `timeout_s`."""
    found: list[dict[str, Any]] = []

    def answered() -> bool:
        url = f"{base}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
        found[:] = _get_json(url)["data"]["result"]
        return bool(found)

    _wait_until(answered, f"Prometheus answered {promql!r}", timeout_s)
    return found
