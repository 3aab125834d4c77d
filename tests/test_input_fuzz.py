"""Fuzzing the input boundary: every way in (API bodies, PATCH bodies, export parameters, the
monitors file, the monitor and maintenance forms) answers a sentence or saves, never a 500, and a
refused request leaves every table as it was.

Each property has a fixed budget of examples so the suite stays fast.
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

import httpx
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config.monitors_file import InvalidMonitorsFile, parse_monitors_file
from domain.check_options import HttpOptions
from domain.limits import MAX_NAME_CHARS, MAX_NESTING_DEPTH, InvalidInput, text_problem
from domain.monitor_input import KINDS, parse_monitor_input, parse_monitor_update
from storage.maintenance_admin import create_window
from storage.monitors import (
    create_monitor,
    get_monitor,
    list_monitors,
    save_monitors_file,
    update_monitor,
)
from tests.input_support import AUTH, GOOD, api_client, database_rows
from tests.stats_support import new_monitor
from ui.maintenance_forms import parse_window_form
from ui.monitor_fields import (
    FIELDS,
    KIND_OPTIONS,
    default_form_state,
    form_state_from_monitor,
    form_values,
    option_key,
)


def by_field(problem: dict) -> dict[str, str]:
    """An API problem's `errors` list as field -> message."""
    return {error["field"]: error["message"] for error in problem["errors"]}

BUDGET = settings(max_examples=150, deadline=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# --- values a hostile caller sends ----------------------------------------------------------

NASTY = ["", " ", "\x00", "\x1b[31m", "\r\n", "\t", "\x7f", "\x85", "\u202e", "\u2066", "\u2028",
         "é", "😀", "NaN", "Infinity", "-1", "0", "1e400", "null", "[]", "{}", ":", "@", "%00",
         "http://u:p@127.0.0.1:9/", "http://127.0.0.1:65536/", "http://127.0.0.1:0/",
         "https://[::1]:443/", "example.com:443", "[::1]:0", "db:99999", "9.9.9.9:70000",
         "a" * 300, "a" * 5000, "x" * 70_000, "200-299", "600", "0 2 * * 0", "*/0 * * * *",
         "Europe/Berlin", "Europe", "../etc/passwd", "1970-01-01", "0001-01-01", "9999-12-31",
         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!:443"]
texts = st.one_of(
    st.sampled_from(NASTY),
    st.text(max_size=40),
    st.lists(st.sampled_from(NASTY), max_size=4).map("".join),
)
# What fits in a URL's query (the test client refuses longer ones before they are sent).
query_texts = texts.filter(lambda text: len(text) <= 8000)
numbers = st.one_of(
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, 1, 5, 10, 30, 60, 65_535, 65_536, 86_400, 86_401, 10**400]),
)
scalars = st.one_of(st.none(), st.booleans(), numbers, texts)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=12,
)

OPTION_NAMES = sorted({*HttpOptions.model_fields, "record_type", "resolver", "expected",
                       "grace_seconds", "colour"})
MONITOR_FIELDS = ["name", "kind", "url", "interval", "timeout", "public",
                  "failures_before_down", "successes_before_up", "retry_interval", "colour"]
VALID = [GOOD, {**GOOD, "kind": "tls", "url": "example.com:443"},
         {**GOOD, "kind": "tcp", "url": "127.0.0.1:9"}, {**GOOD, "kind": "dns", "url": "a.example"},
         {"name": "Backup", "kind": "push", "interval": 300}]
non_finite = st.sampled_from([math.nan, math.inf, -math.inf])
option_values = st.one_of(
    values,
    non_finite,
    st.dictionaries(texts, texts, max_size=60),  # headers, sometimes too many
    st.fixed_dictionaries({"path": texts, "expected": texts},
                          optional={"op": st.sampled_from(["==", "<", "~"])}),  # json_assertion
    st.lists(st.one_of(texts, numbers), max_size=60),  # accepted_status_codes
)
options = st.dictionaries(st.sampled_from(OPTION_NAMES), option_values, max_size=6)
bodies = st.one_of(
    # One value off a valid monitor: what finds a single hole in the rules.
    st.builds(lambda base, field, value: {**base, field: value}, st.sampled_from(VALID),
              st.sampled_from(MONITOR_FIELDS), st.one_of(values, non_finite,
                                                         st.sampled_from(KINDS))),
    st.builds(lambda base, name, value: {**base, "options": {name: value}},
              st.sampled_from(VALID), st.sampled_from(OPTION_NAMES), option_values),
    # Many values off at once.
    st.builds(lambda fields, opts: {**GOOD, **fields, "options": opts},
              st.dictionaries(st.sampled_from(MONITOR_FIELDS),
                              st.one_of(scalars, st.sampled_from(KINDS)), max_size=4),
              options),
)


def nested(depth: int) -> str:
    return '{"options": ' + "[" * depth + "]" * depth + "}"


raw_bodies = st.one_of(
    st.binary(max_size=64),
    st.integers(min_value=0, max_value=3 * MAX_NESTING_DEPTH).map(nested),
    st.sampled_from(["NaN", "[1, Infinity]", '{"timeout": -Infinity}', "null", "[]", '"x"',
                     nested(30_000), "{" * 50_000, "1" * 5000, '{"name": "\\ud800"}']),
)


def assert_the_saved_monitors_obey_the_limits() -> None:
    """What was accepted can be shown: every answer that lists it encodes, names and URLs
    carry nothing the limits refuse."""
    monitors = list_monitors()
    json.dumps([monitor.to_api() for monitor in monitors], allow_nan=False)
    for monitor in monitors:
        assert text_problem(monitor.name, MAX_NAME_CHARS) is None, monitor.name
        if "://" in monitor.url:
            assert not httpx.URL(monitor.url).userinfo, monitor.url


def encoded(body: dict[str, Any]) -> bytes:
    # allow_nan: hostile callers send the NaN and Infinity literals Python's json writes.
    return json.dumps(body, allow_nan=True).encode()


def refused_writes_nothing(send: Callable[[], Any], accepted: Callable[[Any], bool]) -> Any:
    """Send; unless the answer is an acceptance, every table must be as it was before."""
    before = database_rows()
    answer = send()
    if not accepted(answer):
        assert database_rows() == before, "a refused request changed the database"
    return answer


# --- the REST API ---------------------------------------------------------------------------


def test_create_bodies_never_get_a_500_and_a_refusal_writes_nothing() -> None:
    with api_client() as client:

        @BUDGET
        @given(st.one_of(bodies.map(encoded), raw_bodies))
        def check(content: bytes) -> None:
            answer = refused_writes_nothing(
                lambda: client.post("/api/v1/monitors", content=content, headers=AUTH),
                lambda answer: answer.status_code == 201)
            assert answer.status_code in (201, 413, 422), (answer.status_code, content[:300])
            if answer.status_code != 201:
                assert by_field(answer.json()), answer.text
            assert client.get("/api/v1/monitors", headers=AUTH).status_code == 200
            assert_the_saved_monitors_obey_the_limits()

        check()


def test_patch_bodies_never_get_a_500_and_a_refusal_writes_nothing() -> None:
    with api_client() as client:
        created = client.post("/api/v1/monitors", headers=AUTH, json={
            **GOOD, "options": {"basic_auth_user": "ops", "basic_auth_password": "pw",
                                "keyword": "ok"}})
        assert created.status_code == 201

        @BUDGET
        @given(st.one_of(st.dictionaries(st.sampled_from(MONITOR_FIELDS), values, max_size=4)
                         .map(encoded),
                         st.builds(lambda opts: encoded({"options": opts}), options),
                         raw_bodies))
        def check(content: bytes) -> None:
            answer = refused_writes_nothing(
                lambda: client.patch("/api/v1/monitors/api", content=content, headers=AUTH),
                lambda answer: answer.status_code == 200)
            assert answer.status_code in (200, 413, 422), (answer.status_code, content[:300])
            assert client.get("/api/v1/monitors/api", headers=AUTH).status_code == 200
            assert_the_saved_monitors_obey_the_limits()

        check()


zones = st.one_of(st.sampled_from(["UTC", "Europe/Berlin", "Pacific/Kiritimati",
                                   "Pacific/Pago_Pago", "Etc/GMT-14", "Europe", "a" * 300]),
                  query_texts)
offsets = st.integers(min_value=-23 * 60, max_value=23 * 60).map(
    lambda minutes: timezone(timedelta(minutes=minutes)))
moments = st.one_of(
    st.dates().map(str),
    st.datetimes().map(datetime.isoformat),
    st.builds(lambda moment, zone: moment.replace(tzinfo=zone).isoformat(), st.datetimes(),
              offsets),
    query_texts,
)
export_params = st.fixed_dictionaries(
    {}, optional={"from": moments, "to": moments, "tz": zones, "format": query_texts})
EXPORTS = ["/api/v1/reports/sla", "/api/v1/monitors/web/results"]


def test_export_parameters_never_get_a_500() -> None:
    new_monitor("Web")
    with api_client() as client:

        @BUDGET
        @given(export_params, st.sampled_from(EXPORTS), st.sampled_from(["json", "csv"]))
        def check(params: dict[str, str], path: str, fmt: str) -> None:
            answer = refused_writes_nothing(
                lambda: client.get(f"{path}.{fmt}", params=params, headers=AUTH),
                lambda _answer: False)  # a read writes nothing, whatever it answers
            assert answer.status_code in (200, 422), (answer.status_code, params, answer.text)
            if answer.status_code == 422:
                assert set(by_field(answer.json())) <= {"from", "to", "tz"}

        check()


# --- the monitors file ----------------------------------------------------------------------


def yaml_text(document: object) -> str:
    return yaml.safe_dump(document, allow_unicode=True)


YAML_LITERALS = [".nan", ".inf", "-.inf", "2026-13-45", "!!float abc", "!!int 0xZZ",
                 "[" * 2000 + "]" * 2000, "&a [*a]", "!!binary aGk=", '"\\0"', '"\\u202e"',
                 '"\\x1b[31m"', "http://u:p@127.0.0.1:9/", "99999999999999999999999", "~",
                 "{" + ", ".join(f"h{i}: v" for i in range(60)) + "}", "!!set {a, b}"]
ENTRY = "monitors:\n  - name: File\n    url: http://127.0.0.1:9/\n"
monitors_files = st.one_of(
    # One value of a valid file replaced by a YAML literal that converts badly, or not at all.
    st.builds(lambda field, literal: f"{ENTRY}    {field}: {literal}\n",
              st.sampled_from(MONITOR_FIELDS), st.sampled_from(YAML_LITERALS)),
    st.builds(lambda name, literal: f"{ENTRY}    options:\n      {name}: {literal}\n",
              st.sampled_from(OPTION_NAMES), st.sampled_from(YAML_LITERALS)),
    st.lists(bodies, max_size=4).map(lambda entries: yaml_text({"monitors": entries})),
    st.lists(bodies, max_size=3).map(yaml_text),
    st.lists(st.sampled_from([
        "monitors:\n", "  - name: A\n", "    url: http://a/\n", "    timeout: .nan\n",
        "    interval: .inf\n", "    interval: 2026-13-45\n", "  - &a [*a]\n", "  - *b\n",
        "    options: {headers: {X: \"\\0\"}}\n", "  - !!python/name:os.system\n",
        "    options:\n      accepted_status_codes: &c [200, *c]\n", "[[[[[[[[[[[[", "\t",
        "    name: \"\\u202eevil\"\n", "    url: !!binary aGk=\n", "? [a]\n: b\n",
    ]), max_size=8).map("".join),
    st.text(max_size=80),
)


def test_monitors_files_are_applied_whole_or_refused_whole() -> None:
    create_monitor(parse_monitor_input({**GOOD, "name": "A", "options": {
        "basic_auth_user": "ops", "basic_auth_password": "pw"}}))

    @BUDGET
    @given(monitors_files)
    def check(text: str) -> None:
        before = database_rows()
        try:
            save_monitors_file(parse_monitors_file(text))
        except InvalidMonitorsFile as refused:
            assert str(refused)
            assert database_rows() == before, "a refused file changed the database"
        assert_the_saved_monitors_obey_the_limits()

    check()


# --- the forms ------------------------------------------------------------------------------

TEXT_OPTIONS = {"accepted_status_codes", "keyword", "headers", "body", "basic_auth_user",
                "basic_auth_password", "bearer_token", "json_path", "json_expected", "resolver",
                "expected"}


NUMBER_FIELDS = ("interval", "timeout", "failures_before_down", "successes_before_up",
                 "retry_interval")


def widget_changes(prefix: str) -> st.SearchStrategy[dict[str, Any]]:
    """A few widgets set to what a hostile (or scripted) session could put there: text fields
    text, number fields any number (NaN included), choices one of theirs or not."""
    option_names = sorted({name for names in KIND_OPTIONS.values() for name in names}
                          | TEXT_OPTIONS | {"method", "json_op", "record_type"})
    widgets: dict[str, st.SearchStrategy[Any]] = {f"{prefix}kind": st.sampled_from(
        [*KINDS, "smtp"])}
    for field in FIELDS:
        widgets[f"{prefix}{field}"] = (st.one_of(numbers, non_finite)
                                       if field in NUMBER_FIELDS
                                       else st.booleans() if field == "public" else texts)
    for name in option_names:
        widgets[option_key(prefix, name)] = texts if name in TEXT_OPTIONS else st.one_of(
            numbers, non_finite, st.booleans(), texts)
    return st.dictionaries(st.sampled_from(sorted(widgets)), st.none(), min_size=1,
                           max_size=3).flatmap(
        lambda keys: st.fixed_dictionaries({key: widgets[key] for key in keys}))


def test_the_add_form_saves_or_refuses_with_field_messages() -> None:
    @BUDGET
    @given(st.uuids(), widget_changes("add_"))
    def check(unique: object, changes: dict[str, Any]) -> None:
        state = {**default_form_state("add_"), "add_name": f"Form {unique}",
                 "add_url": "http://127.0.0.1:9/", **changes}

        def add() -> bool:  # as ui.monitor_form._add does it
            try:
                create_monitor(parse_monitor_input(form_values(state, "add_")))
            except InvalidInput as refused:
                assert refused.errors
                return False
            return True

        refused_writes_nothing(add, lambda saved: saved)
        assert_the_saved_monitors_obey_the_limits()

    check()


def test_the_edit_form_saves_or_refuses_with_field_messages() -> None:
    slug = create_monitor(parse_monitor_input({**GOOD, "options": {
        "bearer_token": "t0ken", "keyword": "ok"}})).slug

    @BUDGET
    @given(widget_changes("edit_"))
    def check(changes: dict[str, Any]) -> None:
        current = get_monitor(slug)
        assert current is not None
        state = {**form_state_from_monitor(current), **changes}

        def save() -> bool:  # as ui.monitor_form._edited_spec and _save_edit do it
            values = form_values(state, "edit_", complete=True)
            with contextlib.suppress(InvalidInput):  # "Test now" validates the same way
                parse_monitor_update(current.to_input(), values)
            try:
                update_monitor(slug, values)
            except InvalidInput as refused:
                assert refused.errors
                return False
            return True

        refused_writes_nothing(save, lambda saved: saved)
        assert_the_saved_monitors_obey_the_limits()

    check()


NOW = datetime(2026, 3, 4, 12, tzinfo=UTC)
VALID_WINDOW = {"title": "Reboot", "scope": "all", "recurring": True, "cron": "0 2 * * 0",
                "timezone": "UTC", "duration_minutes": 30, "start_date": date(2030, 1, 1),
                "start_time": time(1), "end_date": date(2030, 1, 1), "end_time": time(2)}
window_changes = st.fixed_dictionaries({}, optional={
    "title": texts, "description": texts,
    "scope": st.sampled_from(["all", "monitor", "group", "x"]),
    "monitor_id": st.one_of(st.integers(min_value=-5, max_value=5), st.booleans(), texts),
    "group_name": texts, "recurring": st.booleans(), "cron": texts,
    "timezone": zones, "duration_minutes": st.one_of(numbers, non_finite, texts),
    "start_date": st.dates(), "start_time": st.times(), "end_date": st.dates(),
    "end_time": st.times(), "notify": st.booleans(),
})


def test_the_maintenance_form_saves_or_refuses_with_field_messages() -> None:
    new_monitor("Web")

    @BUDGET
    @given(window_changes)
    def check(changes: dict[str, object]) -> None:
        values = {**VALID_WINDOW, **changes}

        def save() -> bool:  # as ui.maintenance_views._save does it
            try:
                create_window(parse_window_form(values, NOW))
            except InvalidInput as refused:
                assert refused.errors
                return False
            return True

        refused_writes_nothing(save, lambda saved: saved)

    check()
