"""The monitor rules that the form, the API and YAML share."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.monitor_input import (
    SECRET_MASK,
    InvalidInput,
    parse_monitor_input,
    parse_monitor_update,
)

GOOD = {"name": "API", "url": "https://api.example.com/health", "interval": 60, "timeout": 5}


@pytest.mark.parametrize(
    ("changes", "field", "fragment"),
    [
        ({"url": "api.example.com"}, "url", "http:// or https://"),
        ({"url": "ftp://example.com"}, "url", "'ftp' URLs are not supported"),
        ({"url": "http://"}, "url", "no host"),
        ({"interval": 9}, "interval", "between 10 s and 86400 s"),
        ({"interval": 86_401}, "interval", "between 10 s and 86400 s"),
        ({"interval": "soon"}, "interval", "enter a number"),
        ({"timeout": 60}, "timeout", "shorter than the interval"),
        ({"timeout": 0}, "timeout", "more than 0 s"),
        ({"name": "  "}, "name", "give the monitor a name"),
        ({"kind": "smtp"}, "kind", "choose one of http, tls, tcp, dns, push"),
        ({"colour": "red"}, "colour", "unknown field"),
    ],
)
def test_it_refuses_bad_input_with_a_message_for_the_field(
    changes: dict, field: str, fragment: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_monitor_input({**GOOD, **changes})
    assert fragment in refused.value.errors[field]


def test_it_names_every_missing_field() -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_monitor_input({})
    required = "this field is required"
    assert refused.value.errors == {"name": required, "url": required}


def test_it_accepts_a_good_monitor() -> None:
    spec = parse_monitor_input({**GOOD, "public": True})
    assert (spec.name, spec.interval, spec.timeout, spec.public) == ("API", 60, 5.0, True)


@given(st.dictionaries(st.sampled_from(["name", "url", "interval", "timeout", "public", "kind"]),
                       st.one_of(st.text(), st.integers(), st.floats(), st.booleans(), st.none())))
def test_any_input_is_either_accepted_or_refused_with_field_messages(data: dict) -> None:
    try:
        parse_monitor_input(data)
    except InvalidInput as refused:
        assert refused.errors and all(isinstance(m, str) and m for m in refused.errors.values())


@pytest.mark.parametrize(
    ("changes", "field", "fragment"),
    [
        ({"options": {"keyword_absent": True}}, "options.keyword", "must be absent"),
        ({"options": {"accepted_status_codes": "200-2x"}}, "options.accepted_status_codes",
         "neither a status code"),
        ({"options": {"method": "FETCH"}}, "options.method", "choose one of"),
        ({"options": {"json_assertion": {"path": "a..b", "expected": "1"}}},
         "options.json_assertion.path", "names and indexes"),
        ({"options": {"colour": "red"}}, "options.colour", "unknown field"),
        ({"options": "fast"}, "options", "as an object"),
        ({"failures_before_down": 0}, "failures_before_down", "between 1 and 10"),
        ({"successes_before_up": 11}, "successes_before_up", "between 1 and 10"),
        ({"retry_interval": 3}, "retry_interval", "between 5 s and the interval"),
        ({"retry_interval": 61}, "retry_interval", "between 5 s and the interval"),
        ({"kind": "tcp", "url": "db.internal"}, "url", "give the port"),
        ({"kind": "tcp", "url": "db.internal:99999"}, "url", "not a valid port number"),
        ({"kind": "tls", "url": "bad host:443"}, "url", "not a valid host name"),
        ({"kind": "dns", "url": "", "options": {"record_type": "SRV"}}, "url", "name to look up"),
        ({"kind": "dns", "url": "example.com", "options": {"record_type": "SRV"}},
         "options.record_type", "choose one of"),
        ({"kind": "dns", "url": "example.com", "options": {"resolver": "dns.google"}},
         "options.resolver", "not an IP address"),
        ({"kind": "push", "options": {"grace_seconds": -1}}, "options.grace_seconds", "grace"),
    ],
)
def test_it_refuses_bad_kind_options_with_a_message_for_the_option(
    changes: dict, field: str, fragment: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_monitor_input({**GOOD, **changes})
    assert fragment in refused.value.errors[field], refused.value.errors


def test_each_kind_accepts_its_own_target_and_options() -> None:
    http = parse_monitor_input({**GOOD, "options": {
        "keyword": "ok", "accepted_status_codes": "200-299, 301", "bearer_token": "t0ken"}})
    assert http.options["accepted_status_codes"] == ["200-299", "301"]
    assert http.options["bearer_token"] == "t0ken"  # stored; masked when shown
    assert http.failures_before_down == 2 and http.successes_before_up == 1
    tls = parse_monitor_input({**GOOD, "kind": "tls", "url": "example.com",
                               "options": {"cert_warning_days": 20}})
    assert tls.options == {"cert_warning_days": 20, "cert_critical_days": 7}
    assert parse_monitor_input({**GOOD, "kind": "tcp", "url": "[::1]:5432"}).kind == "tcp"
    dns = parse_monitor_input({**GOOD, "kind": "dns", "url": "example.com",
                               "options": {"record_type": "mx", "resolver": "9.9.9.9"}})
    assert dns.options["record_type"] == "MX"
    push = parse_monitor_input({"name": "Nightly backup", "kind": "push", "interval": 300})
    assert push.url == "" and push.failures_before_down == 1
    assert push.options == {"grace_seconds": 60}


def test_an_update_keeps_masked_secrets_and_merges_options() -> None:
    current = parse_monitor_input({**GOOD, "options": {"bearer_token": "t0ken", "keyword": "a"}})
    updated = parse_monitor_update(
        current, {"options": {"bearer_token": SECRET_MASK, "keyword": "b"}})
    assert updated.options["bearer_token"] == "t0ken"
    assert updated.options["keyword"] == "b"
    as_tcp = parse_monitor_update(current, {"kind": "tcp", "url": "db:5432"})
    assert as_tcp.options == {"degraded_above_ms": None}
