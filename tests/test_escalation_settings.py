"""Reminders and flap detection are set on the Alerting page and through the API: checked as a
whole (a bad value changes nothing), recorded in the audit log, and what the dispatcher uses."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient
from streamlit.testing.v1 import AppTest

from composition.web_process import Runtime, build_routes
from domain.escalation import EscalationSettings, parse_escalation
from domain.limits import InvalidInput
from storage import alerting
from storage.alerting_admin import escalation_settings
from storage.audit import audit_page
from storage.db import get_engine
from tests.pages_support import logged_in

AUTH = {"Authorization": "Bearer s3cret-token"}
DEFAULTS = EscalationSettings()


@pytest.mark.parametrize(("given", "expected"), [
    ({}, DEFAULTS),
    ({"remind_every_minutes": 0}, DEFAULTS),
    ({"remind_every_minutes": 5}, EscalationSettings(5, 5, 10)),
    ({"remind_every_minutes": 1440.0, "flap_changes": 2, "flap_window_minutes": 1},
     EscalationSettings(1440, 2, 1)),
])
def test_values_in_range_are_taken(given, expected) -> None:
    assert parse_escalation(given, DEFAULTS) == expected


@pytest.mark.parametrize(("given", "field"), [
    ({"remind_every_minutes": 4}, "remind_every_minutes"),
    ({"remind_every_minutes": 1441}, "remind_every_minutes"),
    ({"remind_every_minutes": True}, "remind_every_minutes"),
    ({"remind_every_minutes": "15"}, "remind_every_minutes"),
    ({"flap_changes": 1}, "flap_changes"),
    ({"flap_changes": 101}, "flap_changes"),
    ({"flap_window_minutes": 0}, "flap_window_minutes"),
    ({"flap_window_minutes": 2.5}, "flap_window_minutes"),
    ({"remind_every": 5}, "remind_every"),
])
def test_a_bad_value_is_refused_naming_its_field(given, field) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_escalation(given, DEFAULTS)
    assert list(refused.value.errors) == [field]


def _policy() -> tuple[int, int]:
    with get_engine().begin() as connection:
        policy = alerting.flap_policy(connection)
    return policy.changes, policy.window_minutes


def _saved_on_the_page(remind_every_minutes: int, flap_changes: int) -> AppTest:
    at = logged_in("alerting_page.py")
    at.number_input(key="escalation_remind_every_minutes").set_value(remind_every_minutes)
    at.number_input(key="escalation_flap_changes").set_value(flap_changes)
    next(b for b in at.button if b.label == "Save reminders and flapping").click()
    return at.run()


def test_the_alerting_page_saves_what_the_dispatcher_uses() -> None:
    at = _saved_on_the_page(30, 8)
    assert any("reminders every 30 min" in s.value for s in at.success)
    assert escalation_settings() == EscalationSettings(30, 8, 10)
    assert _policy() == (8, 10)
    (entry,) = audit_page()
    assert (entry.actor, entry.subject_kind, entry.before, entry.after) == (
        "admin", "escalation", {"remind_every_minutes": 0, "flap_changes": 5},
        {"remind_every_minutes": 30, "flap_changes": 8})


def test_a_bad_value_on_the_page_is_refused_and_nothing_is_saved() -> None:
    at = _saved_on_the_page(2, 9)
    assert any("0 (no reminders) or from 5 to 1440" in e.value for e in at.error)
    assert escalation_settings() == DEFAULTS


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(Starlette(routes=build_routes(Runtime()))) as test_client:
        yield test_client


def test_the_api_reads_and_changes_them_with_the_token_only(client: TestClient) -> None:
    path = "/api/v1/alerting/escalation"
    assert client.get(path).status_code == 401
    assert client.patch(path, json={"flap_changes": 7}).status_code == 401
    assert client.get(path, headers=AUTH).json() == DEFAULTS.to_api()
    changed = client.patch(path, headers=AUTH, json={"remind_every_minutes": 15})
    assert changed.status_code == 200 and changed.json()["remind_every_minutes"] == 15
    refused = client.patch(path, headers=AUTH,
                           json={"flap_changes": 7, "flap_window_minutes": 0})
    assert refused.status_code == 422 and "flap_window_minutes" in refused.text
    assert escalation_settings() == EscalationSettings(15, 5, 10)  # flap_changes not half-saved
    assert audit_page()[0].actor == "api-token"
