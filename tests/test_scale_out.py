"""Scale-out on PostgreSQL: two probe workers split the monitors; when one stops, the other
takes its monitors over and every monitor keeps being checked."""

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import func
from sqlmodel import select

from checks.engine import ProbeEngine
from config.settings import get_settings
from domain.monitor_input import parse_monitor_input
from storage.db import get_engine, session_scope
from storage.models import CheckResult
from storage.monitors import create_monitor
from tests.conftest import free_port
from tests.pg import postgres_database  # noqa: F401  (fixture)
from tests.server_process import wait_until
from tests.switchable_target import SwitchableTarget


@pytest.fixture
def on_postgres(postgres_database: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:  # noqa: F811
    monkeypatch.setenv("UPWATCH_DATABASE_URL", postgres_database)
    get_settings.cache_clear()
    get_engine.cache_clear()
    yield
    get_engine().dispose()
    get_settings.cache_clear()
    get_engine.cache_clear()


def checked_monitors(since: datetime | None = None) -> set[int]:
    query = select(CheckResult.monitor_id, func.count()).group_by(CheckResult.monitor_id)
    if since is not None:
        query = query.where(CheckResult.checked_at > since)
    with session_scope() as session:
        return {monitor_id for monitor_id, _ in session.exec(query).all()}


def test_two_workers_split_monitors_and_survive_one_stopping(on_postgres: None) -> None:
    target = SwitchableTarget(free_port()).start()
    ids = {
        create_monitor(parse_monitor_input(
            {"name": f"m{i}", "url": target.url, "interval": 10, "timeout": 2})).id
        for i in range(6)
    }
    first = ProbeEngine(sync_every_s=0.5, first_run_spread_s=1)
    second = ProbeEngine(sync_every_s=0.5, first_run_spread_s=1)
    try:
        first.start()
        second.start()

        def split_evenly() -> bool:
            mine, theirs = set(first._specs), set(second._specs)
            return len(mine) == len(theirs) == 3 and mine | theirs == ids

        wait_until(split_evenly, 10, "an even, disjoint split")
        assert set(first._specs).isdisjoint(second._specs)
        wait_until(lambda: checked_monitors() == ids, 10, "every monitor checked")

        taken_over = set(second._specs)
        second.stop()
        stopped_at = datetime.now(UTC)
        wait_until(lambda: set(first._specs) == ids, 10, "the survivor taking over")
        # The taken-over monitors are checked at once, not after a full interval.
        wait_until(lambda: taken_over <= checked_monitors(stopped_at), 8, "checks by the survivor")
    finally:
        first.stop()
        second.stop()
        target.stop()
