"""Reports: the SLA report, incidents and one monitor's raw results, as CSV or JSON downloads;
MTTA / MTTR by monitor, group or severity; the scheduled reports."""

from ui.auth import require_role

require_role()  # every role sees it

from datetime import UTC, datetime, time, timedelta  # noqa: E402

import streamlit as st  # noqa: E402

from config.settings import get_settings  # noqa: E402
from domain.limits import parse_time_zone  # noqa: E402
from storage.export import (  # noqa: E402
    INCIDENT_COLUMNS,
    RESULT_COLUMNS,
    SLA_COLUMNS,
    encode,
    incidents_between,
    results_between,
    sla_report,
)
from storage.monitors import list_monitors  # noqa: E402
from ui.report_schedules import render_report_schedules  # noqa: E402
from ui.response_times import render_response_times  # noqa: E402

st.title("Reports")
today = datetime.now(UTC).date()
days = st.date_input(
    "Days", value=(today.replace(day=1), today), key="report_days", max_value=today
)
if not isinstance(days, tuple) or len(days) != 2:
    st.info("Pick the first and the last day of the report.")
    st.stop()
first, last = days
zone_name = st.text_input("Time zone of the days", value=get_settings().timezone, key="report_tz")
try:
    zone = parse_time_zone(zone_name)
except ValueError as refused:
    st.error(f"{str(refused).capitalize()}.")
    st.stop()
# In UTC: SQLite compares stored times as UTC text, and would read a zone's offset as wall time.
start = datetime.combine(first, time(0), tzinfo=zone).astimezone(UTC)
end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)


def downloads(label: str, rows: list[dict], columns: tuple[str, ...], name: str) -> None:
    st.caption(f"{label}: {len(rows)} rows")
    left, right = st.columns(2)
    for column, fmt in ((left, "csv"), (right, "json")):
        content, media = encode(rows, columns, fmt)
        column.download_button(f"{label} ({fmt.upper()})", content, f"{name}.{fmt}", media,
                               key=f"download_{name}_{fmt}")


st.subheader("SLA per monitor and month")
if st.button("Compute the SLA report", key="report_sla"):
    downloads("SLA report", sla_report(first, last, zone), SLA_COLUMNS, f"sla-{first}-{last}")

st.subheader("Incidents")
downloads("Incidents", incidents_between(start, end), INCIDENT_COLUMNS,
          f"incidents-{first}-{last}")

st.subheader("Results of one monitor")
monitors = {m.name: m for m in list_monitors()}
chosen = st.selectbox("Monitor", list(monitors), key="report_monitor")
if chosen is not None:
    if (end - start).days > 92:
        st.warning("Raw results are exported 92 days at a time: choose fewer days.")
    else:
        monitor = monitors[chosen]
        downloads("Results", results_between(monitor.id, start, end), RESULT_COLUMNS,
                  f"{monitor.slug}-results-{first}-{last}")

render_response_times()
render_report_schedules()
