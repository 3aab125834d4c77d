"""The overview page run by Streamlit: tiles, typed table, filters from the URL, bulk actions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

import ui.auth  # noqa: F401  (loaded before pages/ shadows a package name; see pages_support)
from domain.monitor_input import parse_monitor_input
from domain.overview import OverviewFilter
from domain.result import ProbeResult
from storage.monitors import MonitorView, create_monitor, get_monitor, list_monitors
from storage.results import record_result
from tests.conftest import free_port
from tests.pages_support import logged_in
from tests.switchable_target import SwitchableTarget
from ui.overview import table_key
from ui.overview_bulk import GENERATION_KEY


def _monitor(name: str, **fields: Any) -> MonitorView:
    return create_monitor(parse_monitor_input(
        {"name": name, "url": f"http://127.0.0.1:9/{name.lower()}", **fields}))


def _record(monitor: MonitorView, latency: float | None, outcome: str = "up",
            minutes_ago: int = 1) -> None:
    at = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    record_result(monitor.id, ProbeResult(outcome, checked_at=at, latency_ms=latency,
                                          reason=None if outcome == "up" else "HTTP 503"))


def _overview(**query: str) -> AppTest:
    return logged_in("dashboard.py", **query)


def _fleet() -> None:
    api = _monitor("API", tags=["team-a"], public=True)
    web = _monitor("Web", tags=["team-b"])
    _monitor("Zeta")
    for latency in (900.0, 80.0, 85.0):
        _record(api, latency, minutes_ago=3)
    _record(web, None, "down", minutes_ago=3)
    _record(web, None, "down", minutes_ago=2)


def test_tiles_and_a_typed_table_with_down_monitors_first() -> None:
    _fleet()
    at = _overview()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["🔴 down"] == "1" and metrics["🟢 up"] == "1"
    assert metrics["⚪ pending"] == "1"
    assert metrics["Checks in the last minute"] == "0"  # every result is older than that
    table = at.dataframe[0].value
    assert table["Name"].tolist() == ["Web", "API", "Zeta"]
    assert table["Open"].tolist() == ["/monitor?slug=web", "/monitor?slug=api",
                                      "/monitor?slug=zeta"]
    # Numbers are numbers: the grid sorts them as such and the column formats them.
    assert pd.api.types.is_float_dtype(table["p95 24 h"])
    assert pd.api.types.is_float_dtype(table["Uptime 24 h"])
    assert pd.api.types.is_datetime64_any_dtype(table["Last check"])
    assert table.loc[table["Name"] == "API", "p95 24 h"].item() > 800
    assert table.loc[table["Name"] == "API", "Uptime 24 h"].item() == 100.0
    assert table.loc[table["Name"] == "Web", "Reason"].item() == "HTTP 503"
    # One hour with results: the sparkline has its one point (hours without results are left out).
    assert list(table.loc[table["Name"] == "API", "Latency 24 h"].item()) == [
        pytest.approx(900, rel=0.02)]


def test_filters_come_from_the_address_and_a_filter_that_matches_nothing_says_so() -> None:
    _fleet()
    assert _overview(state="down").dataframe[0].value["Name"].tolist() == ["Web"]
    assert _overview(tag="team-a").dataframe[0].value["Name"].tolist() == ["API"]
    assert _overview(visibility="public").dataframe[0].value["Name"].tolist() == ["API"]
    assert _overview(q="zet").dataframe[0].value["Name"].tolist() == ["Zeta"]
    nothing = _overview(q="no such monitor")
    assert not nothing.dataframe
    assert "No monitor matches" in nothing.warning[0].value
    # A tag no monitor has (a stale bookmark) is dropped, never a traceback.
    assert len(_overview(tag="gone").dataframe[0].value) == 3


def test_no_monitors_yet_points_to_the_add_form() -> None:
    at = _overview()
    assert "No monitors yet" in at.info[0].value
    assert any(b.label == "Add monitor" for b in at.button)


def _select(at: AppTest, rows: list[int]) -> None:
    """What clicking rows' checkboxes does: the table's selection state."""
    generation = at.session_state.get(GENERATION_KEY, 0)
    key = table_key(OverviewFilter(), generation)
    at.session_state[key] = {"selection": {"rows": rows, "columns": [], "cells": []}}
    at.run()


def _click(at: AppTest, label: str) -> None:
    next(b for b in at.button if b.label == label).click().run()
    assert not at.exception, at.exception


def test_bulk_pause_resume_and_delete_name_how_many_and_clear_the_selection() -> None:
    for name in ("A", "B", "C", "D"):
        _monitor(name)
    at = _overview()
    assert all(b.disabled for b in at.button if b.label in ("Pause", "Delete…"))
    _select(at, [0, 1, 2])
    assert "3 monitors selected" in [c.value for c in at.caption]
    _click(at, "Pause")
    assert [s.value for s in at.success] == ["Paused 3 monitors."]
    assert [m.paused for m in list_monitors()] == [True, True, True, False]
    assert "3 monitors selected" not in [c.value for c in at.caption]  # a fresh table

    _select(at, [0, 1])
    _click(at, "Resume")
    assert [s.value for s in at.success] == ["Resumed 2 monitors."]
    assert [m.paused for m in list_monitors()] == [False, False, True, False]

    _select(at, [1, 3])
    _click(at, "Delete…")
    assert "Delete 2 monitors: B, D?" in at.warning[0].value
    assert len(list_monitors()) == 4  # nothing yet
    _click(at, "Cancel")
    assert len(list_monitors()) == 4
    _select(at, [1, 3])
    _click(at, "Delete…")
    _click(at, "Delete 2 monitors")
    assert [s.value for s in at.success] == ["Deleted 2 monitors."]
    assert [m.name for m in list_monitors()] == ["A", "C"]


def test_bulk_check_now_records_a_result_for_each() -> None:
    target = SwitchableTarget(free_port()).start()
    try:
        for name in ("One", "Two"):
            create_monitor(parse_monitor_input({"name": name, "url": target.url}))
        at = _overview()
        _select(at, [0, 1])
        _click(at, "Check now")
        assert [s.value for s in at.success] == ["Checked 2 monitors: 2 up."]
        assert all(get_monitor(s) and get_monitor(s).state == "up"  # type: ignore[union-attr]
                   for s in ("one", "two"))
    finally:
        target.stop()
