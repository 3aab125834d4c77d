"""The monitor page's 90 daily bars: the strip of the public status page's board, for this one
monitor, drawn by the same browser code (ui/day_strip) from the same read (storage/daily_bars)
with the same colours and hover texts (readmodel/board_payload). Hovering, touching or the
arrow keys on the focused strip show a day's date, uptime (or "no data"), downtime minutes and
incidents."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from functools import cache
from typing import Any

import streamlit as st

from config.settings import get_settings
from readmodel.board_payload import bar_title, uptime_over
from storage.daily_bars import DayBar, daily_bars
from storage.monitor_history import IncidentRow, incidents_between
from storage.monitors import MonitorView
from storage.status import BAR_DAYS
from ui.day_strip import day_digits, day_strip_code

BARS_KEY = "monitor-bars"
CSS, JS = day_strip_code("monitor_bars.js")


def incidents_by_day(incidents: Sequence[IncidentRow], first: date, last: date
                     ) -> dict[date, list[str]]:
    """Local day -> titles of the incidents open during it, for the days first..last."""
    zone = get_settings().zone
    titles: dict[date, list[str]] = {}
    for incident in incidents:
        day = max(first, incident.started_at.astimezone(zone).date())
        end = last if incident.resolved_at is None else min(
            last, incident.resolved_at.astimezone(zone).date())
        while day <= end:
            day_start = datetime.combine(day, time(), tzinfo=zone)
            if incident.resolved_at is None or incident.resolved_at > day_start:
                titles.setdefault(day, []).append(incident.title)  # resolved at midnight: not
            day += timedelta(days=1)
    return titles


def uptime_of(bars: Sequence[DayBar]) -> float | None:
    """The uptime over the days shown: the time up or degraded of the time observed."""
    observed = sum(bar.observed_s for bar in bars)
    return sum(bar.up_s + bar.degraded_s for bar in bars) / observed if observed else None


def bars_payload(monitor: MonitorView, now: datetime) -> dict[str, Any]:
    """The strip's row: its label, the uptime over the 90 days, each day's colour digit and
    hover text, oldest first."""
    bars = daily_bars([monitor.id], BAR_DAYS, now=now)[monitor.id]
    first, last = bars[0].day, bars[-1].day
    zone = get_settings().zone
    incidents = incidents_between(monitor.id, datetime.combine(first, time(), tzinfo=zone), now)
    titles = incidents_by_day(incidents, first, last)
    return {
        "name": f"Last {BAR_DAYS} days",
        "detail": f"one bar per day ({zone})",
        "uptime": uptime_over(uptime_of(bars)),
        "days": day_digits(bars),
        "titles": [bar_title(bar, titles.get(bar.day, ())) for bar in bars],
    }


@cache
def _component() -> Any:
    # Registered on first use, from inside a page run, once per process.
    return st.components.v2.component("upwatch_monitor_bars", css=CSS, js=JS)


def render_bars(monitor: MonitorView, now: datetime) -> None:
    st.subheader("Daily uptime")
    payload = json.dumps(bars_payload(monitor, now), ensure_ascii=False,
                         separators=(",", ":")).encode()
    _component()(data=payload, key=BARS_KEY)
