"""Managing one monitor on its page (/monitor?slug=): edit, pause / resume, delete, the check log,
the push URL."""

from __future__ import annotations

from typing import Any

from streamlit.testing.v1 import AppTest

from domain.monitor_input import parse_monitor_input
from domain.result import ProbeResult
from storage.monitors import MonitorView, create_monitor, get_monitor, list_monitors
from storage.results import record_result
from storage.schedule import active_check_specs
from tests.pages_support import logged_in
from ui.monitor_manage import EDIT_OPEN_KEY

PASSWORD = "pa55-Wordfish-91"


def _create(**fields: Any) -> MonitorView:
    return create_monitor(parse_monitor_input(
        {"name": "API", "url": "http://127.0.0.1:9/health", **fields}
    ))


def _with_secret() -> MonitorView:
    return _create(options={"basic_auth_user": "ops", "basic_auth_password": PASSWORD,
                            "keyword": "ok", "headers": {"X-Env": "prod"}})


def _manage(slug: str) -> AppTest:
    """The monitor's page with its Edit expander opened (the form is built only then)."""
    at = logged_in("monitor.py", slug=slug)
    at.session_state[EDIT_OPEN_KEY] = True
    return at.run()


def test_the_edit_form_is_built_only_once_its_expander_is_opened() -> None:
    monitor = _create()
    closed = logged_in("monitor.py", slug=monitor.slug)
    assert "edit_name" not in [t.key for t in closed.text_input]
    opened = _manage(monitor.slug)
    assert opened.text_input(key="edit_name").value == monitor.name


def _click(at: AppTest, label: str) -> AppTest:
    next(b for b in at.button if b.label == label).click().run()
    return at


def _rendered(at: AppTest) -> str:
    """Every element's content on the page, as one text."""
    parts, stack = [], [at._tree]
    while stack:
        node = stack.pop()
        proto = getattr(node, "proto", None)
        if proto is not None:
            parts.append(str(proto))
        stack.extend(getattr(node, "children", {}).values())
    for frame in at.dataframe:
        parts.append(frame.value.to_csv())
    return "\n".join(parts)


def test_the_edit_form_is_prefilled_and_saves_changes_keeping_the_masked_secret() -> None:
    monitor = _with_secret()
    at = _manage(monitor.slug)
    assert at.text_input(key="edit_name").value == "API"
    assert at.text_input(key="edit_opt_keyword").value == "ok"
    assert at.text_area(key="edit_opt_headers").value == "X-Env: prod"
    at.text_input(key="edit_name").input("Public API")
    at.number_input(key="edit_interval").set_value(120)
    at.text_input(key="edit_opt_keyword").input("")  # clearing a field clears it
    _click(at, "Save changes")
    assert not at.error
    saved = get_monitor(monitor.slug)
    assert saved is not None
    assert (saved.name, saved.interval) == ("Public API", 120)
    assert saved.options["basic_auth_password"] == PASSWORD
    assert saved.options.get("keyword") is None
    assert saved.options["headers"] == {"X-Env": "prod"}
    assert any("Saved 'Public API'" in s.value for s in at.success)
    assert PASSWORD not in _rendered(at)


def test_a_new_secret_replaces_the_stored_one_and_is_not_shown_back() -> None:
    monitor = _with_secret()
    at = _manage(monitor.slug)
    at.text_input(key="edit_opt_basic_auth_password").input("n3w-Secret-Value")
    _click(at, "Save changes")
    saved = get_monitor(monitor.slug)
    assert saved is not None and saved.options["basic_auth_password"] == "n3w-Secret-Value"
    page = _rendered(at)
    assert "n3w-Secret-Value" not in page and PASSWORD not in page


def test_bad_input_in_the_edit_form_is_refused_next_to_its_field_and_nothing_is_saved() -> None:
    monitor = _with_secret()
    at = _manage(monitor.slug)
    at.text_input(key="edit_name").input("Renamed")
    at.number_input(key="edit_interval").set_value(5)
    at.text_input(key="edit_opt_accepted_status_codes").input("200-2x")
    _click(at, "Save changes")
    errors = " ".join(e.value for e in at.error)
    assert "choose an interval between 10 s" in errors
    assert "neither a status code" in errors
    assert get_monitor(monitor.slug) == monitor
    # The user's input stays in the form to be fixed.
    assert at.text_input(key="edit_name").value == "Renamed"


def test_changing_the_kind_in_an_edit_validates_the_new_kind() -> None:
    monitor = _create()
    at = _manage(monitor.slug)
    at.selectbox(key="edit_kind").set_value("tcp").run()
    _click(at, "Save changes")  # an http URL is no host:port
    assert any("port" in e.value for e in at.error)
    assert get_monitor(monitor.slug) == monitor
    at.text_input(key="edit_url").input("127.0.0.1:5432")
    _click(at, "Save changes")
    saved = get_monitor(monitor.slug)
    assert saved is not None and (saved.kind, saved.url) == ("tcp", "127.0.0.1:5432")


def test_pause_and_resume_flip_the_state_and_the_engine_skips_paused_monitors() -> None:
    monitor = _create()
    at = _manage(monitor.slug)
    assert monitor.id in active_check_specs()
    at.button(key="pause_monitor").click().run()
    assert get_monitor(monitor.slug).paused  # type: ignore[union-attr]
    assert monitor.id not in active_check_specs()
    assert [s.value for s in at.success] == ["Paused 'API'."]
    at.button(key="resume_monitor").click().run()
    assert not get_monitor(monitor.slug).paused  # type: ignore[union-attr]
    assert monitor.id in active_check_specs()


def test_delete_asks_first_and_then_removes_the_monitor() -> None:
    monitor = _create()
    record_result(monitor.id, ProbeResult("up", latency_ms=3.0))
    at = _manage(monitor.slug)
    at.button(key="delete_monitor").click().run()
    assert get_monitor(monitor.slug) is not None
    assert any("cannot be undone" in w.value for w in at.warning)
    at.button(key="cancel_delete_monitor").click().run()
    assert get_monitor(monitor.slug) is not None
    assert not [b for b in at.button if b.key == "confirm_delete_monitor"]
    at.button(key="delete_monitor").click().run()
    at.button(key="confirm_delete_monitor").click().run()
    assert list_monitors() == []
    assert any("Deleted 'API'" in s.value for s in at.success)
    assert not at.exception


def test_a_push_monitor_shows_its_push_url() -> None:
    monitor = create_monitor(parse_monitor_input({"name": "Backup", "kind": "push"}))
    at = _manage(monitor.slug)
    assert any(f"/api/v1/push/{monitor.push_token}" in c.value for c in at.code)


def test_secrets_never_reach_the_page_or_the_session() -> None:
    monitor = _create(options={"bearer_token": PASSWORD})
    at = _manage(monitor.slug)
    _click(at, "Test now")  # runs the check with the stored secret
    assert PASSWORD not in _rendered(at)
    assert "edit_opt_bearer_token" in repr(at.session_state)
    assert PASSWORD not in repr(at.session_state)
    assert at.text_input(key="edit_opt_bearer_token").value == "**********"

