"""The monitor page's certificate panel (TLS monitors), state changes and incidents, each
built when its section is opened."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import streamlit as st

from config.base_path import base_path, site_href
from domain.formatting import state_label
from domain.links import incident_path, under_base
from storage.certificates import certificate_of
from storage.monitor_history import Change, incidents_between
from storage.monitors import MonitorView
from ui.monitor_detail import on_demand
from ui.monitor_window import Window

CERTIFICATE_OPEN_KEY = "monitor_page_certificate_open"
CHANGES_OPEN_KEY = "monitor_page_changes_open"
INCIDENTS_OPEN_KEY = "monitor_page_incidents_open"


def _at(moment: datetime | None) -> str:
    return "" if moment is None else moment.strftime("%Y-%m-%d %H:%M:%S")


def _yes_no(value: Any) -> str:
    return "unknown" if value is None else ("yes" if value else "no")


def certificate_rows(monitor_id: int) -> list[dict[str, str]] | None:
    cert = certificate_of(monitor_id)
    if cert is None:
        return None
    facts = cert.facts
    pairs = [
        ("Subject", facts.get("subject")), ("Issuer", facts.get("issuer")),
        ("Names (SANs)", ", ".join(str(n) for n in facts.get("sans") or [])),
        ("Valid from", facts.get("not_before")), ("Valid until", facts.get("not_after")),
        ("Days left", facts.get("days_left")), ("SHA-256 fingerprint", facts.get("fingerprint")),
        ("Trusted", _yes_no(facts.get("verified"))),
        ("Hostname matches", _yes_no(facts.get("hostname_matches"))),
        ("First seen", _at(cert.first_seen_at)), ("Last changed", _at(cert.changed_at)),
        ("Previous fingerprint", cert.previous_fingerprint),
    ]
    return [{"Field": k, "Value": "" if v is None else str(v)} for k, v in pairs]


def render_certificate(monitor: MonitorView) -> None:
    """Monitors whose checks saw a certificate (TLS, HTTPS): its facts, when opened."""
    rows = certificate_rows(monitor.id)  # one small read: whether there is one to show
    if rows is None:
        return
    section = on_demand("Certificate: subject, issuer, names, validity, fingerprints",
                        CERTIFICATE_OPEN_KEY)
    if section is not None:
        with section:
            st.dataframe(rows, hide_index=True, width="stretch")


def render_events(monitor: MonitorView, window: Window, changes: list[Change]) -> None:
    """The window's state changes (those the chart marks, read once for both) and incidents."""
    section = on_demand(f"State changes in this window ({len(changes)})", CHANGES_OPEN_KEY)
    if section is not None:
        with section:
            _changes(changes)
    section = on_demand("Incidents in this window", INCIDENTS_OPEN_KEY)
    if section is not None:
        with section:
            _incidents(monitor, window)


def _changes(changes: list[Change]) -> None:
    if changes:
        st.dataframe([{"At (UTC)": _at(c.at), "From": state_label(c.from_state),
                       "To": state_label(c.to_state), "Reason": c.reason or ""}
                      for c in changes], hide_index=True, width="stretch")
    else:
        st.caption("No state changes in this window.")


def _incidents(monitor: MonitorView, window: Window) -> None:
    incidents = incidents_between(monitor.id, window.start, window.end)
    if incidents:
        base = base_path()  # the links are under the base path the app is served under
        st.dataframe([{"Incident": under_base(base, incident_path(i.id)), "Title": i.title,
                       "Status": i.status,
                       "Started (UTC)": _at(i.started_at), "Acknowledged": _at(i.acknowledged_at),
                       "Resolved": _at(i.resolved_at)} for i in incidents],
                     hide_index=True, width="stretch",
                     column_config={"Incident": st.column_config.LinkColumn(
                         display_text=r"/incidents\?id=(\d+)")})
    else:
        st.caption("No incidents in this window.")
    st.markdown(f"[All incidents]({site_href('/incidents')})")
