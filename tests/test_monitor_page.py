"""The monitor detail page at /monitor?slug=: numbers, window, chart, check log, manage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from streamlit.testing.v1 import AppTest

# AppTest puts pages/ first on sys.path, where pages/alerting.py would shadow the alerting
# package that ui.auth reaches (through notifiers.dispatcher): loaded here first, it is found.
import ui.auth  # noqa: F401
from domain.monitor_input import parse_monitor_input
from domain.result import ProbeResult
from storage.monitors import MonitorView, create_monitor, get_monitor
from storage.results import record_result
from tests.pages_support import logged_in
from ui.monitor_log import window_csv
from ui.monitor_window import window_from


def _create(**fields: Any) -> MonitorView:
    return create_monitor(parse_monitor_input(
        {"name": "API", "url": "http://127.0.0.1:9/health", **fields}))


def _seed(monitor: MonitorView, count: int, failures_every: int = 0) -> None:
    now = datetime.now(UTC)
    for n in range(count):
        failed = failures_every and n % failures_every == 0
        record_result(monitor.id, ProbeResult(
            "down" if failed else "up", checked_at=now - timedelta(minutes=count - n),
            latency_ms=None if failed else 100.0 + n % 10,
            reason="connection refused" if failed else None,
            phases={} if failed else {"dns": 1.0, "connect": 2.0, "ttfb": 90.0}))


def _page(slug: str | None, **params: str) -> AppTest:
    return logged_in("monitor.py", **({} if slug is None else {"slug": slug}), **params)


def _captions(at: AppTest) -> list[str]:
    return [c.value for c in at.caption]


def _charts(at: AppTest) -> list[Any]:
    return list(at.get("vega_lite_chart"))


def test_an_unknown_or_missing_slug_says_so_and_shows_nothing_else() -> None:
    for slug in ("nope", None):
        at = _page(slug)
        assert [e.value for e in at.error] == [
            f"No monitor with the address '{slug or ''}'. It may have been deleted or renamed: "
            "pick one on the dashboard."]
        assert any("](/)" in m.value for m in at.markdown)
        assert not at.dataframe and not at.button and not at.title


def test_the_numbers_of_a_seeded_monitor_are_shown() -> None:
    monitor = _create(tags="prod, api", runbook_url="https://runbooks.example/api")
    _seed(monitor, 120, failures_every=10)
    at = _page(monitor.slug)
    assert at.title[0].value == "API"
    assert any(t.value == "Tags: prod, api" for t in at.text)
    numbers = at.dataframe[0].value
    first = numbers.iloc[0]
    assert first["Window"].startswith("This window (24 hours)")
    assert (first["Checks"], first["Failures"]) == (120, 12)
    assert 100 <= first["p50 ms"] <= 110
    assert list(numbers["Window"])[1:] == ["24 hours", "7 days", "30 days", "90 days"]
    assert _charts(at), "the latency chart is drawn"


def test_a_reversed_custom_range_is_an_error_not_a_traceback() -> None:
    monitor = _create()
    at = _page(monitor.slug, window="custom", **{"from": "2026-03-10", "to": "2026-03-01"})
    assert any("before it starts" in e.value for e in at.error)
    assert not _charts(at)


def test_the_window_is_kept_in_the_address() -> None:
    monitor = _create()
    _seed(monitor, 5)
    at = _page(monitor.slug, window="7d")
    assert at.radio(key="monitor_window").value == "7d"
    assert any("kept for raw results only" in c for c in _captions(at))
    at.radio(key="monitor_window").set_value("1h").run()
    assert at.query_params["window"] == ["1h"] or at.query_params["window"] == "1h"


def test_the_check_log_pages_in_fifties_and_can_show_failures_only() -> None:
    monitor = _create()
    _seed(monitor, 120, failures_every=10)
    at = _page(monitor.slug)
    assert "Page 1 of 3 · 120 results" in _captions(at)
    log = at.dataframe[1].value
    assert len(log) == 50
    at.number_input(key="log_page").set_value(3).run()
    assert "Page 3 of 3 · 120 results" in _captions(at)
    assert len(at.dataframe[1].value) == 20
    at.toggle(key="log_failures").set_value(True).run()
    assert "Page 1 of 1 · 12 results" in _captions(at)
    assert set(at.dataframe[1].value["Reason"]) == {"connection refused"}


def _click(at: AppTest, label: str) -> AppTest:
    next(b for b in at.button if b.label == label).click().run()
    assert not at.exception
    return at


def test_pause_resume_and_delete_with_confirmation() -> None:
    monitor = _create()
    at = _page(monitor.slug)
    _click(at, "⏸️ Pause checks")
    assert get_monitor(monitor.slug).paused
    assert any("Paused 'API'" in s.value for s in at.success)
    _click(at, "▶️ Resume checks")
    assert not get_monitor(monitor.slug).paused
    _click(at, "🗑️ Delete…")
    _click(at, "Cancel")
    assert get_monitor(monitor.slug) is not None
    _click(at, "🗑️ Delete…")
    _click(at, "Yes, delete it")
    assert get_monitor(monitor.slug) is None
    assert [s.value for s in at.success] == ["Deleted 'API' and its history."]
    assert any("](/)" in m.value for m in at.markdown)
    assert not at.error


def _tls(fingerprint: str) -> dict:
    return {"fingerprint": fingerprint, "subject": "CN=api", "issuer": "CN=ca",
            "not_before": "2026-01-01T00:00:00+00:00", "not_after": "2027-01-01T00:00:00+00:00",
            "days_left": 30, "verified": True, "hostname_matches": False, "sans": ["api", "www"]}


def test_a_tls_monitor_shows_its_certificate_and_its_last_renewal() -> None:
    monitor = _create(kind="tls", url="api:443")
    now = datetime.now(UTC)
    record_result(monitor.id, ProbeResult("up", now - timedelta(minutes=2), latency_ms=5,
                                          tls=_tls("AA")))
    record_result(monitor.id, ProbeResult("up", now - timedelta(minutes=1), latency_ms=5,
                                          tls=_tls("BB")))
    at = _page(monitor.slug)
    cert = next(f.value for f in at.dataframe if list(f.value.columns) == ["Field", "Value"])
    facts = dict(zip(cert["Field"], cert["Value"], strict=True))
    assert facts["SHA-256 fingerprint"] == "BB" and facts["Previous fingerprint"] == "AA"
    assert facts["Names (SANs)"] == "api, www" and facts["Days left"] == "30"
    assert (facts["Trusted"], facts["Hostname matches"]) == ("yes", "no")
    assert facts["Last changed"]


def test_a_down_and_up_again_monitor_lists_its_state_changes_and_incident() -> None:
    monitor = _create(failures_before_down=1)
    now = datetime.now(UTC)
    for minutes, outcome in ((30, "up"), (20, "down"), (10, "up")):
        record_result(monitor.id, ProbeResult(
            outcome, checked_at=now - timedelta(minutes=minutes), latency_ms=10,
            reason="HTTP 503" if outcome == "down" else None))
    at = _page(monitor.slug)
    changes = next(f.value for f in at.dataframe if "From" in f.value.columns)
    assert list(changes["Reason"])[:2] == ["", "HTTP 503"]  # newest first
    incidents = next(f.value for f in at.dataframe if "Incident" in f.value.columns)
    assert len(incidents) == 1 and incidents.iloc[0]["Incident"].startswith("/incidents?id=")
    numbers = at.dataframe[0].value.iloc[0]
    assert numbers["Incidents"] == 1 and numbers["MTTR min"] == 10.0


def test_a_year_reads_daily_rollups_and_a_custom_range_its_days() -> None:
    monitor = _create()
    _seed(monitor, 30)
    at = _page(monitor.slug, window="1y")
    assert any("from daily rollups" in c for c in _captions(at))
    today = datetime.now(UTC).date()
    at = _page(monitor.slug, window="custom", **{"from": str(today - timedelta(days=1)),
                                                 "to": str(today)})
    assert not at.error
    assert at.dataframe[0].value.iloc[0]["Checks"] == 30


def test_check_now_shows_the_result_in_place() -> None:
    monitor = _create(url="http://127.0.0.1:9/health", timeout=1)
    at = _page(monitor.slug)
    _click(at, "🔄 Check now")
    assert any(t.value.startswith("Check now: ") for t in at.text)


def test_the_window_downloads_as_csv_in_one_click() -> None:
    monitor = _create()
    _seed(monitor, 12, failures_every=4)
    at = _page(monitor.slug)
    assert [b.label for b in at.download_button] == ["⬇️ Download CSV of this window"]
    assert not any("Prepare CSV" in b.label for b in at.button)
    window = window_from("24h", None, None, datetime.now(UTC))
    assert not isinstance(window, str)
    lines = window_csv(monitor.id, window)().decode().splitlines()
    assert lines[0] == "checked_at,outcome,latency_ms,http_status,reason"
    assert len(lines) == 13 and sum("connection refused" in line for line in lines) == 3
