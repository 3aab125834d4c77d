"""Recording results: result, state and state change together."""

from datetime import UTC, datetime, timedelta

from sqlmodel import select

from domain.monitor_input import parse_monitor_input
from domain.result import ProbeResult
from storage.db import session_scope
from storage.models import CheckResult, StateChange
from storage.monitors import create_monitor, get_monitor
from storage.results import record_result

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


def new_monitor(name: str = "Web") -> int:
    return create_monitor(parse_monitor_input({"name": name, "url": "http://127.0.0.1:1/"})).id


def test_a_result_updates_state_and_records_the_change() -> None:
    monitor_id = new_monitor()
    record_result(monitor_id, ProbeResult("up", NOW, latency_ms=12.5, http_status=200))
    record_result(monitor_id, ProbeResult("down", NOW + timedelta(minutes=1), reason="HTTP 503"))
    view = get_monitor("web")
    assert view is not None
    assert (view.state, view.reason, view.latency_ms) == ("down", "HTTP 503", None)
    assert view.last_check_at == NOW + timedelta(minutes=1)
    with session_scope() as session:
        changes = session.exec(select(StateChange).order_by(StateChange.id)).all()
        results = session.exec(select(CheckResult)).all()
    assert [(c.from_state, c.to_state) for c in changes] == [("pending", "up"), ("up", "down")]
    assert len(results) == 2 and changes[1].at == results[1].checked_at


def test_a_result_for_a_deleted_monitor_is_dropped() -> None:
    assert record_result(9999, ProbeResult("up", NOW)) is None
