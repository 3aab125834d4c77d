"""The parts of the public status page: banner, incidents, maintenance, components, history.

Everything shown is escaped user text (names, titles: a title is text, never Markdown, whoever
named the monitor it came from) or Markdown an admin wrote for visitors (incident updates,
rendered without HTML, images or links that run code: domain/text.safe_markdown).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import streamlit as st

from config.base_path import site_href
from config.settings import get_settings
from domain.formatting import OVERALL_LABELS, WINDOW_LABELS, ago, plain
from domain.text import clean_text, safe_markdown
from storage.incidents import HISTORY_DAYS, PUBLIC_PAST_LIMIT, STATUS_LABELS, IncidentView
from storage.status import PublicComponent, PublicMaintenance, PublicStatus
from ui.status_board import status_board
from ui.status_latency import latency_chart

BANNERS = {"operational": st.success, "degraded": st.warning, "maintenance": st.info}


def when(moment: datetime | None) -> str:
    return "–" if moment is None else moment.astimezone(get_settings().zone).strftime(
        "%Y-%m-%d %H:%M %Z")


def header() -> None:
    settings = get_settings()
    logo = Path(settings.status_logo) if settings.status_logo else None
    if logo is not None and logo.is_file():
        st.image(str(logo), width=160)  # a local file: the page loads nothing from the internet
    st.title(settings.status_title, anchor=False)
    if settings.status_description:
        st.markdown(plain(settings.status_description))


def banner(status: PublicStatus) -> None:
    BANNERS.get(status.overall, st.error)(f"**{OVERALL_LABELS[status.overall]}**")


def as_typed(value: str) -> str:
    """User text (a title, a name) for a Streamlit label, which renders Markdown: as typed."""
    return plain(clean_text(value))


def timeline(incident: IncidentView) -> None:
    for update in incident.updates:
        label = STATUS_LABELS.get(update.status, update.status)
        st.markdown(f"**{label}** · {when(update.at)}")
        # Markdown by an admin (or the monitor's automatic text); Streamlit renders no raw HTML.
        st.markdown(safe_markdown(update.message))


def active_incidents(status: PublicStatus) -> None:
    for incident in status.active_incidents:
        with st.container(border=True):
            st.subheader(f"⚠️ {as_typed(incident.title)}", anchor=False)
            name = incident.monitor_name
            affected = f" · affects {as_typed(name)}" if name else ""
            st.caption(f"Since {when(incident.started_at)}{affected}")
            timeline(incident)


def maintenance(windows: tuple[PublicMaintenance, ...]) -> None:
    if not windows:
        return
    st.subheader("🛠️ Scheduled maintenance", anchor=False)
    for window in windows:
        with st.container(border=True):
            now = " (in progress)" if window.active else ""
            st.markdown(f"**{as_typed(window.title)}**{now}")
            st.caption(f"{when(window.starts_at)} to {when(window.ends_at)} · "
                       f"{as_typed(window.scope)}")
            if window.description:
                st.markdown(as_typed(window.description))


def components(status: PublicStatus, board: bytes) -> None:
    if not status.components:
        st.info("No services are listed on this page yet.")
        return
    # The board comes built with the snapshot, the same bytes for every visitor.
    view = status_board(board)
    # Off until asked: a first visit has no chart to fetch a chart library for.
    if view.latency:
        st.subheader(f"Response times (p50 / p95), last {WINDOW_LABELS[view.window]}",
                     anchor=False)
        for group, members in status.groups():
            if group:
                st.markdown(f"**{as_typed(group)}**")
            response_times(members, view.window)


def response_times(members: list[PublicComponent], window: str) -> None:
    chart = latency_chart(members, window)
    if chart is None:
        st.caption(f"No response times over the last {WINDOW_LABELS[window]}.")
    else:
        st.altair_chart(chart, width="stretch", theme="streamlit")


def history(status: PublicStatus) -> None:
    st.subheader(f"Past incidents ({HISTORY_DAYS} days)", anchor=False)
    past = status.past_incidents
    if not past:
        st.caption(f"No incidents in the past {HISTORY_DAYS} days.")
        return
    if len(past) >= PUBLIC_PAST_LIMIT:
        st.caption(f"The {PUBLIC_PAST_LIMIT} most recent.")
    for incident in past:
        with st.expander(f"{as_typed(incident.title)} · resolved {when(incident.resolved_at)}"):
            timeline(incident)


def footer(status: PublicStatus) -> None:
    last_check = max((c.last_check_at for c in status.components if c.last_check_at),
                     default=None)
    st.caption(f"Last checked {ago(last_check, datetime.now(UTC))} · "
               f"Subscribe: [Atom]({site_href('/feed.atom')}) · [RSS]({site_href('/feed.rss')}) · "
               f"[JSON]({site_href('/api/v1/status')})")
