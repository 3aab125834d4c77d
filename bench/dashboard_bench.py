"""The operator's dashboard at scale: 1,000 monitors with a year of rollups.

    python bench/dashboard_bench.py [--monitors 1000] [--runs 7] [--skip-browser]
                                    [--only NAME ...] [--data FILE]

(--only "detail 24h" "detail 1y": those figures alone, for a short run; --data FILE: the
SQLite file to use, generated only when missing, so that runs back to back skip generating.)

Prints medians of:
- server time of one overview refresh: the exact functions the overview's fragment calls each
  time it refreshes (storage/overview's rows and tiles, ui/overview_table's frame);
- Chromium (headless, Debian's) time from navigation until the overview table is drawn, through
  `streamlit run app.py` with the same database;
- the monitor page with a 1-year chart (rollups) and with a 24-hour chart (raw results):
  Chromium time until the chart is drawn.

Targets (issue 16): overview refresh <= 100 ms, overview drawn <= 1.5 s, detail 1-year chart
<= 1 s, detail 24-hour chart <= 1 s.

Data (generated directly in bulk, as bench/analytics_bench.py does): daily rollups for 366 days
and hourly rollups for 92 days for every monitor; a mix of states, groups and tags; raw results
every 60 s for a week for the monitor the detail page shows. Probes are off (the monitors point
nowhere): the figures are the dashboard's alone.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

PASSWORD = "bench password"
DETAIL_SLUG = "m1"
TARGETS_MS = {"overview refresh": 100, "overview drawn": 1500, "detail 1y": 1000,
              "detail 24h": 1000}


def use_database(url: str) -> None:
    os.environ["UPWATCH_DATABASE_URL"] = url
    os.environ["UPWATCH_ADMIN_PASSWORD"] = PASSWORD
    os.environ["UPWATCH_PROBES"] = "false"
    from config.settings import get_settings
    from storage.db import get_engine
    get_settings.cache_clear()
    get_engine.cache_clear()


def generate(monitors: int) -> None:
    """A year of rollups (analytics_bench's generator), then states, groups, tags and a week of
    raw results for the monitor the detail page shows."""
    import analytics_bench
    from sqlalchemy import insert, update

    from storage.db import get_engine
    from storage.models import CheckResult, Monitor, MonitorState

    analytics_bench.generate(monitors, hourly_days=92, full_year_hours_for=1)
    now = analytics_bench.NOW
    rng = random.Random(16)
    engine = get_engine()
    monitor_table, state_table = Monitor.__table__, MonitorState.__table__
    with engine.begin() as connection:
        for m in range(1, monitors + 1):
            roll = rng.random()
            state = "down" if roll < 0.03 else "degraded" if roll < 0.08 else "up"
            connection.execute(update(state_table).where(state_table.c.monitor_id == m).values(
                state=state, reason="HTTP 503" if state == "down" else None,
                last_latency_ms=rng.lognormvariate(4.5, 0.4),
                cert_not_after=now + timedelta(days=rng.randint(3, 300))))
            connection.execute(update(monitor_table).where(monitor_table.c.id == m).values(
                group_name=f"Group {m % 12}", tags=[f"team-{m % 7}", f"region-{m % 3}"],
                paused=rng.random() < 0.02, url=f"https://service-{m}.example/health"))
        rows = []
        at = now - timedelta(days=7)
        while at < now:
            failed = rng.random() < 0.01
            rows.append({"monitor_id": 1, "checked_at": at, "outcome": "down" if failed else "up",
                         "latency_ms": None if failed else rng.lognormvariate(4.5, 0.4),
                         "http_status": 503 if failed else 200,
                         "reason": "HTTP 503" if failed else None,
                         "phases": {"dns": 1.0, "connect": 3.0, "tls": 8.0, "ttfb": 60.0,
                                    "transfer": 2.0}})
            at += timedelta(seconds=60)
        connection.execute(insert(CheckResult.__table__), rows)


def server_figures(runs: int) -> dict[str, float]:
    """Server time of one overview refresh: what ui/overview.py's fragment computes each time
    (the rows, the tiles, the table's typed frame)."""
    from analytics_bench import median_ms

    from storage.overview import overview_rows, overview_tiles
    from ui.overview_table import table_frame

    overview_rows()  # the first call reads the settled hours, as the first visitor's does
    return {"overview refresh": median_ms(
        lambda: (table_frame(overview_rows()), overview_tiles()), runs)}


def browser_figures(database_url: str, runs: int, log_dir: Path,
                    only: set[str]) -> dict[str, float]:
    """Chromium time until the overview table and the detail charts are drawn."""
    import httpx
    from playwright.sync_api import sync_playwright

    from tests.browser import CHROMIUM_ARGS, READY
    from tests.conftest import CHROMIUM, free_port
    from tests.server_process import running_upwatch

    if CHROMIUM is None:
        raise SystemExit("headless Chromium (Debian 'chromium') is missing: use --skip-browser")
    env = {"UPWATCH_DATABASE_URL": database_url, "UPWATCH_ADMIN_PASSWORD": PASSWORD,
           "UPWATCH_PROBES": "false"}
    figures: dict[str, float] = {}
    with running_upwatch(free_port(), env, log_dir / "server.log") as server, \
            sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        signed_in = httpx.post(f"{server.url}/login", data={"password": PASSWORD, "next": "/"},
                               follow_redirects=False)
        context.add_cookies([{"name": name, "value": value, "url": server.url}
                             for name, value in signed_in.cookies.items()])
        page = context.new_page()
        page.set_default_timeout(60_000)

        def drawn(path: str, selector: str) -> float:
            times = []
            for run in range(runs + 1):
                started = time.perf_counter()
                page.goto(f"{server.url}{path}")
                page.wait_for_selector(selector, state="visible")
                page.wait_for_selector(READY)
                if run:  # the first load warms the server's caches and the browser's
                    times.append((time.perf_counter() - started) * 1000)
            return statistics.median(times)

        chart = '[data-testid="stVegaLiteChart"] .marks'  # Vega's drawing (an svg or a canvas)
        pages = {"overview drawn": ("/", '[data-testid="stDataFrame"] canvas'),
                 "detail 1y": (f"/monitor?slug={DETAIL_SLUG}&window=1y", chart),
                 "detail 24h": (f"/monitor?slug={DETAIL_SLUG}&window=24h", chart)}
        for name, (path, selector) in pages.items():
            if name in only:
                figures[name] = drawn(path, selector)
        browser.close()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--monitors", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--skip-browser", action="store_true")
    parser.add_argument("--only", nargs="+", choices=list(TARGETS_MS), default=list(TARGETS_MS),
                        metavar="NAME", help=f"figures to measure, of: {', '.join(TARGETS_MS)}")
    parser.add_argument("--data", type=Path, default=None, metavar="FILE",
                        help="SQLite file to use (generated when missing, kept after)")
    args = parser.parse_args()
    only = set(args.only)
    with tempfile.TemporaryDirectory(prefix="upwatch-dashboard-bench-") as folder:
        data = (args.data or Path(folder) / "upwatch.db").resolve()
        url = f"sqlite:///{data}"
        reuse = data.exists()
        use_database(url)
        if reuse:  # its raw results end when it was generated: use it within the hour
            print(f"using {data} as generated before")
        else:
            started = time.perf_counter()
            generate(args.monitors)
            print(f"generated {args.monitors} monitors with a year of rollups in "
                  f"{time.perf_counter() - started:.0f} s")
        gc.collect()
        gc.freeze()  # what generation left behind is not the server's heap
        figures = server_figures(args.runs) if "overview refresh" in only else {}
        if not args.skip_browser and only - {"overview refresh"}:
            figures.update(browser_figures(url, args.runs, Path(folder), only))
    print(f"\nmedians of {args.runs} runs, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    for name, value in figures.items():
        target = TARGETS_MS.get(name)
        verdict = "" if target is None else (
            f"  (target <= {target} ms: {'met' if value <= target else 'MISSED'})")
        print(f"  {name:<28} {value:8.1f} ms{verdict}")


if __name__ == "__main__":
    main()
