"""Scale-out on PostgreSQL prunes: one web process without probes and two `upwatch worker`s
share one database; exactly one of the three prunes, old rows go and recent ones stay, and
when the pruning process stops another one takes its lease over."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Table, func, insert, select

from config.settings import get_settings
from storage.db import get_engine
from storage.retention import RESULTS, ROLLUP_RETENTION_DAYS, ROLLUPS
from tests.conftest import free_port
from tests.pg import postgres_database  # noqa: F401  (fixture)
from tests.server_process import ROOT, running_upwatch, wait_until
from tests.stats_support import new_monitor, set_paused

pytestmark = pytest.mark.postgres

RAW_DAYS = 30
ROLLUP_DAYS = ROLLUP_RETENTION_DAYS
PRUNE_EVERY_S = 1.0
# Long enough for every process to have asked for the lease at least twice.
ROUNDS_S = 2.5 * PRUNE_EVERY_S
PRUNED = re.compile(r"retention: pruned (\d+) results and (\d+) rollups")
HOLDS = "retention: this process holds the pruner lease"


@dataclass
class Process:
    """One of the deployment's processes, and what it printed."""

    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def pruned(self) -> list[tuple[int, int]]:
        return [(int(r), int(u)) for r, u in PRUNED.findall(self.log())]

    def stop(self) -> None:
        self.popen.send_signal(signal.SIGTERM)
        self.popen.wait(timeout=15)

    def kill(self) -> None:
        if self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait(timeout=10)


@pytest.fixture
def on_postgres(postgres_database: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:  # noqa: F811
    monkeypatch.setenv("UPWATCH_DATABASE_URL", postgres_database)
    monkeypatch.setenv("UPWATCH_RAW_RETENTION_DAYS", str(RAW_DAYS))
    monkeypatch.setenv("UPWATCH_PRUNE_EVERY_S", str(PRUNE_EVERY_S))
    get_settings.cache_clear()
    get_engine.cache_clear()
    yield postgres_database
    get_engine().dispose()
    get_settings.cache_clear()
    get_engine.cache_clear()


def add_results(monitor_id: int, ages: list[timedelta]) -> None:
    now = datetime.now(UTC)
    with get_engine().begin() as connection:
        connection.execute(insert(RESULTS), [
            {"monitor_id": monitor_id, "checked_at": now - age, "outcome": "up",
             "latency_ms": 10.0, "phases": {}} for age in ages])


def add_daily_rollups(monitor_id: int, ages: list[timedelta]) -> None:
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    with get_engine().begin() as connection:
        connection.execute(insert(ROLLUPS), [
            {"monitor_id": monitor_id, "period": "day", "bucket_start": today - age,
             "bucket_end": today - age + timedelta(days=1), "up_s": 86400, "checks": 1440}
            for age in ages])


def results_older_than(days: int) -> int:
    cutoff = datetime.now(UTC) - timedelta(days=days)
    with get_engine().connect() as connection:
        return connection.execute(
            select(func.count()).select_from(RESULTS).where(RESULTS.c.checked_at < cutoff)
        ).scalar_one()


def rollups_ending_before(days: int) -> int:
    cutoff = datetime.now(UTC) - timedelta(days=days)
    with get_engine().connect() as connection:
        return connection.execute(
            select(func.count()).select_from(ROLLUPS).where(ROLLUPS.c.bucket_end < cutoff)
        ).scalar_one()


def all_rows(table: Table) -> int:
    with get_engine().connect() as connection:
        return connection.execute(select(func.count()).select_from(table)).scalar_one()


def start_worker(name: str, tmp_path: Path) -> Process:
    log_path = tmp_path / f"{name}.log"
    with log_path.open("ab") as log:
        popen = subprocess.Popen(
            [sys.executable, "-m", "composition.cli", "worker"], cwd=ROOT,
            env={**os.environ}, stdout=log, stderr=subprocess.STDOUT)
    return Process(name, popen, log_path)


def pruners(processes: list[Process]) -> list[str]:
    return [p.name for p in processes if p.pruned()]


def totals(process: Process) -> tuple[int, int]:
    pruned = process.pruned()
    return sum(r for r, _ in pruned), sum(u for _, u in pruned)


def logs(processes: list[Process]) -> str:
    return "\n".join(f"--- {p.name}\n{p.log()}" for p in processes)


def test_exactly_one_process_prunes_and_another_takes_over(
    on_postgres: str, tmp_path: Path
) -> None:
    monitor_id = new_monitor("Web")
    set_paused(monitor_id, True)  # nothing probes: the only rows are the ones written here
    old_results = [timedelta(days=RAW_DAYS + 5 + i) for i in range(7)]
    add_results(monitor_id, [*old_results, timedelta(days=1), timedelta(days=RAW_DAYS - 2)])
    old_rollups = [timedelta(days=ROLLUP_DAYS + 3 + i) for i in range(4)]
    # Rollups outlive raw results: one 100 days old stays.
    add_daily_rollups(monitor_id, [*old_rollups, timedelta(days=2), timedelta(days=100)])
    assert (results_older_than(RAW_DAYS), rollups_ending_before(ROLLUP_DAYS)) == (7, 4)

    with ExitStack() as stack:
        workers = [start_worker(f"worker-{i}", tmp_path) for i in (1, 2)]
        for worker in workers:
            stack.callback(worker.kill)
        server = stack.enter_context(running_upwatch(
            free_port(), {"UPWATCH_PROBES": "false"}, tmp_path / "web.log"))
        web = Process("web", server.process, server.log_path)
        processes = [web, *workers]
        for worker in workers:
            wait_until(lambda w=worker: "probe worker running" in w.log()
                       or w.popen.poll() is not None, 30, f"{worker.name} to start")
            assert worker.popen.poll() is None, logs(processes)

        wait_until(lambda: results_older_than(RAW_DAYS) == 0
                   and rollups_ending_before(ROLLUP_DAYS) == 0, 10, "the old rows pruned")
        assert (all_rows(RESULTS), all_rows(ROLLUPS)) == (2, 2), "recent rows are kept"
        # Every process is up: give each time to ask for the lease more than once.
        time.sleep(ROUNDS_S)
        holders = pruners(processes)
        assert len(holders) == 1, logs(processes)
        assert [HOLDS in p.log() for p in processes].count(True) == 1, logs(processes)
        holder = next(p for p in processes if p.name == holders[0])
        assert totals(holder) == (7, 4), logs(processes)
        assert len(holder.pruned()) >= 2, "the holder prunes every round"

        # The holder stops; the others learn the lease is free at their next round.
        holder.stop()
        survivors = [p for p in processes if p is not holder]
        add_results(monitor_id, [timedelta(days=RAW_DAYS + 1)] * 3)
        wait_until(lambda: pruners(survivors), 10, "a survivor taking the lease over")
        wait_until(lambda: results_older_than(RAW_DAYS) == 0, 5, "the new old rows pruned")
        time.sleep(ROUNDS_S)
        assert len(pruners(survivors)) == 1, logs(processes)
        successor = next(p for p in survivors if p.pruned())
        assert totals(successor) == (3, 0), logs(processes)
        assert HOLDS in successor.log()
        assert (all_rows(RESULTS), all_rows(ROLLUPS)) == (2, 2), "recent rows are kept"
