"""Which planned deliveries are due: one channel hears one monitor's notices in order, and one
monitor's retried page never holds up another monitor's. On SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select, update

from domain.monitor_input import parse_monitor_input
from domain.result import ProbeResult
from storage import deliveries
from storage.alerting_models import AlertChannel, Delivery
from storage.db import get_engine
from storage.models import Monitor, StateChange
from storage.monitors import create_monitor
from storage.results import record_result
from storage.tables import table_of
from tests.pg import backend, postgres_database  # noqa: F401  (fixtures)

pytestmark = pytest.mark.usefixtures("backend")

CHANNELS = table_of(AlertChannel)
DELIVERIES = table_of(Delivery)
CHANGES = table_of(StateChange)
MONITORS = table_of(Monitor)
T0 = datetime.now(UTC) - timedelta(minutes=5)


def add_channel() -> None:
    with get_engine().begin() as connection:
        connection.execute(insert(CHANNELS).values(
            name="ops", kind="slack_webhook", config={},
            secrets={"webhook_url": "http://127.0.0.1:1/hook"},
            events=["down", "up", "degraded", "certificate", "maintenance"]))


def goes(name: str, *outcomes: str) -> int:
    monitor_id = create_monitor(parse_monitor_input(
        {"name": name, "url": "http://127.0.0.1:1/"})).id
    for step, outcome in enumerate(outcomes):
        record_result(monitor_id, ProbeResult(
            outcome, T0 + timedelta(seconds=step),  # type: ignore[arg-type]
            reason=None if outcome == "up" else "HTTP 503"))
    return monitor_id


def planned() -> dict[tuple[str, str], int]:
    """(monitor name, notice kind) -> delivery id."""
    query = (select(DELIVERIES.c.id, DELIVERIES.c.kind, MONITORS.c.name)
             .join(CHANGES, CHANGES.c.id == DELIVERIES.c.event_id)
             .join(MONITORS, MONITORS.c.id == CHANGES.c.monitor_id))
    with get_engine().connect() as connection:
        return {(row.name, row.kind): row.id for row in connection.execute(query)}


def retry_later(delivery_id: int) -> None:
    with get_engine().begin() as connection:
        connection.execute(update(DELIVERIES).where(DELIVERIES.c.id == delivery_id)
                           .values(next_attempt_at=datetime.now(UTC) + timedelta(minutes=1)))


def test_a_recovery_waits_for_its_outage_page_but_other_monitors_do_not() -> None:
    add_channel()
    goes("A", "up", "down", "up")  # an outage page, then its recovery
    goes("B", "up", "down")  # another monitor's page on the same channel
    assert deliveries.plan_new_events(get_engine(), datetime.now(UTC)) == 3
    ids = planned()
    retry_later(ids[("A", "down")])  # A's page failed once and waits for its retry
    due = deliveries.due_deliveries(get_engine(), datetime.now(UTC), limit=10)
    assert due == [ids[("B", "down")]]
