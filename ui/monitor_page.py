"""The monitor detail page at /monitor?slug=<slug>: state, window chooser, latency chart,
numbers, 90 daily bars and the manage actions; the timing phases, check log, certificate,
state changes and incidents in sections built when opened (ui/monitor_detail.on_demand)."""

from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st

from config.base_path import site_href
from config.settings import get_settings
from domain.formatting import ago, milliseconds, state_label
from domain.severity import severity_label
from domain.states import effective_state
from domain.window_rules import describe_rule, rules_from_stored
from storage.monitor_history import state_changes_between
from storage.monitors import MonitorView, get_monitor
from storage.rule_watch import monitor_firing_rules
from ui.monitor_bars import render_bars
from ui.monitor_chart import render_charts
from ui.monitor_detail import push_url
from ui.monitor_events import render_certificate, render_events
from ui.monitor_log import render_log
from ui.monitor_manage import render_manage, show_deleted
from ui.monitor_numbers import render_numbers
from ui.monitor_window import choose_window


def _unknown(slug: str) -> None:
    st.error(f"No monitor with the address '{slug}'. It may have been deleted or renamed: "
             "pick one on the dashboard.")
    st.markdown(f"[Back to the dashboard]({site_href('/')})")


def _rules(monitor: MonitorView) -> None:
    """The monitor's alert rules, each with whether it is firing and since when."""
    rules = rules_from_stored(list(monitor.rules))
    if not rules:
        return
    firing = {row["rule_key"]: row["since"] for row in monitor_firing_rules(monitor.id)}
    lines = [f"{'🔥 firing since ' + ago(firing[rule.key]) if rule.key in firing else '· quiet'}"
             f" · {describe_rule(rule)} ({severity_label(rule.severity)})" for rule in rules]
    st.text("Alert rules:\n" + "\n".join(lines))


def _header(monitor: MonitorView) -> None:
    st.title(monitor.name, anchor=False)
    state = effective_state(monitor.paused, monitor.state)
    st.text(f"{state_label(state)} · {severity_label(monitor.severity)} · last check "
            f"{ago(monitor.last_check_at)} · {milliseconds(monitor.latency_ms)}"
            + (f" · group {monitor.group_name}" if monitor.group_name else ""))
    if monitor.reason and not monitor.paused:
        st.text(f"Reason: {monitor.reason}")  # the target's words, never Markdown
    if monitor.tags:
        st.text("Tags: " + ", ".join(monitor.tags))
    if monitor.depends_on:
        st.text("Depends on: " + ", ".join(monitor.depends_on)
                + " (while one is down, this monitor's failures page nobody)")
    _rules(monitor)
    if monitor.runbook_url:
        st.link_button("📖 Runbook", monitor.runbook_url)
    if monitor.kind == "push" and monitor.push_token:
        st.caption("Push URL (keep it private: anyone with it can report for this monitor).")
        st.code(push_url(get_settings().public_url, monitor.push_token), language=None)


def render_monitor_page(now: datetime | None = None) -> None:
    if show_deleted():
        return
    slug = st.query_params.get("slug", "")
    monitor = get_monitor(slug) if slug else None
    if monitor is None:
        _unknown(slug)
        return
    now = now or datetime.now(UTC)
    _header(monitor)
    window = choose_window(now)
    changes = [] if window is None else state_changes_between(monitor.id, window.start,
                                                              window.end)
    if window is not None:
        # The chart first: what an operator opens the page for is drawn before the rest
        # arrives (the browser draws each part as it comes).
        render_charts(monitor, window, changes)
        render_numbers(monitor.id, window, now)
    render_bars(monitor, now)
    if window is None:
        return
    # Each section below draws nothing until opened: the browser's work for a visit stays
    # the chart's, the numbers' and the bars'.
    render_log(monitor, window)
    render_certificate(monitor)
    render_events(monitor, window, changes)
    render_manage(monitor)
