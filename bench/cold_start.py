"""Cold start of `streamlit run app.py` until /healthz answers 200, and idle memory.

    python bench/cold_start.py [runs]

Prints each run and the median. Uses a fresh SQLite file per run.
"""

from __future__ import annotations

import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found += [int(child) for child in text]
    return found


def rss_mib(pid: int) -> float:
    """Resident memory of the server and its children (the probe engine runs in one)."""
    pids, total = [pid], 0
    while pids:
        current = pids.pop()
        total += _rss_kib(current)
        pids += _children(current)
    return total / 1024


def one_run() -> tuple[float, float]:
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "UPWATCH_DATABASE_URL": f"sqlite:///{tmp}/upwatch.db",
               "UPWATCH_ADMIN_PASSWORD": "bench"}
        began = time.monotonic()
        process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port)],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        try:
            while True:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.05)
            started = time.monotonic() - began
            time.sleep(10)  # let it settle into idle
            return started, rss_mib(process.pid)
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=15)


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    results = [one_run() for _ in range(runs)]
    for i, (started, rss) in enumerate(results, 1):
        print(f"run {i}: healthz 200 after {started:.2f} s, idle RSS {rss:.0f} MiB")
    print(f"median: cold start {statistics.median(r[0] for r in results):.2f} s, "
          f"idle RSS (server + probe process) {statistics.median(r[1] for r in results):.0f} MiB")


if __name__ == "__main__":
    main()
