"""The status read model equals the separate uptime, bar and latency reads, cached or not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.result import ProbeResult
from storage.daily_bars import daily_bars
from storage.db import session_scope
from storage.models import MaintenanceWindow
from storage.rebuild import rebuild_all
from storage.status_numbers import READ_MODEL_WINDOWS, forget_cached_past, status_read_model
from storage.window_reads import latency_by_window, uptime_by_window
from tests.pg import backend, postgres_database  # noqa: F401  (fixtures)
from tests.stats_support import new_monitor, record, set_paused

pytestmark = pytest.mark.usefixtures("backend")

NOW = datetime(2026, 3, 10, 12, 17, 30, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    forget_cached_past()


def expected(ids: list[int], now: datetime) -> dict[int, tuple]:
    uptime = uptime_by_window(ids, READ_MODEL_WINDOWS, now=now)
    bars = daily_bars(ids, 90, now=now)
    latency = {name: latency_by_window(ids, name, now=now) for name in READ_MODEL_WINDOWS}
    return {m: (uptime[m], bars[m], {name: latency[name][m] for name in READ_MODEL_WINDOWS})
            for m in ids}


def got(ids: list[int], now: datetime) -> dict[int, tuple]:
    return {m: (n.uptime, n.bars, n.latency) for m, n in status_read_model(ids, now).items()}


def history(start: datetime, minutes: int, step_s: int = 60, down_every: int = 0):
    return [
        ProbeResult("down" if down_every and i % down_every == 0 else "up",
                    start + timedelta(seconds=step_s * i), latency_ms=float(20 + i % 300),
                    reason="HTTP 503" if down_every and i % down_every == 0 else None)
        for i in range(minutes)
    ]


def test_numbers_equal_the_separate_reads_and_stay_equal_when_cached() -> None:
    busy, flaky, silent, paused = (new_monitor(n) for n in ("Busy", "Flaky", "Silent", "Paused"))
    record(busy, history(NOW - timedelta(days=31, minutes=13), 31 * 96, step_s=900), batch=500)
    record(flaky, history(NOW - timedelta(days=8, hours=5), 8 * 48, step_s=1800, down_every=7),
           batch=100)
    record(paused, history(NOW - timedelta(days=3), 50, step_s=600))
    set_paused(paused, True)
    ids = [busy, flaky, silent, paused]
    first = got(ids, NOW)
    assert first == expected(ids, NOW)
    assert [n.state for n in status_read_model(ids, NOW).values()] == [
        "up", "up", "pending", "paused"]
    assert first[busy][0]["90d"] is not None and first[silent][0]["24h"] is None
    # Later in the same hour: the kept past plus a new result and more tail.
    later = NOW + timedelta(minutes=20)
    record(busy, [ProbeResult("down", NOW + timedelta(minutes=1), latency_ms=5.0,
                              reason="refused")])
    assert got(ids, later) == expected(ids, later)
    # Across the hour and the day.
    for moment in (NOW + timedelta(hours=1, minutes=3), NOW + timedelta(hours=13)):
        assert got(ids, moment) == expected(ids, moment)


def test_rebuild_drops_what_was_kept() -> None:
    web = new_monitor("Web")
    record(web, history(NOW - timedelta(days=2), 2 * 24 * 4, step_s=900), batch=200)
    before = got([web], NOW)
    assert before == expected([web], NOW)
    rebuild_all()  # rows are rewritten: the numbers must come from them again
    assert got([web], NOW) == expected([web], NOW)


def test_unknown_monitors_are_left_out() -> None:
    web = new_monitor("Web")
    assert list(status_read_model([web, 999], NOW)) == [web]
    assert status_read_model([], NOW) == {}


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(gaps=st.lists(st.integers(60, 7200), min_size=1, max_size=40),
       outcomes=st.lists(st.sampled_from(["up", "up", "degraded", "down"]), min_size=40,
                         max_size=40),
       offset_s=st.integers(0, 86400 * 2),
       maintenance=st.one_of(st.none(), st.tuples(st.integers(0, 3 * 86400),
                                                  st.integers(60, 6 * 3600))),
       paused=st.booleans())
def test_random_histories_read_the_same_either_way(
    gaps, outcomes, offset_s, maintenance, paused
) -> None:
    """Gaps of up to two hours, a maintenance window somewhere in the history, and a monitor
    paused at the end: the kept read equals the separate reads, first and from the cache."""
    monitor_id = new_monitor(f"m{datetime.now().timestamp()}")
    at, results = NOW - timedelta(days=3), []
    if maintenance is not None:
        starts = at + timedelta(seconds=maintenance[0])
        with session_scope() as session:
            session.add(MaintenanceWindow(title="m", monitor_id=monitor_id, starts_at=starts,
                                          ends_at=starts + timedelta(seconds=maintenance[1])))
    for gap, outcome in zip(gaps, outcomes, strict=False):
        at += timedelta(seconds=gap)
        results.append(ProbeResult(outcome, at, latency_ms=float(gap % 500 + 1)))  # type: ignore[arg-type]
    record(monitor_id, results, batch=7)
    set_paused(monitor_id, paused)
    now = results[-1].checked_at + timedelta(seconds=offset_s % 7200)
    assert got([monitor_id], now) == expected([monitor_id], now)
    assert got([monitor_id], now) == expected([monitor_id], now)  # from the cache
