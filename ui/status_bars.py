"""The 90 daily bars of the status page, as one altair chart per group of components.

One chart per group (a row of bars per component) rather than one per component: a browser
draws a hundred components in a few charts much faster than in a hundred.
"""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import pandas as pd

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


def bar_rows(status: PublicStatus, components: Sequence[PublicComponent]) -> pd.DataFrame:
    """One row per component and day, with what the tooltip shows."""
    rows = []
    for component in components:
        for bar in component.bars:
            incidents = status.incidents_on(component.id, bar.day)
            rows.append({
                "component": component.name,
                "day": bar.day.isoformat(),
                "category": day_category(bar),
                "uptime": _uptime_text(bar),
                "downtime": f"{bar.downtime_minutes:.0f} min",
                "incidents": "; ".join(i.title for i in incidents) or "none",
            })
    return pd.DataFrame(rows, columns=["component", "day", "category", "uptime", "downtime",
                                       "incidents"])


def bars_chart(status: PublicStatus, components: Sequence[PublicComponent]) -> alt.Chart:
    data = bar_rows(status, components)
    names = [c.name for c in components]
    return (
        alt.Chart(data)
        .mark_rect(cornerRadius=2, stroke="transparent", strokeWidth=1.5)
        .encode(
            x=alt.X("day:O", axis=None, sort="ascending"),
            y=alt.Y("component:N", sort=names, title=None,
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
        .properties(height=BAR_HEIGHT_PX * max(len(components), 1))
        .configure_view(strokeWidth=0)
    )
