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
BAR_GAP = 0.2  # of a day's width, between two days' bars
LABEL_PX = 170  # left margin for the components' names
LABEL_COLOR = "#767a86"
COLUMNS = ["component", "day", "uptime", "downtime", "incidents"]
# Repeated values (names, uptimes, "none") are sent once per chart as Arrow dictionaries.
_CATEGORICAL = ("component", "uptime", "downtime", "incidents")


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


def uptime_text(bar: DayBar) -> str:
    """What the tooltip says of a day's uptime; also what its colour is looked up by."""
    category = day_category(bar)
    if category == "maintenance":
        return "maintenance" if bar.uptime is None else f"{bar.uptime * 100:.2f}% (maintenance)"
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
                uptime_text(bar),
                f"{bar.downtime_minutes:.0f} min",
                "; ".join(titles.get((component.id, bar.day), ())) or "none",
            ))
    # A text index, unlike a numeric one, is not added to each row by the browser, where the
    # tooltip would show it; as a category it costs a few bytes.
    index = pd.CategoricalIndex([""] * len(rows))
    frame = pd.DataFrame(rows, columns=COLUMNS, index=index)
    return frame.astype({name: "category" for name in _CATEGORICAL})


def day_colors(components: Sequence[PublicComponent]) -> dict[str, str]:
    """Colour of each uptime text the bars show ("99.95%", "no data", ...)."""
    return {uptime_text(bar): BAR_COLORS[day_category(bar)]
            for component in components for bar in component.bars}


def bars_chart(rows: int, bars: str, names: str, colors: dict[str, str]) -> alt.LayerChart:
    """`rows` components' bars from the named dataset `bars` (of `bar_rows`), each row labelled
    with its component's name from the dataset `names`.

    Made for the browser's sake. Streamlit runs Vega without `eval`, through an expression
    interpreter, so every encoding channel of every bar costs one slow evaluation: the bars have
    only position, size, colour and tooltip; the colour is looked up by the uptime text itself
    and the tooltip is the whole row, so a row holds only what a visitor reads. And every change
    of the plot's width after the first layout evaluates them all again: the names are a text
    layer inside a fixed left margin rather than an axis, whose width Vega would only learn by
    drawing it, so the first layout is the last.
    """
    # Rows in page order, as both datasets list them: a sort list would cost a formula per bar.
    y = alt.Y("component:N", sort=None, title=None, axis=None,
              scale=alt.Scale(paddingInner=BAR_GAP))
    day_bars = (
        alt.Chart(alt.NamedData(name=bars))
        # No per-bar accessibility labels: thousands of them cost more than the drawing itself;
        # the tooltip and the text above each chart say the same.
        .mark_rect(aria=False, tooltip={"content": "data"})
        .encode(
            x=alt.X("day:O", axis=None, sort="ascending",
                    scale=alt.Scale(range=[LABEL_PX, alt.ExprRef("width")],
                                    paddingInner=BAR_GAP)),
            y=y,
            color=alt.Color("uptime:N", legend=None,
                            scale=alt.Scale(domain=list(colors), range=list(colors.values()))),
        )
    )
    labels = (
        alt.Chart(alt.NamedData(name=names))
        # Streamlit's chart theme colours axis labels but not text marks: a grey that reads
        # on both the light and the dark theme (about 4.5:1 on either background).
        .mark_text(align="left", baseline="middle", fontSize=13, limit=LABEL_PX - 8,
                   color=LABEL_COLOR)
        .encode(x=alt.value(0), y=y, text="component:N")
    )
    return (
        alt.layer(day_bars, labels)
        .properties(height=BAR_HEIGHT_PX * max(rows, 1))
        .configure_view(strokeWidth=0)
    )


def _named(prefix: str, frame: pd.DataFrame) -> tuple[str, bytes]:
    data = dataframe_util.convert_anything_to_arrow_bytes(frame)
    return f"{prefix}-{hashlib.sha256(data).hexdigest()[:16]}", data


def bars_spec(status: PublicStatus, components: Sequence[PublicComponent]) -> dict[str, Any]:
    """The Vega-Lite spec of a group's bars, with its data already in Arrow form: what
    st.vega_lite_chart sends as is, so a page run only serialises a small spec."""
    bars, bars_data = _named("bars", bar_rows(status, components))
    names, names_data = _named("names", pd.DataFrame({"component": [c.name for c in components]}))
    spec = bars_chart(len(components), bars, names, day_colors(components)).to_dict()
    spec["datasets"] = {bars: bars_data, names: names_data}
    # No margin around the plot, so the width Streamlit gives is the plot's (see bars_chart).
    spec["padding"] = {"left": 0, "right": 0, "top": 0, "bottom": 0}
    # SVG rather than canvas: as fast here, and each bar stays an element tests can count.
    spec["usermeta"] = {"embedOptions": {"renderer": "svg"}}
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
