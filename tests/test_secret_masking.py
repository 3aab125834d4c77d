"""Secrets shown masked: header values whose names look secret, like the secret option fields,
and a masked value sent back keeps what is stored; no log line (audit lines included) of a run
that used every channel carries a secret."""

from __future__ import annotations

import logging
from dataclasses import replace

import pytest

from domain.monitor_input import SECRET_MASK, is_secret_header, masked_options
from storage.alerting_admin import ChannelSpec
from storage.monitors import get_monitor
from tests.input_support import AUTH, GOOD, api_client


@pytest.mark.parametrize(("name", "secret"), [
    ("Authorization", True), ("X-Api-Key", True), ("api_key", True), ("X-Auth-Token", True),
    ("Cookie", True), ("X-Client-Secret", True), ("X-Signature", True), ("Proxy-Password", True),
    ("Accept", False), ("User-Agent", False), ("X-Request-Id", False), ("Keyboard", False),
    ("Content-Type", False),
])
def test_header_names_that_carry_credentials(name: str, secret: bool) -> None:
    assert is_secret_header(name) is secret


def test_masked_options_hide_secret_header_values_and_keep_the_others() -> None:
    options = {"headers": {"X-Api-Key": "k-123", "Accept": "application/json"},
               "basic_auth_password": "pw", "keyword": "ok"}
    shown = masked_options(options, "http")
    assert shown["headers"] == {"X-Api-Key": SECRET_MASK, "Accept": "application/json"}
    assert shown["basic_auth_password"] == SECRET_MASK
    assert shown["keyword"] == "ok"
    assert options["headers"]["X-Api-Key"] == "k-123"  # the stored options are not touched


def test_the_api_never_answers_a_secret_header_and_a_masked_one_sent_back_is_kept() -> None:
    body = {**GOOD, "options": {"headers": {"X-Api-Key": "k-123", "Accept": "text/plain"}}}
    with api_client() as client:
        created = client.post("/api/v1/monitors", json=body, headers=AUTH)
        assert created.status_code == 201, created.text
        assert "k-123" not in created.text
        slug = created.json()["slug"]
        shown = client.get(f"/api/v1/monitors/{slug}", headers=AUTH).json()
        assert shown["options"]["headers"] == {"X-Api-Key": SECRET_MASK, "Accept": "text/plain"}
        # A client that edits what it was shown sends the mask back with its change.
        changed = {"headers": {**shown["options"]["headers"], "Accept": "application/json"}}
        patched = client.patch(f"/api/v1/monitors/{slug}", json={"options": changed},
                               headers=AUTH)
        assert patched.status_code == 200, patched.text
        assert "k-123" not in patched.text
    stored = get_monitor(slug)
    assert stored is not None
    assert stored.options["headers"] == {"X-Api-Key": "k-123", "Accept": "application/json"}


def test_a_new_value_replaces_the_stored_secret_header() -> None:
    body = {**GOOD, "options": {"headers": {"X-Api-Key": "old"}}}
    with api_client() as client:
        slug = client.post("/api/v1/monitors", json=body, headers=AUTH).json()["slug"]
        client.patch(f"/api/v1/monitors/{slug}", headers=AUTH,
                     json={"options": {"headers": {"X-Api-Key": "new"}}})
    stored = get_monitor(slug)
    assert stored is not None
    assert stored.options["headers"] == {"X-Api-Key": "new"}


@pytest.mark.parametrize(("stored", "published"), [
    ("http://user:secret@127.0.0.1:8080/health", "http://127.0.0.1:8080/health"),
    ("https://token@example.test/", "https://example.test/"),
    ("https://a:b@c@example.test/x?y=1", "https://example.test/x?y=1"),
    ("http://127.0.0.1/path@here", "http://127.0.0.1/path@here"),
    ("tcp-host:5432", "tcp-host:5432"),
])
def test_a_published_url_never_carries_credentials(stored: str, published: str) -> None:
    from domain.text import without_credentials

    assert without_credentials(stored) == published


def test_an_old_row_with_credentials_in_its_url_is_published_without_them() -> None:
    from sqlalchemy import update

    from storage.db import get_engine
    from storage.models import Monitor
    from storage.status import public_status
    from storage.tables import table_of

    with api_client() as client:
        created = client.post("/api/v1/monitors", headers=AUTH,
                              json={**GOOD, "public": True})
        assert created.status_code == 201, created.text
    monitors = table_of(Monitor)
    # As a database written before credentials in URLs were refused holds it.
    with get_engine().begin() as connection:
        connection.execute(update(monitors).values(
            url="http://user:hunter2@127.0.0.1:9/health", show_url=True))
    shown = [c.url for c in public_status().components]
    assert shown == ["http://127.0.0.1:9/health"]


# -- every log line of a run that used every channel -------------------------------------------

CHANNEL_SECRETS = {
    "slack_webhook": {"webhook_url": "/services/T0/B0/sl4ck-hook-secret"},
    "slack_bot": {"token": "xoxb-b0t-token-secret"},
    "sms": {"auth_token": "tw1lio-token-secret"},
    "email": {"password": "smtp-pa55word-secret"},
    "webhook": {"secret": "w3bhook-signing-secret"},
    "pagerduty": {"routing_key": "pd-r0uting-key-secret"},
}
MONITOR_SECRETS = ("k-mon1tor-header-secret", "mon1tor-basic-pa55word")


def _every_channel(server_url: str, smtp_port: int) -> list[ChannelSpec]:
    configs = {
        "slack_webhook": {},
        "slack_bot": {"channel": "#ops", "base_url": f"{server_url}/api/"},
        "sms": {"account_sid": "AC" + "1" * 32, "sender": "+15005550006",
                "recipients": "+15550001111", "api_base": server_url},
        "email": {"host": "127.0.0.1", "port": smtp_port, "sender": "up@example.test",
                  "recipients": "ops@example.test", "username": "up", "security": "none"},
        "webhook": {"url": f"{server_url}/hook"},
        "pagerduty": {"base_url": server_url},
    }
    specs = []
    for kind, secrets in CHANNEL_SECRETS.items():
        values = {k: (f"{server_url}{v}" if k == "webhook_url" else v) for k, v in secrets.items()}
        specs.append(ChannelSpec(kind, kind, configs[kind], values, ["down", "up"]))
    return specs


def test_no_log_line_of_a_run_that_used_every_channel_and_wrote_through_the_api_and_dashboard(
        caplog: pytest.LogCaptureFixture) -> None:
    """Saving, editing, testing (answered and failing) and deleting a channel of every kind, and
    monitors with secrets written through the API: no secret in any line, audit lines included."""
    from config.settings import get_settings
    from notifiers.verify_channel import send_test
    from storage.alerting_admin import delete_channel, save_channel
    from tests.fakes import FakeHTTPServer, FakeSMTPServer, Reply

    caplog.set_level(logging.INFO)
    answered = Reply.json(200, {"ok": True, "sid": "SM" + "1" * 32, "status": "success"})
    outcomes = []
    with FakeHTTPServer(default=answered) as server, FakeSMTPServer() as smtp:
        saved = [save_channel(spec, actor="ann@example.com")
                 for spec in _every_channel(server.url, smtp.port)]
        for channel in saved:
            outcomes.append(send_test(channel.id, get_settings()))
        server.default = Reply(500, body=b"upstream broke")
        for channel in saved:
            outcomes.append(send_test(channel.id, get_settings()))
        for channel, spec in zip(saved, _every_channel(server.url, smtp.port), strict=True):
            save_channel(replace(spec, events=["down"]), channel.id, actor="ann@example.com")
            delete_channel(channel.id, actor="ann@example.com")
    assert any(outcome.ok for outcome in outcomes) and not all(outcome.ok for outcome in outcomes)
    header, password = MONITOR_SECRETS
    body = {**GOOD, "options": {"headers": {"X-Api-Key": header},
                                "basic_auth_user": "u", "basic_auth_password": password}}
    with api_client() as client:
        slug = client.post("/api/v1/monitors", json=body, headers=AUTH).json()["slug"]
        client.patch(f"/api/v1/monitors/{slug}", headers=AUTH, json={"options": {
            "headers": {"X-Api-Key": header + "-new"}, "basic_auth_password": password + "2"}})
        client.delete(f"/api/v1/monitors/{slug}", headers=AUTH)

    lines = [caplog.handler.format(record) for record in caplog.records]
    audit = [line for line in lines if "upwatch.audit" in line]
    assert len(audit) == 3 * len(CHANNEL_SECRETS) + 3  # created, updated, deleted each
    assert any("ann@example.com updated channel webhook" in line for line in audit)
    assert any("api-token updated monitor" in line and SECRET_MASK in line for line in audit)
    secrets = [v for s in CHANNEL_SECRETS.values() for v in s.values()] + list(MONITOR_SECRETS)
    for line in lines + [outcome.message for outcome in outcomes]:
        for secret in secrets:
            assert secret.rsplit("/", 1)[-1] not in line, line
