"""Badges, /api/v1/status and the status page under load, on the real server.

    python bench/badge_bench.py [--monitors 100] [--seconds 10] [--connections 32] [--rate 3000]

Generates `--monitors` public monitors (5 groups) with a year of daily rollups and 92 days of
hourly ones, written in bulk, then runs `streamlit run app.py` (probes off) and measures, on
loopback with keep-alive connections (wrk, Debian package `wrk`):
- badge requests per second at saturation (wrk, closed loop), rotating over every monitor and
  badge kind (target >= 3,000/s). Its p99 is printed too, but at saturation a closed loop's
  latency is only connections / throughput (queueing), so it says nothing about the server's
  own pauses;
- badge p99 latency at a constant offered load of `--rate` requests per second (target < 5 ms at
  3,000/s), from bench/open_loop.py: latency counts from when each request was due, so a server
  pause counts for every request it delayed (no coordinated omission). Measured three times:
  with the read model quiet; with results arriving (the database changes every second, so the
  read model is rebuilt every 5 s as with probes on); and on a second server with the probe
  engine on, every monitor checked against a local target (`--no-probes` skips it);
- /api/v1/status requests per second (target >= 1,000/s);
- the status page's time to fully rendered in headless Chromium: from navigation until the
  script is idle, the banner is shown and every group's bars are drawn (target < 1.5 s). Each
  load starts when the server is warm and idle, as a real server is for a visitor: its first
  snapshot installed, its first page run done (the first load, not counted), its processes
  quiet. This machine's speed moves by a factor of 2-4 over minutes with nothing else running
  (a virtual machine on a shared host), so the figure comes with a fixed loop's time measured
  around the loads: the same page is slower when that loop is. The browser runs with the
  test suite's flags (tests/browser.py), which stop headless Chromium from building its
  hidden address-bar popup for each new window while the page loads (~1.6 s of CPU).
Also the read model's rebuild time (done in a process of its own when a cheap change fingerprint
moves, at most every 5 s, and at least every 60 s) and what installing a rebuilt snapshot costs
the web process. The badge
figures need uvicorn's httptools parser (a declared dependency). Figures are medians.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from analytics_bench import median_ms  # noqa: E402  (found through the path above)

GROUPS = ("Website", "API", "Payments", "Search", "Internal tools")
BADGES = ("status.svg", "uptime.svg?window=30d", "uptime.json?window=1y",
          "latency.svg?q=p95&window=24h", "latency.json?q=p99&window=7d",
          "status.svg?style=for-the-badge")
LUA = """
paths = {%s}
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter %% #paths) + 1])
end
"""


def seed(monitors: int) -> None:
    from analytics_bench import generate
    from sqlalchemy import update

    from storage.db import get_engine
    from storage.models import Monitor

    generate(monitors, hourly_days=92, full_year_hours_for=0)
    table = Monitor.__table__
    with get_engine().begin() as connection:
        for m in range(1, monitors + 1):
            connection.execute(update(table).where(table.c.id == m).values(
                group_name=GROUPS[(m - 1) % len(GROUPS)], sort_order=m))


def _latency_ms(text: str, output: str) -> float:
    """A latency as wrk prints it (`812.00us`, `1.20ms`, `2.00s`, `1.00m`), in milliseconds."""
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    if match is None:
        raise SystemExit(f"wrk printed a latency this cannot read ({text!r}):\n{output}")
    value, unit = match.groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1e3, "m": 6e4, "h": 3.6e6}[unit]


def wrk(url: str, paths: list[str], seconds: int, connections: int) -> tuple[float, float]:
    """(requests per second, p99 ms) over keep-alive connections."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(LUA % ", ".join(f'"{p}"' for p in paths))
    output = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", script.name, url],
        capture_output=True, text=True, check=True).stdout
    os.unlink(script.name)
    if "Non-2xx" in output:
        raise SystemExit(f"wrk saw error answers:\n{output}")
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p99 = _latency_ms(re.search(r"99%\s+(\S+)", output).group(1), output)  # type: ignore[union-attr]
    return rate, p99


def _cpu_s(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _family(pid: int) -> list[int]:
    """`pid` and its children (the read model's process)."""
    family = [pid]
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and int(
                    (entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                family.append(int(entry.name))
        except OSError:
            continue
    return family


def wait_until_idle(pid: int, busy_below: float = 0.03, window_s: float = 0.5,
                    timeout_s: float = 30.0) -> None:
    """Until the server and its children use under `busy_below` of a core over `window_s`."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        pids = _family(pid)
        before = _cpu_s(pids)
        time.sleep(window_s)
        if _cpu_s(pids) - before < busy_below * window_s:
            return


def machine_loop_ms() -> float:
    """A fixed amount of pure Python, timed: this machine's speed of the moment."""
    began = time.perf_counter()
    total = 0
    for i in range(2_000_000):
        total += i
    return (time.perf_counter() - began) * 1000


def page_render_s(url: str, groups: int, bars: int, runs: int = 5,
                  server_pid: int | None = None) -> tuple[list[float], list[float]]:
    """Seconds from navigation until the script is idle, the banner is shown, and the status
    board has drawn the rows of all `bars` days of the `groups` groups (inside its shadow root:
    each row one element, its days the bands of its background), and the fixed loop's time
    before each load.
    Each load is a new browser context: a first visit, with nothing cached. The check polls
    every 20 ms, so it reads `textContent`, not `innerText`, which would lay the page out on
    every poll."""
    from playwright.sync_api import sync_playwright

    from tests.browser import CHROMIUM_ARGS, READY

    done = (
        "([ready, groups, bars]) => {"
        " if (document.querySelector(ready) === null) return false;"
        " const hosts = document.querySelectorAll('[data-testid=\"stBidiComponentIsolated\"]');"
        " let drawn = 0, sections = 0;"
        " for (const host of hosts) if (host.shadowRoot) {"
        "   sections += host.shadowRoot.querySelectorAll('.uw-group').length;"
        "   for (const row of host.shadowRoot.querySelectorAll('.uw-days'))"
        "     if (row.style.backgroundImage) drawn += row.dataset.days.length; }"
        " return sections >= groups && drawn >= bars"
        "   && document.body.textContent.includes('All systems operational'); }"
    )
    times, loops = [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium"),
                                             args=CHROMIUM_ARGS)
        for _ in range(runs + 1):  # the first load warms the server's caches
            if server_pid is not None:
                wait_until_idle(server_pid)
            loops.append(machine_loop_ms())
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            began = time.perf_counter()
            page.goto(f"{url}/status")
            page.wait_for_function(done, arg=[READY, groups, bars], timeout=60_000, polling=20)
            times.append(time.perf_counter() - began)
            page.close()
        browser.close()
    return times[1:], loops[1:]


def open_loop(url: str, paths: list[str], rate: int, seconds: int, connections: int) -> dict:
    """bench/open_loop.py in a process of its own (its pauses must not be ours)."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as listing:
        listing.write("\n".join(paths))
    output = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "open_loop.py"), url, listing.name,
         "--rate", str(rate), "--seconds", str(seconds), "--connections", str(connections)],
        capture_output=True, text=True, check=True).stdout
    os.unlink(listing.name)
    result = json.loads(output)
    if set(result["statuses"]) != {"200"}:
        raise SystemExit(f"open-loop run saw error answers: {result['statuses']}")
    return result


@contextmanager
def results_arriving(every_s: float = 1.0) -> Iterator[None]:
    """Move a monitor's last check time every `every_s`, as recorded results do: the read model
    sees its fingerprint change and rebuilds as often as it allows (every 5 s)."""
    from sqlalchemy import update

    from storage.db import get_engine
    from storage.models import MonitorState

    table = MonitorState.__table__
    stop = threading.Event()

    def touch() -> None:
        while not stop.wait(every_s):
            with get_engine().begin() as connection:
                connection.execute(update(table).where(table.c.monitor_id == 1)
                                   .values(last_check_at=datetime.now(UTC)))

    writer = threading.Thread(target=touch, daemon=True)
    writer.start()
    try:
        yield
    finally:
        stop.set()
        writer.join()


def _print_open_loop(what: str, result: dict) -> None:
    latency = result["latency_ms"]
    print(f"{what}: p99 {latency['p99']:.2f} ms at {result['offered_per_s']:,.0f} req/s offered "
          f"({result['achieved_per_s']:,.0f} answered/s, {result['connections']} keep-alive "
          f"connections; p50 {latency['p50']:.2f}, p99.9 {latency['p99.9']:.2f}, max "
          f"{latency['max']:.2f} ms; this generator's own lateness p99 "
          f"{result['send_lag_ms']['p99']:.2f} ms; target p99 < 5 ms)")


def measure_wrk(url: str, monitors: int, seconds: int, connections: int,
                rate: int = 3000, open_connections: int = 16) -> None:
    paths = [f"/badge/m{m}/{badge}" for m in range(1, monitors + 1) for badge in BADGES]
    wrk(url, paths, 2, connections)  # warm: render each badge once
    top, p99 = wrk(url, paths, seconds, connections)
    print(f"badges, saturated: {top:,.0f} req/s ({connections} keep-alive connections, closed "
          f"loop, {len(paths)} distinct badges; target >= 3,000/s; its p99 {p99:.2f} ms is "
          f"queueing at saturation, ~connections / throughput)")
    quiet = open_loop(url, paths, rate, seconds, open_connections)
    _print_open_loop("badges, read model quiet", quiet)
    with results_arriving():
        busy = open_loop(url, paths, rate, seconds, open_connections)
    _print_open_loop("badges, results arriving (a rebuild every 5 s)", busy)
    rate, p99 = wrk(url, ["/api/v1/status"], seconds, connections)
    print(f"/api/v1/status: {rate:,.0f} req/s, p99 {p99:.2f} ms (target >= 1,000/s)")


@contextmanager
def probing_every_monitor(interval_s: int) -> Iterator[None]:
    """Point every monitor at a local HTTP target, checked every `interval_s` seconds."""
    from sqlalchemy import update

    from storage.db import get_engine
    from storage.models import Monitor
    from tests.conftest import free_port
    from tests.switchable_target import SwitchableTarget

    target = SwitchableTarget(free_port()).start()
    with get_engine().begin() as connection:
        connection.execute(update(Monitor.__table__).values(url=target.url, interval=interval_s))
    try:
        yield
    finally:
        target.stop()


def measure_probes_on(url: str, monitors: int, seconds: int, rate: int,
                      open_connections: int, interval_s: int) -> None:
    """Badge p99 while the probe engine records real results: the realistic case."""
    paths = [f"/badge/m{m}/{badge}" for m in range(1, monitors + 1) for badge in BADGES]
    wrk(url, paths, 2, 8)  # warm
    result = open_loop(url, paths, rate, seconds, open_connections)
    _print_open_loop(f"badges, probes on ({monitors} monitors checked every {interval_s} s, "
                     f"the read model rebuilt every 5 s)", result)


def print_rebuild(monitors: int) -> None:
    """What a rebuild costs where it is built (the read model's own process) and what installing
    it costs the web process (the only part that shares the event loop's GIL)."""
    from readmodel.read_model import ReadModel
    from readmodel.wire import pack_snapshot, unpack_snapshot

    packed = pack_snapshot()
    build_ms = median_ms(pack_snapshot)
    model = ReadModel()
    install_ms = median_ms(lambda: model.install(packed))
    unpack_ms = median_ms(lambda: unpack_snapshot(packed))
    status_ms = median_ms(lambda: unpack_snapshot(packed).status) - unpack_ms
    print(f"read model rebuild ({monitors} monitors: 5 uptime windows, p50/p95/p99 over 5 "
          f"windows, 90 daily bars, incidents, maintenance; status JSON and feeds serialised): "
          f"{build_ms:.0f} ms in the read model's process; installing it in the web process "
          f"{install_ms:.1f} ms ({len(packed) / 1024:.0f} KiB; unpacking {unpack_ms:.1f} ms); "
          f"the status page's full status unpickled on first use {status_ms:.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--monitors", type=int, default=100)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32,
                        help="wrk's connections for the saturation figures")
    parser.add_argument("--rate", type=int, default=3000,
                        help="offered badge requests per second for the p99 figures")
    parser.add_argument("--open-connections", type=int, default=16,
                        help="keep-alive connections the constant-rate generator spreads over")
    parser.add_argument("--no-page", action="store_true", help="skip the status page render")
    parser.add_argument("--no-probes", action="store_true",
                        help="skip the badge p99 with the probe engine on (a second server)")
    parser.add_argument("--probe-interval", type=int, default=10,
                        help="seconds between checks of each monitor in the probes-on run")
    parser.add_argument("--page-only", action="store_true",
                        help="measure only the status page render (skips wrk and the rebuild)")
    args = parser.parse_args()
    if not args.page_only and shutil.which("wrk") is None:
        raise SystemExit("install the load generator first: apt-get install wrk")

    workdir = Path(tempfile.mkdtemp(prefix="upwatch-badge-bench-"))
    database = f"sqlite:///{workdir / 'upwatch.db'}"
    os.environ["UPWATCH_DATABASE_URL"] = database
    began = time.perf_counter()
    seed(args.monitors)
    print(f"generated {args.monitors} public monitors in {len(GROUPS)} groups, 366 daily "
          f"rollups each and 92 days of hourly rollups, in {time.perf_counter() - began:.0f} s")

    if not args.page_only:
        print_rebuild(args.monitors)

    from tests.conftest import free_port
    from tests.server_process import running_upwatch, wait_until

    env = {"UPWATCH_DATABASE_URL": database, "UPWATCH_PROBES": "false"}
    with running_upwatch(free_port(), env, workdir / "server.log") as server:
        import httpx
        wait_until(lambda: httpx.get(f"{server.url}/api/v1/status").status_code == 200, 60,
                   "the first snapshot")
        if not args.page_only:
            measure_wrk(server.url, args.monitors, args.seconds, args.connections, args.rate,
                        args.open_connections)
        if not args.no_page:
            times, loops = page_render_s(server.url, len(GROUPS), bars=args.monitors * 90,
                                         server_pid=server.process.pid)
            print(f"status page, time to fully rendered in headless Chromium: median "
                  f"{statistics.median(times):.2f} s over {len(times)} loads "
                  f"(min {min(times):.2f}, max {max(times):.2f}; target < 1.5 s); this "
                  f"machine's fixed loop before each load: median "
                  f"{statistics.median(loops):.0f} ms (min {min(loops):.0f}, max "
                  f"{max(loops):.0f}); load average {os.getloadavg()[0]:.2f}")
    if not args.page_only and not args.no_probes:
        with probing_every_monitor(args.probe_interval), running_upwatch(
            free_port(), {**env, "UPWATCH_PROBES": "true"}, workdir / "server-probes.log"
        ) as server:
            wait_until(lambda: httpx.get(f"{server.url}/api/v1/status").status_code == 200, 60,
                       "the first snapshot")
            time.sleep(args.probe_interval)  # every monitor checked once: results keep coming
            measure_probes_on(server.url, args.monitors, args.seconds, args.rate,
                              args.open_connections, args.probe_interval)
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
