"""Page logic, headless with AppTest: login, the add-monitor form, the status page."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from streamlit.testing.v1 import AppTest

from domain.monitor_input import parse_monitor_input
from domain.result import ProbeResult
from storage.monitors import create_monitor, list_monitors
from storage.results import record_result
from tests.pages_support import errors, logged_in, page


def logged_in_dashboard() -> AppTest:
    return logged_in("dashboard.py")


def fill_form(at: AppTest, **values: object) -> AppTest:
    form = {"name": "API", "url": "http://127.0.0.1:9/", "interval": 60, "timeout": 10.0,
            "public": False, **values}
    at.text_input(key="add_name").input(form["name"])
    at.text_input(key="add_url").input(form["url"])
    at.number_input(key="add_interval").set_value(form["interval"])
    at.number_input(key="add_timeout").set_value(form["timeout"])
    public = at.checkbox(key="add_public")
    public.check() if form["public"] else public.uncheck()
    next(b for b in at.button if b.label == "Add monitor").click().run()
    return at


def test_without_a_password_the_dashboard_explains_how_to_set_it(monkeypatch) -> None:
    monkeypatch.delenv("UPWATCH_ADMIN_PASSWORD")
    from config.settings import get_settings

    get_settings.cache_clear()
    at = page("dashboard.py").run()
    assert "UPWATCH_ADMIN_PASSWORD" in at.warning[0].value
    assert not at.text_input and not at.dataframe


def test_a_visitor_not_signed_in_gets_a_sign_in_link_and_nothing_else() -> None:
    at = page("dashboard.py").run()
    assert [t.value for t in at.title] == ["Upwatch — sign in required"]
    assert any('href="/login?next=%2F"' in m.value for m in at.markdown)
    assert not at.dataframe and not [t for t in at.title if t.value == "Monitors"]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"url": "example.com"}, "start the URL with http:// or https://"),
        ({"url": "gopher://example.com"}, "'gopher' URLs are not supported"),
        ({"url": "https://"}, "the URL has no host name"),
        ({"interval": 5}, "choose an interval between 10 s and 86400 s"),
        ({"interval": 100_000}, "choose an interval between 10 s and 86400 s"),
        ({"interval": 30, "timeout": 30.0}, "the timeout must be shorter than the interval"),
        ({"name": ""}, "give the monitor a name"),
    ],
)
def test_the_form_refuses_bad_input_and_saves_nothing(values: dict, message: str) -> None:
    at = fill_form(logged_in_dashboard(), **values)
    assert any(message in e for e in errors(at)), errors(at)
    assert list_monitors() == []


def test_the_form_refuses_a_duplicate_name() -> None:
    create_monitor(parse_monitor_input({"name": "API", "url": "http://127.0.0.1:9/"}))
    at = fill_form(logged_in_dashboard(), name="API")
    assert any("already exists" in e for e in errors(at))
    assert len(list_monitors()) == 1


def test_the_form_saves_a_good_monitor_and_lists_it() -> None:
    at = fill_form(logged_in_dashboard(), name="Shop", url="https://shop.example.com", public=True)
    assert not errors(at)
    assert "Added 'Shop'" in at.success[0].value
    [saved] = list_monitors()
    assert (saved.name, saved.url, saved.interval, saved.public) == (
        "Shop", "https://shop.example.com", 60, True)
    table = at.dataframe[0].value
    assert list(table["Name"]) == ["Shop"] and "pending" in table["State"][0]


def test_the_status_page_shows_public_monitors_only() -> None:
    public = create_monitor(parse_monitor_input(
        {"name": "Public API", "url": "http://public-host.example/", "public": True}))
    private = create_monitor(parse_monitor_input(
        {"name": "Hidden thing", "url": "http://hidden-host.example/"}))
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    record_result(public.id, ProbeResult("up", an_hour_ago, latency_ms=5))
    record_result(private.id, ProbeResult("down", an_hour_ago, reason="secret-error-text"))
    at = page("status.py").run()
    assert not at.exception
    # The components travel to the browser as the status board's payload.
    [board] = [json.loads(e.proto.bytes) for e in at.get("bidi_component")]
    [[row]] = [group["rows"] for group in board["groups"]]
    assert (row["name"], row["uptime"]["30d"]) == ("Public API", "100.00% uptime")
    text = " ".join(str(e.value) for e in (*at.markdown, *at.success, *at.error, *at.caption))
    text += json.dumps(board, ensure_ascii=False)
    assert "All systems operational" in text
    for secret in ("Hidden thing", "hidden-host", "public-host", "secret-error-text"):
        assert secret not in text
