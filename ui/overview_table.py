"""The overview table: one row per monitor with typed columns, rows selectable for bulk actions.

Numbers stay numbers (they sort as numbers and are formatted by the column), uptime is a bar,
the last 24 hours of p95 latency a sparkline, and each row links to the monitor's page.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
import streamlit as st

from domain.formatting import state_label
from domain.links import monitor_path
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


def _percent(fraction: float | None) -> float | None:
    return None if fraction is None else fraction * 100


def table_frame(rows: Sequence[OverviewRow]) -> pd.DataFrame:
    """The rows as the table shows them: typed columns, in the rows' order."""
    records: list[dict[str, Any]] = [
        {
            "State": state_label(row.state),
            "Name": row.name,
            "Open": monitor_path(row.slug),
            "Group": row.group or "",
            "Tags": list(row.tags),
            "Uptime 24 h": _percent(row.uptime_24h),
            "Uptime 30 d": _percent(row.uptime_30d),
            "p95 24 h": row.p95_24h_ms,
            # Hours without a successful check are left out, not drawn as 0 ms.
            "Latency 24 h": [v for v in row.latency_24h if v is not None],
            "Last latency": row.last_latency_ms,
            "Cert days": row.cert_days_left,
            "Last check": row.last_check_at,
            "Reason": row.reason or "",
        }
        for row in rows
    ]
    frame = pd.DataFrame.from_records(records, columns=list(_COLUMNS))
    for number in ("Uptime 24 h", "Uptime 30 d", "p95 24 h", "Last latency"):
        frame[number] = pd.to_numeric(frame[number], errors="coerce").astype("float64")
    frame["Cert days"] = pd.array(frame["Cert days"], dtype="Int64")
    frame["Last check"] = pd.to_datetime(frame["Last check"], utc=True)
    return frame


def render_table(rows: Sequence[OverviewRow], key: str) -> list[OverviewRow]:
    """Draw the table; returns the rows the operator selected."""
    event = st.dataframe(
        table_frame(rows), column_config=_COLUMNS, hide_index=True, width="stretch",
        key=key, on_select="rerun", selection_mode="multi-row",
        height=min(38 + 35 * max(len(rows), 1), 700),
    )
    selected = event.selection.rows if event is not None else []
    return [rows[i] for i in selected if i < len(rows)]
