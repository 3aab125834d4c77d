"""Alert rules over windows: the verdicts at their edges (exactly N minutes, gaps, maintenance),
stepped one check at a time; then, through the recorder on a real SQLite file, that a rule
fires and resolves once each, in the result's transaction, and is planned by its severity."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select, update

from analytics.histogram import LatencyHistogram
from analytics.uptime import StateSeconds
from analytics.window_rule_eval import (
    RecentChecks,
    Verdict,
    certificate_verdict,
    failure_rate_verdict,
    latency_verdict,
    period_start,
    uptime_verdict,
)
from domain.monitor_input import parse_monitor_input
from domain.result import ProbeResult
from domain.window_rules import WindowRule, rule_to_stored
from storage import alerting
from storage.alerting_models import AlertChannel, Delivery
from storage.db import get_engine
from storage.models import MaintenanceWindow, Monitor, StateChange
from storage.monitors import create_monitor
from storage.recorder import record_batch
from storage.rule_models import RuleEvent, RuleState
from storage.rule_watch import RuleWatch
from tests.pg import backend, postgres_database  # noqa: F401  (fixtures)

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # a Monday
S0 = T0.timestamp()
P95_500_10 = WindowRule("latency", float(500), "high", window_minutes=10, percentile=95)
P50_500_10 = WindowRule("latency", float(500), "high", window_minutes=10, percentile=50)
FAIL_5_5 = WindowRule("failure_rate", float(5), "high", window_minutes=5)

# (minute, outcome, latency ms) checks; None latency: a failed check's timeout.
Steps = list[tuple[float, str, float | None]]


def _ring(steps: Steps, keep_minutes: int = 10) -> RecentChecks:
    recent = RecentChecks(keep_minutes * 60)
    for minute, outcome, latency in steps:
        recent.add(S0 + minute * 60, outcome, latency)
    return recent


def _every_minute(first: int, last: int, outcome: str = "up", latency: float = 100) -> Steps:
    return [(float(m), outcome, latency) for m in range(first, last + 1)]


LATENCY_CASES = [
    # (what, rule, checks, judged at minute, verdict)
    ("watched for less than the window: not judged", P95_500_10,
     _every_minute(0, 9, latency=800), 9, Verdict(None)),
    ("watched for exactly the window: judged", P95_500_10,
     _every_minute(0, 10, latency=800), 10, Verdict(True, 800)),
    # Six slow checks and five fast ones: the slow one at minute 0 decides the median.
    ("a check exactly N minutes old is outside the window", P50_500_10,
     [*_every_minute(0, 5, latency=800), *_every_minute(6, 10, latency=100)], 10,
     Verdict(False, 100)),
    ("a check just inside the window counts", P50_500_10,
     [(-1, "up", 100), (0.01, "up", 800), *_every_minute(1, 5, latency=800),
      *_every_minute(6, 10, latency=100)], 10,
     Verdict(True, 800)),
    ("p95 below the threshold", P95_500_10, _every_minute(0, 10, latency=499), 10,
     Verdict(False, 499)),
    ("exactly at the threshold is not above it", P95_500_10, _every_minute(0, 10, latency=500),
     10, Verdict(False, 500)),
    ("a gap inside the window: judged on the checks there are", P95_500_10,
     [(0, "up", 100), (9, "up", 800), (10, "up", 800)], 10, Verdict(True, 800)),
    ("a window with only a gap: nothing to judge", P95_500_10,
     [(0, "up", 100), (20, "up", 800)], 19, Verdict(None)),
    ("failed checks have no latency", P95_500_10,
     [(0, "up", 100), *[(m, "down", 9000) for m in range(1, 11)]], 10, Verdict(None)),
]


@pytest.mark.parametrize(("rule", "steps", "minute", "expected"),
                         [case[1:] for case in LATENCY_CASES],
                         ids=[case[0] for case in LATENCY_CASES])
def test_latency_rules_at_their_edges(rule: WindowRule, steps: Steps, minute: float,
                                      expected: Verdict) -> None:
    verdict = latency_verdict(rule, _ring(steps), S0 + minute * 60)
    assert verdict.holds is expected.holds
    if expected.value is not None:
        assert verdict.value == pytest.approx(expected.value, rel=0.01)


def test_the_percentile_is_the_reports_histogram_quantile() -> None:
    latencies = [float(x) for x in range(100, 1100, 50)]  # 20 checks, one a minute... in 10 min
    steps = [(0.0, "up", 1.0)] + [(0.5 + i * 0.5, "up", x) for i, x in enumerate(latencies)]
    histogram = LatencyHistogram()
    for latency in latencies:
        histogram.add(latency)
    verdict = latency_verdict(P95_500_10, _ring(steps), S0 + 600)
    assert verdict.value == histogram.quantile(0.95)


FAILURE_CASES = [
    ("one failure in five checks is 20 %", [(0, "up"), (1, "up"), (2, "down"), (3, "up"),
                                           (4, "up"), (5, "up")], 5, Verdict(True, 20)),
    ("no failure", [(m, "up") for m in range(6)], 5, Verdict(False, 0)),
    ("the failure exactly 5 minutes old is out", [(0, "down"), *[(m, "up") for m in range(1, 6)]],
     5, Verdict(False, 0)),
    ("degraded is not a failure", [(m, "degraded") for m in range(6)], 5, Verdict(False, 0)),
    ("a gap is not a failure", [(0, "up"), (4, "up"), (5, "up")], 5, Verdict(False, 0)),
    ("only a gap: nothing to judge", [(0, "down"), (30, "down")], 29, Verdict(None)),
    ("not yet watched for 5 minutes", [(m, "down") for m in range(5)], 4, Verdict(None)),
]


@pytest.mark.parametrize(("steps", "minute", "expected"), [c[1:] for c in FAILURE_CASES],
                         ids=[c[0] for c in FAILURE_CASES])
def test_failure_rate_rules_at_their_edges(steps: list[tuple[float, str]], minute: float,
                                           expected: Verdict) -> None:
    recent = _ring([(m, outcome, 100 if outcome != "down" else None) for m, outcome in steps], 5)
    assert failure_rate_verdict(FAIL_5_5, recent, S0 + minute * 60) == expected


def test_recent_checks_keep_one_check_before_the_window_and_ignore_repeats() -> None:
    recent = _ring(_every_minute(0, 30), keep_minutes=10)
    assert [c[0] for c in recent.checks][:2] == [S0 + 20 * 60, S0 + 21 * 60]
    assert not recent.add(S0 + 30 * 60, "down", None)  # a batch written again
    assert len(recent.checks) == 11


UPTIME_99_9 = WindowRule("uptime", 99.9, "critical", period="month")


@pytest.mark.parametrize(("seconds", "expected"), [
    (StateSeconds(up_s=999, down_s=1), Verdict(False, 99.9)),  # exactly the target: not below
    (StateSeconds(up_s=998, down_s=2), Verdict(True, 99.8)),
    (StateSeconds(up_s=990, degraded_s=10), Verdict(False, 100.0)),  # degraded counts as up
    (StateSeconds(up_s=999, down_s=1, maintenance_s=10_000), Verdict(False, 99.9)),
    (StateSeconds(maintenance_s=3600), Verdict(None)),  # only maintenance: nothing observed
])
def test_uptime_rules_leave_maintenance_out(seconds: StateSeconds, expected: Verdict) -> None:
    verdict = uptime_verdict(UPTIME_99_9, seconds)
    assert verdict.holds is expected.holds
    if expected.value is not None:
        assert verdict.value == pytest.approx(expected.value)


@pytest.mark.parametrize(("period", "start"), [
    ("day", datetime(2026, 3, 4, tzinfo=UTC)),
    ("week", datetime(2026, 3, 2, tzinfo=UTC)),
    ("month", datetime(2026, 3, 1, tzinfo=UTC)),
])
def test_calendar_periods_start_in_utc(period: str, start: datetime) -> None:
    assert period_start(period, datetime(2026, 3, 4, 23, 59, tzinfo=UTC)) == start


@pytest.mark.parametrize(("days", "holds"), [(13.9, True), (14.0, False), (-1, True)])
def test_certificate_days_below_the_threshold(days: float, holds: bool) -> None:
    rule = WindowRule("certificate_days", float(14), "medium")
    assert certificate_verdict(rule, T0 + timedelta(days=days), T0).holds is holds
    assert certificate_verdict(rule, None, T0) == Verdict(None)


# -- through the recorder --------------------------------------------------------------------


def _monitor_with(*rules: WindowRule) -> int:
    monitor = create_monitor(parse_monitor_input({"name": "API", "url": "http://127.0.0.1:1/"}))
    with get_engine().begin() as connection:
        connection.execute(update(Monitor.__table__).where(Monitor.__table__.c.id == monitor.id)
                           .values(rules=[rule_to_stored(r) for r in rules],
                                   updated_at=datetime.now(UTC)))
    return monitor.id


def _record(watch: RuleWatch, monitor_id: int, minute: float, latency: float,
            outcome: str = "up") -> None:
    at = T0 + timedelta(minutes=minute)
    with get_engine().begin() as connection:
        record_batch(connection, [(monitor_id, ProbeResult(outcome, at, latency_ms=latency))],
                     UTC, rules=watch)


def _rule_events() -> list[tuple[bool, str, str]]:
    with get_engine().connect() as connection:
        return [(row.firing, row.severity, row.reason) for row in connection.execute(
            select(RuleEvent.__table__.c.firing, RuleEvent.__table__.c.severity,
                   StateChange.__table__.c.reason)
            .join(StateChange.__table__, StateChange.__table__.c.id
                  == RuleEvent.__table__.c.change_id)
            .order_by(RuleEvent.__table__.c.change_id))]


@pytest.mark.usefixtures("backend")  # also on PostgreSQL, where several workers share rules
def test_a_rule_fires_and_resolves_once_each_and_keeps_its_state_across_a_restart() -> None:
    rule = WindowRule("latency", float(500), "critical", window_minutes=2, percentile=50)
    monitor_id = _monitor_with(rule)
    watch = RuleWatch()
    for minute in range(3):
        _record(watch, monitor_id, minute, 100)
    for minute in range(3, 6):
        _record(watch, monitor_id, minute, 800)
    assert _rule_events() == [(True, "critical", "p50 above 500 ms for 2 min: 800 ms")]
    restarted = RuleWatch()  # the engine restarted: recent checks are read back from results
    for minute in range(6, 9):
        _record(restarted, monitor_id, minute, 800)
    for minute in range(9, 12):
        _record(restarted, monitor_id, minute, 100)
    events = _rule_events()
    assert [e[0] for e in events] == [True, False]
    assert events[1][2] == "p50 above 500 ms for 2 min: 100 ms"
    with get_engine().connect() as connection:
        assert connection.execute(select(RuleState.__table__)).all() == []
        changes = connection.execute(select(StateChange.__table__.c.kind)).scalars().all()
    assert sorted(changes).count("rule") == 2


@pytest.mark.usefixtures("backend")
def test_a_batch_written_again_after_a_failure_fires_once() -> None:
    rule = WindowRule("failure_rate", float(40), "high", window_minutes=2)
    monitor_id = _monitor_with(rule)
    watch = RuleWatch()
    for minute in range(3):
        _record(watch, monitor_id, minute, 100)
    failing = [(monitor_id, ProbeResult("down", T0 + timedelta(minutes=m), reason="HTTP 503"))
               for m in (3, 4)]
    with pytest.raises(RuntimeError), get_engine().begin() as connection:
        record_batch(connection, failing, UTC, rules=watch)
        raise RuntimeError("the commit failed")
    assert _rule_events() == []
    with get_engine().begin() as connection:
        record_batch(connection, failing, UTC, rules=watch)
    assert _rule_events() == [(True, "high", "failures above 40 % over 2 min: 100 %")]


def test_checks_in_maintenance_are_left_out_and_the_rule_waits() -> None:
    rule = WindowRule("latency", float(500), "high", window_minutes=2, percentile=50)
    monitor_id = _monitor_with(rule)
    with get_engine().begin() as connection:
        connection.execute(insert(MaintenanceWindow.__table__).values(
            title="upgrade", monitor_id=monitor_id, notify=False,
            starts_at=T0 + timedelta(minutes=2, seconds=30), ends_at=T0 + timedelta(minutes=8)))
    watch = RuleWatch()
    for minute in range(3):
        _record(watch, monitor_id, minute, 100)
    for minute in range(3, 8):  # slow while in maintenance: nothing
        _record(watch, monitor_id, minute, 900)
    assert _rule_events() == []
    _record(watch, monitor_id, 8, 100)  # after it: only this check is in the window
    _record(watch, monitor_id, 9, 900)
    assert _rule_events() == []  # p50 of (100, 900) is 100
    _record(watch, monitor_id, 10, 900)
    assert [e[0] for e in _rule_events()] == [True]


def test_uptime_below_the_months_target_fires_from_the_rollups() -> None:
    rule = WindowRule("uptime", float(99), "medium", period="month")
    monitor_id = _monitor_with(rule)
    clock = [0.0]
    watch = RuleWatch(clock=lambda: clock[0])
    _record(watch, monitor_id, 0, 100)
    _record(watch, monitor_id, 10, 0, outcome="down")
    assert _rule_events() == []  # judged at minute 0 (nothing observed yet), next in a minute
    for step, minute in enumerate((11, 12, 13), start=1):  # down from minute 10
        clock[0] = step * 61.0
        _record(watch, monitor_id, minute, 0, outcome="down")
    (event,) = _rule_events()  # fired once, at minute 11, and kept firing
    assert event[:2] == (True, "medium")
    assert event[2] == "uptime below 99 % this month: 90.909 %"  # 10 of 11 minutes up


def test_a_rule_event_is_routed_by_the_rules_severity_through_quiet_hours() -> None:
    rule = WindowRule("latency", float(500), "low", window_minutes=1, percentile=50)
    monitor_id = _monitor_with(rule)
    quiet = {"quiet_start": "00:00", "quiet_end": "23:59", "quiet_timezone": "UTC",
             "quiet_min_severity": "critical"}
    with get_engine().begin() as connection:
        for name, extra in (("day", {}), ("night", quiet)):
            connection.execute(insert(AlertChannel.__table__).values(
                name=name, kind="webhook", config={"url": "http://127.0.0.1:9/"}, secrets={},
                events=["down", "up"], **extra))
    watch = RuleWatch()
    for minute, latency in ((0, 100), (1, 900), (2, 100)):
        _record(watch, monitor_id, minute, latency)
    with get_engine().begin() as connection:
        for event_id in alerting.unplanned_events(connection):
            alerting.plan_event(connection, event_id, T0 + timedelta(minutes=3))
        planned = connection.execute(select(Delivery.__table__.c.kind,
                                            Delivery.__table__.c.channel_id)).all()
    assert sorted(kind for kind, _ in planned) == ["rule_firing", "rule_resolved"]
    assert {channel for _, channel in planned} == {1}  # the quiet channel took neither


def test_a_firing_rule_removed_from_its_monitor_resolves() -> None:
    rule = WindowRule("latency", 500.0, "critical", window_minutes=1, percentile=50)
    monitor_id = _monitor_with(rule)
    clock = [0.0]
    watch = RuleWatch(clock=lambda: clock[0])
    _record(watch, monitor_id, 0, 100)
    _record(watch, monitor_id, 1, 900)
    with get_engine().begin() as connection:
        connection.execute(update(Monitor.__table__).values(rules=[], updated_at=datetime.now(UTC)))
    clock[0] = 60.0  # the writer looks for edits again
    _record(watch, monitor_id, 2, 900)
    _record(watch, monitor_id, 3, 900)  # no rules: nothing more
    assert _rule_events() == [(True, "critical", "p50 above 500 ms for 1 min: 900 ms"),
                              (False, "critical", "latency:p50:500:1m: the rule was removed")]
