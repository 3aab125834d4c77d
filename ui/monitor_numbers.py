"""The monitor page's numbers: uptime, p50/p95/p99, checks, failures, incidents, MTTA, MTTR for
the chosen window and for the last 24 hours, 7, 30 and 90 days."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import streamlit as st

from domain.formatting import plain
from storage.incident_times import monitor_response_times
from storage.window_report import window_report
from ui.monitor_window import LABELS, Window

ROLLING = {"24h": timedelta(days=1), "7d": timedelta(days=7), "30d": timedelta(days=30),
           "90d": timedelta(days=90)}


def _minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60, 1)


def number_row(label: str, monitor_id: int, start: datetime, end: datetime,
               now: datetime) -> dict[str, Any]:
    report = window_report(monitor_id, start, end, now)
    times = monitor_response_times(monitor_id, start, end, now)
    uptime = report.uptime
    return {
        "Window": label,
        "Uptime %": None if uptime is None else round(uptime * 100, 3),
        "p50 ms": report.p50, "p95 ms": report.p95, "p99 ms": report.p99,
        "Checks": report.checks, "Failures": report.failures,
        "Incidents": times.incidents,
        "MTTA min": _minutes(times.mtta_mean), "MTTR min": _minutes(times.mttr_mean),
    }


def number_rows(monitor_id: int, window: Window, now: datetime) -> list[dict[str, Any]]:
    label = (f"{window.start:%Y-%m-%d} – {window.end:%Y-%m-%d %H:%M}"
             if window.name == "custom" else LABELS[window.name])
    rows = [number_row(f"This window ({label})", monitor_id, window.start, window.end, now)]
    rows += [number_row(LABELS[name], monitor_id, now - span, now, now)
             for name, span in ROLLING.items()]
    return rows


# Each figure's display; a missing one (no checks, no incident acknowledged yet) is a dash.
FORMATS = {"Uptime %": "{:.3f}", "p50 ms": "{:.1f}", "p95 ms": "{:.1f}", "p99 ms": "{:.1f}",
           "Checks": "{:d}", "Failures": "{:d}", "Incidents": "{:d}", "MTTA min": "{:.1f}",
           "MTTR min": "{:.1f}"}


def numbers_markdown(rows: list[dict[str, Any]]) -> str:
    """The rows as one Markdown table: the window's label left, the figures right-aligned."""
    columns = ["Window", *FORMATS]
    lines = ["| " + " | ".join(columns) + " |", "|---|" + "---:|" * len(FORMATS)]
    for row in rows:
        cells = [plain(str(row["Window"]))]
        cells += ["–" if row[name] is None else form.format(row[name])
                  for name, form in FORMATS.items()]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def render_numbers(monitor_id: int, window: Window, now: datetime) -> None:
    st.subheader("Numbers")
    # One Markdown table, not an interactive grid: five rows need no sorting or scrolling, and
    # the grid's code, loaded and run with every visit, held up the chart's drawing.
    st.markdown(numbers_markdown(number_rows(monitor_id, window, now)))
    st.caption("Incidents opened in each window (those wholly in maintenance not counted). "
               "MTTA: mean time from opening to the first acknowledgement, MTTR: to the "
               "resolution, maintenance time left out, as on the Reports page.")
