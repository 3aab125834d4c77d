"""The monitor page's latency chart (p50/p95/p99, failures, state changes, maintenance) and its
stacked timing phases (built when their section is opened)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import altair as alt
import pandas as pd
import streamlit as st

from analytics.monitor_series import (
    PHASES,
    Point,
    bucket_phases,
    bucket_raw,
    histogram_points,
    raw_step,
    rollup_period,
)
from storage.monitor_history import (
    Change,
    Maintenance,
    RawResult,
    maintenance_between,
    raw_results_between,
    rollups_between,
)
from storage.monitors import MonitorView
from ui.monitor_detail import on_demand
from ui.monitor_window import Window

FAILURE_COLOUR = "#d62728"
PHASES_OPEN_KEY = "monitor_page_phases_open"


@dataclass(frozen=True, slots=True)
class ChartData:
    points: list[Point]
    failures: list[tuple[datetime, str]]
    raw: list[RawResult] | None  # None for rollup windows
    period: str | None


def chart_data(monitor: MonitorView, window: Window) -> ChartData:
    """One read per series: raw results for short windows, hourly or daily rollups beyond."""
    period = rollup_period(window.span)
    if period is None:
        raw = raw_results_between(monitor.id, window.start, window.end)
        points = bucket_raw(((r.checked_at, r.latency_ms) for r in raw), window.start,
                            raw_step(window.span))
        failures = [(r.checked_at, r.reason or r.outcome) for r in raw
                    if r.outcome not in ("up", "degraded")]
        return ChartData(points, failures, raw, None)
    buckets = rollups_between(monitor.id, period, window.start, window.end)
    points = histogram_points((b.start, b.histogram) for b in buckets)
    failures = [(b.start, f"{b.failures} failed of {b.checks}") for b in buckets if b.failures]
    return ChartData(points, failures, None, period)


def _latency_frame(points: list[Point]) -> pd.DataFrame:
    rows = [{"time": at, "quantile": name, "ms": value}
            for at, *values in points
            for name, value in zip(("p50", "p95", "p99"), values, strict=True)
            if value is not None]
    return pd.DataFrame(rows, columns=["time", "quantile", "ms"])


def latency_chart(
    data: ChartData, changes: list[Change], maintenance: list[Maintenance], window: Window
) -> alt.LayerChart | alt.FacetChart:
    x = alt.X("time:T", title=None, scale=alt.Scale(domain=[window.start.isoformat(),
                                                            window.end.isoformat()]))
    lines = alt.Chart(_latency_frame(data.points)).mark_line().encode(
        x=x, y=alt.Y("ms:Q", title="Latency (ms)"),
        color=alt.Color("quantile:N", title=None, sort=["p50", "p95", "p99"]),
        tooltip=[alt.Tooltip("time:T", title="At (UTC)", format="%Y-%m-%d %H:%M"),
                 "quantile:N", alt.Tooltip("ms:Q", format=".1f")],
    )
    layers: list[alt.Chart] = []
    if maintenance:
        frame = pd.DataFrame([{"start": m.starts_at, "end": m.ends_at, "title": m.title}
                              for m in maintenance])
        layers.append(alt.Chart(frame).mark_rect(opacity=0.15, color="#1f77b4").encode(
            x="start:T", x2="end:T", tooltip=[alt.Tooltip("title:N", title="Maintenance")]))
    layers.append(lines)
    if data.failures:
        frame = pd.DataFrame([{"time": at, "what": what, "ms": 0} for at, what in data.failures])
        layers.append(alt.Chart(frame).mark_point(color=FAILURE_COLOUR, filled=True).encode(
            x="time:T", y="ms:Q",
            tooltip=[alt.Tooltip("time:T", title="Failed at (UTC)", format="%Y-%m-%d %H:%M"),
                     alt.Tooltip("what:N", title="Reason")]))
    if changes:
        frame = pd.DataFrame([{"time": c.at, "change": f"{c.from_state} → {c.to_state}",
                               "reason": c.reason or ""} for c in changes])
        layers.append(alt.Chart(frame).mark_rule(strokeDash=[4, 3], color="gray").encode(
            x="time:T", tooltip=[alt.Tooltip("time:T", title="At (UTC)",
                                             format="%Y-%m-%d %H:%M"), "change:N", "reason:N"]))
    return alt.layer(*layers).properties(height=320)


def phase_chart(raw: list[RawResult], window: Window) -> alt.Chart | None:
    """The timing phases stacked, each the mean of its bucket (the latency chart's buckets)."""
    rows = bucket_phases(((r.checked_at, r.phases) for r in raw), window.start,
                         raw_step(window.span))
    if not rows:
        return None
    frame = pd.DataFrame(rows, columns=["time", "phase", "ms"])
    return alt.Chart(frame).mark_area().encode(
        x=alt.X("time:T", title=None), y=alt.Y("ms:Q", stack="zero", title="Phase (ms)"),
        color=alt.Color("phase:N", sort=list(PHASES.values()), title=None),
        tooltip=[alt.Tooltip("time:T", format="%Y-%m-%d %H:%M"), "phase:N",
                 alt.Tooltip("ms:Q", format=".1f")],
    ).properties(height=200)


def render_charts(monitor: MonitorView, window: Window, changes: list[Change]) -> None:
    """The latency chart with the window's state changes as rules, then the phases' section."""
    data = chart_data(monitor, window)
    maintenance = maintenance_between(monitor.id, monitor.group_name, window.start, window.end)
    st.subheader("Latency")
    if not data.points and not data.failures:
        st.info("No checks in this window.")
    else:
        st.altair_chart(latency_chart(data, changes, maintenance, window), width="stretch")
        minutes = int(raw_step(window.span).total_seconds() // 60)
        source = {None: f"raw results per {minutes} min" if minutes > 1 else "raw results",
                  "hour": "hourly rollups", "day": "daily rollups"}
        st.caption(f"p50 / p95 / p99 from {source[data.period]}; red points are failed checks, "
                   "dashed rules state changes, shaded bands maintenance.")
    if data.raw is None:
        st.caption("Timing phases are kept for raw results only: choose 24 hours or less.")
        return
    section = on_demand("Timing phases: DNS, connect, TLS, first byte, transfer",
                        PHASES_OPEN_KEY)
    if section is None:
        return
    with section:
        chart = phase_chart(data.raw, window)
        if chart is None:
            st.caption("No timing phases in this window.")
        else:
            st.altair_chart(chart, width="stretch")
