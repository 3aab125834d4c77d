"""The monitor rules that the form, the API and YAML share."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.monitor_input import InvalidInput, parse_monitor_input

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
        ({"kind": "smtp"}, "kind", "only 'http'"),
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
