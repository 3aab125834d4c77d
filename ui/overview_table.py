"""The overview table: one row per monitor with typed columns, rows selectable for bulk actions.

Numbers stay numbers (they sort as numbers and are formatted by the column), uptime is a bar,
the last 24 hours of p95 latency a sparkline, and each row links to the monitor's page.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from config.base_path import base_path
from domain.formatting import state_label
from domain.links import monitor_path, under_base
from domain.overview import OverviewRow

# Fixed widths, in the order an operator reads a row: what it is, how it did, why, where it
# belongs. The numbers sit next to the name, so they stay in view on a laptop's screen.
_COLUMNS = {
    "State": st.column_config.TextColumn("State", width=105, pinned=True),
    "Name": st.column_config.TextColumn("Name", width=150, pinned=True),
    "Open": st.column_config.LinkColumn("Open", display_text="Details", width=65,
                                        help="The monitor's page: charts, check log, actions"),
    "Uptime 24 h": st.column_config.ProgressColumn(
        "Uptime 24 h", format="%.2f%%", min_value=0, max_value=100, width=105),
    "Uptime 30 d": st.column_config.ProgressColumn(
        "Uptime 30 d", format="%.2f%%", min_value=0, max_value=100, width=105),
    "p95 24 h": st.column_config.NumberColumn(
        "p95 24 h", format="%.0f ms", width=85,
        help="95th percentile of successful checks, last 24 h"),
    "Latency 24 h": st.column_config.LineChartColumn(
        "Latency 24 h", width=120, help="p95 of each hour with results, last 24 h"),
    "Last latency": st.column_config.NumberColumn("Last latency", format="%.0f ms", width=95),
    "Cert days": st.column_config.NumberColumn(
        "Cert days", format="%d", width=75, help="Days until the TLS certificate expires"),
    "Last check": st.column_config.DatetimeColumn("Last check", format="distance", width=105),
    "Reason": st.column_config.TextColumn("Reason", width=180),
    "Group": st.column_config.TextColumn("Group", width=110),
    "Tags": st.column_config.ListColumn("Tags", width=130),
}


def _percent(fraction: float | None) -> float:
    return math.nan if fraction is None else fraction * 100


def _number(value: float | None) -> float:
    return math.nan if value is None else value


def table_frame(rows: Sequence[OverviewRow]) -> pd.DataFrame:
    """The rows as the table shows them: typed columns, in the rows' order (built a column at
    a time: a refresh of a thousand rows stays a few milliseconds)."""
    base = base_path()  # the links are under the base path the app is served under
    columns: dict[str, Any] = {
        "State": [state_label(r.state) for r in rows],
        "Name": [r.name for r in rows],
        "Open": [under_base(base, monitor_path(r.slug)) for r in rows],
        "Uptime 24 h": np.array([_percent(r.uptime_24h) for r in rows], np.float64),
        "Uptime 30 d": np.array([_percent(r.uptime_30d) for r in rows], np.float64),
        "p95 24 h": np.array([_number(r.p95_24h_ms) for r in rows], np.float64),
        # Hours without a successful check are left out, not drawn as 0 ms.
        "Latency 24 h": [[v for v in r.latency_24h if v is not None] for r in rows],
        "Last latency": np.array([_number(r.last_latency_ms) for r in rows], np.float64),
        "Cert days": pd.array([r.cert_days_left for r in rows], dtype="Int64"),
        "Last check": pd.to_datetime([r.last_check_at for r in rows], utc=True),
        "Reason": [r.reason or "" for r in rows],
        "Group": [r.group or "" for r in rows],
        "Tags": [list(r.tags) for r in rows],
    }
    return pd.DataFrame(columns, columns=list(_COLUMNS))


def render_table(rows: Sequence[OverviewRow], key: str, selectable: bool = True
                 ) -> list[OverviewRow]:
    """Draw the table; returns the rows the operator selected (none when not `selectable`:
    a viewer gets no selection boxes, having no action to take on them)."""
    height = min(38 + 35 * max(len(rows), 1), 700)
    if not selectable:
        st.dataframe(table_frame(rows), column_config=_COLUMNS, hide_index=True,
                     width="stretch", key=key, height=height)
        return []
    event = st.dataframe(
        table_frame(rows), column_config=_COLUMNS, hide_index=True, width="stretch",
        key=key, on_select="rerun", selection_mode="multi-row", height=height,
    )
    selected = event.selection.rows if event is not None else []
    return [rows[i] for i in selected if i < len(rows)]
