"""Heartbeat monitors: the push route records beats; silence is reported by the engine's rule."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from composition.web_process import Runtime, build_routes
from domain.monitor_input import parse_monitor_input
from domain.push import MISSED_BEAT_PREFIX, missed_beat
from storage.db import session_scope
from storage.models import CheckResult, MonitorState
from storage.monitors import create_monitor, record_heartbeat, set_paused
from storage.schedule import last_beats

AUTH = {"Authorization": "Bearer s3cret-token"}


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(Starlette(routes=build_routes(Runtime()))) as test_client:
        yield test_client


def _results(monitor_id: int) -> list[CheckResult]:
    with session_scope() as session:
        return list(session.exec(
            select(CheckResult).where(CheckResult.monitor_id == monitor_id)
            .order_by(CheckResult.checked_at)  # type: ignore[arg-type]
        ).all())


def _state(monitor_id: int) -> MonitorState:
    with session_scope() as session:
        state = session.get(MonitorState, monitor_id)
        assert state is not None
        return state


def test_a_push_monitor_gets_a_secret_token_through_the_api(client: TestClient) -> None:
    created = client.post("/api/v1/monitors", headers=AUTH,
                          json={"name": "Backup", "kind": "push", "interval": 300})
    assert created.status_code == 201, created.json()
    token = created.json()["push_token"]
    assert token and len(token) >= 30
    other = create_monitor(parse_monitor_input({"name": "Cron", "kind": "push"}))
    assert other.push_token not in (None, token)
    assert "push_token" not in client.get("/api/v1/monitors/backup").json()  # not public


def test_beats_are_recorded_up_or_down_with_the_message(client: TestClient) -> None:
    monitor = create_monitor(parse_monitor_input({"name": "Backup", "kind": "push"}))
    assert client.get(f"/api/v1/push/{monitor.push_token}").status_code == 200
    assert _state(monitor.id).state == "up"
    answer = client.post(f"/api/v1/push/{monitor.push_token}?status=down&msg=disk+full")
    assert answer.status_code == 200
    results = _results(monitor.id)
    assert [(r.outcome, r.reason) for r in results] == [
        ("up", None), ("down", "reported down: disk full")]
    assert _state(monitor.id).state == "down"  # push monitors need no second failure


def test_an_unknown_token_is_a_404_and_records_nothing(client: TestClient) -> None:
    monitor = create_monitor(parse_monitor_input({"name": "Backup", "kind": "push"}))
    for token in ("nope", monitor.push_token[:-1], monitor.push_token + "x"):
        assert client.get(f"/api/v1/push/{token}").status_code == 404
    assert _results(monitor.id) == []


def test_a_bad_status_is_refused(client: TestClient) -> None:
    monitor = create_monitor(parse_monitor_input({"name": "Backup", "kind": "push"}))
    answer = client.get(f"/api/v1/push/{monitor.push_token}?status=maybe")
    assert answer.status_code == 422
    assert answer.json()["errors"] == [{"field": "status",
                                        "message": "send status=up or status=down"}]
    assert _results(monitor.id) == []


def test_a_paused_monitors_beats_are_acknowledged_not_recorded(client: TestClient) -> None:
    monitor = create_monitor(parse_monitor_input({"name": "Backup", "kind": "push"}))
    set_paused(monitor.slug, True)
    assert client.get(f"/api/v1/push/{monitor.push_token}").status_code == 200
    assert _results(monitor.id) == []


def test_last_beats_ignore_the_engines_own_missed_heartbeat_results(client: TestClient) -> None:
    monitor = create_monitor(parse_monitor_input({"name": "Backup", "kind": "push"}))
    client.get(f"/api/v1/push/{monitor.push_token}")
    beat_at = _results(monitor.id)[0].checked_at
    later = datetime.now(UTC) + timedelta(minutes=10)
    missed = missed_beat(beat_at.replace(tzinfo=UTC), beat_at, 300, 60, later)
    assert missed is not None
    record_heartbeat(monitor.push_token, missed)
    assert last_beats([monitor.id])[monitor.id] == beat_at.replace(tzinfo=UTC)


def test_silence_past_period_and_grace_is_down_with_a_reason() -> None:
    beat = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
    assert missed_beat(beat, beat, 300, 60, beat + timedelta(seconds=359)) is None
    late = missed_beat(beat, beat, 300, 60, beat + timedelta(minutes=7))
    assert late is not None and late.outcome == "down"
    assert late.reason == "no heartbeat for 7 min (expected every 5 min)"
    assert late.reason.startswith(MISSED_BEAT_PREFIX)
    never = missed_beat(None, beat, 60, 30, beat + timedelta(seconds=100))
    assert never is not None
    assert never.reason == "no heartbeat yet after 100 s (expected every 60 s)"
