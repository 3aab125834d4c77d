"""The fault matrix through the engine: bad targets are recorded down on time, healthy monitors
keep their schedule meanwhile, and thresholds, retries and edits reach the running engine."""

import logging
import time
from collections import Counter
from collections.abc import Iterator
from itertools import pairwise

import pytest
from sqlmodel import select

from checks.engine import FIRST_RUN_SLOT_S, ProbeEngine, start_offset
from domain.monitor_input import parse_monitor_input
from storage.db import session_scope
from storage.models import CheckResult, Monitor, MonitorState
from storage.monitors import MonitorView, create_monitor, delete_monitor, update_monitor
from tests.server_process import wait_until
from tests.targets import FaultTarget, serve_fault_target

TIMEOUT_S = 1.0


@pytest.fixture(scope="module")
def target() -> Iterator[FaultTarget]:
    with serve_fault_target() as fault_target:
        yield fault_target


def _add(name: str, url: str, interval: int = 10, **fields: object) -> MonitorView:
    values = {"name": name, "url": url, "interval": 10, "timeout": TIMEOUT_S, **fields}
    monitor = create_monitor(parse_monitor_input(values))
    if interval != 10:  # below what users may choose, to see several runs in a short test
        with session_scope() as session:
            row = session.get(Monitor, monitor.id)
            assert row is not None
            row.interval = interval
            session.add(row)
    return monitor


def _results() -> dict[int, list[CheckResult]]:
    found: dict[int, list[CheckResult]] = {}
    with session_scope() as session:
        for row in session.exec(select(CheckResult).order_by(CheckResult.checked_at)).all():
            found.setdefault(row.monitor_id, []).append(row)
    return found


def _state(monitor_id: int) -> MonitorState:
    with session_scope() as session:
        state = session.get(MonitorState, monitor_id)
        assert state is not None
        return state


@pytest.fixture
def engine() -> Iterator[ProbeEngine]:
    probe_engine = ProbeEngine(sync_every_s=0.2, first_run_spread_s=0.5)
    yield probe_engine
    probe_engine.stop()


def test_faulty_targets_are_down_on_time_while_healthy_ones_keep_schedule(
    target: FaultTarget, engine: ProbeEngine
) -> None:
    faults = {
        "refused": (target.refused_url, "connection refused", {}),
        "hang": (target.hang_url, "timed out after 1 s", {}),
        "slow headers": (target.url("/slow-headers"), "timed out after 1 s", {}),
        "trickle": (target.url("/trickle"), "timed out after 1 s", {}),
        "reset": (target.url("/reset"), "connection reset", {}),
        "garbage": (target.url("/garbage"), "invalid HTTP response", {}),
        "huge": (target.url("/huge"), "keyword 'All systems go' not found in the first 1 MiB",
                 {"keyword": "All systems go"}),
        "http 503": (target.url("/status/503"), "HTTP 503", {}),
        "untrusted tls": (target.tls_url("expired"),
                          "certificate issued by an unknown authority", {}),
    }
    faulty = {_add(name, url, options=options).id: (name, reason)
              for name, (url, reason, options) in faults.items()}
    healthy = [_add(f"ok {n}", target.url("/ok"), interval=1).id for n in range(4)]
    healthy.append(_add("tls ok", target.tls_url("good"), interval=1,
                        options={"verify_tls": False}).id)
    engine.start()

    def every_monitor_recorded() -> dict[int, list[CheckResult]] | None:
        found = _results()
        done = all(m in found for m in faulty) and all(
            len(found.get(m, [])) >= 4 for m in healthy)
        return found if done else None

    results = wait_until(every_monitor_recorded, 20, "every monitor's results", every_s=0.1)
    for monitor_id, (name, reason) in faulty.items():
        first = results[monitor_id][0]
        assert first.outcome == "down", name
        assert first.reason is not None and first.reason.startswith(reason), (name, first.reason)
        # on time: the 1 s timeout, not a hang (the slack is for a busy 2-core machine)
        assert first.phases["total"] <= (TIMEOUT_S + 1.0) * 1000, (name, first.phases)
    for monitor_id in healthy:
        runs = results[monitor_id]
        assert all(r.outcome == "up" for r in runs), runs
        gaps = [(b.checked_at - a.checked_at).total_seconds() for a, b in pairwise(runs)]
        # every second: none run twice, none skipped, and a mean close to the interval
        assert all(0.5 <= gap <= 1.9 for gap in gaps), gaps
        mean = (runs[-1].checked_at - runs[0].checked_at).total_seconds() / len(gaps)
        assert 0.85 <= mean <= 1.15, gaps
    lateness = sorted(engine.stats.lateness_s)
    assert lateness and lateness[len(lateness) // 2] < 0.25, lateness
    assert engine.stats.missed == 0


def test_thresholds_and_the_retry_interval_confirm_an_outage_quickly(
    target: FaultTarget, engine: ProbeEngine
) -> None:
    monitor = _add("flaky", target.url("/status/500"), interval=30, retry_interval=5,
                   failures_before_down=2)
    engine.start()
    wait_until(lambda: _results().get(monitor.id), 10, "the first check", every_s=0.05)
    assert _state(monitor.id).state == "pending"  # one failure: not confirmed yet
    runs = wait_until(lambda: _results()[monitor.id][1:] and _results()[monitor.id], 15,
                      "the second check", every_s=0.1)
    # the second check comes after the retry interval (5 s), not the interval (30 s)
    assert 4.5 <= (runs[1].checked_at - runs[0].checked_at).total_seconds() <= 8.0
    state = _state(monitor.id)
    assert (state.state, state.reason) == ("down", "HTTP 500")


def test_edits_and_deletions_reach_the_running_engine(
    target: FaultTarget, engine: ProbeEngine
) -> None:
    monitor = _add("edited", target.url("/ok"), interval=30)
    doomed = _add("doomed", target.url("/ok"), interval=1)
    engine.start()
    wait_until(lambda: _results().get(monitor.id), 10, "the first check", every_s=0.05)
    update_monitor(monitor.slug, {"options": {"keyword": "Nothing like this"}})
    assert delete_monitor(doomed.slug)
    deadline = time.monotonic() + 3.0
    while len(_results().get(monitor.id, [])) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    runs = _results()
    assert [r.outcome for r in runs[monitor.id]] == ["up", "down"]
    assert runs[monitor.id][1].reason == "keyword 'Nothing like this' not found"
    assert doomed.id not in runs  # its results went with it, and no new ones came


def _stop_with_checks_in_flight(target: FaultTarget, finish_in_flight_s: float) -> list[int]:
    hanging = [_add(f"hang {n}", target.hang_url).id for n in range(20)]
    engine = ProbeEngine(sync_every_s=0.2, first_run_spread_s=0.1,
                         finish_in_flight_s=finish_in_flight_s)
    engine.start()
    # Every check started and waits for its 1 s timeout.
    wait_until(lambda: engine.stats.checks == 0 and len(engine._running) == len(hanging),
               10, "every check to be in flight", every_s=0.02)
    engine.stop()
    return hanging


def test_a_stop_lets_the_checks_in_flight_finish_and_writes_their_results(
    target: FaultTarget, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        hanging = _stop_with_checks_in_flight(target, finish_in_flight_s=5.0)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    results = _results()
    assert sorted(results) == sorted(hanging)  # each finished: timed out, and written
    assert {r.outcome for rows in results.values() for r in rows} == {"down"}
    assert all("timed out" in (r.reason or "") for rows in results.values() for r in rows)


def test_checks_still_running_past_the_stops_grace_are_abandoned_quietly(
    target: FaultTarget, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        hanging = _stop_with_checks_in_flight(target, finish_in_flight_s=0.0)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert not set(hanging) & set(_results())  # abandoned, not recorded as failures


def test_stopping_while_the_schedule_is_installed_is_quiet(
    target: FaultTarget, caplog: pytest.LogCaptureFixture
) -> None:
    # Enough monitors that installing their jobs takes several batches, all due at once.
    with session_scope() as session:
        session.add_all(
            Monitor(slug=f"m{n}", name=f"m{n}", url=target.hang_url, timeout=TIMEOUT_S)
            for n in range(3000)
        )
    engine = ProbeEngine(sync_every_s=0.2, first_run_spread_s=0.01)
    with caplog.at_level(logging.WARNING):
        engine.start()
        time.sleep(0.3)  # a few hundred jobs installed, the rest still to come
        engine.stop()
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    # A sync cut short by the stop is not reported as done (the health check reads last_tick).
    assert engine.last_tick is None or len(engine._specs) == 3000


def test_first_runs_are_spread_over_the_interval_in_small_groups() -> None:
    offsets = [start_offset(monitor_id, 60) for monitor_id in range(1, 1001)]
    slots = [offset / FIRST_RUN_SLOT_S for offset in offsets]
    assert all(0 <= offset < 60 for offset in offsets)
    assert all(abs(slot - round(slot)) < 1e-6 for slot in slots)  # due together, started together
    per_second = Counter(int(offset) for offset in offsets)
    assert len(per_second) == 60 and max(per_second.values()) <= 20  # 1,000 / 60 s is 16.7
    assert max(Counter(round(slot) for slot in slots).values()) <= 2
