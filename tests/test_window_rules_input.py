"""Rules over windows and a monitor's own reminder and flap settings, as an operator sets them:
validated at the edges with the field named, kept through the API, the monitors file and the
form, and a refused one saves nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient
from streamlit.testing.v1 import AppTest

from composition.web_process import Runtime, build_routes
from config.monitors_file import InvalidMonitorsFile, dump_monitors_file, parse_monitors_file
from domain.escalation import parse_overrides
from domain.limits import InvalidInput
from domain.monitor_input import MonitorInput, parse_monitor_input, parse_monitor_update
from domain.window_rules import (
    MAX_RULES,
    WindowRule,
    describe_rule,
    latency_levels,
    parse_rules,
    rules_from_stored,
    rules_to_stored,
)
from storage.monitors import (
    create_monitor,
    exported_monitors,
    get_monitor,
    list_monitors,
    save_monitors_file,
)
from tests.pages_support import logged_in
from ui.monitor_fields import (
    form_state_from_monitor,
    form_values,
    with_rule_removed,
    with_rules_added,
)

AUTH = {"Authorization": "Bearer s3cret-token"}
URL = "http://127.0.0.1:9/health"
P95 = {"kind": "latency", "threshold": 500, "window_minutes": 10}


def _refusal(raw: Any) -> dict[str, str]:
    with pytest.raises(InvalidInput) as refused:
        parse_rules(raw)
    return refused.value.errors


@pytest.mark.parametrize(("rule", "expected"), [
    (P95, WindowRule("latency", 500, "high", 10, 95)),
    ({**P95, "window_minutes": 1, "percentile": 50}, WindowRule("latency", 500, "high", 1, 50)),
    ({**P95, "window_minutes": 1440, "percentile": 99.0, "severity": "critical"},
     WindowRule("latency", 500, "critical", 1440, 99)),
    ({**P95, "threshold": 1}, WindowRule("latency", 1, "high", 10, 95)),
    ({**P95, "threshold": 300_000}, WindowRule("latency", 300_000, "high", 10, 95)),
    ({"kind": "failure_rate", "threshold": 0, "window_minutes": 5},
     WindowRule("failure_rate", 0, "high", 5)),
    ({"kind": "failure_rate", "threshold": 99.99, "window_minutes": 5},
     WindowRule("failure_rate", 99.99, "high", 5)),
    ({"kind": "uptime", "threshold": 99.9, "period": "month", "severity": "low"},
     WindowRule("uptime", 99.9, "low", period="month")),
    ({"kind": "uptime", "threshold": 100, "period": "day"},
     WindowRule("uptime", 100, period="day")),
    ({"kind": "certificate_days", "threshold": 14}, WindowRule("certificate_days", 14)),
    ({"kind": "certificate_days", "threshold": 365.0}, WindowRule("certificate_days", 365)),
])
def test_a_rule_at_the_edges_is_accepted(rule: dict[str, Any], expected: WindowRule) -> None:
    assert parse_rules([rule]) == [expected]


@pytest.mark.parametrize(("rule", "field", "words"), [
    ({**P95, "window_minutes": 0}, "window_minutes", "from 1 to 1440"),
    ({**P95, "window_minutes": 1441}, "window_minutes", "from 1 to 1440"),
    ({**P95, "window_minutes": 2.5}, "window_minutes", "whole number"),
    ({"kind": "latency", "threshold": 500}, "window_minutes", "from 1 to 1440"),
    ({**P95, "percentile": 90}, "percentile", "50, 95, 99"),
    ({**P95, "threshold": 0.5}, "threshold", "milliseconds from 1"),
    ({**P95, "threshold": 300_001}, "threshold", "milliseconds from 1"),
    ({**P95, "threshold": "fast"}, "threshold", "milliseconds"),
    ({**P95, "threshold": True}, "threshold", "milliseconds"),
    ({**P95, "threshold": float("nan")}, "threshold", "milliseconds"),
    ({**P95, "severity": "urgent"}, "severity", "critical (P1)"),
    ({**P95, "period": "month"}, "period", "a latency rule has no period"),
    ({**P95, "colour": "red"}, "colour", "unknown field"),
    ({"kind": "failure_rate", "threshold": 100, "window_minutes": 5}, "threshold", "99.99"),
    ({"kind": "failure_rate", "threshold": -1, "window_minutes": 5}, "threshold", "from 0"),
    ({"kind": "uptime", "threshold": 0, "period": "month"}, "threshold", "from 0.01 to 100"),
    ({"kind": "uptime", "threshold": 100.5, "period": "month"}, "threshold", "to 100"),
    ({"kind": "uptime", "threshold": 99.9, "period": "year"}, "period", "day, week, month"),
    ({"kind": "uptime", "threshold": 99.9}, "period", "day, week, month"),
    ({"kind": "certificate_days", "threshold": 0}, "threshold", "from 1 to 365"),
    ({"kind": "certificate_days", "threshold": 7.5}, "threshold", "whole number of days"),
    ({"kind": "certificate_days", "threshold": 7, "window_minutes": 5}, "window_minutes",
     "no window_minutes"),
    ({"kind": "p95", "threshold": 1}, "kind", "latency, failure_rate, uptime"),
])
def test_a_bad_rule_is_refused_naming_its_index_and_field(
    rule: dict[str, Any], field: str, words: str,
) -> None:
    errors = _refusal([P95 | {"threshold": 2000}, rule])
    assert list(errors) == [f"rules[1].{field}"]
    assert words in errors[f"rules[1].{field}"]


def test_the_list_itself_is_checked() -> None:
    assert parse_rules(None) == []
    assert "as a list" in _refusal({"kind": "latency"})["rules"]
    assert "object" in _refusal(["p95 > 500"])["rules[0]"]
    too_many = [{**P95, "threshold": 100 + n} for n in range(MAX_RULES + 1)]
    assert f"at most {MAX_RULES}" in _refusal(too_many)["rules"]
    assert len(parse_rules(too_many[:MAX_RULES])) == MAX_RULES
    # The same rule twice (only its severity differs) would fire twice.
    twice = _refusal([P95, {"kind": "uptime", "threshold": 99, "period": "day"},
                      {**P95, "severity": "low"}])
    assert twice == {"rules[2]": "the same rule as rules[0]: remove one, or change its "
                                 "threshold or window"}


def test_stored_rules_read_back_and_one_that_no_longer_reads_is_left_out() -> None:
    rules = parse_rules([P95, {"kind": "uptime", "threshold": 99.95, "period": "week"}])
    stored = rules_to_stored(rules)
    assert stored[0] == {"kind": "latency", "threshold": 500, "severity": "high",
                         "window_minutes": 10, "percentile": 95}
    assert rules_from_stored(stored) == rules
    assert rules_from_stored([*stored, {"kind": "apdex", "threshold": 0.9}]) == rules
    assert rules_from_stored(None) == []


@pytest.mark.parametrize(("rule", "text"), [
    (P95, "p95 above 500 ms for 10 min"),
    ({"kind": "failure_rate", "threshold": 5, "window_minutes": 5},
     "failures above 5 % over 5 min"),
    ({"kind": "uptime", "threshold": 99.9, "period": "month"}, "uptime below 99.9 % this month"),
    ({"kind": "certificate_days", "threshold": 14}, "certificate expires in under 14 days"),
    ({**P95, "threshold": 2500, "percentile": 99}, "p99 above 2,500 ms for 10 min"),
])
def test_a_rule_reads_as_a_short_sentence(rule: dict[str, Any], text: str) -> None:
    assert describe_rule(parse_rules([rule])[0]) == text


def test_warning_and_critical_latency_levels_are_two_rules() -> None:
    rules = parse_rules(latency_levels(500, 1000))
    assert [(r.threshold, r.severity, r.percentile) for r in rules] == [
        (500, "medium", 95), (1000, "critical", 95)]
    assert parse_rules(latency_levels(None, 1000))[0].severity == "critical"
    with pytest.raises(InvalidInput, match="above the warning"):
        latency_levels(1000, 1000)


@pytest.mark.parametrize(("monitor", "rule", "fits"), [
    ({"url": "https://127.0.0.1:9/"}, {"kind": "certificate_days", "threshold": 14}, True),
    ({"kind": "tls", "url": "127.0.0.1:9"}, {"kind": "certificate_days", "threshold": 14}, True),
    ({"url": URL}, {"kind": "certificate_days", "threshold": 14}, False),
    ({"kind": "tcp", "url": "127.0.0.1:9"}, {"kind": "certificate_days", "threshold": 7}, False),
    ({"kind": "push"}, P95, False),
    ({"kind": "push"}, {"kind": "uptime", "threshold": 99, "period": "week"}, True),
])
def test_a_rule_that_could_never_fire_on_the_monitor_is_refused(
    monitor: dict, rule: dict, fits: bool,
) -> None:
    body = {"name": "M", **monitor, "rules": [{"kind": "failure_rate", "threshold": 5,
                                               "window_minutes": 5}, rule]}
    if fits:
        assert len(parse_monitor_input(body).rules) == 2
        return
    with pytest.raises(InvalidInput) as refused:
        parse_monitor_input(body)
    assert list(refused.value.errors) == ["rules[1].kind"]


@pytest.mark.parametrize(("values", "expected"), [
    ({}, {"remind_every_minutes": None, "flap_changes": None, "flap_window_minutes": None}),
    ({"remind_every_minutes": 0, "flap_changes": 2, "flap_window_minutes": 1440},
     {"remind_every_minutes": 0, "flap_changes": 2, "flap_window_minutes": 1440}),
    ({"remind_every_minutes": "30", "flap_changes": "", "flap_window_minutes": None},
     {"remind_every_minutes": 30, "flap_changes": None, "flap_window_minutes": None}),
])
def test_overrides_blank_means_the_global_setting(values: dict, expected: dict) -> None:
    assert parse_overrides(values) == expected


@pytest.mark.parametrize(("values", "field"), [
    ({"remind_every_minutes": 4}, "remind_every_minutes"),
    ({"remind_every_minutes": 1441}, "remind_every_minutes"),
    ({"flap_changes": 1}, "flap_changes"),
    ({"flap_changes": True}, "flap_changes"),
    ({"flap_window_minutes": 0}, "flap_window_minutes"),
    ({"flap_window_minutes": "ten"}, "flap_window_minutes"),
])
def test_an_override_out_of_range_is_refused(values: dict, field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_overrides(values)
    assert list(refused.value.errors) == [field]
    assert "leave it empty for the global setting" in refused.value.errors[field]
    with pytest.raises(InvalidInput) as as_monitor:
        parse_monitor_input({"name": "API", "url": URL, **values})
    assert list(as_monitor.value.errors) == [field]


# --- through the API ------------------------------------------------------------------------

@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(Starlette(routes=build_routes(Runtime()))) as test_client:
        yield test_client


RULES = [
    {"kind": "latency", "threshold": 500, "percentile": 95, "window_minutes": 5,
     "severity": "medium"},
    {"kind": "latency", "threshold": 1000, "percentile": 95, "window_minutes": 5,
     "severity": "critical"},
    {"kind": "failure_rate", "threshold": 5, "window_minutes": 5, "severity": "high"},
    {"kind": "uptime", "threshold": 99.9, "period": "month", "severity": "low"},
]


def test_the_api_creates_a_monitor_with_rules_and_overrides_and_shows_them(
    client: TestClient,
) -> None:
    body = {"name": "API", "url": URL, "rules": RULES, "remind_every_minutes": 30,
            "flap_changes": 8}
    created = client.post("/api/v1/monitors", json=body, headers=AUTH)
    assert created.status_code == 201, created.text
    shown = client.get("/api/v1/monitors/api", headers=AUTH)
    assert shown.json()["rules"] == RULES
    assert {k: shown.json()[k] for k in ("remind_every_minutes", "flap_changes",
                                         "flap_window_minutes")} == {
        "remind_every_minutes": 30, "flap_changes": 8, "flap_window_minutes": None}
    # The ETag covers them: a change of a rule is a new version.
    tag = shown.headers["etag"]
    changed = client.patch("/api/v1/monitors/api", json={"rules": RULES[2:]},
                           headers={**AUTH, "If-Match": tag})
    assert changed.status_code == 200, changed.text
    assert changed.headers["etag"] != tag
    assert client.patch("/api/v1/monitors/api", json={"flap_changes": None},
                        headers={**AUTH, "If-Match": tag}).status_code == 412
    assert get_monitor("api").rules == tuple(RULES[2:])


def test_the_api_refuses_a_bad_rule_naming_it_and_saves_nothing(client: TestClient) -> None:
    bad = [RULES[0], {**RULES[2], "window_minutes": 0}]
    answer = client.post("/api/v1/monitors", json={"name": "API", "url": URL, "rules": bad,
                                                     "flap_window_minutes": 0}, headers=AUTH)
    assert answer.status_code == 422
    fields = {e["field"]: e["message"] for e in answer.json()["errors"]}
    assert set(fields) == {"rules[1].window_minutes", "flap_window_minutes"}
    assert list_monitors() == []
    client.post("/api/v1/monitors", json={"name": "API", "url": URL, "rules": RULES[:1]},
                headers=AUTH)
    refused = client.patch("/api/v1/monitors/api", json={"rules": [RULES[0], RULES[0]]},
                           headers=AUTH)
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["rules[1]"]
    assert get_monitor("api").rules == tuple(RULES[:1])


# --- the monitors file ----------------------------------------------------------------------

FILE = """
monitors:
  - name: API
    url: https://127.0.0.1:9/health
    remind_every_minutes: 15
    flap_window_minutes: 30
    rules:
      - {kind: latency, threshold: 500, window_minutes: 5, severity: medium}
      - {kind: certificate_days, threshold: 14}
  - name: Web
    url: http://127.0.0.1:9/
"""


def test_the_monitors_file_round_trips_rules_and_overrides() -> None:
    assert save_monitors_file(parse_monitors_file(FILE)) == (2, 0)
    api = get_monitor("api")
    assert api.rules == ({"kind": "latency", "threshold": 500, "severity": "medium",
                          "window_minutes": 5, "percentile": 95},
                         {"kind": "certificate_days", "threshold": 14, "severity": "high"})
    assert (api.remind_every_minutes, api.flap_changes, api.flap_window_minutes) == (15, None, 30)
    exported = exported_monitors()
    entry = next(e for e in exported if e["name"] == "API")
    assert entry["rules"] == list(api.rules) and "flap_changes" not in entry
    assert "rules" not in next(e for e in exported if e["name"] == "Web")
    dumped = dump_monitors_file(exported)
    reread = {spec.name: spec for spec, _entry in parse_monitors_file(dumped).entries}
    assert reread["API"].rules == list(api.rules)
    assert reread["API"].remind_every_minutes == 15
    assert save_monitors_file(parse_monitors_file(dumped)) == (0, 2)
    assert get_monitor("api").rules == api.rules


def test_a_bad_rule_in_the_monitors_file_says_where() -> None:
    bad = FILE.replace("threshold: 14", "threshold: 0")
    with pytest.raises(InvalidMonitorsFile, match=r"monitors\[0\]\.rules\[1\]\.threshold: use"):
        parse_monitors_file(bad)


# --- the monitor form -----------------------------------------------------------------------

def _click(at: AppTest, label: str) -> AppTest:
    next(b for b in at.button if b.label == label).click().run()
    assert not at.exception, at.exception
    return at


def test_the_form_adds_rules_and_the_two_latency_levels_and_an_override() -> None:
    at = logged_in("dashboard.py")
    at.text_input(key="add_name").input("API")
    at.text_input(key="add_url").input("http://127.0.0.1:9/")
    _click(at, "Add a rule")
    _click(at, "Add monitor")  # its threshold left blank
    assert [e.value for e in at.error] == [
        "Rule 1, threshold: use milliseconds from 1 to 300,000 (5 minutes)"]
    assert list_monitors() == []
    at.selectbox(key="add_rule0_kind").set_value("failure_rate")
    at.number_input(key="add_rule0_threshold").set_value(5.0)
    at.number_input(key="add_latency_warning_ms").set_value(500.0)
    at.number_input(key="add_latency_critical_ms").set_value(1000.0)
    _click(at, "Add the two levels")
    assert "failures above 5 % over 5 min" in [c.value for c in at.caption]
    at.number_input(key="add_remind_every_minutes").set_value(30)
    _click(at, "Add monitor")
    assert not at.error, [e.value for e in at.error]
    (saved,) = list_monitors()
    assert [describe_rule(r) for r in rules_from_stored(list(saved.rules))] == [
        "failures above 5 % over 5 min", "p95 above 500 ms for 5 min",
        "p95 above 1,000 ms for 5 min"]
    assert [r["severity"] for r in saved.rules] == ["high", "medium", "critical"]
    assert (saved.remind_every_minutes, saved.flap_changes) == (30, None)


def test_an_edit_form_shows_the_rules_and_overrides_and_changes_nothing_when_saved() -> None:
    spec = parse_monitor_input({"name": "API", "url": URL, "rules": RULES, "flap_changes": 8})
    monitor = create_monitor(spec)
    state = form_state_from_monitor(monitor)
    assert (state["edit_rule_count"], state["edit_rule3_period"]) == (4, "month")
    assert (state["edit_flap_changes"], state["edit_remind_every_minutes"]) == (8, None)
    unchanged = parse_monitor_update(monitor.to_input(), form_values(state, "edit_", True))
    assert unchanged == monitor.to_input()
    removed = {**state, **with_rule_removed(state, "edit_", 0), "edit_flap_changes": None}
    changed = parse_monitor_update(monitor.to_input(), form_values(removed, "edit_", True))
    assert changed.rules == RULES[1:] and changed.flap_changes is None
    added = with_rules_added(removed, "edit_", latency_levels(200, None))
    assert form_values({**removed, **added}, "edit_", True)["rules"][-1]["threshold"] == 200


def test_the_api_document_describes_a_rule_and_the_overrides() -> None:
    schema = MonitorInput.model_json_schema()["properties"]
    rule = schema["rules"]["items"]
    assert rule["properties"]["kind"]["enum"] == ["latency", "failure_rate", "uptime",
                                                  "certificate_days"]
    assert rule["additionalProperties"] is False and schema["rules"]["maxItems"] == MAX_RULES
    assert (schema["flap_changes"]["minimum"], schema["flap_changes"]["maximum"]) == (2, 100)
