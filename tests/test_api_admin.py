"""The REST API for what the dashboard's Manage buttons and Alerting page do: pause, resume,
check now and clone a monitor, its report, groups and tags, channels (secrets write-only),
quiet hours and routing. Writes need their scope; bad input is a problem naming the field and
changes nothing; a stale If-Match is a 412."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from starlette.applications import Starlette
from starlette.testclient import TestClient

from composition.web_process import Runtime, build_routes
from config.settings import get_settings
from storage.alerting_admin import (
    add_env_channels,
    delete_channel,
    list_channels,
    monitor_routes,
    save_channel,
    set_monitor_routes,
)
from storage.alerting_models import AlertChannel
from storage.api_tokens import create_token
from storage.audit import audit_page
from storage.db import get_engine
from storage.models import Monitor
from storage.monitors import get_monitor, list_monitors
from storage.tables import table_of
from tests.fakes import FakeHTTPServer, Reply
from tests.pg import backend, postgres_database  # noqa: F401  (fixtures)
from ui.alerting_forms import parse_channel_form
from web.channel_input import channel_spec
from web.etags import PreconditionFailed, etag_of, expecting

ADMIN = {"Authorization": "Bearer s3cret-token"}
HOOK_SECRET = "T000/B000/very-secret-hook"
PD_KEY = "pd-routing-key-very-secret"


@pytest.fixture
def target() -> Iterator[FakeHTTPServer]:
    with FakeHTTPServer() as server:
        yield server


@pytest.fixture
def client(target: FakeHTTPServer) -> Iterator[TestClient]:
    with TestClient(Starlette(routes=build_routes(Runtime()))) as test_client:
        made = test_client.post("/api/v1/monitors", headers=ADMIN, json={
            "name": "API", "url": target.url + "/health", "tags": ["prod", "payments"],
            "options": {"headers": {"Authorization": "Bearer hush"}}})
        assert made.status_code == 201, made.text
        test_client.post("/api/v1/monitors", headers=ADMIN, json={
            "name": "Web", "url": target.url + "/", "tags": ["prod"]})
        yield test_client


def _bearer(scope: str) -> dict[str, str]:
    _, token = create_token(f"{scope}-token", scope, None, actor="admin")
    return {"Authorization": f"Bearer {token}"}


def _slack(client: TestClient, url: str, **more: Any) -> dict[str, Any]:
    made = client.post("/api/v1/channels", headers=ADMIN, json={
        "name": "ops-slack", "kind": "slack_webhook", "settings": {"webhook_url": url},
        "events": ["down", "up"], **more})
    assert made.status_code == 201, made.text
    return made.json()


def _rows() -> list[dict[str, Any]]:
    with get_engine().connect() as connection:
        return [dict(row) for row in connection.execute(
            select(table_of(AlertChannel))).mappings()]


def test_monitor_actions_pause_resume_check_and_clone(
        client: TestClient, target: FakeHTTPServer) -> None:
    writer, reader = _bearer("write"), _bearer("read")
    for action in ("pause", "resume", "check", "clone"):
        refused = client.post(f"/api/v1/monitors/api/{action}", headers=reader,
                              json={"name": "x"})
        assert refused.status_code == 403, action
        assert refused.headers["content-type"] == "application/problem+json"
    assert get_monitor("api").paused is False  # type: ignore[union-attr]

    paused = client.post("/api/v1/monitors/api/pause", headers=writer)
    assert paused.status_code == 200 and paused.json()["state"] == "paused"
    assert paused.headers["etag"] == client.get("/api/v1/monitors/api",
                                                headers=writer).headers["etag"]
    assert client.post("/api/v1/monitors/api/resume", headers=writer).json()["state"] != "paused"

    checked = client.post("/api/v1/monitors/api/check", headers=writer)
    assert checked.status_code == 200, checked.text
    result = checked.json()
    assert (result["outcome"], result["http_status"]) == ("up", 200)
    assert {"connect", "total"} <= set(result["phases"])
    assert target.requests[-1].path == "/health"
    assert client.get("/api/v1/monitors/api/results.json", headers=reader).json()[-1][
        "outcome"] == "up"  # recorded like a scheduled check

    copy = client.post("/api/v1/monitors/api/clone", headers=writer,
                       json={"name": "API EU", "slug": "api-eu", "interval": 120})
    assert copy.status_code == 201, copy.text
    assert (copy.json()["slug"], copy.json()["interval"]) == ("api-eu", 120)
    assert copy.headers["location"] == "/api/v1/monitors/api-eu"
    stored = get_monitor("api-eu")
    assert stored is not None and stored.options["headers"]["Authorization"] == "Bearer hush"
    assert "hush" not in copy.text
    assert [(e.actor, e.action, e.subject) for e in audit_page()][:3] == [
        ("token:write-token", "created", "api-eu"), ("token:write-token", "resumed", "api"),
        ("token:write-token", "paused", "api")]


def test_a_refused_clone_names_the_field_and_adds_nothing(client: TestClient) -> None:
    for body, field in (({"name": "Web"}, "name"), ({"name": "Copy", "slug": "other"}, "slug"),
                        ({"name": "Copy", "interval": "often"}, "interval"), ({}, "name")):
        refused = client.post("/api/v1/monitors/api/clone", headers=ADMIN, json=body)
        assert refused.status_code == 422, body
        assert field in {e["field"] for e in refused.json()["errors"]}
    assert client.post("/api/v1/monitors/nope/clone", headers=ADMIN,
                       json={"name": "Copy"}).status_code == 404
    assert [m.slug for m in list_monitors()] == ["api", "web"]


def test_the_report_groups_and_tags(client: TestClient) -> None:
    reader = _bearer("read")
    client.post("/api/v1/monitors/api/check", headers=ADMIN)
    with get_engine().begin() as connection:
        monitors = table_of(Monitor)
        connection.execute(update(monitors).where(monitors.c.slug == "api")
                           .values(group_name="Backend"))
    now = datetime.now(UTC)
    report = client.get("/api/v1/monitors/api/report", headers=reader, params={
        "from": (now - timedelta(hours=1)).isoformat(),
        "to": (now + timedelta(hours=1)).isoformat()})
    assert report.status_code == 200, report.text
    numbers = report.json()
    assert (numbers["monitor"], numbers["checks"], numbers["failures"]) == ("api", 1, 0)
    assert numbers["p50_ms"] is not None and numbers["overlapping_incidents"] == []
    opened = client.post("/api/v1/incidents", headers=ADMIN, json={
        "title": "Slow", "message": "Looking", "monitor": "api"}).json()
    client.post(f"/api/v1/incidents/{opened['id']}/resolve", headers=ADMIN, json={})
    numbers = client.get("/api/v1/monitors/api/report", headers=reader).json()
    assert [(i["id"], i["status"]) for i in numbers["overlapping_incidents"]] == [
        (opened["id"], "resolved")]
    assert numbers["incidents"] == numbers["response_times"]["resolved"] == 1
    assert numbers["response_times"]["mttr_seconds"] is not None
    assert datetime.fromisoformat(numbers["to"]) <= datetime.now(UTC)  # cut at now
    assert client.get("/api/v1/groups", headers=reader).json() == [
        {"name": "Backend", "monitors": 1, "states": {"up": 1}},
        {"name": None, "monitors": 1, "states": {"pending": 1}}]
    assert client.get("/api/v1/tags", headers=reader).json() == [
        {"tag": "payments", "monitors": 1}, {"tag": "prod", "monitors": 2}]
    assert client.get("/api/v1/tags").status_code == 401
    for params, field in (({"from": "2026-02-30"}, "from"),
                          ({"from": now.isoformat(), "to": (now - timedelta(days=1)).isoformat()},
                           "to"),
                          ({"from": (now + timedelta(days=1)).isoformat()}, "from"),
                          ({"from": "2024-01-01"}, "from")):
        refused = client.get("/api/v1/monitors/api/report", headers=reader, params=params)
        assert refused.status_code == 422, params
        assert [e["field"] for e in refused.json()["errors"]] == [field]


def test_channels_keep_their_secrets_write_only(client: TestClient,
                                                 target: FakeHTTPServer) -> None:
    secret_url = f"{target.url}/services/{HOOK_SECRET}"
    assert client.post("/api/v1/channels", headers=_bearer("write"), json={
        "name": "x", "kind": "slack_webhook"}).status_code == 403
    made = _slack(client, secret_url)
    assert made["settings"] == {"webhook_url": "**********"}
    assert made["stored_secrets"] == ["webhook_url"]
    path = f"/api/v1/channels/{made['id']}"
    answers = [client.get("/api/v1/channels", headers=ADMIN), client.get(path, headers=ADMIN),
               client.patch(path, headers=ADMIN, json={"events": ["down"]}),
               client.post(f"{path}/test", headers=ADMIN),
               client.get("/api/v1/audit", headers=ADMIN)]
    for answer in answers:
        assert answer.status_code == 200, answer.text
        assert HOOK_SECRET not in answer.text
    assert answers[2].json()["events"] == ["down"]
    assert answers[3].json()["sent"] is True
    assert target.requests[-1].path == f"/services/{HOOK_SECRET}"  # sent with the stored one
    (row,) = _rows()
    assert row["secrets"] == {"webhook_url": secret_url}  # opened by the model: sealed at rest
    with get_engine().connect() as connection:
        raw = connection.exec_driver_sql("SELECT secrets FROM alert_channel").scalar_one()
    assert HOOK_SECRET not in str(raw)

    # A provider that repeats the address in its error: the answer masks it.
    target.enqueue(Reply(404, {"Content-Type": "text/plain"}, f"no hook {secret_url}".encode()))
    failed = client.post(f"{path}/test", headers=ADMIN)
    assert failed.json()["sent"] is False and HOOK_SECRET not in failed.text


def test_a_bad_channel_names_its_fields_and_changes_nothing(client: TestClient,
                                                            target: FakeHTTPServer) -> None:
    bad = client.post("/api/v1/channels", headers=ADMIN, json={
        "name": "", "kind": "slack_webhook", "settings": {"webhook_url": "ftp://x", "colour": "y"},
        "events": []})
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"settings.colour"}
    bad = client.post("/api/v1/channels", headers=ADMIN, json={
        "name": "", "kind": "slack_webhook", "settings": {"webhook_url": "ftp://x"},
        "events": [], "quiet_start": "25:00"})
    assert {e["field"] for e in bad.json()["errors"]} == {
        "name", "settings.webhook_url", "events", "quiet_start", "quiet_end"}
    assert client.post("/api/v1/channels", headers=ADMIN, json={
        "name": "p", "kind": "pager"}).json()["errors"][0]["field"] == "kind"
    assert _rows() == []

    made = _slack(client, target.url + "/hook")
    before = _rows()
    path = f"/api/v1/channels/{made['id']}"
    for body, field in (({"kind": "sms"}, "kind"), ({"escalate_after_minutes": 5000},
                                                   "escalate_after_minutes"),
                        ({"settings": {"webhook_url": "nope"}}, "settings.webhook_url"),
                        ({"events": "down"}, "events")):
        refused = client.patch(path, headers=ADMIN, json=body)
        assert refused.status_code == 422, body
        assert [e["field"] for e in refused.json()["errors"]] == [field]
    refused = client.put(f"{path}/quiet-hours", headers=ADMIN,
                         json={"start": "22:00", "end": "22:00", "timezone": "Mars/Base"})
    assert {e["field"] for e in refused.json()["errors"]} == {"end", "timezone"}
    assert _rows() == before


def test_stale_if_match_is_refused_and_changes_nothing(client: TestClient,
                                                       target: FakeHTTPServer) -> None:
    made = _slack(client, target.url + "/hook")
    path = f"/api/v1/channels/{made['id']}"
    etag = client.get(path, headers=ADMIN).headers["etag"]
    # A new secret is a change the ETag shows, though the answer shows no secret.
    changed = client.patch(path, headers={**ADMIN, "If-Match": etag},
                           json={"settings": {"webhook_url": target.url + "/new-hook"}})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert changed.json() == {**made, "settings": changed.json()["settings"]}
    for method, url, body in (("PATCH", path, {"enabled": False}), ("DELETE", path, None),
                              ("PUT", f"{path}/quiet-hours", {"start": "22:00", "end": "07:00"})):
        stale = client.request(method, url, headers={**ADMIN, "If-Match": etag}, json=body)
        assert stale.status_code == 412, method
        assert stale.json()["current_etag"] == changed.headers["etag"]
    assert list_channels()[0].enabled and list_channels()[0].quiet_start is None

    quiet = client.put(f"{path}/quiet-hours", headers={**ADMIN, "If-Match": changed.headers[
        "etag"]}, json={"start": "22:00", "end": "07:00", "timezone": "Europe/Berlin",
                        "min_severity": "high"})
    assert quiet.status_code == 200, quiet.text
    assert client.get("/api/v1/alerting/quiet-hours", headers=ADMIN).json() == [{
        "channel_id": made["id"], "channel": "ops-slack", "start": "22:00", "end": "07:00",
        "timezone": "Europe/Berlin", "min_severity": "high"}]

    routing = client.get("/api/v1/alerting/routing/api", headers=ADMIN)
    assert routing.json() == {"monitor": "api", "channels": [], "every_enabled_channel": True}
    assert client.put("/api/v1/alerting/routing/api", headers=_bearer("write"),
                      json={"channels": ["ops-slack"]}).status_code == 403
    routed = client.put("/api/v1/alerting/routing/api", headers={
        **ADMIN, "If-Match": routing.headers["etag"]}, json={"channels": ["ops-slack"]})
    assert routed.status_code == 200 and routed.json()["channels"] == ["ops-slack"]
    again = client.put("/api/v1/alerting/routing/api", headers={
        **ADMIN, "If-Match": routing.headers["etag"]}, json={"channels": []})
    assert again.status_code == 412
    unknown = client.put("/api/v1/alerting/routing/api", headers=ADMIN,
                         json={"channels": ["pager"]})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "channels"
    assert list(monitor_routes().values()) == [[made["id"]]]
    assert [r["channels"] for r in client.get("/api/v1/alerting/routing",
                                              headers=ADMIN).json()] == [["ops-slack"], []]

    assert client.delete(path, headers={**ADMIN, "If-Match": quiet.headers["etag"]}
                         ).status_code == 204
    assert client.get(path, headers=ADMIN).status_code == 404 and _rows() == []


def test_creates_sent_again_with_their_idempotency_key_make_nothing_twice(
        client: TestClient, target: FakeHTTPServer) -> None:
    key = {**ADMIN, "Idempotency-Key": "7f0c-retry"}
    channel = {"name": "hooks", "kind": "webhook", "settings": {"url": target.url + "/hook"}}
    first, again = (client.post("/api/v1/channels", headers=key, json=channel)
                    for _ in range(2))
    assert first.status_code == again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true" and again.json() == first.json()
    copies = [client.post("/api/v1/monitors/api/clone", json={"name": "Copy"},
                          headers={**ADMIN, "Idempotency-Key": "c1one"}) for _ in range(2)]
    assert [c.status_code for c in copies] == [201, 201]
    assert len(_rows()) == 1 and [m.slug for m in list_monitors()] == ["api", "copy", "web"]


def test_an_environment_channel_takes_routing_and_templates_only(
        client: TestClient, target: FakeHTTPServer, monkeypatch: pytest.MonkeyPatch) -> None:
    secret_url = f"{target.url}/services/{HOOK_SECRET}"
    monkeypatch.setenv("UPWATCH_SLACK_WEBHOOK_URL", secret_url)
    get_settings.cache_clear()
    with get_engine().begin() as connection:
        add_env_channels(connection, {"slack": "slack_webhook"})
    (channel,) = client.get("/api/v1/channels", headers=ADMIN).json()
    assert (channel["source"], channel["settings"], channel["stored_secrets"]) == ("env", {}, [])
    path = f"/api/v1/channels/{channel['id']}"
    for body, field in (({"settings": {"webhook_url": "https://x.example/"}},
                         "settings.webhook_url"), ({"name": "other"}, "name")):
        refused = client.patch(path, headers=ADMIN, json=body)
        assert [e["field"] for e in refused.json()["errors"]] == [field], body
    changed = client.patch(path, headers=ADMIN, json={
        "events": ["down"], "settings": {"text_template": "{{ headline }}"}})
    assert changed.status_code == 200, changed.text
    assert changed.json()["settings"] == {"text_template": "{{ headline }}"}
    assert client.delete(path, headers=ADMIN).status_code == 409
    target.enqueue(Reply(500, {"Content-Type": "text/plain"}, f"down: {secret_url}".encode()))
    sent = client.post(f"{path}/test", headers=ADMIN)
    assert target.requests[-1].path == f"/services/{HOOK_SECRET}"
    assert sent.json()["sent"] is False and HOOK_SECRET not in sent.text


# PostgreSQL only: SQLite runs every other test here. The scale-out path: JSON read as text for
# the ETag, rows locked while routes are replaced.
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
@pytest.mark.usefixtures("backend")
def test_channel_etags_and_routing_hold_on_postgresql(target: FakeHTTPServer) -> None:
    with TestClient(Starlette(routes=build_routes(Runtime()))) as client:
        client.post("/api/v1/monitors", headers=ADMIN, json={"name": "API", "url": target.url})
        made = _slack(client, f"{target.url}/services/{HOOK_SECRET}")
        path = f"/api/v1/channels/{made['id']}"
        etag = client.get(path, headers=ADMIN).headers["etag"]
        assert client.get(path, headers=ADMIN).headers["etag"] == etag  # stable between writes
        changed = client.patch(path, headers={**ADMIN, "If-Match": etag}, json={
            "settings": {"webhook_url": f"{target.url}/services/other"}})
        assert changed.status_code == 200 and changed.headers["etag"] != etag
        assert client.delete(path, headers={**ADMIN, "If-Match": etag}).status_code == 412
        routed = client.put("/api/v1/alerting/routing/api", headers=ADMIN,
                            json={"channels": ["ops-slack"]})
        assert routed.json()["channels"] == ["ops-slack"]
        assert HOOK_SECRET not in client.get("/api/v1/channels", headers=ADMIN).text


def test_the_if_match_check_runs_inside_the_write_and_refuses_it_whole(
        client: TestClient, target: FakeHTTPServer) -> None:
    made = _slack(client, target.url + "/hook")
    (channel,) = list_channels()
    spec = channel_spec({"enabled": False}, channel, parse_channel_form)
    before, stale = _rows(), expecting('"stale"', etag_of)
    with pytest.raises(PreconditionFailed):
        save_channel(spec, made["id"], actor="x", expect=stale)
    with pytest.raises(PreconditionFailed):
        delete_channel(made["id"], actor="x", expect=stale)
    monitor = get_monitor("api")
    assert monitor is not None
    with pytest.raises(PreconditionFailed):
        set_monitor_routes(monitor.id, [made["id"]], actor="x", expect=stale)
    assert _rows() == before and monitor_routes() == {}
