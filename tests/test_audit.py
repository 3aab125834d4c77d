"""The audit log: every write through the API or the dashboard's storage calls is recorded with
who made it, old and new values with secrets masked, in the write's transaction; the API
exports it newest first, a page at a time; the dashboard page shows it. The storage tests run
on SQLite and on PostgreSQL."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, insert, select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from composition.web_process import Runtime, build_routes
from config.settings import get_settings
from domain.monitor_input import SECRET_MASK, InvalidInput, parse_monitor_input
from notifiers.ack import ack_token
from notifiers.dispatcher import secret_key
from storage.alerting_admin import (
    ChannelSpec,
    acknowledge_incident,
    delete_channel,
    save_channel,
    set_monitor_routes,
)
from storage.audit import AUDIT, audit_page, masked
from storage.db import get_engine
from storage.incidents import (
    INCIDENTS,
    create_incident,
    delete_incident,
    edit_incident,
    post_update,
)
from storage.maintenance_admin import WindowInput, create_window, delete_window
from storage.monitors import create_monitor, delete_monitor, set_paused, update_monitor
from storage.status import LayoutRow, save_layout
from tests.pages_support import logged_in
from tests.pg import backend, postgres_database  # noqa: F401  (fixtures)
from web.ack import ack_routes

AUTH = {"Authorization": "Bearer s3cret-token"}
SECRET = "hunter2-very-secret"


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(Starlette(routes=build_routes(Runtime()))) as test_client:
        yield test_client


def _count() -> int:
    with get_engine().connect() as connection:
        return int(connection.execute(select(func.count()).select_from(AUDIT)).scalar_one())


@pytest.mark.usefixtures("backend")
def test_api_writes_are_recorded_as_the_api_token_with_old_and_new_values(
        client: TestClient) -> None:
    body = {"name": "API", "url": "http://127.0.0.1:9/", "interval": 60,
            "options": {"headers": {"Authorization": f"Bearer {SECRET}"}}}
    assert client.post("/api/v1/monitors", json=body, headers=AUTH).status_code == 201
    assert client.patch("/api/v1/monitors/api", json={"interval": 30},
                        headers=AUTH).status_code == 200
    assert client.delete("/api/v1/monitors/api", headers=AUTH).status_code == 204

    deleted, updated, created = audit_page()
    assert [(e.actor, e.action, e.subject_kind, e.subject) for e in (created, updated, deleted)] \
        == [("api-token", action, "monitor", "api") for action in ("created", "updated",
                                                                   "deleted")]
    assert (updated.before, updated.after) == ({"interval": 60}, {"interval": 30})
    assert created.after is not None and created.after["url"] == "http://127.0.0.1:9/"
    assert created.after["options"]["headers"] == {"Authorization": SECRET_MASK}
    assert SECRET not in repr([created.before, created.after, deleted.before])


def test_a_refused_write_records_nothing(client: TestClient) -> None:
    create_monitor(parse_monitor_input({"name": "API", "url": "http://127.0.0.1:9/"}))
    before = _count()
    assert client.patch("/api/v1/monitors/api", json={"interval": -5},
                        headers=AUTH).status_code == 422
    with pytest.raises(InvalidInput):
        create_monitor(parse_monitor_input({"name": "API", "url": "http://127.0.0.1:8/"}))
    assert _count() == before
    update_monitor("api", {"interval": 60})  # the value it already has: not a change
    assert _count() == before


@pytest.mark.usefixtures("backend")
def test_dashboard_writes_of_monitors_channels_routes_and_maintenance_name_the_operator() -> None:
    monitor = create_monitor(parse_monitor_input({"name": "Web", "url": "http://127.0.0.1:9/"}),
                             actor="ann@example.com")
    set_paused("web", True, actor="ann@example.com")
    channel = save_channel(ChannelSpec("ops", "slack_bot", {"channel": "#ops"},
                                       {"token": SECRET}, ["down"]))
    save_channel(ChannelSpec("ops", "slack_bot", {"channel": "#alerts"}, {"token": ""},
                             ["down"]), channel.id)
    set_monitor_routes(monitor.id, [channel.id])
    window = create_window(WindowInput("Upgrade", "", None, None, None, None, "0 3 * * *",
                                       "UTC", 30, False))
    delete_window(window)
    delete_channel(channel.id)
    delete_monitor("web")

    entries = list(reversed(audit_page()))
    assert [(e.actor, e.action, e.subject_kind) for e in entries] == [
        ("ann@example.com", "created", "monitor"), ("ann@example.com", "paused", "monitor"),
        ("admin", "created", "channel"), ("admin", "updated", "channel"),
        ("admin", "updated", "routing"), ("admin", "created", "maintenance"),
        ("admin", "deleted", "maintenance"), ("admin", "deleted", "channel"),
        ("admin", "deleted", "monitor"),
    ]
    channel_created, channel_updated = entries[2], entries[3]
    assert channel_created.after is not None
    assert channel_created.after["secrets"] == {"token": SECRET_MASK}
    assert (channel_updated.before, channel_updated.after) == (
        {"config": {"channel": "#ops"}}, {"config": {"channel": "#alerts"}})
    assert entries[4].after == {"channels": ["ops"]}
    assert SECRET not in repr([(e.before, e.after) for e in entries])


def test_each_entry_is_logged_as_one_line_with_secrets_masked(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="upwatch.audit")
    create_monitor(parse_monitor_input({"name": "DB", "url": "http://127.0.0.1:9/", "options": {
        "basic_auth_user": "u", "basic_auth_password": SECRET}}))
    update_monitor("db", {"interval": 30})
    lines = [r.getMessage() for r in caplog.records if r.name == "upwatch.audit"]
    assert lines[0].startswith("audit: admin created monitor db")
    assert lines[1] == "audit: admin updated monitor db: interval 60 -> 30"
    assert all("\n" not in line and SECRET not in line for line in lines)


@pytest.mark.parametrize(("value", "shown"), [
    ({"secrets": {"token": "x", "key": "y"}}, {"secrets": {"token": SECRET_MASK,
                                                           "key": SECRET_MASK}}),
    ({"headers": {"X-Api-Key": "x", "Accept": "json"}},
     {"headers": {"X-Api-Key": SECRET_MASK, "Accept": "json"}}),
    ({"url": "postgres://me:pw@db/x"}, {"url": f"postgres://me:{SECRET_MASK}@db/x"}),
    ({"push_token": "abc", "password": None}, {"push_token": SECRET_MASK, "password": None}),
    ({"list": [{"token": "x"}]}, {"list": [{"token": SECRET_MASK}]}),
])
def test_masking_hides_credentials_at_any_depth(value: dict, shown: dict) -> None:
    assert masked(value) == shown


@pytest.mark.usefixtures("backend")
def test_the_api_exports_the_log_newest_first_a_page_at_a_time(client: TestClient) -> None:
    for index in range(5):
        create_monitor(parse_monitor_input({"name": f"M{index}", "url": "http://127.0.0.1:9/"}))
    assert client.get("/api/v1/audit").status_code == 401
    first = client.get("/api/v1/audit?limit=2", headers=AUTH).json()
    assert [e["subject"] for e in first["entries"]] == ["m4", "m3"]
    second = client.get(f"/api/v1/audit?limit=2&cursor={first['next_cursor']}",
                        headers=AUTH).json()
    third = client.get(f"/api/v1/audit?limit=2&cursor={second['next_cursor']}",
                       headers=AUTH).json()
    assert [e["subject"] for e in second["entries"] + third["entries"]] == ["m2", "m1", "m0"]
    assert third["next_cursor"] is None
    assert third["entries"][0]["actor"] == "admin"
    assert third["entries"][0]["action"] == "created"
    for bad in ("limit=0", "limit=501", "limit=x", "cursor=-1", "cursor=abc"):
        answer = client.get(f"/api/v1/audit?{bad}", headers=AUTH)
        assert answer.status_code == 422, bad


def test_the_dashboard_page_lists_the_changes_behind_the_sign_in() -> None:
    create_monitor(parse_monitor_input({"name": "Web", "url": "http://127.0.0.1:9/"}))
    update_monitor("web", {"interval": 30})
    at = logged_in("audit.py")
    table = at.dataframe[0].value
    assert list(table["Did"]) == ["updated", "created"]
    assert list(table["Who"]) == ["admin", "admin"]
    assert table["Before"][0] == "interval: 60" and table["After"][0] == "interval: 30"


def test_every_secret_option_field_is_masked_by_its_name() -> None:
    """Options reach the audit log unmasked and are masked there by field name: every SecretStr
    field of every kind's options must have a name the masking recognises."""
    from domain.monitor_input import OPTION_MODELS

    secret_fields = [name for model in OPTION_MODELS.values()
                     for name, info in model.model_fields.items()
                     if "Secret" in str(info.annotation)]
    assert secret_fields
    assert all(masked({name: "x"}) == {name: SECRET_MASK} for name in secret_fields), \
        secret_fields


def test_a_change_and_its_entry_commit_together(monkeypatch: pytest.MonkeyPatch) -> None:
    """The entry is written in the change's transaction: when the transaction fails after the
    entry was written, neither the change nor the entry is kept."""
    import storage.monitors
    from storage.audit import record
    from storage.monitors import get_monitor

    create_monitor(parse_monitor_input({"name": "Web", "url": "http://127.0.0.1:9/"}))
    before = _count()

    def record_then_fail(connection, **entry) -> None:  # type: ignore[no-untyped-def]
        record(connection, **entry)
        raise RuntimeError("the database went away")

    monkeypatch.setattr(storage.monitors, "record", record_then_fail)
    with pytest.raises(RuntimeError):
        update_monitor("web", {"interval": 30})
    assert _count() == before
    monitor = get_monitor("web")
    assert monitor is not None and monitor.interval == 60


def test_the_monitors_file_is_recorded_as_its_own_actor() -> None:
    from config.monitors_file import parse_monitors_file
    from storage.monitors import save_monitors_file

    text = "monitors:\n  - name: API\n    url: http://127.0.0.1:9/\n    interval: 60\n"
    save_monitors_file(parse_monitors_file(text))
    save_monitors_file(parse_monitors_file(text.replace("60", "120")))
    save_monitors_file(parse_monitors_file(text.replace("60", "120")))  # nothing changes
    updated, created = audit_page()
    assert [(e.actor, e.action) for e in (created, updated)] == [
        ("monitors-file", "created"), ("monitors-file", "updated")]
    assert (updated.before, updated.after) == ({"interval": 60}, {"interval": 120})


def test_the_audit_page_asks_a_visitor_to_sign_in() -> None:
    from tests.pages_support import page

    create_monitor(parse_monitor_input({"name": "Web", "url": "http://127.0.0.1:9/"}))
    at = page("audit.py")
    at.run()
    assert [t.value for t in at.title] == ["Upwatch — sign in required"]
    assert not at.dataframe


def test_incidents_acknowledgements_and_the_layout_are_recorded_with_who() -> None:
    monitor = create_monitor(parse_monitor_input({"name": "Web", "url": "http://127.0.0.1:9/"}))
    first = create_incident("Slow checkout", "investigating", "Looking.", actor="ann@example.com")
    post_update(first, "resolved", "Fixed.", actor="ann@example.com")
    edit_incident(first, title="Slow checkout page", public=False, monitor_id=None,
                  actor="bob@example.com")
    assert delete_incident(first, actor="bob@example.com")
    second = open_monitor_incident(monitor.id)
    assert acknowledge_incident(second, "carol (dashboard)", datetime.now(UTC),
                                actor="carol@example.com")
    assert not acknowledge_incident(second, "dave (dashboard)", datetime.now(UTC),
                                    actor="dave@example.com")  # already: nothing recorded
    token = ack_token(secret_key(get_engine(), get_settings()), open_monitor_incident(monitor.id))
    client = TestClient(Starlette(routes=ack_routes()))
    assert "acknowledged by erin" in client.post("/ack", data={"t": token, "who": "erin"}).text
    save_layout([LayoutRow(monitor.id, "Web", True, "Shop", 3, False)], actor="ann@example.com")

    entries = list(reversed(audit_page()))[1:]  # after the monitor's creation
    assert [(e.actor, e.action, e.subject_kind) for e in entries] == [
        ("ann@example.com", "created", "incident"),
        ("ann@example.com", "posted update", "incident"),
        ("bob@example.com", "updated", "incident"), ("bob@example.com", "deleted", "incident"),
        ("carol@example.com", "acknowledged", "incident"),
        ("ack-link", "acknowledged", "incident"),
        ("ann@example.com", "updated", "layout"),
    ]
    assert entries[1].before == {"status": "investigating"}
    assert entries[2].after == {"title": "Slow checkout page", "public": False}
    assert entries[5].after == {"acknowledged_by": "erin"}
    assert (entries[6].subject, entries[6].before, entries[6].after) == (
        "web", {"group": None, "order": 0}, {"group": "Shop", "order": 3})


def open_monitor_incident(monitor_id: int) -> int:
    """An open incident of the monitor, written as the engine writes one (no audit entry)."""
    with get_engine().begin() as connection:
        return int(connection.execute(insert(INCIDENTS).values(
            monitor_id=monitor_id, title="Web is down", started_at=datetime.now(UTC))
            .returning(INCIDENTS.c.id)).scalar_one())
