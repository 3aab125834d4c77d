"""The monitor form: kind-specific fields, errors next to options, "Test now", and prefilling
an edit from a saved monitor."""


from streamlit.testing.v1 import AppTest

from domain.monitor_input import SECRET_MASK, parse_monitor_input, parse_monitor_update
from storage.monitors import create_monitor, list_monitors
from tests.pages_support import logged_in
from ui.monitor_fields import (
    form_state_from_monitor,
    form_values,
    options_from_state,
    parse_headers,
)


def _dashboard() -> AppTest:
    return logged_in("dashboard.py")


def _click(at: AppTest, label: str) -> AppTest:
    next(b for b in at.button if b.label == label).click().run()
    return at


def test_options_from_the_form_leave_blanks_to_defaults() -> None:
    state = {"add_opt_keyword": "  ", "add_opt_method": "POST", "add_opt_degraded_above_ms": 0.0,
             "add_opt_headers": "X-Env: prod\n\nAccept: */*", "add_opt_json_path": "status",
             "add_opt_json_op": "==", "add_opt_json_expected": "ok", "add_opt_record_type": "MX"}
    assert options_from_state("http", state) == {
        "method": "POST", "headers": {"X-Env": "prod", "Accept": "*/*"},
        "json_assertion": {"path": "status", "op": "==", "expected": "ok"},
    }
    assert options_from_state("dns", state) == {"record_type": "MX"}
    assert parse_headers("A: b: c") == {"A": "b: c"}


def test_choosing_a_kind_shows_its_fields() -> None:
    at = _dashboard()
    assert at.text_input(key="add_opt_keyword") is not None
    at.selectbox(key="add_kind").set_value("dns").run()
    assert at.selectbox(key="add_opt_record_type").value == "A"
    assert not [w for w in at.text_input if w.key == "add_opt_keyword"]
    at.selectbox(key="add_kind").set_value("push").run()
    assert not [w for w in at.text_input if w.key == "add_url"]


def test_a_bad_option_is_refused_next_to_its_field_and_nothing_is_saved() -> None:
    at = _dashboard()
    at.text_input(key="add_name").input("API")
    at.text_input(key="add_url").input("http://127.0.0.1:9/")
    at.text_input(key="add_opt_accepted_status_codes").input("200-2x")
    _click(at, "Add monitor")
    assert any("neither a status code" in e.value for e in at.error)
    assert list_monitors() == []


def test_test_now_shows_outcome_reason_and_phases_without_saving() -> None:
    at = _dashboard()
    at.selectbox(key="add_kind").set_value("tcp").run()
    at.text_input(key="add_name").input("Closed port")
    at.text_input(key="add_url").input("127.0.0.1:9")
    at.number_input(key="add_timeout").set_value(2.0)
    _click(at, "Test now")
    assert any("down" in w.value for w in at.warning)
    assert any("connection refused" in t.value for t in at.text)
    assert any("total" in t.value for t in at.text)
    assert list_monitors() == []


def test_a_push_monitor_is_saved_with_a_token() -> None:
    at = _dashboard()
    at.selectbox(key="add_kind").set_value("push").run()
    at.text_input(key="add_name").input("Nightly backup")
    _click(at, "Add monitor")
    [saved] = list_monitors()
    assert saved.kind == "push" and saved.push_token


def test_a_saved_monitor_prefills_the_edit_form_with_secrets_masked() -> None:
    spec = parse_monitor_input({
        "name": "API", "url": "https://example.com/", "timeout": 5, "options": {
            "bearer_token": "tok-123456", "accepted_status_codes": ["200-299", "301"],
            "headers": {"A": "b"}, "degraded_above_ms": 250,
            "json_assertion": {"path": "ok", "op": "==", "expected": "true"},
        },
    })
    state = form_state_from_monitor(create_monitor(spec))
    assert state["edit_opt_bearer_token"] == SECRET_MASK
    assert "tok-123456" not in repr(state)
    assert state["edit_opt_accepted_status_codes"] == "200-299, 301"
    assert state["edit_opt_headers"] == "A: b"
    assert state["edit_opt_degraded_above_ms"] == 250.0
    assert (state["edit_opt_json_path"], state["edit_opt_json_expected"]) == ("ok", "true")
    assert state["edit_opt_basic_auth_password"] == ""
    assert (state["edit_timeout"], state["edit_kind"]) == (5.0, "http")


def test_an_edit_round_trip_changes_nothing_and_clearing_a_field_clears_it() -> None:
    spec = parse_monitor_input({"name": "API", "url": "https://example.com/", "options": {
        "bearer_token": "tok-123456", "keyword": "ok", "degraded_above_ms": 250,
        "json_assertion": {"path": "ok", "op": "==", "expected": "true"}}})
    monitor = create_monitor(spec)
    state = form_state_from_monitor(monitor)
    unchanged = parse_monitor_update(monitor.to_input(), form_values(state, "edit_", True))
    assert unchanged == monitor.to_input()
    cleared = {**state, "edit_opt_keyword": "", "edit_opt_degraded_above_ms": 0.0,
               "edit_opt_json_path": "", "edit_opt_bearer_token": ""}
    options = parse_monitor_update(monitor.to_input(),
                                   form_values(cleared, "edit_", True)).options
    assert options["keyword"] is None and options["degraded_above_ms"] is None
    assert options["json_assertion"] is None and options["bearer_token"] is None


def test_tags_and_runbook_are_saved_from_the_add_form() -> None:
    at = _dashboard()
    at.text_input(key="add_name").input("API")
    at.text_input(key="add_url").input("http://127.0.0.1:9/")
    at.text_input(key="add_tags").input("prod, api")
    at.text_input(key="add_runbook_url").input("https://wiki.example/rb/api")
    _click(at, "Add monitor")
    (monitor,) = list_monitors()
    assert list(monitor.tags) == ["prod", "api"]
    assert monitor.runbook_url == "https://wiki.example/rb/api"


def test_a_bad_runbook_link_is_refused_and_nothing_is_saved() -> None:
    at = _dashboard()
    at.text_input(key="add_name").input("API")
    at.text_input(key="add_url").input("http://127.0.0.1:9/")
    at.text_input(key="add_runbook_url").input("javascript:alert(1)")
    _click(at, "Add monitor")
    assert at.error
    assert list_monitors() == []


def test_the_edit_form_prefills_tags_and_runbook_and_clearing_them_clears() -> None:
    monitor = create_monitor(parse_monitor_input({
        "name": "API", "url": "https://api.example/", "tags": "prod, api",
        "runbook_url": "https://wiki.example/rb"}))
    state = form_state_from_monitor(monitor)
    assert state["edit_tags"] == "prod, api"
    assert state["edit_runbook_url"] == "https://wiki.example/rb"
    same = parse_monitor_update(monitor.to_input(), form_values(state, "edit_", True))
    assert (list(same.tags), same.runbook_url) == (["prod", "api"], "https://wiki.example/rb")
    cleared = {**state, "edit_tags": "", "edit_runbook_url": ""}
    blank = parse_monitor_update(monitor.to_input(), form_values(cleared, "edit_", True))
    assert (list(blank.tags), blank.runbook_url) == ([], None)
