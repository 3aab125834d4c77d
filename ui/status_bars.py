"""The 90 daily bars of the status page, as one altair chart per group of components.

One chart per group (a row of bars per component) rather than one per component: a browser
draws a hundred components in a few charts much faster than in a hundred.

The charts depend only on the published status, so they are built once per status (per read
model snapshot) and shared by every visitor and every refresh, instead of once per page run.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

import altair as alt
import pandas as pd
from streamlit import dataframe_util

from core.settings import get_settings
from storage.stats import DayBar
from storage.status import PublicComponent, PublicStatus

# Day colour by uptime; the same thresholds as the uptime badges.
BAR_COLORS: dict[str, str] = {
    "no data": "#9e9e9e",
    "maintenance": "#1e88e5",
    "≥ 99.9%": "#2e9e44",
    "≥ 99%": "#9ccc3a",
    "≥ 95%": "#f2b21b",
    "≥ 90%": "#f57c2a",
    "< 90%": "#e0453a",
}
BAR_HEIGHT_PX = 22
COLUMNS = ["component", "day", "category", "uptime", "downtime", "incidents"]
# Repeated values (names, categories, "none") are sent once per chart as Arrow dictionaries.
_CATEGORICAL = ("component", "category", "uptime", "downtime", "incidents")


def day_category(bar: DayBar) -> str:
    """What colour a day gets: grey with no data, blue when maintenance was most of it."""
    if bar.maintenance_s > 0 and bar.maintenance_s >= bar.observed_s:
        return "maintenance"
    if bar.uptime is None:
        return "no data"
    percent = bar.uptime * 100
    for lowest, name in ((99.9, "≥ 99.9%"), (99, "≥ 99%"), (95, "≥ 95%"), (90, "≥ 90%")):
        if percent >= lowest:
            return name
    return "< 90%"


def _uptime_text(bar: DayBar) -> str:
    if bar.uptime is None:
        return "no data"
    return f"{bar.uptime * 100:.2f}%"


def incident_titles_by_day(
    status: PublicStatus, components: Sequence[PublicComponent]
) -> dict[tuple[int, date], list[str]]:
    """(component id, local day) -> titles of the incidents during that day, for the days the
    components have bars. One pass over the incidents rather than one per bar."""
    zone = get_settings().zone
    spans = {c.id: (c.bars[0].day, c.bars[-1].day) for c in components if c.bars}
    titles: dict[tuple[int, date], list[str]] = {}
    for incident in status.incidents:  # newest first, as status.incidents_on lists them
        span = spans.get(incident.monitor_id)  # type: ignore[arg-type]
        if span is None:
            continue
        day = max(span[0], incident.started_at.astimezone(zone).date())
        last = span[1]
        if incident.resolved_at is not None:
            last = min(last, incident.resolved_at.astimezone(zone).date())
        while day <= last:
            start = datetime.combine(day, datetime.min.time(), tzinfo=zone)
            if incident.overlaps(start, start + timedelta(days=1)):
                titles.setdefault((incident.monitor_id, day), []).append(incident.title)
            day += timedelta(days=1)
    return titles


def bar_rows(status: PublicStatus, components: Sequence[PublicComponent]) -> pd.DataFrame:
    """One row per component and day, with what the tooltip shows."""
    titles = incident_titles_by_day(status, components)
    rows = []
    for component in components:
        for bar in component.bars:
            rows.append((
                component.name,
                bar.day.isoformat(),
                day_category(bar),
                _uptime_text(bar),
                f"{bar.downtime_minutes:.0f} min",
                "; ".join(titles.get((component.id, bar.day), ())) or "none",
            ))
    frame = pd.DataFrame(rows, columns=COLUMNS)
    return frame.astype({name: "category" for name in _CATEGORICAL})


def bars_chart(names: Sequence[str], dataset: str) -> alt.Chart:
    """The bars of the components `names`, drawn from the named dataset of `bar_rows`."""
    return (
        alt.Chart(alt.NamedData(name=dataset))
        # No per-bar accessibility labels: thousands of them cost the browser more than the
        # drawing itself; the tooltip and the text above each chart say the same.
        .mark_rect(cornerRadius=2, stroke="transparent", strokeWidth=1.5, aria=False)
        .encode(
            x=alt.X("day:O", axis=None, sort="ascending"),
            y=alt.Y("component:N", sort=list(names), title=None,
                    axis=alt.Axis(labelLimit=160, labelFontSize=13, ticks=False, domain=False)),
            color=alt.Color(
                "category:N",
                scale=alt.Scale(domain=list(BAR_COLORS), range=list(BAR_COLORS.values())),
                legend=None,
            ),
            tooltip=[
                alt.Tooltip("component:N", title="Component"),
                alt.Tooltip("day:N", title="Date"),
                alt.Tooltip("uptime:N", title="Uptime"),
                alt.Tooltip("downtime:N", title="Downtime"),
                alt.Tooltip("incidents:N", title="Incidents"),
            ],
        )
        .properties(height=BAR_HEIGHT_PX * max(len(names), 1))
        .configure_view(strokeWidth=0)
    )


def bars_spec(status: PublicStatus, components: Sequence[PublicComponent]) -> dict[str, Any]:
    """The Vega-Lite spec of a group's bars, with its data already in Arrow form: what
    st.vega_lite_chart sends as is, so a page run only serialises a small spec."""
    data = dataframe_util.convert_anything_to_arrow_bytes(bar_rows(status, components))
    dataset = "bars-" + hashlib.sha256(data).hexdigest()[:16]
    spec = bars_chart([c.name for c in components], dataset).to_dict()
    spec["datasets"] = {dataset: data}
    return spec


# The last few statuses' specs, keyed by the status object itself (immutable; a new snapshot
# is a new object). Kept small: only the current and the previous snapshot are ever asked for.
_KEEP = 3
_lock = threading.Lock()
_specs: list[tuple[PublicStatus, list[dict[str, Any]]]] = []


def group_specs(status: PublicStatus) -> list[dict[str, Any]]:
    """One bars spec per group of `status.groups()`, built once per status."""
    with _lock:
        for known, specs in _specs:
            if known is status:
                return specs
    specs = [bars_spec(status, members) for _, members in status.groups()]
    with _lock:
        _specs.insert(0, (status, specs))
        del _specs[_KEEP:]
    return specs
