"""Uptime and percentile reads at scale: 1,000 monitors, a year of history, SQLite and PostgreSQL.

    python bench/analytics_bench.py [--monitors 1000] [--hourly-days 92]
        [--backends sqlite,postgres]
        [--figures read,year,size,naive,ingest] [--reuse] [--ingest-runs 3]

`--figures` picks what to measure (all by default). `--reuse` keeps the generated data as a
template (a SQLite file under the temporary folder, a PostgreSQL database) and copies it for
each run, so repeated runs skip generation; each run still works on its own copy.

Generated (printed again with the figures): daily rollups for 365 days for every monitor, hourly
rollups for the last `--hourly-days` days (the read model never reads older hours), written
directly in bulk; raw results only for a few monitors (30 days each) for the naive comparison.
Size per monitor-year is measured on a full year (365 days of hourly and daily rollups) for a
sample of monitors and divided by their number. Ingest goes through the engine's batch writer
into the same large database. Figures are medians over several runs.

Reads are measured the way a server process makes them: generation leaves a large heap behind in
this process, which a server never holds, and every full garbage collection then walks it (about
a quarter of the read model's time). Before measuring, the heap left so far is collected and
frozen (`gc.freeze()`), so collections during reads see only the objects the reads make.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, insert, select, text

from analytics.histogram import LatencyHistogram
from analytics.uptime import segments_from_results, uptime_over
from domain.result import ProbeResult

NOW = datetime.now(UTC).replace(microsecond=0)
# Names the generated data's shape in reused templates: a template of another shape is not reused.
LAYOUT = "time_ordered"
PG_URL = os.environ.get("UPWATCH_TEST_POSTGRES_URL",
                        "postgresql+psycopg://upwatch:upwatch@127.0.0.1:5432/postgres")


def median_ms(fn, runs: int = 5) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def histogram_blob(n: int, rng: random.Random) -> bytes:
    histogram = LatencyHistogram()
    for _ in range(n):
        histogram.add(rng.lognormvariate(4.5, 0.4))
    return histogram.to_bytes()


def use_database(url: str) -> None:
    os.environ["UPWATCH_DATABASE_URL"] = url
    from config.settings import get_settings
    from storage.db import get_engine
    get_settings.cache_clear()
    get_engine.cache_clear()


def generate(monitors: int, hourly_days: int, full_year_hours_for: int) -> None:
    from storage.db import get_engine
    from storage.models import Monitor, MonitorState, RollupRow
    rng = random.Random(7)
    hour_blobs = [histogram_blob(60, rng) for _ in range(50)]
    day_blobs = [histogram_blob(1440, rng) for _ in range(20)]
    engine = get_engine()
    today = NOW.replace(hour=0, minute=0, second=0)
    with engine.begin() as connection:
        connection.execute(insert(Monitor.__table__), [
            {"id": m, "slug": f"m{m}", "name": f"Monitor {m}", "url": "http://x/", "kind": "http",
             "interval": 60, "timeout": 10.0, "public": True, "paused": False, "options": {},
             "failures_before_down": 1, "successes_before_up": 1, "sort_order": 0,
             "show_url": False, "severity": "high", "created_at": NOW - timedelta(days=366),
             "updated_at": NOW} for m in range(1, monitors + 1)])
        connection.execute(insert(MonitorState.__table__), [
            {"monitor_id": m, "state": "up", "since": NOW - timedelta(days=3),
             "last_check_at": NOW - timedelta(seconds=20), "last_latency_ms": 90.0,
             "consecutive_failures": 0, "consecutive_successes": 5}
            for m in range(1, monitors + 1)])
    table = RollupRow.__table__
    rows: list[dict] = []

    def flush(force: bool = False) -> None:
        if rows and (force or len(rows) >= 20000):
            with engine.begin() as connection:
                connection.execute(insert(table), rows)
            rows.clear()

    # Rows go in in time order, as a server writes them: each day's rows of every monitor at
    # its start, each hour's at its start. (Monitor by monitor would put each monitor's row for
    # today on a page of its own, which no real database does.)
    this_hour = NOW.replace(minute=0, second=0)
    for d in range(365, -1, -1):
        start = today - timedelta(days=d)
        for m in range(1, monitors + 1):
            down = 120 if rng.random() < 0.05 else 0
            rows.append({"monitor_id": m, "period": "day", "bucket_start": start,
                         "bucket_end": start + timedelta(days=1), "up_s": 86400 - down,
                         "degraded_s": 0, "down_s": down, "maintenance_s": 0, "checks": 1440,
                         "failures": down // 60, "histogram": rng.choice(day_blobs),
                         "min_ms": 40.0, "max_ms": 400.0})
        for hour in range(24):
            hour_start = start + timedelta(hours=hour)
            hours_back = (this_hour - hour_start) // timedelta(hours=1)
            if hours_back < 0:
                break
            for m in range(1, monitors + 1):
                hour_span = 365 if m <= full_year_hours_for else hourly_days
                if hours_back > hour_span * 24:
                    continue
                rows.append({"monitor_id": m, "period": "hour", "bucket_start": hour_start,
                             "bucket_end": hour_start + timedelta(hours=1), "up_s": 3600,
                             "degraded_s": 0, "down_s": 0, "maintenance_s": 0, "checks": 60,
                             "failures": 0, "histogram": rng.choice(hour_blobs),
                             "min_ms": 40.0, "max_ms": 400.0})
            flush()
    flush(force=True)


def db_size_bytes(connection, table: str = "rollup") -> int:  # type: ignore[no-untyped-def]
    """The table with its indexes."""
    if connection.dialect.name == "postgresql":
        return connection.execute(text(f"SELECT pg_total_relation_size('{table}')")).scalar_one()
    pages = connection.execute(text(
        "SELECT sum(pgsize) FROM dbstat WHERE name IN "
        "(SELECT name FROM sqlite_master WHERE tbl_name = :table)"), {"table": table}).scalar()
    return int(pages or 0)


def prepare(backend: str, monitors: int, hourly_days: int, sample: int) -> None:
    """Generate the data into the current database and print what was made."""
    from storage.db import get_engine
    started = time.perf_counter()
    generate(monitors, hourly_days, full_year_hours_for=sample)
    engine = get_engine()
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            # Monitors were written with explicit ids: move the sequence past them.
            connection.execute(text(
                "SELECT setval(pg_get_serial_sequence('monitor', 'id'), max(id)) FROM monitor"))
            connection.commit()
    if engine.dialect.name == "postgresql":
        # A year of history has long been vacuumed by autovacuum in a real database: without
        # this the first reads of every freshly loaded row set its hint bits.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM (ANALYZE)"))
    print(f"[{backend}] generated in {time.perf_counter() - started:.0f} s")


def adopt_generated_clock() -> None:
    """The bench's "now" is when the data was generated (kept in every monitor's updated_at)."""
    global NOW
    from storage.db import get_engine
    from storage.models import Monitor
    with get_engine().connect() as connection:
        stored = connection.execute(select(Monitor.__table__.c.updated_at)).scalars().first()
    NOW = stored.replace(tzinfo=UTC) if stored.tzinfo is None else stored.astimezone(UTC)


def run(backend: str, monitors: int, hourly_days: int, figures: set[str],
        ingest_runs: int) -> None:
    from storage.db import get_engine
    from storage.window_reads import latency_by_window, uptime_by_window
    from storage.window_report import window_report

    sample = 20
    adopt_generated_clock()
    # Leave out of every later collection what generation left behind (see the docstring).
    gc.collect()
    gc.freeze()
    engine = get_engine()
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT count(*) FROM rollup")).scalar_one()
    print(f"[{backend}] {monitors} monitors: 366 daily rollups each, hourly rollups "
          f"for {hourly_days} days ({sample} monitors: a full year); {rows:,} rollup rows")
    ids = list(range(1, monitors + 1))
    if "read" in figures:
        read_figures(backend, ids)
    if "year" in figures:
        def one_year() -> None:
            window_report(1, NOW - timedelta(days=365), NOW, now=NOW)
            uptime_by_window([1], ["1y"], now=NOW)
            latency_by_window([1], "1y", now=NOW)

        print(f"[{backend}] one monitor, p50/p95/p99 + uptime over 1 y: "
              f"{median_ms(one_year, 9) / 3:.2f} ms per call (target < 10 ms)")
    with engine.connect() as connection:
        size = db_size_bytes(connection) if {"size", "naive"} & figures else 0
    hour_rows_full, day_rows = 365 * 24 + 1, 366
    per_row = size / rows
    if "size" in figures:
        print(f"[{backend}] rollup table {size / 1e6:.1f} MB for {rows:,} rows = {per_row:.0f} "
              f"B/row; per monitor-year (8,761 hourly + 366 daily rows): "
              f"{per_row * (hour_rows_full + day_rows) / 1e6:.2f} MB")
    if "naive" in figures:
        naive_figures(backend, per_row * (hour_rows_full + day_rows))
    if "ingest" in figures:
        ingest_figures(backend, ids, ingest_runs)


def read_figures(backend: str, ids: list[int]) -> None:
    """The snapshot builder's rebuild (readmodel.wire.pack_snapshot: the public status of every
    monitor through the status read model, packed), against the separate reads it replaced."""
    from config.settings import get_settings
    from readmodel.wire import METRICS_MAX_AGE_S, pack_snapshot
    from storage.daily_bars import daily_bars
    from storage.status_numbers import READ_MODEL_WINDOWS, forget_cached_past
    from storage.window_reads import latency_by_window, uptime_by_window

    def cold() -> None:
        forget_cached_past()
        pack_snapshot(now=NOW)

    cold_ms = median_ms(cold, 3)
    pack_snapshot(now=NOW)
    # As the builder process calls it: /metrics' bodies kept while younger than 15 s.
    warm_ms = median_ms(lambda: pack_snapshot(now=NOW, metrics_max_age_s=METRICS_MAX_AGE_S), 7)
    with_metrics_ms = median_ms(lambda: pack_snapshot(now=NOW), 5)
    # The first rebuild of each of the next clock hours of the same day: the day's whole past
    # days are kept, only that hour's rows are read (times after every result, as in a server).
    zone = get_settings().zone
    next_hours = [NOW + timedelta(hours=h) for h in range(1, 6)
                  if (NOW + timedelta(hours=h)).astimezone(zone).date()
                  == NOW.astimezone(zone).date()]
    new_hour_ms = []
    for moment in next_hours:
        start = time.perf_counter()
        pack_snapshot(now=moment, metrics_max_age_s=METRICS_MAX_AGE_S)
        new_hour_ms.append((time.perf_counter() - start) * 1000)
    new_hour = (f"{statistics.median(new_hour_ms):.0f} ms" if new_hour_ms
                else "not measured (no later hour left in the generated data's day)")
    windows = "/".join(READ_MODEL_WINDOWS)
    print(f"[{backend}] read-model rebuild (pack_snapshot as the builder calls it), {len(ids)} "
          f"monitors (state, uptime and p50/p95/p99 over {windows}, 90 bars): {warm_ms:.1f} ms "
          f"per rebuild (target <= 100 ms); with /metrics' bodies rendered too (at most every "
          f"{METRICS_MAX_AGE_S:.0f} s): {with_metrics_ms:.0f} ms; the first rebuild of a new "
          f"clock hour (the day's past kept): {new_hour}; the first rebuild of a day or after "
          f"a rebuild of the rollups (past recomputed): {cold_ms:.0f} ms")
    parts = {
        f"uptime {windows}": lambda: uptime_by_window(ids, READ_MODEL_WINDOWS, now=NOW),
        "90 daily bars": lambda: daily_bars(ids, 90, now=NOW),
        "p50/p95/p99 per window": lambda: [latency_by_window(ids, w, now=NOW)
                                           for w in READ_MODEL_WINDOWS],
    }
    print(f"[{backend}] the same numbers as separate uncached reads: " + ", ".join(
        f"{name} {median_ms(fn, 3):.0f} ms" for name, fn in parts.items()))


def naive_figures(backend: str, rollup_bytes_per_year: float) -> None:
    """Raw results: 30 days at 60 s for one new monitor, then the naive window computation."""
    from domain.monitor_input import parse_monitor_input
    from storage.db import get_engine
    from storage.models import CheckResult, StateChange
    from storage.monitors import create_monitor
    from storage.window_reads import latency_by_window, uptime_by_window
    engine = get_engine()
    raw_id = create_monitor(parse_monitor_input({"name": "Raw", "url": "http://x/"})).id
    start = NOW - timedelta(days=30)
    with engine.begin() as connection:
        batch = [{"monitor_id": raw_id, "checked_at": start + timedelta(minutes=i),
                  "outcome": "up", "latency_ms": 90.0 + i % 50, "http_status": 200,
                  "reason": None, "phases": {}} for i in range(30 * 1440)]
        connection.execute(insert(CheckResult.__table__), batch)
        connection.execute(insert(StateChange.__table__), [{
            "monitor_id": raw_id, "at": start, "from_state": "pending", "to_state": "up",
            "reason": None, "dispatched_at": None}])

    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("ANALYZE check_result"))
            connection.commit()
        raw_bytes = db_size_bytes(connection, "check_result") / (30 * 1440)
    retained = 90 * 1440
    year_bytes = raw_bytes * retained + rollup_bytes_per_year
    print(f"[{backend}] raw results: {raw_bytes:.0f} B/row; 90 days retained at 60 s = "
          f"{raw_bytes * retained / 1e6:.1f} MB per monitor; so a monitor-year with 90 days of "
          f"raw results ~ {year_bytes / 1e6:.1f} MB")

    def naive() -> None:
        with engine.connect() as connection:
            rows = connection.execute(
                select(CheckResult.checked_at, CheckResult.outcome, CheckResult.latency_ms)
                .where(CheckResult.monitor_id == raw_id, CheckResult.checked_at >= start)
                .order_by(CheckResult.checked_at)).all()
        uptime_over(segments_from_results(((r[0].replace(tzinfo=UTC), r[1]) for r in rows),
                                          NOW), start, NOW)
        sorted(r[2] for r in rows)

    naive_ms = median_ms(naive, 3)
    rolled_ms = median_ms(lambda: (uptime_by_window([1], ["30d"], now=NOW),
                                   latency_by_window([1], "30d", now=NOW)), 9)
    print(f"[{backend}] one monitor, 30 d uptime + percentiles: naive over 43,200 raw rows "
          f"{naive_ms:.1f} ms vs rollups {rolled_ms:.2f} ms = {naive_ms / rolled_ms:.0f}x")


def http_phases(total_ms: float) -> dict[str, float]:
    """The timing phases an HTTPS check records with each result (they are stored as JSON)."""
    return {"dns_ms": 0.8, "connect_ms": 0.6, "tls_ms": 4.2, "ttfb_ms": total_ms - 7.1,
            "transfer_ms": 1.5, "total_ms": total_ms}


def ingest_figures(backend: str, ids: list[int], runs: int) -> None:
    """Ingest through the engine's own writer (storage.batch_writer: a thread taking batches
    off a queue, one transaction each, rollups included) against this large database.

    The results (one a minute for every monitor, with an HTTPS check's timing phases) are made
    before the clock starts and submitted as fast as the queue takes them; the figure is all
    results over all the time, so the batches that pay for a WAL checkpoint count as they come.
    """
    from storage.batch_writer import BatchWriter
    per_run = 100_000
    rates = []
    for run_index in range(runs):
        results = []
        minutes = per_run // len(ids)
        for minute in range(minutes):
            # Each run carries on where the last one stopped, as a running server does. (A gap
            # between runs would make the first batch of each fill every monitor's hours of the
            # gap with rollup rows, a cost of downtime, not of ingest.)
            at = NOW + timedelta(minutes=run_index * minutes + minute + 1)
            results += [(m, ProbeResult("up", at, latency_ms=(latency := 80.0 + (m * minute) % 40),
                                        http_status=200, phases=http_phases(latency)))
                        for m in ids]
        writer = BatchWriter()
        writer.start()
        t0 = time.perf_counter()
        for monitor_id, result in results:
            writer.submit(monitor_id, result)
        writer.stop(timeout_s=600)
        elapsed = time.perf_counter() - t0
        assert writer.written == len(results), (writer.written, len(results))
        rates.append(len(results) / elapsed)
    print(f"[{backend}] ingest through the batch writer ({per_run:,} results over {len(ids)} "
          f"monitors, batches of up to {writer.max_batch:,}, rollups maintained, into "
          f"this database): {statistics.median(rates):,.0f} results/s (runs: "
          f"{', '.join(f'{r:,.0f}' for r in rates)}; target >= 20,000)")


def sqlite_run(args: argparse.Namespace, figures: set[str]) -> None:
    from storage.db import get_engine
    folder = tempfile.mkdtemp()
    path = Path(folder) / "bench.db"
    template = Path(tempfile.gettempdir()) / (
        f"upwatch-bench-{args.monitors}m-{args.hourly_days}d-{LAYOUT}.db")
    try:
        if args.reuse and template.exists():
            shutil.copyfile(template, path)
        use_database(f"sqlite:///{path}")
        if not (args.reuse and template.exists()):
            prepare("sqlite", args.monitors, args.hourly_days, 20)
            if args.reuse:
                get_engine().dispose()
                shutil.copyfile(path, template)
                use_database(f"sqlite:///{path}")
        run("sqlite", args.monitors, args.hourly_days, figures, args.ingest_runs)
    finally:
        get_engine().dispose()
        shutil.rmtree(folder, ignore_errors=True)  # about 600 MB at the default size


def postgres_run(args: argparse.Namespace, figures: set[str]) -> None:
    from storage.db import get_engine
    name = f"upwatch_bench_{uuid4().hex[:8]}"
    template = f"upwatch_bench_template_{args.monitors}m_{args.hourly_days}d_{LAYOUT}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        exists = connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                    {"name": template}).first() is not None
        reused = args.reuse and exists
        connection.execute(text(f'CREATE DATABASE "{name}"'
                                + (f' TEMPLATE "{template}"' if reused else "")))
    try:
        use_database(PG_URL.rsplit("/", 1)[0] + f"/{name}")
        if not reused:
            prepare("postgres", args.monitors, args.hourly_days, 20)
            if args.reuse:
                get_engine().dispose()
                with admin.connect() as connection:
                    connection.execute(text(f'DROP DATABASE IF EXISTS "{template}"'))
                    connection.execute(text(f'CREATE DATABASE "{template}" TEMPLATE "{name}"'))
                use_database(PG_URL.rsplit("/", 1)[0] + f"/{name}")
        run("postgres", args.monitors, args.hourly_days, figures, args.ingest_runs)
    finally:
        get_engine().dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--monitors", type=int, default=1000)
    parser.add_argument("--hourly-days", type=int, default=92)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--figures", default="read,year,size,naive,ingest")
    parser.add_argument("--reuse", action="store_true",
                        help="keep the generated data as a template and reuse it")
    parser.add_argument("--ingest-runs", type=int, default=3)
    args = parser.parse_args()
    figures = set(args.figures.split(","))
    for backend in args.backends.split(","):
        if backend == "sqlite":
            sqlite_run(args, figures)
        else:
            postgres_run(args, figures)


if __name__ == "__main__":
    main()
