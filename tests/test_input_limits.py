"""Hostile input, one reproduced defect per test: refused with a message for its field, never a
500, never stored, never published."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from datetime import UTC, date, datetime, time

import pytest
from starlette.testclient import TestClient

from config.monitors_file import InvalidMonitorsFile, parse_monitors_file
from domain.check_options import JsonAssertion
from domain.limits import (
    MAX_HEADERS,
    MAX_NESTING_DEPTH,
    MAX_REQUEST_BODY_BYTES,
    MAX_TITLE_CHARS,
    InvalidInput,
    checked_line,
    load_json,
)
from domain.monitor_input import MonitorInput, parse_monitor_input
from storage.export import month_spans
from storage.monitors import create_monitor, list_monitors, save_monitors_file
from tests.input_support import AUTH, GOOD, api_client, database_rows
from tests.pg import backend, postgres_database  # noqa: F401  (fixtures)
from tests.stats_support import new_monitor
from tests.status_support import public_client
from ui.maintenance_forms import parse_window_form


def by_field(problem: dict) -> dict[str, str]:
    """An API problem's `errors` list as field -> message."""
    return {error["field"]: error["message"] for error in problem["errors"]}


@pytest.fixture
def client() -> Iterator[TestClient]:
    with api_client() as test_client:
        yield test_client


def post(client: TestClient, body: dict | str | bytes) -> tuple[int, dict]:
    content = body if isinstance(body, str | bytes) else json.dumps(body)
    answer = client.post("/api/v1/monitors", content=content, headers=AUTH)
    return answer.status_code, answer.json()


def refused(data: dict) -> dict[str, str]:
    with pytest.raises(InvalidInput) as caught:
        parse_monitor_input(data)
    return caught.value.errors


# --- NaN and Infinity ---------------------------------------------------------------------------


def test_a_nan_threshold_is_refused_stores_nothing_and_the_list_keeps_answering(
    client: TestClient,
) -> None:
    body = '{"name": "API", "url": "http://127.0.0.1:9/", "options": {"degraded_above_ms": NaN}}'
    status, answer = post(client, body)
    assert status == 422 and "NaN" in by_field(answer)["body"]
    assert list_monitors() == []
    assert client.get("/api/v1/monitors", headers=AUTH).status_code == 200


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
@pytest.mark.parametrize("field", ["timeout", "interval"])
def test_non_finite_json_literals_are_refused(client: TestClient, literal: str,
                                              field: str) -> None:
    body = json.dumps(GOOD)[:-1] + f', "{field}": {literal}}}'
    status, answer = post(client, body)
    assert status == 422 and literal.lstrip("-") in by_field(answer)["body"]
    assert "already exists" not in json.dumps(answer)
    assert list_monitors() == []


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_numbers_from_forms_and_files_are_refused_with_the_field_named(
    value: float,
) -> None:
    assert "finite number" in refused({**GOOD, "timeout": value})["timeout"]
    http = refused({**GOOD, "options": {"degraded_above_ms": value}})
    assert "finite number" in http["options.degraded_above_ms"]
    tcp = refused({**GOOD, "kind": "tcp", "url": "db:5432",
                   "options": {"degraded_above_ms": value}})
    assert "finite number" in tcp["options.degraded_above_ms"]


def test_a_nan_in_the_monitors_file_is_refused() -> None:
    with pytest.raises(InvalidMonitorsFile) as caught:
        parse_monitors_file("monitors:\n  - name: A\n    url: http://a/\n    timeout: .nan\n")
    assert "monitors[0].timeout: enter a finite number" in str(caught.value)


def test_a_value_the_answer_cannot_carry_rolls_the_write_back() -> None:
    """Should a NaN ever get past validation, it is not stored to break every later list."""
    unchecked = MonitorInput.model_construct(
        **{**parse_monitor_input(GOOD).model_dump(), "options": {"degraded_above_ms": math.nan}})
    with pytest.raises(ValueError):
        create_monitor(unchecked)
    assert list_monitors() == []


# --- credentials in URLs --------------------------------------------------------------------


@pytest.mark.parametrize("url", ["http://user:secret@127.0.0.1:9/", "https://user@example.com/",
                                 "http://:secret@example.com/"])
def test_a_url_with_credentials_is_refused_pointing_to_basic_auth(
    client: TestClient, url: str
) -> None:
    status, answer = post(client, {**GOOD, "url": url, "public": True})
    assert status == 422 and "basic_auth_user" in by_field(answer)["url"]
    assert "secret" not in json.dumps(answer)
    public, read_model = public_client()
    read_model.refresh()
    assert "secret" not in public.get("/api/v1/status").text
    assert list_monitors() == []


def test_a_tls_target_with_credentials_is_refused() -> None:
    errors = refused({**GOOD, "kind": "tls", "url": "https://user:secret@example.com"})
    assert "basic auth" in errors["url"] and "secret" not in errors["url"]


# --- what made token holders get a 500 ------------------------------------------------------


@pytest.mark.parametrize("depth", [MAX_NESTING_DEPTH + 1, 100_000])
def test_deeply_nested_json_is_a_422(client: TestClient, depth: int) -> None:
    body = '{"name": "A", "url": "http://a/", "options": ' + "[" * depth + "]" * depth + "}"
    if len(body) > MAX_REQUEST_BODY_BYTES:
        body = "[" * (MAX_REQUEST_BODY_BYTES // 2) + "]" * (MAX_REQUEST_BODY_BYTES // 2)
    status, answer = post(client, body)
    assert status == 422 and "levels deep" in by_field(answer)["body"]
    assert list_monitors() == []


def test_a_deep_expected_json_value_does_not_recurse_at_every_check() -> None:
    assertion = JsonAssertion(path="ok", expected="[" * 4000)
    assert assertion.expected_value == "[" * 4000  # not JSON at this depth: compared as text


@pytest.mark.parametrize(("params", "fields"), [
    ({"from": "0001-01-01", "to": "0001-01-02"}, {"from", "to"}),
    ({"from": "0001-01-01", "to": "0001-01-02", "tz": "Asia/Tokyo"}, {"from", "to"}),
    ({"from": "9999-12-01", "to": "9999-12-31"}, {"from", "to"}),
    ({"tz": "a" * 300}, {"tz"}),
    ({"tz": "Europe"}, {"tz"}),  # a directory of the zone database
])
def test_sla_parameters_that_overflowed_are_a_422(params: dict, fields: set) -> None:
    with api_client() as client:
        answer = client.get("/api/v1/reports/sla.json", params=params, headers=AUTH)
    assert answer.status_code == 422 and set(by_field(answer.json())) == fields


@pytest.mark.parametrize("params", [
    {"from": "0001-01-01T00:00:00+14:00", "to": "0001-01-02"},
    {"from": "9999-12-31T00:00:00-12:00", "to": "9999-12-31T23:00:00-12:00"},
])
def test_result_times_near_the_ends_of_the_calendar_are_a_422(params: dict) -> None:
    new_monitor("Web")
    with api_client() as client:
        answer = client.get("/api/v1/monitors/web/results.json", params=params, headers=AUTH)
    assert answer.status_code == 422 and "choose a date between" in by_field(answer.json())["from"]


def test_the_sla_months_refuse_days_past_the_calendar_instead_of_overflowing() -> None:
    with pytest.raises(ValueError, match="choose a date between"):
        month_spans(date(9999, 12, 1), date(9999, 12, 31), UTC)


# --- sizes and characters -------------------------------------------------------------------


def test_a_body_over_the_limit_is_a_413_before_parsing(client: TestClient) -> None:
    huge = json.dumps({**GOOD, "options": {"body": "x" * (MAX_REQUEST_BODY_BYTES + 1)}})
    answer = client.post("/api/v1/monitors", content=huge, headers=AUTH)
    assert answer.status_code == 413 and "64 KB" in by_field(answer.json())["body"]
    # Without a declared length too (chunked): the reading stops at the limit.
    chunks = (b"x" * 8192 for _ in range(2 * MAX_REQUEST_BODY_BYTES // 8192))
    streamed = client.post("/api/v1/monitors", content=chunks, headers=AUTH)
    assert streamed.status_code == 413
    assert list_monitors() == []


@pytest.mark.parametrize("hostile", ["A\x00B", "A\x1b[31mred", "A\r\nX-Injected: 1", "A\u202eB",
                                     "A\x85B", "A\u2028B", "A\tB"])
def test_names_with_invisible_or_reordering_characters_are_refused(
    client: TestClient, hostile: str
) -> None:
    status, answer = post(client, {**GOOD, "name": hostile})
    assert status == 422
    assert "the name holds" in by_field(answer)["name"] and "U+" in by_field(answer)["name"]
    assert list_monitors() == []


@pytest.mark.parametrize(("changes", "field", "fragment"), [
    ({"url": "http://example.com/" + "a" * 3000}, "url", "use at most 2,048"),
    ({"url": "http://example.com:65536/"}, "url", "not a valid port number"),
    ({"url": "http://example.com:0/"}, "url", "not a valid port number"),
    ({"options": {"headers": {f"X-{i}": "v" for i in range(MAX_HEADERS + 1)}}},
     "options.headers", "at most 50 headers"),
    ({"options": {"headers": {"X-Big": "v" * 8193}}}, "options.headers", "at most 8,192"),
    ({"options": {"headers": {"X" * 8193: "v"}}}, "options.headers", "not a valid header name"),
    ({"options": {"headers": {"X-Esc": "a\x1bb"}}}, "options.headers", "control character"),
    ({"options": {"keyword": "k" * 4097}}, "options.keyword", "use at most 4,096"),
    ({"options": {"keyword": "a\x00b"}}, "options.keyword", "the keyword holds"),
    ({"options": {"body": "b" * 10_001}}, "options.body", "use at most 10,000"),
    ({"options": {"body": "a\x00b"}}, "options.body", "control character"),
    ({"options": {"bearer_token": "t\r\nX: 1"}}, "options.bearer_token", "line break"),
    ({"options": {"accepted_status_codes": ["200"] * 51}}, "options.accepted_status_codes",
     "at most 50"),
    ({"options": {"json_assertion": {"path": "ok", "expected": "a\u202eb"}}},
     "options.json_assertion.expected", "text-direction"),
])
def test_sizes_ports_and_characters_are_bounded(changes: dict, field: str,
                                                fragment: str) -> None:
    assert fragment in refused({**GOOD, **changes})[field]


def test_a_secret_is_never_quoted_in_its_error() -> None:
    errors = refused({**GOOD, "options": {"bearer_token": "hunter2\x00"}})
    assert "hunter2" not in json.dumps(errors)


@pytest.mark.timeout(10)
def test_a_long_host_name_that_ends_badly_is_refused_at_once() -> None:
    # The whole-name pattern backtracked exponentially: 25 letters took seconds, 60 would take
    # longer than anyone waits.
    errors = refused({**GOOD, "kind": "tls", "url": "a" * 60 + "!:443"})
    assert "not a valid host name" in errors["url"]


@pytest.mark.usefixtures("backend")
def test_a_nul_in_a_name_is_a_422_on_every_database(client: TestClient) -> None:
    status, answer = post(client, {**GOOD, "name": "API\x00"})
    assert status == 422 and "U+0000" in by_field(answer)["name"]
    assert list_monitors() == []


# --- the monitors file ----------------------------------------------------------------------


@pytest.mark.parametrize(("text", "fragment"), [
    ("monitors: " + "[" * 5000 + "]" * 5000, "nested too deeply"),
    ("monitors:\n  - name: A\n    url: http://a/\n    interval: 2026-13-45\n",
     "month must be in 1..12"),
    ("monitors:\n  - &a [*a]\n", "levels deep"),
    ("monitors: []\n" + "#" * (1024 * 1024), "larger than 1024 KB"),
    ("monitors:\n  - name: A\n    url: http://u:p@a/\n", "basic auth"),
])
def test_a_hostile_monitors_file_is_refused_with_a_message(text: str, fragment: str) -> None:
    with pytest.raises(InvalidMonitorsFile) as caught:
        parse_monitors_file(text)
    assert fragment in str(caught.value)


def alias_bomb(levels: int = 5, width: int = 40) -> str:
    """Status codes as lists of lists of aliases: a few lines that stand for 40**5 values."""
    lines = ["monitors:", "  - name: A", "    url: http://a/", "    options:",
             "      accepted_status_codes:", f"        - &l0 [{', '.join(['200'] * width)}]"]
    lines += [f"        - &l{level} [{', '.join([f'*l{level - 1}'] * width)}]"
              for level in range(1, levels)]
    return "\n".join(lines) + "\n"


@pytest.mark.timeout(30)
def test_a_monitors_file_of_aliases_is_refused_without_expanding_it() -> None:
    with pytest.raises(InvalidMonitorsFile) as caught:
        parse_monitors_file(alias_bomb())
    assert "at most 100,000 values" in str(caught.value)


def test_a_file_refused_once_merged_with_the_stored_monitors_applies_nothing() -> None:
    """An entry valid alone may clash with what is stored: the whole file is rolled back."""
    create_monitor(parse_monitor_input({**GOOD, "name": "Stored", "options": {
        "basic_auth_user": "ops", "basic_auth_password": "pw"}}))
    before = database_rows()
    text = ("monitors:\n  - name: New\n    url: http://127.0.0.1:9/\n"
            "  - name: Stored\n    url: http://127.0.0.1:9/\n    options:\n"
            "      bearer_token: t0ken\n")
    with pytest.raises(InvalidMonitorsFile) as caught:
        save_monitors_file(parse_monitors_file(text))
    assert "monitors[1].options.bearer_token: use either basic auth or a bearer token" \
        in str(caught.value)
    assert database_rows() == before


# --- the maintenance and incident forms -----------------------------------------------------

NOW = datetime(2026, 3, 4, 12, tzinfo=UTC)
WINDOW = {"title": "Reboot", "recurring": True, "cron": "0 2 * * 0", "timezone": "UTC",
          "duration_minutes": 30}


@pytest.mark.parametrize(("changes", "field", "fragment"), [
    ({"duration_minutes": math.nan}, "duration_minutes", "at least 1 minute"),
    ({"duration_minutes": math.inf}, "duration_minutes", "at least 1 minute"),
    ({"duration_minutes": 0.5}, "duration_minutes", "at least 1 minute"),
    ({"title": "Re\x1bboot"}, "title", "control character"),
    ({"description": "a\x00b"}, "description", "control character"),
    ({"timezone": "a" * 300}, "timezone", "unknown time zone"),
    ({"cron": "0 2 * * 0\x00"}, "cron", "control character"),
    ({"recurring": False, "timezone": "Pacific/Kiritimati", "start_date": date(1, 1, 1),
      "start_time": time(1), "end_date": date(2030, 1, 1), "end_time": time(1)},
     "starts_at", "choose a date between"),
    ({"recurring": False, "timezone": "Pacific/Pago_Pago", "start_date": date(2030, 1, 1),
      "start_time": time(1), "end_date": date(9999, 12, 31), "end_time": time(23)},
     "ends_at", "choose a date between"),
])
def test_the_maintenance_form_refuses_hostile_values(changes: dict, field: str,
                                                     fragment: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_window_form({**WINDOW, **changes}, NOW)
    assert fragment in caught.value.errors[field]


def test_the_incident_title_validator_refuses_what_names_refuse() -> None:
    missing = "give the incident a title, e.g. 'Checkout is slow'"
    assert checked_line("title", "  Checkout is slow ", MAX_TITLE_CHARS, missing=missing) \
        == "Checkout is slow"
    for hostile, fragment in [("", missing), ("a\u202eb", "text-direction"),
                              ("t" * 201, "at most 200")]:
        with pytest.raises(InvalidInput) as caught:
            checked_line("title", hostile, MAX_TITLE_CHARS, missing=missing)
        assert fragment in caught.value.errors["title"]


def test_strict_json_is_what_the_api_reads() -> None:
    assert load_json(b'{"a": [1, 2.5, "x"]}') == {"a": [1, 2.5, "x"]}
    for text in ("NaN", '{"a": Infinity}', "[-Infinity]", "{nope"):
        with pytest.raises(ValueError):
            load_json(text)


def test_a_row_stored_with_nan_before_the_limits_does_not_break_the_monitor_list() -> None:
    from sqlalchemy import update

    from storage.db import get_engine
    from storage.models import Monitor
    from storage.tables import table_of

    with api_client() as client:
        created = client.post("/api/v1/monitors", json=GOOD, headers=AUTH)
        assert created.status_code == 201, created.text
        # As a database written before NaN was refused holds it.
        with get_engine().begin() as connection:
            connection.execute(update(table_of(Monitor)).values(
                options={"degraded_above_ms": float("nan"), "max_redirects": 5}))
        listed = client.get("/api/v1/monitors", headers=AUTH)
        assert listed.status_code == 200, listed.text
        [monitor] = listed.json()
        assert monitor["options"] == {"degraded_above_ms": None, "max_redirects": 5}
