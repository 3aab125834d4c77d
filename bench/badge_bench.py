"""Badges, /api/v1/status and the status page under load, on the real server.

    python bench/badge_bench.py [--monitors 100] [--seconds 10] [--connections 32]

Generates `--monitors` public monitors (5 groups) with a year of daily rollups and 92 days of
hourly ones, written in bulk, then runs `streamlit run app.py` (probes off) and measures, on
loopback with keep-alive connections (wrk, Debian package `wrk`):
- badge requests per second and p99 latency, rotating over every monitor and badge kind
  (target >= 3,000/s, p99 < 5 ms);
- /api/v1/status requests per second (target >= 1,000/s);
- the status page's time to fully rendered in headless Chromium: from navigation until the
  script is idle, the banner is shown and every group's bars are drawn (target < 1.5 s).
Also the read model's rebuild time (done when a cheap change fingerprint moves, at most every
5 s, and at least every 60 s; none during the load runs here, as probes are off). The badge
figures need uvicorn's httptools parser (a declared dependency). Figures are medians.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

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


def median_ms(fn, runs: int = 5) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        fn()
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)


def _latency_ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


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
    p99 = _latency_ms(re.search(r"99%\s+(\S+)", output).group(1))  # type: ignore[union-attr]
    return rate, p99


def page_render_s(url: str, groups: int, runs: int = 5) -> list[float]:
    from playwright.sync_api import sync_playwright

    from tests.browser import CHROMIUM_ARGS, READY

    done = (
        "([ready, groups]) => document.querySelector(ready) !== null"
        " && document.querySelectorAll('[data-testid=\"stVegaLiteChart\"] svg.marks,"
        " [data-testid=\"stVegaLiteChart\"] canvas.marks').length >= groups"
        " && document.body.innerText.includes('All systems operational')"
    )
    times = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium"),
                                             args=CHROMIUM_ARGS)
        for _ in range(runs + 1):  # the first load warms the server's caches
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            began = time.perf_counter()
            page.goto(f"{url}/status")
            page.wait_for_function(done, arg=[READY, groups], timeout=60_000, polling=20)
            times.append(time.perf_counter() - began)
            page.close()
        browser.close()
    return times[1:]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--monitors", type=int, default=100)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("install the load generator first: apt-get install wrk")

    workdir = Path(tempfile.mkdtemp(prefix="upwatch-badge-bench-"))
    database = f"sqlite:///{workdir / 'upwatch.db'}"
    os.environ["UPWATCH_DATABASE_URL"] = database
    began = time.perf_counter()
    seed(args.monitors)
    print(f"generated {args.monitors} public monitors in {len(GROUPS)} groups, 366 daily "
          f"rollups each and 92 days of hourly rollups, in {time.perf_counter() - began:.0f} s")

    from web.read_model import build_snapshot
    print(f"read model rebuild ({args.monitors} monitors: 5 uptime windows, p50/p95/p99 over "
          f"5 windows, 90 daily bars, incidents, maintenance): {median_ms(build_snapshot):.0f} ms")

    from tests.conftest import free_port
    from tests.server_process import running_upwatch, wait_until

    env = {"UPWATCH_DATABASE_URL": database, "UPWATCH_PROBES": "false"}
    with running_upwatch(free_port(), env, workdir / "server.log") as server:
        import httpx
        wait_until(lambda: httpx.get(f"{server.url}/api/v1/status").status_code == 200, 60,
                   "the first snapshot")
        paths = [f"/badge/m{m}/{badge}" for m in range(1, args.monitors + 1) for badge in BADGES]
        wrk(server.url, paths, 2, args.connections)  # warm: render each badge once
        rate, p99 = wrk(server.url, paths, args.seconds, args.connections)
        print(f"badges: {rate:,.0f} req/s, p99 {p99:.2f} ms ({args.connections} keep-alive "
              f"connections, {len(paths)} distinct badges; target >= 3,000/s, p99 < 5 ms)")
        rate, p99 = wrk(server.url, ["/api/v1/status"], args.seconds, args.connections)
        print(f"/api/v1/status: {rate:,.0f} req/s, p99 {p99:.2f} ms (target >= 1,000/s)")
        times = page_render_s(server.url, len(GROUPS))
        print(f"status page, time to fully rendered in headless Chromium: median "
              f"{statistics.median(times):.2f} s over {len(times)} loads "
              f"(min {min(times):.2f}, max {max(times):.2f}; target < 1.5 s)")
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
