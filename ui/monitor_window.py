"""The time window of the monitor page, kept in the address (?window=, &from=, &to=)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import streamlit as st

PRESETS: dict[str, timedelta] = {
    "1h": timedelta(hours=1),
    "24h": timedelta(days=1),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
    "90d": timedelta(days=90),
    "1y": timedelta(days=365),
}
CUSTOM = "custom"
CHOICES = [*PRESETS, CUSTOM]
DEFAULT = "24h"
LABELS = {"1h": "1 hour", "24h": "24 hours", "7d": "7 days", "30d": "30 days",
          "90d": "90 days", "1y": "1 year", CUSTOM: "Custom range"}


@dataclass(frozen=True, slots=True)
class Window:
    name: str
    start: datetime
    end: datetime

    @property
    def span(self) -> timedelta:
        return self.end - self.start


def _day(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def window_from(name: str, first: date | None, last: date | None,
                now: datetime) -> Window | str:
    """The window chosen, or why it cannot be shown. A custom range's days are inclusive (UTC)."""
    if name in PRESETS:
        return Window(name, now - PRESETS[name], now)
    if first is None or last is None:
        return "Choose both days of the custom range (From and To, as YYYY-MM-DD)."
    if last < first:
        return (f"The range ends ({last.isoformat()}) before it starts ({first.isoformat()}): "
                "choose a To day on or after the From day.")
    start = datetime.combine(first, time(), UTC)
    end = min(datetime.combine(last + timedelta(days=1), time(), UTC), now)
    if end <= start:
        return "The range holds no time yet: it starts in the future."
    return Window(CUSTOM, start, end)


def choose_window(now: datetime) -> Window | None:
    """The window chooser, synced with the address; None (after an error) when it is unusable."""
    params = st.query_params
    asked = params.get("window", DEFAULT)
    if asked not in CHOICES:
        asked = DEFAULT
    if "monitor_window" not in st.session_state:
        st.session_state["monitor_window"] = asked
    name = st.radio("Window", CHOICES, key="monitor_window", horizontal=True,
                    format_func=LABELS.__getitem__) or DEFAULT
    params["window"] = name
    first = last = None
    if name == CUSTOM:
        today = now.date()
        if "monitor_from" not in st.session_state:
            st.session_state["monitor_from"] = _day(params.get("from")) or today - timedelta(days=7)
        if "monitor_to" not in st.session_state:
            st.session_state["monitor_to"] = _day(params.get("to")) or today
        left, right = st.columns(2)
        with left:
            first = st.date_input("From (UTC)", key="monitor_from")
        with right:
            last = st.date_input("To (UTC, inclusive)", key="monitor_to")
        first = first if isinstance(first, date) else None
        last = last if isinstance(last, date) else None
        if first is not None:
            params["from"] = first.isoformat()
        if last is not None:
            params["to"] = last.isoformat()
    else:
        params.pop("from", None)
        params.pop("to", None)
    chosen = window_from(name, first, last, now)
    if isinstance(chosen, str):
        st.error(chosen)
        return None
    return chosen
