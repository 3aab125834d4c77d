"""The monitor detail page at /monitor?slug=: numbers, window, chart, check log, manage; the
sections built only when opened (phases, log, certificate, state changes, incidents)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from streamlit.testing.v1 import AppTest

from domain.formatting import state_label
from domain.monitor_input import parse_monitor_input
from domain.result import ProbeResult
from storage.monitors import MonitorView, create_monitor, get_monitor
from storage.results import record_result
from tests.pages_support import logged_in
from ui.monitor_chart import PHASES_OPEN_KEY
from ui.monitor_events import CERTIFICATE_OPEN_KEY, CHANGES_OPEN_KEY, INCIDENTS_OPEN_KEY
from ui.monitor_log import LOG_OPEN_KEY, window_csv
from ui.monitor_window import window_from

SECTIONS = (PHASES_OPEN_KEY, LOG_OPEN_KEY, CERTIFICATE_OPEN_KEY, CHANGES_OPEN_KEY,
            INCIDENTS_OPEN_KEY)


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


def _opened(at: AppTest, *keys: str) -> AppTest:
    """`at` run again with the on-demand sections of `keys` opened, as a click on each does."""
    for key in keys:
        at.session_state[key] = True
    at.run()
    assert not at.exception, at.exception
    return at


def _numbers(at: AppTest) -> list[dict[str, str]]:
    """The numbers' Markdown table as rows of column -> cell text."""
    table = next(m.value for m in at.markdown if m.value.startswith("| Window |"))
    header, _, *rows = table.splitlines()
    names = [cell.strip() for cell in header.strip("|").split("|")]
    return [dict(zip(names, (cell.strip() for cell in row.strip("|").split("|")), strict=True))
            for row in rows]


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
    numbers = _numbers(at)
    first = numbers[0]
    assert first["Window"] == r"This window \(24 hours\)"
    assert (first["Checks"], first["Failures"]) == ("120", "12")
    assert 100 <= float(first["p50 ms"]) <= 110
    assert 89 < float(first["Uptime %"]) < 91 and first["MTTA min"] == "–"  # none acked
    assert [row["Window"] for row in numbers][1:] == ["24 hours", "7 days", "30 days", "90 days"]
    assert _charts(at), "the latency chart is drawn"
    assert not at.dataframe, "no grid is drawn before a section is opened"


def test_the_sections_are_built_only_once_opened() -> None:
    monitor = _create(failures_before_down=1)
    _seed(monitor, 60, failures_every=10)
    at = _page(monitor.slug)
    assert len(_charts(at)) == 1, "the latency chart alone"
    assert not at.dataframe and not at.download_button and not at.number_input
    labels = [e.label for e in at.expander]
    for start in ("Timing phases", "Check log", "State changes in this window",
                  "Incidents in this window", "Edit"):
        assert any(label.startswith(start) for label in labels), (start, labels)
    _opened(at, *SECTIONS)
    assert len(_charts(at)) == 2, "the phases' chart too"
    assert at.number_input(key="log_page").value == 1 and at.download_button
    assert any("From" in f.value.columns for f in at.dataframe)  # state changes
    assert any("Incident" in f.value.columns for f in at.dataframe)
    at.session_state[LOG_OPEN_KEY] = False
    at.run()
    assert not at.download_button, "closed again: the log is not built"


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
    at = _opened(_page(monitor.slug), LOG_OPEN_KEY)
    assert "Page 1 of 3 · 120 results" in _captions(at)
    log = at.dataframe[0].value
    assert len(log) == 50
    at.number_input(key="log_page").set_value(3).run()
    assert "Page 3 of 3 · 120 results" in _captions(at)
    assert len(at.dataframe[0].value) == 20
    at.toggle(key="log_failures").set_value(True).run()
    assert "Page 1 of 1 · 12 results" in _captions(at)
    assert set(at.dataframe[0].value["Reason"]) == {"connection refused"}


def test_the_check_log_shows_outcome_reason_http_status_and_phases() -> None:
    monitor = _create()
    record_result(monitor.id, ProbeResult("up", latency_ms=12.0, http_status=200,
                                          phases={"connect": 1.5, "total": 12.0}))
    record_result(monitor.id, ProbeResult("down", reason="connection refused",
                                          phases={"connect": 0.4}))
    at = _opened(_page(monitor.slug), LOG_OPEN_KEY)
    [table] = [f.value for f in at.dataframe]
    assert list(table["Outcome"]) == [state_label("down"), state_label("up")]  # newest first
    assert list(table["Reason"]) == ["connection refused", ""]
    assert list(table["Phases"]) == ["connect 0.4 ms", "connect 1.5 ms · total 12.0 ms"]
    assert list(table["HTTP"]) == ["", "200"]


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
    assert [e.label for e in at.expander if e.label.startswith("Certificate")]
    _opened(at, CERTIFICATE_OPEN_KEY)
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
    at = _opened(_page(monitor.slug), CHANGES_OPEN_KEY, INCIDENTS_OPEN_KEY)
    changes = next(f.value for f in at.dataframe if "From" in f.value.columns)
    assert list(changes["Reason"])[:2] == ["", "HTTP 503"]  # newest first
    incidents = next(f.value for f in at.dataframe if "Incident" in f.value.columns)
    assert len(incidents) == 1 and incidents.iloc[0]["Incident"].startswith("/incidents?id=")
    numbers = _numbers(at)[0]
    assert numbers["Incidents"] == "1" and numbers["MTTR min"] == "10.0"


def test_a_year_reads_daily_rollups_and_a_custom_range_its_days() -> None:
    monitor = _create()
    _seed(monitor, 30)
    at = _page(monitor.slug, window="1y")
    assert any("from daily rollups" in c for c in _captions(at))
    today = datetime.now(UTC).date()
    at = _page(monitor.slug, window="custom", **{"from": str(today - timedelta(days=1)),
                                                 "to": str(today)})
    assert not at.error
    assert _numbers(at)[0]["Checks"] == "30"


def test_check_now_shows_the_result_in_place() -> None:
    monitor = _create(url="http://127.0.0.1:9/health", timeout=1)
    at = _page(monitor.slug)
    _click(at, "🔄 Check now")
    assert any(t.value.startswith("Check now: ") for t in at.text)


def test_the_window_downloads_as_csv_in_one_click() -> None:
    monitor = _create()
    _seed(monitor, 12, failures_every=4)
    at = _opened(_page(monitor.slug), LOG_OPEN_KEY)
    assert [b.label for b in at.download_button] == ["⬇️ Download CSV of this window"]
    assert not any("Prepare CSV" in b.label for b in at.button)
    window = window_from("24h", None, None, datetime.now(UTC))
    assert not isinstance(window, str)
    lines = window_csv(monitor.id, window)().decode().splitlines()
    assert lines[0] == "checked_at,outcome,latency_ms,http_status,reason"
    assert len(lines) == 13 and sum("connection refused" in line for line in lines) == 3


def test_the_alert_rules_are_listed_with_the_firing_one_marked() -> None:
    from sqlalchemy import insert

    from domain.window_rules import rules_from_stored
    from storage.db import get_engine
    from storage.rule_models import RuleState

    monitor = _create(rules=[
        {"kind": "latency", "percentile": 95, "window_minutes": 10, "threshold": 500,
         "severity": "medium"},
        {"kind": "failure_rate", "window_minutes": 5, "threshold": 5, "severity": "critical"}])
    failures = rules_from_stored(list(monitor.rules))[1]
    with get_engine().begin() as connection:
        connection.execute(insert(RuleState.__table__).values(
            monitor_id=monitor.id, rule_key=failures.key, severity="critical",
            firing_since=datetime.now(UTC) - timedelta(minutes=3)))
    shown = next(t.value for t in _page(monitor.slug).text if t.value.startswith("Alert rules"))
    lines = shown.splitlines()[1:]
    assert lines[0].startswith("· quiet · p95 above 500 ms for 10 min")
    assert lines[1].startswith("🔥 firing since 3 min ago") and "P1" in lines[1]
