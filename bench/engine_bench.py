"""The probe engine at scale, against nginx on 127.0.0.1, beside Prometheus blackbox_exporter.

    python bench/engine_bench.py [--monitors 1000 10000] [--duration 180] [--blackbox-s 60]
                                 [--delay-figure] [--sessions 50]

For each N: N HTTP monitors with a 60 s interval run through the real engine (scheduler, probe,
batch writer, SQLite) for --duration seconds. Printed: checks/s, schedule lateness p50/p99/max,
CPU per check, peak RSS and missed checks. Then blackbox_exporter probes the same nginx at the
same rate (driven from a separate process, its CPU read from /proc) and the ratio of CPU per
check is printed.

What the CPU figures count (all of this process's threads: the probe loop, the scheduler on it,
the batch writer and its SQLite work, thread-pool reads of the monitors; user and system time):
- start-up: from engine.start() until the first sync has installed every monitor's job (the
  engine's first tick), including the checks that fell due and ran meanwhile.
- steady state, the figure the target applies to (an engine runs for days): the CPU after
  start-up until the end of the window, divided by the checks completed in that time.
- from engine start: both together, divided by all checks, as earlier versions printed it.
Results still waiting in the batch writer when the window ends are recorded after it, so the
window's recording CPU lags its checks by at most one batch (about a second).

--delay-figure: a target in its own process answers after exactly 100 ms; 50 monitors probe it
every 10 s while --sessions dashboard sessions re-run in this process (AppTest runs the page
script on threads of this process, as the server does, so they load the process and its GIL as
50 browser sessions would, without 50 browsers competing for the same 2 cores). The engine runs
as the web server runs it: in a child process (--engine-in process, the default), or on a thread
of this process (--engine-in thread) for comparison. Printed: p50/p99/max of the recorded latency,
and how long the target really held its answers (its sleep overshoots on a loaded machine). The
target and the engine's process are given a higher priority where the OS allows it (root or
CAP_SYS_NICE), as the web server's engine process asks for itself.

Needs the Debian packages nginx-light and prometheus-blackbox-exporter.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# A spawned child (the engine process) imports this file again: it must find the same database.
_DB_DIR = os.environ.get("UPWATCH_BENCH_DB_DIR") or tempfile.mkdtemp(prefix="upwatch-bench-")
os.environ["UPWATCH_BENCH_DB_DIR"] = _DB_DIR
os.environ["UPWATCH_DATABASE_URL"] = f"sqlite:///{_DB_DIR}/bench.db"
os.environ.setdefault("UPWATCH_ADMIN_PASSWORD", "bench")

CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def process_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


def start_nginx(directory: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    config = directory / "nginx.conf"
    config.write_text(textwrap.dedent(f"""
        worker_processes 1;
        daemon off;
        pid {directory}/nginx.pid;
        error_log {directory}/error.log warn;
        events {{ worker_connections 4096; }}
        http {{
            access_log off;
            client_body_temp_path {directory};
            proxy_temp_path {directory};
            fastcgi_temp_path {directory};
            uwsgi_temp_path {directory};
            scgi_temp_path {directory};
            server {{
                listen 127.0.0.1:{port} backlog=4096;
                location / {{ return 200 "All systems go"; }}
            }}
        }}
    """))
    process = subprocess.Popen(["nginx", "-c", str(config), "-p", str(directory)])
    wait_for_port(port)
    return process, port


DELAY_TARGET = """
import asyncio, sys, time
async def handle(reader, writer):
    try:
        while True:
            head = await reader.readuntil(b"\\r\\n\\r\\n")
            received = time.perf_counter()
            await asyncio.sleep(0.1)
            writer.write(b"HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n"
                         b"Connection: close\\r\\n\\r\\nok")
            print(f"{(time.perf_counter() - received) * 1000:.3f}", flush=True)
            await writer.drain()
            break
    except Exception:
        pass
    writer.close()
async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", int(sys.argv[1]), backlog=1024)
    await server.serve_forever()
asyncio.run(main())
"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def reset_database() -> None:
    from sqlmodel import SQLModel

    from storage.db import get_engine

    engine = get_engine()
    SQLModel.metadata.drop_all(engine)
    SQLModel.metadata.create_all(engine)


def add_monitors(count: int, url: str, interval: int, timeout: float,
                 rules: list[dict] | None = None) -> None:
    """Insert monitors directly: the bench measures probing, not the form. `rules`: the alert
    rules each monitor gets (Monitor.rules, see bench/rules_bench.py)."""
    from sqlalchemy import insert

    from storage.db import get_engine
    from storage.models import Monitor, MonitorState

    now = datetime.now(UTC)
    rows = [{"id": i, "slug": f"m{i}", "name": f"m{i}", "kind": "http", "url": url,
             "interval": interval, "timeout": timeout, "public": False, "paused": False,
             "options": {}, "failures_before_down": 2, "successes_before_up": 1,
             "sort_order": 0, "show_url": False, "severity": "high", "tags": [],
             "rules": rules or [], "created_at": now, "updated_at": now}
            for i in range(1, count + 1)]
    states = [{"monitor_id": i, "state": "pending", "since": now,
               "consecutive_failures": 0, "consecutive_successes": 0}
              for i in range(1, count + 1)]
    with get_engine().begin() as connection:
        connection.execute(insert(Monitor.__table__), rows)
        connection.execute(insert(MonitorState.__table__), states)


def run_engine(count: int, url: str, duration_s: float, interval: int = 60,
               rules: list[dict] | None = None) -> dict[str, float]:
    from checks.engine import ProbeEngine, start_offset

    reset_database()
    add_monitors(count, url, interval, timeout=10.0, rules=rules)
    engine = ProbeEngine(sync_every_s=2.0)
    cpu_start, wall_start = time.process_time(), time.monotonic()
    engine.start()
    # Start-up ends when the first sync has installed the whole schedule (one job per monitor).
    while engine.last_tick is None and time.monotonic() - wall_start < duration_s:
        time.sleep(0.01)
    cpu_ready, checks_ready = time.process_time(), engine.stats.checks
    startup_s = time.monotonic() - wall_start
    time.sleep(max(0.0, duration_s - startup_s))
    checks = engine.stats.checks
    cpu, wall = time.process_time() - cpu_start, time.monotonic() - wall_start
    steady_cpu, steady_checks = time.process_time() - cpu_ready, checks - checks_ready
    lateness = list(engine.stats.lateness_s)
    engine.stop(timeout_s=30)
    # Every monitor's first run falls in [0, interval) and then every interval.
    offsets = [start_offset(i, interval) for i in range(1, count + 1)]
    expected = sum(int((wall - offset) // interval) + 1 for offset in offsets if wall > offset)
    return {
        "checks": checks, "expected": expected, "checks_per_s": checks / wall,
        "late_p50": percentile(lateness, 0.5), "late_p99": percentile(lateness, 0.99),
        "late_max": max(lateness, default=float("nan")),
        "cpu_us_per_check": cpu / max(checks, 1) * 1e6,
        "startup_s": startup_s, "startup_cpu_s": cpu_ready - cpu_start,
        "steady_checks": steady_checks,
        "steady_cpu_us_per_check": steady_cpu / max(steady_checks, 1) * 1e6,
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "missed": engine.stats.missed, "overlapping": engine.stats.overlapping,
        "written": engine.results_written,
    }


BLACKBOX_DRIVER = """
import asyncio, sys, time
import httpx
async def main():
    url, rate, duration = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(limits=limits, timeout=20) as client:
        tasks, n, failures = [], 0, 0
        start = time.monotonic()
        async def one():
            nonlocal failures
            answer = await client.get(url)
            if "probe_success 1" not in answer.text:
                failures += 1
        while time.monotonic() - start < duration:
            n += 1
            tasks.append(asyncio.create_task(one()))
            await asyncio.sleep(max(0.0, start + n / rate - time.monotonic()))
        await asyncio.gather(*tasks, return_exceptions=True)
        print(n, failures)
asyncio.run(main())
"""


def run_blackbox(target_url: str, rate: float, duration_s: float, directory: Path) -> dict:
    port = free_port()
    config = directory / "blackbox.yml"
    config.write_text("modules:\n  http_2xx:\n    prober: http\n    timeout: 10s\n")
    exporter = subprocess.Popen(
        ["prometheus-blackbox-exporter", f"--config.file={config}",
         f"--web.listen-address=127.0.0.1:{port}", "--log.level=error"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        cpu_before = process_cpu_s(exporter.pid)
        probe_url = f"http://127.0.0.1:{port}/probe?module=http_2xx&target={target_url}"
        driver = subprocess.run(
            [sys.executable, "-c", BLACKBOX_DRIVER, probe_url, str(rate), str(duration_s)],
            capture_output=True, text=True, check=True,
        )
        cpu = process_cpu_s(exporter.pid) - cpu_before
        probes, failures = (int(x) for x in driver.stdout.split())
        return {"probes": probes, "failures": failures, "cpu_us_per_probe": cpu / probes * 1e6}
    finally:
        exporter.terminate()
        exporter.wait()


def run_delay_figure(sessions: int, duration_s: float, engine_in: str) -> dict:
    from sqlmodel import select

    from storage.db import session_scope
    from storage.models import CheckResult

    port = free_port()
    # The target prints how long it really held each answer: on a loaded machine its own
    # sleep overshoots, and that is the target's delay, not the probe's error.
    target = subprocess.Popen([sys.executable, "-c", DELAY_TARGET, str(port)],
                              stdout=subprocess.PIPE, text=True)
    with contextlib.suppress(OSError):  # needs CAP_SYS_NICE; "exactly 100 ms" needs a core
        os.setpriority(os.PRIO_PROCESS, target.pid, -10)
    stop = threading.Event()
    reruns = [0]
    try:
        wait_for_port(port)
        reset_database()
        add_monitors(50, f"http://127.0.0.1:{port}/", interval=10, timeout=5.0)

        def dashboard_session() -> None:
            from streamlit.testing.v1 import AppTest

            at = AppTest.from_file(str(ROOT / "pages" / "dashboard.py"), default_timeout=60)
            at.run()
            at.text_input(key="login_password").input(os.environ["UPWATCH_ADMIN_PASSWORD"])
            at.button[0].click().run()
            while not stop.is_set():
                at.run()
                reruns[0] += 1

        threads = [threading.Thread(target=dashboard_session, daemon=True)
                   for _ in range(sessions)]
        for thread in threads:
            thread.start()
        time.sleep(5)  # let the sessions get going before probing starts
        figure = run_engine_only(duration_s, engine_in)
        stop.set()
        with session_scope() as session:
            latencies = [r for r in session.exec(select(CheckResult.latency_ms)).all() if r]
        target.terminate()
        held = [float(line) for line in target.communicate()[0].split()]
        return {"samples": len(latencies), "reruns": reruns[0],
                "p50": percentile(latencies, 0.5), "p99": percentile(latencies, 0.99),
                "max": max(latencies, default=float("nan")),
                "held_p99": percentile(held, 0.99), "held_max": max(held, default=float("nan")),
                **figure}
    finally:
        stop.set()
        target.terminate()
        target.wait()


def run_engine_only(duration_s: float, engine_in: str) -> dict:
    from checks.engine import ProbeEngine
    from checks.engine_process import ProbeEngineProcess

    if engine_in == "process":
        child = ProbeEngineProcess(sync_every_s=2.0)
        child.start()
        time.sleep(duration_s)
        child.stop(timeout_s=30)
        return {"checks": child.counters.checks}
    engine = ProbeEngine(sync_every_s=2.0)
    engine.start()
    time.sleep(duration_s)
    engine.stop(timeout_s=30)
    return {"checks": engine.stats.checks}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--monitors", type=int, nargs="*", default=[1000, 10_000])
    parser.add_argument("--duration", type=float, default=180.0)
    parser.add_argument("--blackbox-s", type=float, default=60.0)
    parser.add_argument("--delay-figure", action="store_true")
    parser.add_argument("--delay-duration", type=float, default=60.0)
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--engine-in", choices=["process", "thread"], default="process",
                        help="delay figure: the engine in a child process (as the web server "
                             "runs it) or on a thread of the UI's process")
    args = parser.parse_args()
    directory = Path(tempfile.mkdtemp(prefix="upwatch-nginx-"))
    nginx, port = start_nginx(directory)
    url = f"http://127.0.0.1:{port}/"
    try:
        for count in args.monitors:
            figures = run_engine(count, url, args.duration)
            print(f"engine N={count} over {args.duration:.0f} s:")
            print(f"  checks/s {figures['checks_per_s']:.1f} ({figures['checks']} checks, "
                  f"{figures['expected']} due, {figures['written']} recorded)")
            print(f"  lateness p50 {figures['late_p50'] * 1000:.1f} ms, p99 "
                  f"{figures['late_p99'] * 1000:.1f} ms, max {figures['late_max'] * 1000:.1f} ms")
            print(f"  start-up (scheduling {count} jobs): {figures['startup_cpu_s']:.2f} CPU-s "
                  f"in {figures['startup_s']:.2f} s")
            print(f"  CPU per check, steady state {figures['steady_cpu_us_per_check']:.0f} µs "
                  f"(probe + record, {figures['steady_checks']} checks after start-up); "
                  f"from engine start {figures['cpu_us_per_check']:.0f} µs")
            print(f"  peak RSS {figures['rss_mb']:.0f} MB; missed checks {figures['missed']} "
                  f"(skipped as overlapping: {figures['overlapping']}; due but not started "
                  f"by the end, in flight included: "
                  f"{max(figures['expected'] - figures['checks'], 0)})")
            if args.blackbox_s > 0:
                rate = count / 60
                box = run_blackbox(url, rate, args.blackbox_s, directory)
                ratio = figures["steady_cpu_us_per_check"] / box["cpu_us_per_probe"]
                print(f"  blackbox_exporter at {rate:.1f} probes/s for {args.blackbox_s:.0f} s: "
                      f"{box['cpu_us_per_probe']:.0f} µs per probe ({box['failures']} failed); "
                      f"ratio {ratio:.2f}x")
            sys.stdout.flush()
        if args.delay_figure:
            delay = run_delay_figure(args.sessions, args.delay_duration, args.engine_in)
            print(f"100 ms target, engine in a {args.engine_in}, {args.sessions} dashboard "
                  f"sessions re-running "
                  f"({delay['reruns']} reruns), {delay['samples']} checks: recorded latency "
                  f"p50 {delay['p50']:.1f} ms, p99 {delay['p99']:.1f} ms, "
                  f"max {delay['max']:.1f} ms; the target's own hold p99 "
                  f"{delay['held_p99']:.1f} ms, max {delay['held_max']:.1f} ms")
    finally:
        nginx.terminate()
        nginx.wait()
        shutil.rmtree(directory, ignore_errors=True)
        shutil.rmtree(_DB_DIR, ignore_errors=True)


if __name__ == "__main__":
    main()
