"""The Reports page's "Response times (MTTA / MTTR)": a range, a grouping, a table and the last
12 months' chart. The figures are analytics/incident_times.py's (the definitions are there)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from analytics.incident_times import (
    GROUPINGS,
    MAX_RANGE_DAYS,
    Grouping,
    GroupTimes,
    PeriodTimes,
    ResponseTimes,
    calendar_month,
    grouped,
    opened_in,
    per_period,
    summarize,
)
from config.settings import get_settings
from domain.formatting import format_duration
from storage.incident_times import incident_times_between, month_periods

RANGES = ("This month", "Last month", "Last 90 days", "Custom")
GROUPING_LABELS: dict[Grouping, str] = {"monitor": "Monitor", "group": "Group",
                                        "severity": "Severity"}
CHART_MONTHS = 12



def _minutes(label: str, **more: Any) -> Any:
    return st.column_config.NumberColumn(label, format="%.1f min", **more)


def _count(label: str, **more: Any) -> Any:
    return st.column_config.NumberColumn(label, format="%d", **more)


COLUMNS = {
    "Incidents": _count("Incidents", help="Opened in the range, outside maintenance"),
    "MTTA": _minutes("MTTA", help="Mean time from opening to the first acknowledgement, "
                                  "maintenance left out"),
    "MTTA median": _minutes("MTTA median"),
    "MTTR": _minutes("MTTR", help="Mean time from opening to resolution, maintenance left out"),
    "MTTR median": _minutes("MTTR median"),
    "Unacknowledged": _count("Unacknowledged", help="Left out of MTTA"),
    "Still open": _count("Still open", help="Left out of MTTR"),
    "In maintenance": _count("In maintenance", help="Wholly inside maintenance: not counted"),
}


def chosen_range(choice: str, now: datetime, zone: tzinfo,
                 days: tuple[date, date] | None = None) -> tuple[datetime, datetime]:
    """[start, end) of a range choice; "Custom" takes `days` (first and last, both included)."""
    if choice == "This month":
        return calendar_month(now, zone)
    if choice == "Last month":
        return calendar_month(now, zone, back=1)
    if choice == "Last 90 days":
        return now - timedelta(days=90), now
    if days is None:
        raise ValueError("pick the first and the last day")
    first, last = days
    return (datetime.combine(first, time(0), tzinfo=zone),
            datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone))


def _minutes_of(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60, 1)


def table_rows(groups: list[GroupTimes], by: Grouping) -> list[dict[str, Any]]:
    """One row per group, durations in minutes (numbers, so the table sorts them as numbers)."""
    return [{
        GROUPING_LABELS[by]: group.label,
        "Incidents": group.times.incidents,
        "MTTA": _minutes_of(group.times.mtta_mean),
        "MTTA median": _minutes_of(group.times.mtta_median),
        "MTTR": _minutes_of(group.times.mttr_mean),
        "MTTR median": _minutes_of(group.times.mttr_median),
        "Unacknowledged": group.times.unacknowledged,
        "Still open": group.times.still_open,
        "In maintenance": group.times.in_maintenance,
    } for group in groups]


def month_frame(months: list[PeriodTimes]) -> pd.DataFrame:
    """Mean MTTA and MTTR per month in minutes, months without a figure left out."""
    rows = [{"month": item.period.label, "figure": name, "minutes": minutes}
            for item in months
            for name, minutes in (("MTTA", _minutes_of(item.overall.mtta_mean)),
                                  ("MTTR", _minutes_of(item.overall.mttr_mean)))
            if minutes is not None]
    return pd.DataFrame(rows, columns=["month", "figure", "minutes"])


def month_chart(months: list[PeriodTimes]) -> alt.Chart:
    order = [item.period.label for item in months]
    chart: alt.Chart = alt.Chart(month_frame(months)).mark_line(point=True).encode(
        x=alt.X("month:O", title=None, sort=order, scale=alt.Scale(domain=order),
                axis=alt.Axis(labelAngle=0)),
        y=alt.Y("minutes:Q", title="Mean (min)"),
        color=alt.Color("figure:N", title=None, sort=["MTTA", "MTTR"]),
        tooltip=["month:O", "figure:N", alt.Tooltip("minutes:Q", format=".1f")],
    ).properties(height=180)
    return chart


def _duration(seconds: float | None) -> str:
    return "–" if seconds is None else format_duration(timedelta(seconds=seconds))


def _overall(times: ResponseTimes) -> None:
    columns = st.columns(4)
    columns[0].metric("Incidents", times.incidents)
    columns[1].metric("MTTA", _duration(times.mtta_mean),
                      help=f"median {_duration(times.mtta_median)}, over {times.acknowledged}")
    columns[2].metric("MTTR", _duration(times.mttr_mean),
                      help=f"median {_duration(times.mttr_median)}, over {times.resolved}")
    columns[3].metric("Unacknowledged / open", f"{times.unacknowledged} / {times.still_open}")


def _picked_range(now: datetime, zone: tzinfo, left: DeltaGenerator,
                  right: DeltaGenerator) -> tuple[datetime, datetime] | None:
    choice = left.selectbox("Range", RANGES, key="rt_range")
    days = None
    if choice == "Custom":
        today = now.astimezone(zone).date()
        picked = right.date_input("Days", value=(today.replace(day=1), today), key="rt_days",
                                  max_value=today)
        if not isinstance(picked, tuple) or len(picked) != 2:
            st.info("Pick the first and the last day.")
            return None
        days = (picked[0], picked[1])
        if (days[1] - days[0]).days >= MAX_RANGE_DAYS:
            st.error(f"Pick at most {MAX_RANGE_DAYS} days.")
            return None
    return chosen_range(choice, now, zone, days)


def render_response_times(now: datetime | None = None) -> None:
    """The section; one read (two statements) covers the range and the chart's 12 months."""
    now = now or datetime.now(UTC)
    zone = get_settings().zone
    st.subheader("Response times (MTTA / MTTR)")
    st.caption(f"MTTA: opening to first acknowledgement; MTTR: opening to resolution; time in "
               f"maintenance left out. An incident counts in the range where it opened. "
               f"Months and days in {zone}.")
    left, middle, right = st.columns(3)
    by = right.selectbox("Group by", GROUPINGS, format_func=GROUPING_LABELS.__getitem__,
                         key="rt_by")
    picked = _picked_range(now, zone, left, middle)
    if picked is None:
        return
    start, end = picked
    chart_start = calendar_month(now, zone, back=CHART_MONTHS - 1)[0]
    chart_end = calendar_month(now, zone)[1]
    read = incident_times_between(min(start, chart_start), max(end, chart_end), now)
    chosen = opened_in(read.incidents, start, end)
    _overall(summarize(chosen, read.maintenance, now))
    groups = grouped(chosen, read.maintenance, by, now)
    if groups:
        st.dataframe(table_rows(groups, by), hide_index=True, width="stretch",
                     column_config={GROUPING_LABELS[by]: st.column_config.TextColumn(), **COLUMNS})
    else:
        st.info("No incident opened in this range.")
    months = per_period(read.incidents, read.maintenance,
                        month_periods(chart_start, chart_end, zone), by, now)
    st.caption(f"Mean MTTA and MTTR per month, the last {CHART_MONTHS} months")
    st.altair_chart(month_chart(months), width="stretch")
