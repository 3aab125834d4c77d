"""Cloning a monitor from its page: the add form prefilled with every setting under a name of
its own, validated like any new monitor; a refused copy saves nothing."""

from __future__ import annotations

from typing import Any

from domain.monitor_input import SECRET_MASK, parse_monitor_input
from storage.monitors import MonitorView, create_monitor, get_monitor, list_monitors, set_paused
from tests.test_monitor_page import _click, _page
from ui.monitor_fields import copy_name

SETTINGS: dict[str, Any] = {
    "name": "API", "url": "http://127.0.0.1:9/health", "interval": 30, "timeout": 4.0,
    "public": True, "failures_before_down": 3, "successes_before_up": 2, "retry_interval": 15,
    "tags": ["prod", "payments"], "runbook_url": "https://runbooks.example/api",
    "options": {"method": "POST", "keyword": "ok", "degraded_above_ms": 800.0,
                "headers": {"Authorization": "Bearer hush", "X-Env": "prod"},
                "basic_auth_user": "probe", "basic_auth_password": "pa55",
                "accepted_status_codes": "200-204", "cert_warning_days": 20},
}


def _source() -> MonitorView:
    monitor = create_monitor(parse_monitor_input(SETTINGS))
    paused = set_paused(monitor.slug, True)
    assert paused is not None
    return paused


def _settings(monitor: MonitorView) -> dict[str, Any]:
    """What a copy must share: every setting but the name (secrets as stored)."""
    return {k: v for k, v in monitor.to_input().model_dump().items() if k != "name"}


def test_clone_opens_the_add_form_prefilled_and_adds_a_copy_with_a_new_slug() -> None:
    source = _source()
    at = _click(_page(source.slug), "📄 Clone…")
    assert at.text_input(key="clone_name").value == "API (copy)"
    assert at.text_input(key="clone_url").value == source.url
    assert at.text_input(key="clone_tags").value == "prod, payments"
    assert at.text_input(key="clone_runbook_url").value == "https://runbooks.example/api"
    assert at.number_input(key="clone_failures_before_down").value == 3
    assert at.text_area(key="clone_opt_headers").value == (
        f"Authorization: {SECRET_MASK}\nX-Env: prod")  # secrets never shown
    assert at.text_input(key="clone_opt_basic_auth_password").value == SECRET_MASK
    _click(at, "Add copy")
    monitors = {m.name: m for m in list_monitors()}
    assert set(monitors) == {"API", "API (copy)"}
    copy = monitors["API (copy)"]
    assert copy.slug != source.slug and copy.slug == "api-copy"
    assert _settings(copy) == _settings(source)  # the stored secrets too, not the mask
    assert copy.options["headers"]["Authorization"] == "Bearer hush"
    assert not copy.paused and get_monitor(source.slug).paused  # type: ignore[union-attr]
    assert any("a copy of **API**" in s.value for s in at.success)
    assert any('href="/monitor?slug=api-copy" target="_self">Open API (copy)<' in m.value
               for m in at.markdown)
    assert "clone_name" not in [t.key for t in at.text_input]  # the form closed


def test_a_refused_copy_saves_nothing_and_says_why() -> None:
    source = _source()
    at = _click(_page(source.slug), "📄 Clone…")
    at.text_input(key="clone_url").input("not a url")
    _click(at, "Add copy")
    assert [m.name for m in list_monitors()] == ["API"]
    assert at.error, "the refused field says why"
    at.text_input(key="clone_url").input(source.url)
    at.text_input(key="clone_name").input("API")  # the source's own name
    _click(at, "Add copy")
    assert [m.name for m in list_monitors()] == ["API"]
    assert any("already exists" in e.value for e in at.error)
    at.text_input(key="clone_name").input("API in EU")
    _click(at, "Add copy")
    assert sorted(m.name for m in list_monitors()) == ["API", "API in EU"]


def test_test_now_checks_the_copy_and_cancel_closes_the_form_without_saving() -> None:
    source = _source()
    at = _click(_page(source.slug), "📄 Clone…")
    at.number_input(key="clone_timeout").set_value(1.0)
    _click(at, "Test now")
    assert any(w.value.startswith("Test: **down**") for w in at.warning)
    _click(at, "Cancel")
    assert "clone_name" not in [t.key for t in at.text_input]
    assert len(list_monitors()) == 1


def test_a_second_copy_gets_the_next_free_name() -> None:
    assert copy_name("API", {"API"}) == "API (copy)"
    assert copy_name("API", {"API", "API (copy)", "API (copy 2)"}) == "API (copy 3)"
    long = "x" * 100
    assert copy_name(long, {long}) == "x" * 93 + " (copy)"
    source = _source()
    create_monitor(parse_monitor_input({**SETTINGS, "name": "API (copy)"}))
    at = _click(_page(source.slug), "📄 Clone…")
    assert at.text_input(key="clone_name").value == "API (copy 2)"
