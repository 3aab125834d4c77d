"""Small parts of one monitor's page that its sections share: the push URL, the timing phases'
text, and the on-demand section (built only while it is open)."""

from __future__ import annotations

import streamlit as st
from streamlit.delta_generator import DeltaGenerator


def push_url(public_url: str, token: str) -> str:
    """Where a cron job or service sends its heartbeat."""
    return f"{public_url.rstrip('/')}/api/v1/push/{token}"


def phases_text(phases: dict[str, float]) -> str:
    return " · ".join(f"{name} {ms:.1f} ms" for name, ms in phases.items())


def on_demand(label: str, key: str) -> DeltaGenerator | None:
    """An expander whose content is built only while it is open (opening or closing it reruns
    the page), or None while it is closed. Every section drawn with a visit, even one the
    operator never scrolls to, is work the browser does before the chart: what is read less
    often waits here until asked for. `key` keeps it open across reruns of the session."""
    section = st.expander(label, key=key, on_change="rerun")
    return section if section.open else None
