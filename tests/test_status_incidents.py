"""Incidents written by an admin, and what of them the public sees."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.monitor_input import InvalidInput
from domain.result import ProbeResult
from storage.incidents import (
    admin_incidents,
    create_incident,
    edit_incident,
    edit_update,
    post_update,
    public_incidents,
)
from storage.results import record_result
from tests.status_support import monitor


def test_updates_move_the_status_and_resolve_and_reopen() -> None:
    incident = create_incident("Checkout slow", "investigating", "Looking")
    post_update(incident, "resolved", "Fixed")
    [view] = public_incidents()
    assert view.status == "resolved" and view.resolved_at is not None
    post_update(incident, "identified", "It is back")
    [view] = public_incidents()
    assert view.active and [u.status for u in view.updates] == [
        "identified", "resolved", "investigating"]


@pytest.mark.parametrize(("title", "status", "message", "field"), [
    ("", "investigating", "x", "title"),
    ("T" * 201, "investigating", "x", "title"),
    ("Title", "panicking", "x", "status"),
    ("Title", "identified", "   ", "message"),
])
def test_bad_input_is_refused_and_nothing_saved(
    title: str, status: str, message: str, field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        create_incident(title, status, message)
    assert field in refused.value.errors
    assert admin_incidents() == []


def test_editing_title_visibility_and_an_update() -> None:
    incident = create_incident("Typo", "investigating", "Frist text")
    edit_incident(incident, title="Fixed title", public=False, monitor_id=None)
    assert public_incidents() == []
    [view] = admin_incidents()
    assert view.title == "Fixed title"
    edit_update(view.updates[0].id, "First text")
    assert admin_incidents()[0].updates[0].message == "First text"
    with pytest.raises(InvalidInput):
        edit_incident(incident, title="x", public=True, monitor_id=999)


def test_history_keeps_30_days() -> None:
    old = create_incident("Old", "investigating", "x",
                          now=datetime.now(UTC) - timedelta(days=40))
    post_update(old, "resolved", "done", now=datetime.now(UTC) - timedelta(days=39))
    create_incident("Recent", "resolved", "done")
    assert [i.title for i in public_incidents()] == ["Recent"]


def test_an_opened_incident_of_a_monitor_withholds_the_raw_reason() -> None:
    api = monitor("Api", url="https://api.example/")
    for _ in range(2):
        record_result(api.id, ProbeResult("down", reason="connect to db-7.internal refused"))
    incidents = public_incidents()
    assert len(incidents) == 1, "a monitor going down opens one incident"
    text = " ".join(u.message for i in incidents for u in i.updates)
    assert "db-7.internal" not in text and incidents[0].cause is None
    assert admin_incidents()[0].cause == "connect to db-7.internal refused"


def test_incidents_of_private_monitors_are_not_public() -> None:
    hidden = monitor("Hidden", public=False)
    create_incident("Hidden broke", "investigating", "x", monitor_id=hidden.id)
    assert public_incidents() == []
    assert len(admin_incidents()) == 1
